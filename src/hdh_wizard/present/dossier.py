"""The release dossier kept for the Health Data Hub: Markdown, and printable self-contained HTML.

The release's identity, each step of its route (status, who did it and when, its key facts:
`dossier_facts`), the reasons of skipped steps, and the audit trail. Nothing is dated by its
writing: the dossier says the state "as of" the last recorded action, so writing it again when
nothing changed gives the same bytes. The HTML page loads and runs nothing (inline CSS, a
Content-Security-Policy that forbids the rest): it is read offline, printed, attached to a mail.
"""

from __future__ import annotations

from datetime import datetime

from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Environment, StepStatus
from hdh_wizard.core.release import AuditAction, AuditEntry, Release
from hdh_wizard.core.route import decide_route
from hdh_wizard.core.steps import StepId
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.i18n.formatting import format_datetime, format_size
from hdh_wizard.present.dossier_facts import DASH, step_facts
from hdh_wizard.present.dossier_markup import (
    Block,
    Cell,
    Fields,
    Heading,
    Paragraph,
    Table,
    h,
    html_blocks,
    markdown,
    web_link,
)
from hdh_wizard.present.presenters import (
    person_text,
    reason_text,
    route_text,
    step_title,
    target_text,
)

DOSSIER_STEM = "dossier-ouverture"
_REASONED = (StepStatus.SKIPPED, StepStatus.BLOCKED, StepStatus.STALE)


def last_change(release: Release) -> datetime:
    """When the release last changed: the newest audit entry (its creation at least)."""
    moments = [entry.at for entry in release.audit]
    moments += [r.updated_at for r in release.steps.values() if r.updated_at is not None]
    try:
        return max(moments, default=release.created_at)
    except TypeError:  # naive and aware times mixed in a hand-edited state: the file's order
        return release.audit[-1].at if release.audit else release.created_at


def dossier_blocks(release: Release, cat: Catalogue, version: str) -> list[Block]:
    title = f"{cat.t('dossier.title')} — {release.name}"
    as_of = format_datetime(last_change(release), cat.lang)
    blocks: list[Block] = [
        Heading(1, title),
        Paragraph(cat.t("dossier.intro")),
        Paragraph(cat.t("dossier.as_of", date=as_of, version=version), note=True),
        Heading(2, cat.t("dossier.section.identity")),
        _identity(release, cat, version),
        Heading(2, cat.t("dossier.section.steps")),
    ]
    for step in workflow.active_steps(release):
        blocks += _step(release, cat, step.id, step.number(workflow.route_of(release)))
    blocks += [Heading(2, cat.t("dossier.section.audit")), _audit(release, cat)]
    return blocks


def _identity(release: Release, cat: Catalogue, version: str) -> Fields:
    steps = workflow.active_steps(release)
    finished = sum(1 for s in steps if workflow.status_of(release, s.id) in workflow.SATISFIED)
    creator = next((e.actor for e in release.audit if e.action is AuditAction.CREATED), None)
    return Fields(
        (
            (cat.t("dossier.identity.name"), release.name),
            (cat.t("dossier.identity.created"), format_datetime(release.created_at, cat.lang)),
            (cat.t("dossier.identity.created_by"), person_text(cat, creator) if creator else DASH),
            (cat.t("dossier.identity.route"), route_text(cat, release)),
            (cat.t("dossier.identity.target"), target_text(cat, release)),
            (
                cat.t("dossier.identity.progress"),
                cat.t("dossier.identity.progress_value", done=finished, total=len(steps)),
            ),
            (cat.t("dossier.identity.version"), version),
        )
    )


def _step(release: Release, cat: Catalogue, step_id: StepId, number: str) -> list[Block]:
    record = release.record(step_id)
    status = record.status
    heading = cat.t("dossier.step.heading", number=number, title=step_title(cat, step_id))
    items: list[tuple[str, Cell]] = [(cat.t("dossier.step.status"), cat.t(f"status.{status}"))]
    if record.updated_by is not None:
        items.append((cat.t("dossier.step.by"), person_text(cat, record.updated_by)))
    if record.updated_at is not None:
        items.append((cat.t("dossier.step.at"), format_datetime(record.updated_at, cat.lang)))
    if status in _REASONED and record.reason:
        label = (
            "dossier.step.reason_skipped" if status is StepStatus.SKIPPED else "dossier.step.reason"
        )
        items.append((cat.t(label), reason_text(cat, status, record.reason)))
    blocks: list[Block] = [Heading(3, heading, status.value), Fields(tuple(items))]
    if status is StepStatus.TODO and not record.outputs:
        return [*blocks, Paragraph(cat.t("dossier.step.not_started"), note=True)]
    if status is StepStatus.SKIPPED:
        return blocks
    return blocks + step_facts(cat, release, step_id)


