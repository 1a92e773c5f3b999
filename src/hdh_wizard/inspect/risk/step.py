"""The anonymity step's rules: what must hold before committing, and what committing records.

Kept apart from the screen so the CLI, the screen and the tests share them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hdh_wizard.core.checks import Check
from hdh_wizard.inspect.inspection import display_path
from hdh_wizard.inspect.risk.analysis import Criterion
from hdh_wizard.inspect.risk.identifiers import looks_identifying
from hdh_wizard.inspect.risk.linkability import persistent_identifier_name
from hdh_wizard.inspect.risk.report import Attestation, Replacement, RiskReport, table_to_json

MIN_JUSTIFICATION = 40  # characters: a sentence, not "ok"


def attestation_complete(attestation: Attestation | None) -> bool:
    if attestation is None:
        return False
    return all(v.strip() for v in (attestation.name, attestation.role, attestation.organization))


def step_checks(report: RiskReport | None) -> list[Check]:
    if report is None:
        return [Check("risk.check.analysed", False)]
    checks = [Check("risk.check.analysed", bool(report.tables or report.images))]
    for criterion in Criterion:
        excluded = report.excluded(criterion)
        text = report.justifications.get(criterion, "").strip()
        checks.append(
            Check(
                f"risk.check.{criterion.value}",
                excluded or len(text) >= MIN_JUSTIFICATION,
                {"min": MIN_JUSTIFICATION},
            )
        )
    # The verdicts hold for the copies: a table with rules must be published as its copy, never
    # as the original the rules were only simulated on.
    uncopied = [
        t.scan.table for t in report.tables if t.choice.rules and not report.copy_of(t.scan.table)
    ]
    checks.append(Check("risk.check.copies", not uncopied, {"tables": ", ".join(uncopied) or "—"}))
    checks.append(Check("risk.check.attestation", attestation_complete(report.attestation)))
    return checks


def step_outputs(report: RiskReport, project: Path, documents: list[Path]) -> dict[str, Any]:
    """The measures, thresholds, decisions, attestation and the copies to publish instead."""
    replacements = [
        {
            "source": r.source,
            "path": r.display,
            "size": r.size,
            "sha256": r.sha256,
            "source_size": r.source_size,
        }
        for r in report.replacements
    ]
    return {
        "tables": [_table_state(table_to_json(t)) for t in report.tables],
        "images": [
            {
                "path": image.path,
                "findings": len(image.findings),
                "removable_pages": list(image.removable_pages),
            }
            for image in report.images
        ],
        "criteria": {
            c.value: {
                "excluded": report.excluded(c),
                "justification": report.justifications.get(c, "").strip(),
            }
            for c in Criterion
        },
        "attestation": report.attestation.to_state() if report.attestation else None,
        "replacements": replacements,
        "documents": [display_path(d.resolve(), project.resolve()) for d in documents],
    }


def _table_state(data: dict[str, Any]) -> dict[str, Any]:
    """The JSON report of a table, without the per-column list and with findings as counts."""
    data = dict(data)
    data.pop("columns")
    data["findings"] = [
        {"column": f["column"], "rule": f["rule"], "matches": f["matches"]}
        for f in data["findings"]
    ]
    return data


def replacements_from_state(outputs: dict[str, Any], project: Path) -> list[Replacement]:
    """The copies a previous session wrote, while they are still there at the recorded size
    (a copy changed or gone since is not the one measured: it is left out)."""
    found = []
    items = outputs.get("replacements")
    for item in items if isinstance(items, list) else []:
        try:
            output = project / str(item["path"])
            size = int(item["size"])
            replacement = Replacement(
                str(item["source"]), output, size, str(item["sha256"]), int(item["source_size"])
            )
        except (KeyError, TypeError, ValueError):
            continue
        if output.is_file() and output.stat().st_size == size:
            found.append(replacement)
    return found


def marked_columns(outputs: dict[str, Any]) -> frozenset[str]:
    """The columns the anonymity step (finished or as a draft) removes, re-keys or generalises:
    their exact values identify, so other steps show them only by their shape."""
    marked: set[str] = set()
    choices = outputs.get("choices")
    saved = list(choices.values()) if isinstance(choices, dict) else []
    tables = outputs.get("tables")
    saved += tables if isinstance(tables, list) else []
    for choice in saved:
        rules = choice.get("rules") if isinstance(choice, dict) else None
        for rule in rules if isinstance(rules, list) else []:
            if isinstance(rule, dict) and isinstance(rule.get("column"), str):
                marked.add(rule["column"])
    return frozenset(marked)


def identifying_with(outputs: dict[str, Any]) -> Callable[[str], bool]:
    """`looks_identifying`, and the columns the anonymity step marked (`marked_columns`)."""
    marked = marked_columns(outputs)
    return lambda name: (
        looks_identifying(name) or persistent_identifier_name(name) or (name in marked)
    )


def published_copies(outputs: dict[str, Any], project: Path) -> dict[str, Path]:
    """The copies the anonymity step wrote to publish instead of a file (a generalised table, a
    cleaned slide), by the source file's display path, while they are there as recorded."""
    copies: dict[str, Path] = {}
    for item in replacements_from_state(outputs, project):
        source = item.source.partition(" › ")[0]  # a workbook's sheet: the workbook
        copies.setdefault(source, item.output)
    return copies
