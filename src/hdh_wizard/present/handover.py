"""The handover in words: who acts next, on which step, and what they will need.

Shared by the home screen's banner and `hdh-wizard status`; the decision is the core's
(`core.next_actor`), this module only says it in the user's language.
"""

from __future__ import annotations

from collections.abc import Sequence

from hdh_wizard.core.next_actor import NextActor
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.present.presenters import step_title


def words_list(cat: Catalogue, items: Sequence[str]) -> str:
    """ "a", "a et b", "a, b et c" (English: "a and b")."""
    if len(items) <= 1:
        return "".join(items)
    return cat.t("handover.and", first=", ".join(items[:-1]), last=items[-1])


def handover_text(cat: Catalogue, nxt: NextActor | None, *, addressed: bool = True) -> str:
    """One sentence: "Prochaine étape : équipe HDH — Partage ; il lui faudra les accès…".

    `addressed`: said to the person at the keyboard (the home screen: "pour vous" or "à
    transmettre"); otherwise (`status`, read by anyone) who does it and what they need, after
    the line that names the next step."""
    if nxt is None:
        return cat.t("handover.none")
    who = cat.t(f"actor.{nxt.actor.value}")
    step = step_title(cat, nxt.step)
    needs = words_list(cat, [cat.t(f"handover.need.{need.value}") for need in nxt.needs])
    if nxt.blocked:
        return cat.t("handover.blocked", who=who, step=step, reason=nxt.reason, needs=needs)
    if not addressed:
        return cat.t("handover.by", who=who, needs=needs)
    if not nxt.hands_over:
        return cat.t("handover.you", who=who, step=step, needs=needs)
    text = cat.t("handover.other", who=who, step=step, needs=needs)
    if nxt.meanwhile is not None:
        text += " " + cat.t("handover.meanwhile", step=step_title(cat, nxt.meanwhile))
    return text