def _audit(release: Release, cat: Catalogue) -> Table:
    header = ("at", "who", "action", "step", "detail")
    rows = tuple(
        (
            format_datetime(entry.at, cat.lang),
            person_text(cat, entry.actor),
            cat.t(f"dossier.audit.action.{entry.action.value}"),
            step_title(cat, entry.step) if entry.step else DASH,
            _detail(entry, cat),
        )
        for entry in release.audit
    )
    return Table("", tuple(cat.t(f"dossier.audit.{k}") for k in header), rows)


def _detail(entry: AuditEntry, cat: Catalogue) -> Cell:
    """The detail of the actions that have one the dossier understands; never the raw text of
    the others (it may hold anything)."""
    detail = entry.detail
    match entry.action:
        case AuditAction.SKIPPED | AuditAction.BLOCKED:
            return detail or DASH  # the reason the person typed, recorded for that
        case AuditAction.VOLUME_MEASURED:
            size, _, _ = detail.partition(":")
            if size.isdigit():
                total = int(size)
                route = cat.t(f"route.{decide_route(total).value}")
                return f"{format_size(total, cat.lang)} — {route}"
        case AuditAction.ROUTE_PREVIEWED:
            if detail in ("direct", "hosted"):
                return cat.t(f"route.{detail}")
        case AuditAction.TARGET_CHANGED:
            environment, _, url = detail.partition(":")
            if environment in {e.value for e in Environment}:
                return web_link(url) or cat.t(f"environment.{environment}", url=DASH)
        case AuditAction.FILES_CHANGED:
            count = len([p for p in detail.split(", ") if p]) if detail else 0
            return cat.t("dossier.audit.files", count=count)
        case AuditAction.MARKED_STALE:
            return reason_text(cat, StepStatus.STALE, detail) if detail else DASH
    return DASH


# --- the two documents ----------------------------------------------------------------------------


def render_markdown(release: Release, cat: Catalogue, version: str) -> str:
    return markdown(dossier_blocks(release, cat, version), cat)


# Printable on A4, readable on a screen; nothing loaded from anywhere.
_STYLE = """
:root { color-scheme: light; }
body { font: 11pt/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: #1e1e1e; background: #fff; margin: 0; }
main { max-width: 60rem; margin: 0 auto; padding: 2rem 2.5rem 4rem; }
h1 { font-size: 1.7rem; color: #000091; border-bottom: 3px solid #000091; padding-bottom: .4rem; }
h2 { font-size: 1.3rem; color: #000091; margin-top: 2.2rem; border-bottom: 1px solid #ccd; }
h3 { font-size: 1.05rem; margin: 1.6rem 0 .4rem; padding: .3rem .6rem; background: #f4f4fa;
  border-left: 5px solid #888; }
h3.status-done { border-left-color: #18753c; }
h3.status-skipped { border-left-color: #888; color: #555; }
h3.status-blocked { border-left-color: #ce0500; }
h3.status-stale { border-left-color: #a558a0; }
h3.status-in_progress { border-left-color: #b34000; }
p.note { color: #555; font-style: italic; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .4rem 0; }
dt { font-weight: 600; color: #333; }
dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0 1rem; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
th, td { border: 1px solid #ccd; padding: .25rem .45rem; text-align: left; vertical-align: top;
  overflow-wrap: break-word; }
th { background: #eef; white-space: nowrap; }
code { font: .74rem/1.3 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  word-break: break-all; }
td:nth-child(n+2) { font-variant-numeric: tabular-nums; }
a { color: #000091; }
@page { size: A4; margin: 15mm; }
@media print {
  main { max-width: none; padding: 0; }
  h2, h3 { break-after: avoid; }
  tr, dl { break-inside: avoid; }
  a { color: inherit; }
}
"""
# Nothing may load or run: the page is read offline and may travel as an attachment.
_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def render_html(release: Release, cat: Catalogue, version: str) -> str:
    blocks = dossier_blocks(release, cat, version)
    title = f"{cat.t('dossier.title')} — {release.name}"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{cat.lang.value}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{h(title)}</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        + html_blocks(blocks)
        + "\n</main>\n</body>\n</html>\n"
    )
