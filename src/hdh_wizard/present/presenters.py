"""Turn model values into the words and symbols the screens show (no business rules here)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from rich.text import Text

from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Environment, StepStatus
from hdh_wizard.core.release import Person, Release
from hdh_wizard.core.steps import StepId, get_step
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.i18n.formatting import format_size
from hdh_wizard.inspect.fingerprint import FileChangeKind
from hdh_wizard.project import ResumeReport, changed_paths

STATUS_SYMBOLS: dict[StepStatus, str] = {
    StepStatus.TODO: "○",
    StepStatus.IN_PROGRESS: "◐",
    StepStatus.DONE: "✓",
    StepStatus.SKIPPED: "–",
    StepStatus.BLOCKED: "✗",
    StepStatus.STALE: "↻",
}
# Named ANSI colours so that the checklist reads in a 16-colour terminal too.
STATUS_STYLES: dict[StepStatus, str] = {
    StepStatus.TODO: "",
    StepStatus.IN_PROGRESS: "yellow",
    StepStatus.DONE: "green",
    StepStatus.SKIPPED: "bright_black",
    StepStatus.BLOCKED: "red",
    StepStatus.STALE: "magenta",
}


# Invisible characters that reorder the text around them (U+202E shows "txt.exe" as "exe.txt").
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def printable(text: str) -> str:
    """`text` (a file name, a path, a name read from the state file) safe to print or show:
    control characters written visibly (`\\x1b`, `\\n`, `\\t`), as are the line separators
    and the direction controls, so that a name holding ESC cannot act on the terminal, and one
    holding a line break cannot pass for two lines. Other text is left as it is."""
    if text.isprintable():  # the usual case, and the quick one
        return text
    return "".join(
        character.encode("unicode_escape").decode("ascii")
        if unicodedata.category(character) in ("Cc", "Zl", "Zp") or character in _BIDI_CONTROLS
        else character
        for character in text
    )


def status_text(cat: Catalogue, status: StepStatus) -> Text:
    label = f"{STATUS_SYMBOLS[status]} {cat.t(f'status.{status.value}')}"
    return Text(label, style=STATUS_STYLES[status])


def step_title(cat: Catalogue, step_id: StepId) -> str:
    return cat.t(get_step(step_id).title_key)


def step_list(cat: Catalogue, steps: tuple[StepId, ...]) -> str:
    return ", ".join(f"« {step_title(cat, s)} »" for s in steps)


def person_text(cat: Catalogue, person: Person) -> str:
    return f"{person.name} ({cat.t(f'role.{person.role.value}')})"


def route_text(cat: Catalogue, release: Release) -> str:
    route = workflow.route_of(release)
    lang = cat.lang
    if release.measured_bytes is not None:
        how = cat.t("route.measured", size=format_size(release.measured_bytes, lang))
    else:
        how = cat.t("route.preview")
    return f"{cat.t(f'route.{route.value}')} — {how}"


def target_text(cat: Catalogue, release: Release) -> str:
    env = release.target.environment
    if env is Environment.CUSTOM:
        return cat.t("environment.custom", url=release.target.url)
    return cat.t(f"environment.{env.value}")


def reason_text(cat: Catalogue, status: StepStatus, reason: str) -> str:
    """Skip and block reasons are the user's words; stale reasons are codes made readable."""
    if status is not StepStatus.STALE:
        return reason
    prefix, _, step = reason.partition(":")
    known = {s.value for s in StepId}
    if prefix == "undo" and step in known:
        return cat.t("stale.undo", step=step_title(cat, StepId(step)))
    if prefix == "changed" and step in known:
        return cat.t("stale.changed", step=step_title(cat, StepId(step)))
    if reason == "route_changed":
        return cat.t("stale.route_changed")
    if reason == "target_changed":
        return cat.t("stale.target_changed")
    return cat.t("stale.files_changed")


def restored_message(cat: Catalogue, kept: Path | None) -> str:
    if kept is None:
        return cat.t("state_error.restored_nothing_kept")
    return cat.t("state_error.restored", kept=printable(str(kept)))


def resume_lines(cat: Catalogue, report: ResumeReport) -> list[str]:
    """What changed in the data files since the last session, and the steps now to review."""
    lines = []
    for kind in (FileChangeKind.MODIFIED, FileChangeKind.MISSING, FileChangeKind.UNREADABLE):
        paths = changed_paths(report, kind)
        if paths:
            shown = ", ".join(printable(path) for path in paths)
            lines.append(cat.t(f"resume.files_{kind.value}", paths=shown))
    if report.stale_steps:
        lines.append(cat.t("resume.steps_stale", steps=step_list(cat, report.stale_steps)))
    return lines
