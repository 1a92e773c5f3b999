"""`hdh-wizard status`: the checklist printed for scripts and for HDH staff, as text or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Group
from hdh_wizard.core.next_actor import NextActor, next_actor
from hdh_wizard.core.release import Release
from hdh_wizard.core.route import ONE_GO
from hdh_wizard.core.steps import group_title_key
from hdh_wizard.errors import ProjectError
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.present.handover import handover_text
from hdh_wizard.present.presenters import (
    printable,
    reason_text,
    step_title,
    target_text,
)
from hdh_wizard.present.route_preview import route_line
from hdh_wizard.project import has_project, read_project


def print_status(cat: Catalogue, folder: Path, *, as_json: bool) -> int:
    if not has_project(folder):
        raise ProjectError("error.no_project", folder=str(folder))
    release = read_project(folder)
    if as_json:
        print(json.dumps(status_document(release), ensure_ascii=False, indent=2))
    else:
        print(status_text(cat, release))
    return 0


def status_document(release: Release) -> dict[str, Any]:
    """The checklist as data; ids and statuses are the state file's, stable for scripts."""
    route = workflow.route_of(release)
    nxt = workflow.next_step(release)
    return {
        "release": release.name,
        "route": route.value,
        "route_measured": workflow.route_is_measured(release),
        "measured_bytes": release.measured_bytes,
        "threshold_bytes": ONE_GO,
        "target": {"environment": release.target.environment.value, "url": release.target.url},
        "next_step": nxt.value if nxt else None,
        "handover": handover_document(next_actor(release)),
        "complete": workflow.is_complete(release),
        "steps": [
            {
                "id": step.id.value,
                "number": step.number(route),
                "group": step.group.value,
                "actor": step.actor.value,
                "requirement": step.requirement.value,
                "status": workflow.status_of(release, step.id).value,
                "available": workflow.is_available(release, step.id),
                "blocked_by": [b.value for b in workflow.blockers(release, step.id)],
                "reason": release.record(step.id).reason,
            }
            for step in workflow.active_steps(release)
        ],
    }


def handover_document(nxt: NextActor | None) -> dict[str, Any] | None:
    """Who acts next and what they will need, for a script that hands the release over."""
    if nxt is None:
        return None
    return {
        "step": nxt.step.value,
        "actor": nxt.actor.value,
        "needs": [need.value for need in nxt.needs],
        "blocked": nxt.blocked,
        "reason": nxt.reason,
        "hands_over": nxt.hands_over,
        "meanwhile": nxt.meanwhile.value if nxt.meanwhile else None,
    }


def status_text(cat: Catalogue, release: Release) -> str:
    route = workflow.route_of(release)
    lines = [
        # What the state file holds is printed escaped: a hand-edited value could hold a
        # terminal code (the loader refuses them in names, but reasons keep `\r`).
        cat.t("status.header", name=printable(release.name)),
        f"{route_line(cat, release)}. {cat.t('route.threshold')}",
        cat.t("banner.target", target=printable(target_text(cat, release))),
    ]
    group: Group | None = None
    nxt = workflow.next_step(release)
    for step in workflow.active_steps(release):
        if step.group is not group:
            group = step.group
            lines += ["", cat.t(group_title_key(group, route))]
        status = workflow.status_of(release, step.id)
        marker = "▶" if step.id is nxt else " "
        lines.append(
            f"{marker} {step.number(route):<4} {step_title(cat, step.id):<48} "
            f"{cat.t(f'status.{status.value}'):<11} {cat.t(f'actor.{step.actor.value}')}"
        )
        blockers = workflow.blockers(release, step.id)
        record = release.record(step.id)
        if record.reason:
            reason = printable(reason_text(cat, status, record.reason))
            lines.append("       " + cat.t(f"checklist.reason_{status.value}", reason=reason))
        elif blockers and status not in workflow.SATISFIED:
            names = ", ".join(step_title(cat, b) for b in blockers)
            lines.append("       " + cat.t("checklist.waiting_for", steps=names))
    lines.append("")
    if nxt is not None:
        lines.append(cat.t("status.next", step=step_title(cat, nxt)))
    elif workflow.is_complete(release):
        lines.append(cat.t("status.complete"))
    handover = next_actor(release)
    if handover is not None:
        # Who acts next and what they will need; a block's reason is the user's text: escaped.
        lines.append(printable(handover_text(cat, handover, addressed=False)))
    return "\n".join(lines)
