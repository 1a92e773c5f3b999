"""The words of the inspection report, shared by `hdh-wizard check` and the step's screen."""

from __future__ import annotations

from typing import Any

from hdh_wizard.core.route import decide_route
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.i18n.formatting import format_count, format_size
from hdh_wizard.inspect.kinds import FileKind
from hdh_wizard.inspect.report import ColumnProfile, FileReport, Problem, Verdict

VERDICT_SYMBOLS = {Verdict.CONFORM: "✓", Verdict.FIXABLE: "↻", Verdict.NOT_FIXABLE: "✗"}
VERDICT_STYLES = {Verdict.CONFORM: "green", Verdict.FIXABLE: "yellow", Verdict.NOT_FIXABLE: "red"}


def kind_label(cat: Catalogue, kind: FileKind) -> str:
    """What a file is in the reader's words: "image TIFF", not "tiff"."""
    return cat.t(f"inspect.kind.{kind.value}")


def kinds_text(cat: Catalogue, reports: list[FileReport]) -> str:
    """How many files of each kind: "texte (1), image TIFF (3)"."""
    counts: dict[str, int] = {}
    for report in reports:
        label = kind_label(cat, report.kind)
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(
        cat.t("inspect.report.kind_count", kind=label, count=format_count(n))
        for label, n in sorted(counts.items())
    )


def verdict_text(cat: Catalogue, verdict: Verdict) -> str:
    return f"{VERDICT_SYMBOLS[verdict]} {cat.t(f'inspect.verdict.{verdict.value}')}"


def problem_text(cat: Catalogue, problem: Problem) -> str:
    """The sentence, then where: the first lines and the total when there are more."""
    # Some params are ids ("mixed", "tab") kept stable for --json: say them in the reader's words.
    params = {name: _param_text(cat, name, value) for name, value in problem.params.items()}
    text = cat.t(problem.key, **params)
    where = []
    if problem.lines:
        where.append(cat.t("inspect.problem.lines", lines=", ".join(map(str, problem.lines))))
    if problem.total and problem.total != len(problem.lines):
        where.append(cat.t("inspect.problem.total", total=format_count(problem.total)))
    return f"{text} ({'; '.join(where)})" if where else text


def _param_text(cat: Catalogue, name: str, value: object) -> object:
    if name == "readings" and isinstance(value, list):
        return readings_text(cat, value)
    if not isinstance(value, str):
        return value
    for key in (f"inspect.value.{value}", f"inspect.{name}.{value}"):
        if cat.has(key):
            return cat.t(key)
    return value


def readings_text(cat: Catalogue, readings: list[Any]) -> str:
    """The words with accents as each candidate encoding reads them (`encoding_uncertain`):
    cp1252 « M‚lanome », cp850 « Mélanome »."""
    return "; ".join(
        cat.t(
            "inspect.encoding.reading",
            encoding=reading.get("encoding", ""),
            words=", ".join(str(w) for w in reading.get("words", ())) or "—",
        )
        for reading in readings
        if isinstance(reading, dict)
    )


def column_text(cat: Catalogue, column: ColumnProfile) -> str:
    examples = ", ".join(column.examples)  # an identifying column's are masked at the source
    bounds = f"{column.minimum} … {column.maximum}" if column.minimum is not None else "—"
    return cat.t(
        "inspect.column",
        name=column.name,
        type=cat.t(f"inspect.type.{column.type.value}"),
        nulls=format_count(column.nulls),
        distinct=format_count(column.distinct, exact=column.distinct_exact),
        bounds=bounds,
        examples=examples or "—",
    )


def file_summary(cat: Catalogue, report: FileReport) -> str:
    rows = ""
    if report.table is not None:
        rows = " · " + cat.t("inspect.rows", rows=format_count(report.table.rows))
    return (
        f"{report.path} · {kind_label(cat, report.kind)} · {format_size(report.size, cat.lang)}"
        f"{rows}"
        f" · {verdict_text(cat, report.verdict)}"
    )


def route_summary(cat: Catalogue, total: int) -> str:
    """The volume of the files to publish and the route it decides."""
    return cat.t(
        "inspect.report.route",
        size=format_size(total, cat.lang),
        bytes=format_count(total),
        route=cat.t(f"route.{decide_route(total).value}"),
    )
