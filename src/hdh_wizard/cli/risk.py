"""`hdh-wizard risk PATH…`: the identification-risk analysis of the anonymity step, headless.

Exit code 0 when the three criteria are excluded for every table and no image carries
identifying content, 1 when something needs a measure or a justification, 2 on a usage error
(an unknown column, a bad threshold or rule).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.i18n.formatting import format_count
from hdh_wizard.inspect.inspection import inventory
from hdh_wizard.inspect.kinds import FileKind, sniff_kind
from hdh_wizard.inspect.risk.analysis import (
    Choice,
    Criterion,
    TableRisk,
    TableScan,
    assess,
    check_choice,
    resolve_names,
    scan_table,
)
from hdh_wizard.inspect.risk.generalise import Coarsening, ColumnRule
from hdh_wizard.inspect.risk.identifiers import Role
from hdh_wizard.inspect.risk.measures import DEFAULT_THRESHOLD, check_threshold
from hdh_wizard.inspect.risk.report import RiskReport, scan_to_json, table_to_json
from hdh_wizard.inspect.risk.slide_privacy import ImagePrivacyReport, scan_image_privacy
from hdh_wizard.inspect.risk.tables import TABLE_SUFFIXES, is_table, open_tables
from hdh_wizard.ui.risk_document import write_documents
from hdh_wizard.ui.risk_presenters import (
    criterion_text,
    finding_text,
    image_finding_text,
    rule_text,
    summary_lines,
    verdict_lines,
)

USAGE_ERROR = 2


def parse_columns(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    # csv rules: a name holding a comma is given in quotes, "age, en années".
    fields = text.split(",")
    if '"' in text:
        reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
        with contextlib.suppress(csv.Error):  # a quote left open: split as if there were none
            fields = [field for row in reader for field in row]
    names = (c.strip() for c in fields if c.strip())
    return tuple(dict.fromkeys(names))  # a column named twice is one column


def parse_rule(text: str) -> ColumnRule:
    """`column=rule` or `column=rule:count` (group_rare:10)."""
    column, _, spec = text.rpartition("=")
    name, _, count = spec.partition(":")
    try:
        coarsening = Coarsening(name.strip())
        min_count = int(count) if count else (5 if coarsening.needs_count else 0)
    except ValueError:
        raise HdhWizardError("risk.error.rule", rule=text) from None
    if not column.strip():
        raise HdhWizardError("risk.error.rule", rule=text)
    return ColumnRule(column.strip(), coarsening, min_count)


def run_risk(
    cat: Catalogue,
    paths: list[Path],
    *,
    quasi: str | None,
    sensitive: str | None,
    threshold: str | None,
    rules: list[str],
    as_json: bool,
    report_dir: Path | None,
) -> int:
    try:
        limit = check_threshold(threshold) if threshold is not None else DEFAULT_THRESHOLD
        parsed_rules = tuple(parse_rule(r) for r in rules)
    except HdhWizardError as error:
        print(f"hdh-wizard: {error.message(cat)}", file=sys.stderr)
        return USAGE_ERROR
    entries, skipped = inventory(paths, Path.cwd())
    errors: list[str] = []
    # Every input file is in the JSON document: measured (tables, images), or here with the
    # reason it was not, and what identifies in it when the table could be read.
    not_assessed: list[dict[str, Any]] = []

    def fail(path: str, message: str) -> None:
        errors.append(message)
        not_assessed.append({"path": path, "table": None, "reason": message, "findings": []})

    for item in skipped:
        reason = cat.t(f"inspect.skipped.{item.reason}")
        fail(item.display, cat.t("inspect.report.skipped", path=item.display, reason=reason))
    risks: list[TableRisk] = []
    images: list[ImagePrivacyReport] = []
    usage_error = False
    for entry in entries:
        try:
            kind = sniff_kind(entry.path)
            if kind in (FileKind.TIFF, FileKind.BIGTIFF):
                image = scan_image_privacy(entry.path, entry.display)
                images.append(image)
                if not as_json:
                    print(_image_text(cat, image), flush=True)
            elif is_table(entry.path):
                with open_tables(entry.path, entry.display) as tables:
                    for table in tables:
                        scan = scan_table(table)
                        given_quasi = _resolved(parse_columns(quasi), scan.columns)
                        given_sensitive = _resolved(parse_columns(sensitive), scan.columns)
                        choice = Choice(
                            quasi=_chosen(given_quasi, scan.with_role(Role.QUASI), given_sensitive),
                            sensitive=_chosen(
                                given_sensitive, scan.with_role(Role.SENSITIVE), given_quasi
                            ),
                            threshold=limit,
                            rules=parsed_rules,
                        )
                        try:
                            check_choice(scan, choice)
                        except HdhWizardError as error:
                            message = error.message(cat)
                            print(f"hdh-wizard: {message}", file=sys.stderr)
                            usage_error = True
                            # Not measured, but what identifies in it is still reported.
                            unmeasured = scan_to_json(scan)
                            not_assessed.append(
                                {"path": entry.display, "reason": message, **unmeasured}
                            )
                            if not as_json:
                                print(scan_text(cat, scan, message), flush=True)
                            continue
                        risk = assess(table, scan, choice)
                        risks.append(risk)
                        if not as_json:
                            print(table_text(cat, risk), flush=True)
            elif entry.path.suffix.lower() in TABLE_SUFFIXES:
                # Named as a table but empty or binary: say so rather than leave it out.
                fail(
                    entry.display,
                    cat.t("risk.error.not_a_table", file=entry.display, kind=kind.value),
                )
            else:  # documentation, a PDF…: nothing to measure, said in the JSON document
                reason = cat.t("risk.report.not_analysed", file=entry.display, kind=kind.value)
                not_assessed.append(
                    {"path": entry.display, "table": None, "reason": reason, "findings": []}
                )
        except HdhWizardError as error:
            fail(entry.display, error.message(cat))
        except OSError as error:
            detail = error.strerror or type(error).__name__
            fail(
                entry.display,
                cat.t("risk.error.unreadable", file=entry.display, detail=detail),
            )
    report = RiskReport(
        release=", ".join(str(p) for p in paths),
        generated_at=datetime.now(UTC),
        tables=tuple(risks),
        images=tuple(images),
    )
    for message in errors:  # files that could not be analysed are never silently left out
        print(f"hdh-wizard: {message}", file=sys.stderr)
    if as_json:
        document = _document(cat, report, errors, not_assessed)
        print(json.dumps(document, ensure_ascii=False, indent=2))
    elif not risks and not images and not usage_error and not errors:
        print(cat.t("risk.report.nothing"))
    if report_dir is not None and (risks or images):
        for written in write_documents(report, report_dir, cat):
            # On stderr with --json, so that standard output stays one JSON document.
            print(
                cat.t("risk.report.written", path=str(written)),
                file=sys.stderr if as_json else sys.stdout,
            )
    if usage_error:
        return USAGE_ERROR
    assessed = bool(risks or images)
    clean = assessed and all(report.excluded(c) for c in Criterion) and not errors
    return 0 if clean else 1


def _resolved(given: tuple[str, ...] | None, columns: tuple[str, ...]) -> tuple[str, ...] | None:
    return None if given is None else resolve_names(given, columns)


def _chosen(
    given: tuple[str, ...] | None, proposed: tuple[str, ...], other: tuple[str, ...] | None
) -> tuple[str, ...]:
    """The columns given, else the proposed ones less those the user put in the other list."""
    if given is not None:
        return given
    return tuple(c for c in proposed if c not in (other or ()))


def table_text(cat: Catalogue, risk: TableRisk) -> str:
    scan, choice = risk.scan, risk.choice
    key = "risk.report.table.one" if risk.original.records == 1 else "risk.report.table"
    lines = [
        cat.t(
            key,
            table=scan.table,
            records=format_count(risk.original.records),
            columns=len(scan.columns),
        )
    ]
    if scan.findings:
        lines.append("  " + cat.t("risk.report.findings"))
        lines.extend(f"    • {finding_text(cat, f)}" for f in scan.findings)
    lines.append("  " + cat.t("risk.report.quasi", columns=", ".join(choice.quasi) or "—"))
    lines.append("  " + cat.t("risk.report.sensitive", columns=", ".join(choice.sensitive) or "—"))
    if choice.rules:
        lines.append("  " + cat.t("risk.report.rules"))
        lines.extend(f"    • {rule_text(cat, r)}" for r in choice.rules)
    lines.extend(f"  {line}" for line in summary_lines(cat, risk))
    for criterion in Criterion:
        verdict = risk.verdict(criterion)
        lines.append(f"  {criterion_text(cat, criterion, verdict.excluded)}")
        lines.extend(f"      {line}" for line in verdict_lines(cat, verdict))
    return "\n".join(lines) + "\n"


def scan_text(cat: Catalogue, scan: TableScan, reason: str) -> str:
    """A table that could not be measured: why, and what identifies in it all the same."""
    lines = [cat.t("risk.report.not_measured", table=scan.table, reason=reason)]
    if scan.findings:
        lines.append("  " + cat.t("risk.report.findings"))
        lines.extend(f"    • {finding_text(cat, f)}" for f in scan.findings)
    return "\n".join(lines) + "\n"


def _image_text(cat: Catalogue, image: ImagePrivacyReport) -> str:
    if not image.findings:
        return cat.t("risk.report.image_clean", file=image.path) + "\n"
    lines = [cat.t("risk.report.image", file=image.path, count=len(image.findings))]
    lines.extend(f"  • {image_finding_text(cat, f)}" for f in image.findings)
    return "\n".join(lines) + "\n"


def _document(
    cat: Catalogue, report: RiskReport, errors: list[str], not_assessed: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        # Each verdict with its rule, source, reasons and remedies in words.
        "tables": [
            {
                **table_to_json(t),
                "verdicts": {c.value: t.verdict(c).to_json(cat) for c in Criterion},
            }
            for t in report.tables
        ],
        "images": [
            {
                "path": image.path,
                "pages": image.pages,
                "removable_pages": list(image.removable_pages),
                "findings": [
                    {
                        "rule": f.rule.value,
                        "page": f.page,
                        "tag": f.tag,
                        "excerpt": f.excerpt,
                    }
                    for f in image.findings
                ],
            }
            for image in report.images
        ],
        "criteria": {c.value: _verdict(report, c) for c in Criterion},
        "not_assessed": not_assessed,
        "errors": errors,
    }


def _verdict(report: RiskReport, criterion: Criterion) -> str:
    if not report.tables and not report.images:
        return "not_assessed"  # nothing measured excludes nothing
    return "excluded" if report.excluded(criterion) else "not_excluded"
