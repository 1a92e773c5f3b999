"""What the inspection says about each file: plain values, shared by the CLI report and the screen.

A `Problem` is a catalogue key (`inspect.problem.<code>`) with its parameters, so the same finding
reads in French or English and serialises as-is to JSON. Line numbers are physical lines of the
file, 1-based, header included, as a text editor shows them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from hdh_wizard.inspect.kinds import FileKind


class Verdict(StrEnum):
    CONFORM = "conform"  # publishable as is
    FIXABLE = "fixable"  # the wizard can write a conformant copy
    NOT_FIXABLE = "not_fixable"  # the partner has to act (the problems say what)


class Severity(StrEnum):
    INFO = "info"  # worth knowing, changes nothing (a BOM, an approximate count)
    FIXABLE = "fixable"  # a conversion removes it
    BLOCKING = "blocking"  # no conversion here can remove it


@dataclass(frozen=True)
class Problem:
    code: str  # catalogue key suffix: inspect.problem.<code>
    severity: Severity
    params: dict[str, Any] = field(default_factory=dict)
    lines: tuple[int, ...] = ()  # the first offending lines (physical, 1-based)
    total: int = 0  # how many in the whole file (0 when not counted)

    @property
    def key(self) -> str:
        return f"inspect.problem.{self.code}"


class ColumnType(StrEnum):
    INTEGER = "integer"
    DECIMAL = "decimal"  # dot as decimal separator
    DECIMAL_COMMA = "decimal_comma"  # "12,5": French spreadsheets
    DATE_ISO = "date_iso"  # AAAA-MM-JJ
    DATE_DAY_FIRST = "date_day_first"  # JJ/MM/AAAA
    DATE_AMBIGUOUS = "date_ambiguous"  # JJ/MM/AAAA or MM/JJ/AAAA: every day is ≤ 12
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    TEXT = "text"
    EMPTY = "empty"  # no value at all


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    type: ColumnType
    nulls: int  # empty fields
    distinct: int
    distinct_exact: bool  # False above the exact-count limit: an estimate (±2 %)
    minimum: str | None = None
    maximum: str | None = None
    examples: tuple[str, ...] = ()
    masked: bool = False  # examples hidden: the column looks identifying
    unparsed: int = 0  # values that do not fit the inferred type (kept as text)


@dataclass(frozen=True)
class Dialect:
    encoding: str  # "utf-8", "cp1252", "latin-1"
    bom: bool
    delimiter: str
    quote: str
    header: bool
    line_ending: str  # "\n", "\r\n", "\r" or "mixed"


@dataclass(frozen=True)
class TableReport:
    rows: int  # data rows, header excluded
    columns: tuple[ColumnProfile, ...]
    dialect: Dialect | None = None  # None for spreadsheets and Parquet
    duplicate_rows: int = 0
    duplicate_rows_counted: bool = True  # False above the size where counting stays cheap
    sheets: tuple[str, ...] = ()  # spreadsheets: every sheet, in order
    blank_rows: int = 0  # blank lines, not counted in `rows` (conversions drop them)


@dataclass(frozen=True)
class ImageReport:
    pages: int
    width: int
    height: int
    bigtiff: bool
    tiled: bool
    levels: int  # pyramid levels of the main series (1: no pyramid)
    compression: str
    dtype: str
    samples_per_pixel: int


@dataclass(frozen=True)
class FileReport:
    path: str  # as given or relative to the project folder, POSIX
    kind: FileKind
    size: int
    mtime_ns: int
    sha256: str
    verdict: Verdict
    problems: tuple[Problem, ...] = ()
    table: TableReport | None = None
    image: ImageReport | None = None

    @property
    def convertible(self) -> bool:
        return self.verdict is Verdict.FIXABLE


def report_to_json(report: FileReport) -> dict[str, Any]:
    """The JSON shape of `hdh-wizard check --json` (enums as their values)."""
    data = asdict(report)
    data["kind"] = report.kind.value
    data["verdict"] = report.verdict.value
    for problem in data["problems"]:
        problem["severity"] = str(problem["severity"])
        problem["lines"] = list(problem["lines"])
    if report.table is not None:
        for column in data["table"]["columns"]:
            column["type"] = str(column["type"])
            column["examples"] = list(column["examples"])
    return data


def verdict_of(problems: tuple[Problem, ...] | list[Problem]) -> Verdict:
    """The worst of the problems decides: one blocking problem makes the file not fixable here."""
    severities = {p.severity for p in problems}
    if Severity.BLOCKING in severities:
        return Verdict.NOT_FIXABLE
    if Severity.FIXABLE in severities:
        return Verdict.FIXABLE
    return Verdict.CONFORM
