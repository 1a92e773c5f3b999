"""`hdh-wizard check PATH…` and `hdh-wizard convert PATH…`: the interoperability step, headless."""

from __future__ import annotations

import codecs
import json
import sys
from collections import Counter
from pathlib import Path

from hdh_wizard.core.route import decide_route
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.i18n.formatting import format_size
from hdh_wizard.inspect.convert import convert, source_encoding
from hdh_wizard.inspect.csv_dialect import encoding_name
from hdh_wizard.inspect.inspection import InventoryEntry, Skipped, inspect_file, inventory
from hdh_wizard.inspect.report import FileReport, Verdict, report_to_json
from hdh_wizard.phases import phase
from hdh_wizard.present.inspect_presenters import (
    column_text,
    file_summary,
    kinds_text,
    problem_text,
    route_summary,
)

USAGE_ERROR = 2


def run_check(cat: Catalogue, paths: list[Path], *, as_json: bool, follow_links: bool) -> int:
    with phase("check.inventory"):
        entries, skipped = inventory(paths, Path.cwd(), follow_links)
    reports = []
    for entry in entries:
        with phase("check.inspect"):
            report = inspect_file(entry)
        reports.append(report)
        if not as_json:
            with phase("check.output"):
                print(report_text(cat, report), flush=True)
    with phase("check.output"):
        return _finish(cat, reports, skipped, as_json=as_json)


def _finish(
    cat: Catalogue, reports: list[FileReport], skipped: list[Skipped], *, as_json: bool
) -> int:
    total = sum(r.size for r in reports)
    if as_json:
        document = {
            "files": [report_to_json(r) for r in reports],
            "skipped": [{"path": s.display, "reason": s.reason} for s in skipped],
            "total_bytes": total,
            "route": decide_route(total).value,
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        print(summary_text(cat, reports, skipped))
    return 0 if all(r.verdict is Verdict.CONFORM for r in reports) and not skipped else 1


def report_text(cat: Catalogue, report: FileReport) -> str:
    lines = [file_summary(cat, report)]
    if report.sha256:
        lines.append("  " + cat.t("inspect.report.sha256", sha256=report.sha256))
    lines.extend(f"  • {problem_text(cat, p)}" for p in report.problems)
    if report.table is not None:
        lines.extend(f"    {column_text(cat, c)}" for c in report.table.columns[:50])
    return "\n".join(lines) + "\n"


def summary_text(cat: Catalogue, reports: list[FileReport], skipped: list[Skipped]) -> str:
    verdicts = Counter(r.verdict for r in reports)
    total = sum(r.size for r in reports)
    lines = [
        cat.t("inspect.report.skipped", path=s.display, reason=cat.t(f"inspect.skipped.{s.reason}"))
        for s in skipped
    ]
    lines += [
        cat.t(
            "inspect.report.totals",
            count=len(reports),
            size=format_size(total, cat.lang),
            conform=verdicts[Verdict.CONFORM],
            fixable=verdicts[Verdict.FIXABLE],
            blocking=verdicts[Verdict.NOT_FIXABLE],
        ),
        cat.t("inspect.report.kinds", kinds=kinds_text(cat, reports)),
        route_summary(cat, total),
    ]
    return "\n".join(lines)


def run_convert(
    cat: Catalogue,
    paths: list[Path],
    publish: Path,
    *,
    follow_links: bool,
    encoding: str | None = None,
) -> int:
    """Write the conformant copies. `encoding` (`--encoding`) is the partner's choice for text
    files in a single-byte encoding, whose detection is a guess. Exit code 0 when every
    convertible file was converted, 1 when a path is missing or a file is not fixable or failed,
    2 on an unknown encoding."""
    if encoding is not None:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            print(
                f"hdh-wizard: {cat.t('cli.convert.unknown_encoding', encoding=encoding)}",
                file=sys.stderr,
            )
            return USAGE_ERROR
    entries, skipped = inventory(paths, Path.cwd(), follow_links)
    for item in skipped:  # as `check` does: a path that is not there is named, and fails
        reason = cat.t(f"inspect.skipped.{item.reason}")
        print(cat.t("inspect.report.skipped", path=item.display, reason=reason), file=sys.stderr)
    failed = converted = 0
    for entry in entries:
        report = inspect_file(entry)
        if report.verdict is not Verdict.FIXABLE:
            failed += report.verdict is Verdict.NOT_FIXABLE
            if report.verdict is Verdict.NOT_FIXABLE:
                print(report_text(cat, report), file=sys.stderr)
            continue
        _say_encoding(cat, report, encoding)
        failed += not _convert_one(cat, entry, report, publish, encoding)
        converted += 1
    if not converted and not skipped:
        print(cat.t("inspect.report.nothing_to_convert"))
    return 1 if failed or skipped else 0


def _say_encoding(cat: Catalogue, report: FileReport, chosen: str | None) -> None:
    """On stderr: the encoding a text file is read in when it is the partner's choice, or a
    guess that could be wrong (then how to choose another)."""
    dialect = report.table.dialect if report.table is not None else None
    if dialect is None:
        return
    used = source_encoding(dialect.encoding, chosen)
    if chosen is not None and used == chosen:
        message = cat.t("cli.convert.encoding_chosen", file=report.path, encoding=used)
    else:
        uncertain = next((p for p in report.problems if p.code == "encoding_uncertain"), None)
        if uncertain is None:
            return
        candidates = str(uncertain.params.get("candidates", ""))
        message = cat.t(
            "cli.convert.encoding_guessed",
            file=report.path,
            encoding=encoding_name(used),
            candidate=candidates.split(", ")[0] or "cp850",
            candidates=candidates or "—",
        )
    print(f"hdh-wizard: {message}", file=sys.stderr)


def _convert_one(
    cat: Catalogue,
    entry: InventoryEntry,
    report: FileReport,
    publish: Path,
    encoding: str | None = None,
) -> bool:
    try:
        for written in convert(entry, report, publish, encoding=encoding):
            print(
                cat.t("inspect.report.converted", output=str(written.output), source=written.source)
            )
    except HdhWizardError as error:
        print(
            cat.t("inspect.report.convert_failed", file=report.path, message=error.message(cat)),
            file=sys.stderr,
        )
        return False
    return True
