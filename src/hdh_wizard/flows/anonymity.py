"""Prerequisite I.1, anonymity: the sequences of the step, for its screen's workers.

The measures, the verdicts and the search live in `inspect.risk` (the `risk` command runs them
too); what this module adds is the step's sequence around them: writing the copies to publish
(all or none, re-keyed identifiers sharing one key), cleaning the slides (all or none), the
report's details at commit (one more pass: per-rule counts, classes at risk, input hashes), and
the commit itself (the report written to `rapport/`, then the step's outputs).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from hdh_wizard.core.steps import StepId
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.inspect.inspection import InventoryEntry
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.risk.analysis import TableRisk
from hdh_wizard.inspect.risk.rekey import ReleaseKey
from hdh_wizard.inspect.risk.release import TableRef, clean_slide, describe_ref, export_ref
from hdh_wizard.inspect.risk.report import Provenance, Replacement, RiskReport
from hdh_wizard.inspect.risk.step import step_outputs
from hdh_wizard.present.risk_document import write_documents

STEP = StepId.ANONYMITY
REPORT_FOLDER = "rapport"


def export_copies(
    jobs: Sequence[tuple[TableRef, TableRisk]],
    publish: Path,
    others: Collection[Path],
    progress: Progress | None = None,
) -> list[Replacement]:
    """Write the copies of `jobs` to `publish` (`others`: the other tables' copies, never
    overwritten). Copies with re-keyed identifiers share one new key, so their codes join; the
    key lives only as long as this call. All or none: on a cancel or an error, the copies
    already written are removed before it is raised."""
    key = ReleaseKey.new() if any(risk.choice.rekeyed for _, risk in jobs) else None
    written: list[Replacement] = []
    try:
        for ref, risk in jobs:
            taken = {*others, *(w.output for w in written)}
            records = risk.original.records
            written.append(export_ref(ref, risk.choice, publish, records, progress, taken, key))
    except BaseException:
        _remove(written)
        raise
    return written


def clean_slides(
    slides: Sequence[InventoryEntry], dirty: Collection[str], publish: Path, progress: Progress
) -> list[Replacement]:
    """Copies of the slides in `dirty` without their label, macro image and identifying tags.
    All or none: a half-cleaned set would mislead."""
    written: list[Replacement] = []
    try:
        for entry in slides:
            if entry.display in dirty:
                taken = [w.output for w in written]  # two slides of one name: both kept
                written.append(clean_slide(entry, publish, progress, taken))
    except BaseException:
        _remove(written)
        raise
    return written


def describe(
    report: RiskReport,
    tables: Sequence[tuple[TableRef, TableRisk]],
    progress: Progress | None = None,
) -> RiskReport:
    """The report with what it needs beyond the measures (per-rule counts, classes at risk,
    information loss, the inputs' SHA-256): one more pass over each table."""
    details, hashes = [], []
    for ref, risk in tables:
        described, digest = describe_ref(ref, risk, progress)
        details.append(described)
        hashes.append(digest)
    return replace(report, details=tuple(details), provenance=Provenance.current(hashes))


def finish(
    report: RiskReport, folder: Path, cat: Catalogue, draft: dict[str, Any]
) -> dict[str, Any]:
    """Write the report (Markdown and HTML) to `rapport/` and give the outputs to commit the
    step with: the measures, the verdicts, the justifications, the confirmed attestation, the
    copies to publish and the documents. Raises `HdhWizardError` when the report cannot be
    written (then nothing is to be committed)."""
    documents = write_documents(report, folder / REPORT_FOLDER, cat)
    outputs = {**draft, **step_outputs(report, folder, documents)}
    attestation = outputs.get("attestation")
    outputs["attestation"] = {**(attestation if isinstance(attestation, dict) else {})}
    outputs["attestation"]["confirmed"] = True
    return outputs


def _remove(written: Sequence[Replacement]) -> None:
    for item in written:
        item.output.unlink(missing_ok=True)
