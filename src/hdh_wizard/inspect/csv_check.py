"""The tabular check of a delimited text file: one fast pass, an exact second one only when needed.

The fast pass runs two readers side by side: `byte_scan` (SHA-256 and byte counts, in a thread)
and `csv_profile` (polars, streaming). Their results are compared: when polars refuses a byte, or
the delimiters do not add up to the same field count on every row, `csv_diagnose` reads the file
again to name the lines. Each finding becomes a `Problem`; conversions remove the fixable ones.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect import csv_diagnose
from hdh_wizard.inspect.byte_scan import ByteCounts, scan_bytes
from hdh_wizard.inspect.csv_dialect import (
    UTF16,
    Sniffed,
    accent_readings,
    encoding_name,
    sniff_dialect,
)
from hdh_wizard.inspect.csv_profile import Profile, ProfileError, profile_table
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.report import (
    ColumnType,
    Dialect,
    Problem,
    Severity,
    TableReport,
)
from hdh_wizard.inspect.risk.identifiers import looks_identifying
from hdh_wizard.inspect.transcode import MIXED, readable_as_utf8, transcode_to_utf8
from hdh_wizard.phases import phase

ENDING_NAMES = {"\r\n": "CRLF", "\r": "CR", "mixed": "mixed", "\n": "LF"}
DELIMITER_NAMES = {",": ",", ";": ";", "\t": "tab", "|": "|"}


@dataclass(frozen=True)
class DelimitedResult:
    counts: ByteCounts
    table: TableReport | None
    problems: tuple[Problem, ...]


def check_delimited(
    path: Path,
    progress: Progress | None = None,
    identifying: Callable[[str], bool] = looks_identifying,
) -> DelimitedResult:
    """Check a text file as a table. Raises OSError when it cannot be read, Cancelled.

    `identifying` tells the columns whose values no finding may quote (the samples of an
    uncertain encoding come from the others)."""
    with phase("check.sniff"):
        sniffed = sniff_dialect(path)
    if sniffed.dialect.encoding in UTF16:
        return _check_utf16(path, sniffed, progress, identifying)
    delimiter = sniffed.dialect.delimiter.encode()
    with ThreadPoolExecutor(max_workers=1) as pool:
        counting = pool.submit(scan_bytes, path, delimiter, progress)
        try:
            # The byte scan (checksum, counts) runs beside: its CPU is counted here too.
            with phase("check.profile+bytes"):
                profile, failure = _profile(path, sniffed, progress)
                if failure is not None and failure.reason == "encoding":
                    # UTF-8 at the start, not further on: stray legacy bytes in a UTF-8 file.
                    sniffed = replace(sniffed, dialect=replace(sniffed.dialect, encoding=MIXED))
                    profile, failure = _profile(path, sniffed, progress)
                if failure is not None and failure.reason == "too_many_fields":
                    # Rows longer than the header: profiled with their extra fields left out
                    # (as a short row's missing ones are empty), so the table still has its
                    # row count.
                    profile, _failure = _profile(path, sniffed, progress, truncate_ragged=True)
        finally:
            with phase("check.bytes_after_profile"):
                counts = counting.result()
    if progress is not None:
        progress.check()
    if profile is not None and profile.blank_rows and _empty_fields_rows(counts, profile, sniffed):
        profile = _as_data_rows(profile)
    dialect = replace(sniffed.dialect, line_ending=counts.line_ending)
    problems = _format_problems(dialect)
    problems.extend(_uncertain_encoding(sniffed, identifying))
    if dialect.encoding == MIXED or counts.nul:
        with phase("check.diagnose_bytes"):
            problems.extend(_byte_problems(path, dialect, progress))
    problems.extend(_header_problems(sniffed))
    expected_fields = len(sniffed.header)
    structural = failure is not None and failure.reason in ("too_many_fields", "unreadable")
    if structural or (profile is not None and not _fields_add_up(counts, profile, sniffed)):
        # The exact reading names the lines (a ragged row, a quote that never closes).
        with phase("check.diagnose_rows"):
            problems.extend(_ragged_problems(path, dialect, expected_fields, progress))
    if failure is not None and not any(p.severity is Severity.BLOCKING for p in problems):
        problems.append(Problem("table_unreadable", Severity.BLOCKING, {"detail": failure.detail}))
    if profile is None:
        return DelimitedResult(counts, None, tuple(problems))
    problems.extend(_content_problems(profile))
    table = TableReport(
        rows=profile.rows,
        columns=profile.columns,
        dialect=dialect,
        duplicate_rows=profile.duplicate_rows,
        duplicate_rows_counted=profile.duplicate_rows_counted,
        blank_rows=profile.blank_rows,
    )
    return DelimitedResult(counts, table, tuple(problems))


def _check_utf16(
    path: Path,
    sniffed: Sniffed,
    progress: Progress | None,
    identifying: Callable[[str], bool],
) -> DelimitedResult:
    """UTF-16 is not ASCII-compatible (every character holds a NUL byte, delimiters and line
    endings are two bytes): the whole check reads a UTF-8 copy, whose lines are the same, and
    only the checksum and the size are the original's."""
    original = scan_bytes(path, None, progress)
    encoding = sniffed.dialect.encoding
    unreadable = Problem(
        "encoding_not_utf8", Severity.FIXABLE, {"encoding": encoding_name(encoding)}
    )
    with tempfile.TemporaryDirectory(prefix="hdh-wizard-") as scratch:
        copy = Path(scratch) / "utf8.csv"
        try:
            transcode_to_utf8(path, copy, encoding, progress)
        except HdhWizardError as error:
            detail = str(error.params.get("detail", ""))
            problem = Problem("table_unreadable", Severity.BLOCKING, {"detail": detail})
            return DelimitedResult(original, None, (unreadable, problem))
        result = check_delimited(copy, _CancelOnly(progress), identifying)
    counts = replace(result.counts, size=original.size, sha256=original.sha256)
    table = result.table
    if table is not None and table.dialect is not None:
        table = replace(table, dialect=replace(table.dialect, encoding=encoding, bom=True))
    return DelimitedResult(counts, table, (unreadable, *result.problems))


class _CancelOnly(Progress):
    """The progress of a second reading (of a UTF-8 copy): cancels with the first, without
    counting its bytes again."""

    def __init__(self, parent: Progress | None) -> None:
        super().__init__()
        self._parent = parent

    @property
    def cancelled(self) -> bool:
        return self._parent is not None and self._parent.cancelled

    def check(self) -> None:
        if self._parent is not None:
            self._parent.check()

    def advance(self, nbytes: int) -> None:
        self.check()


def _profile(
    path: Path, sniffed: Sniffed, progress: Progress | None, *, truncate_ragged: bool = False
) -> tuple[Profile | None, ProfileError | None]:
    """Profile the file; one in a legacy encoding is profiled through a UTF-8 copy, so its
    accents show right in examples and distinct counts."""
    try:
        with readable_as_utf8(path, sniffed, progress) as (readable, utf8):
            return profile_table(readable, utf8, truncate_ragged=truncate_ragged), None
    except ProfileError as error:
        return None, error
    except HdhWizardError as error:
        return None, ProfileError("unreadable", str(error.params.get("detail", "")))


def _expected_delimiters(profile: Profile, sniffed: Sniffed, rows: int) -> int:
    """Delimiters a file holds when `rows` data rows (and the header) each have every field:
    (rows + header) × (columns − 1), plus those inside quoted values (counted by the profile)."""
    header = 1 if sniffed.dialect.header else 0
    header_quoted = sum(name.count(sniffed.dialect.delimiter) for name in sniffed.header)
    quoted = profile.quoted_delimiters + header * header_quoted
    return (rows + header) * (len(profile.columns) - 1) + quoted


def _empty_fields_rows(counts: ByteCounts, profile: Profile, sniffed: Sniffed) -> bool:
    """Whether the rows polars reads as all-null are rows of empty fields (`,,`: data with
    missing values) rather than blank lines: they then hold all their delimiters."""
    if len(profile.columns) <= 1:
        return True  # one column: an empty line is an empty value
    rows = profile.rows + profile.blank_rows
    return counts.delimiters == _expected_delimiters(profile, sniffed, rows)


def _as_data_rows(profile: Profile) -> Profile:
    blank = profile.blank_rows
    rows = profile.rows + blank
    columns = tuple(
        replace(
            c,
            nulls=c.nulls + blank,
            type=ColumnType.EMPTY if c.nulls + blank == rows else c.type,
        )
        for c in profile.columns
    )
    duplicates = profile.duplicate_rows + (blank - 1 if profile.duplicate_rows_counted else 0)
    return replace(profile, rows=rows, columns=columns, blank_rows=0, duplicate_rows=duplicates)


def _fields_add_up(counts: ByteCounts, profile: Profile, sniffed: Sniffed) -> bool:
    """Every row has the header's field count iff the delimiters add up exactly."""
    if len(profile.columns) <= 1:
        return True
    # Blank rows hold no delimiter when truly blank, all of them when made of empty fields.
    expected = {
        _expected_delimiters(profile, sniffed, profile.rows),
        _expected_delimiters(profile, sniffed, profile.rows + profile.blank_rows),
    }
    return counts.delimiters in expected


def _format_problems(dialect: Dialect) -> list[Problem]:
    problems = []
    if dialect.encoding not in ("utf-8", MIXED):  # MIXED: `invalid_utf8` says where
        problems.append(
            Problem(
                "encoding_not_utf8",
                Severity.FIXABLE,
                {"encoding": encoding_name(dialect.encoding)},
            )
        )
    if dialect.bom:
        problems.append(Problem("bom", Severity.FIXABLE))
    if dialect.delimiter != ",":
        problems.append(
            Problem(
                "delimiter", Severity.FIXABLE, {"delimiter": DELIMITER_NAMES[dialect.delimiter]}
            )
        )
    if dialect.line_ending != "\n":
        problems.append(
            Problem("line_endings", Severity.FIXABLE, {"ending": ENDING_NAMES[dialect.line_ending]})
        )
    return problems


def _uncertain_encoding(sniffed: Sniffed, identifying: Callable[[str], bool]) -> list[Problem]:
    """When the single-byte encoding is a guess that could be wrong, the words with accents as
    each candidate reads them (never from an identifying column): the partner picks."""
    guess = sniffed.legacy
    if guess is None or not guess.uncertain:
        return []
    readings: list[dict[str, Any]] = [
        {"encoding": encoding, "name": encoding_name(encoding), "words": list(words)}
        for encoding, words in accent_readings(sniffed, lambda name: not identifying(name))
    ]
    params = {
        "encoding": encoding_name(guess.encoding),
        "candidates": ", ".join(guess.others),
        "readings": readings,
    }
    return [Problem("encoding_uncertain", Severity.INFO, params)]


def _byte_problems(path: Path, dialect: Dialect, progress: Progress | None) -> list[Problem]:
    findings = csv_diagnose.find_byte_problems(path, progress)
    problems = []
    if findings.bad_utf8_total and dialect.encoding == MIXED:
        problems.append(
            Problem(
                "invalid_utf8",
                Severity.FIXABLE,
                {"offsets": ", ".join(str(o) for o in findings.bad_utf8_offsets)},
                tuple(findings.bad_utf8_lines),
                findings.bad_utf8_total,
            )
        )
    if findings.nul_total:
        problems.append(
            Problem(
                "nul_bytes", Severity.BLOCKING, {}, tuple(findings.nul_lines), findings.nul_total
            )
        )
    return problems


def _header_problems(sniffed: Sniffed) -> list[Problem]:
    names = sniffed.header
    if not names:
        return [Problem("no_rows", Severity.BLOCKING)]
    if not sniffed.dialect.header:
        return [Problem("no_header", Severity.BLOCKING, {"first": ", ".join(names[:5])})]
    seen: set[str] = set()
    duplicated = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if duplicated:
        return [Problem("duplicate_header", Severity.BLOCKING, {"names": ", ".join(duplicated)})]
    return []


def _ragged_problems(
    path: Path, dialect: Dialect, expected: int, progress: Progress | None
) -> list[Problem]:
    findings = csv_diagnose.find_ragged_rows(
        path, dialect.encoding, dialect.delimiter, expected, progress
    )
    problems = []
    if findings.ragged_total:
        details = ", ".join(
            f"{line} ({count})"
            for line, count in zip(findings.ragged_lines, findings.ragged_counts, strict=True)
        )
        problems.append(
            Problem(
                "ragged_rows",
                Severity.BLOCKING,
                {"expected": expected, "details": details},
                tuple(findings.ragged_lines),
                findings.ragged_total,
            )
        )
    if findings.unclosed_quote_line:
        problems.append(
            Problem(
                "unclosed_quote",
                Severity.BLOCKING,
                {},
                (findings.unclosed_quote_line,),
                1,
            )
        )
    return problems


def _content_problems(profile: Profile) -> list[Problem]:
    problems = []
    if profile.rows == 0:
        problems.append(Problem("header_only", Severity.BLOCKING))
    for column in profile.columns:
        if column.type is ColumnType.EMPTY and profile.rows:
            problems.append(Problem("empty_column", Severity.INFO, {"column": column.name}))
        elif column.type is ColumnType.DATE_DAY_FIRST:
            problems.append(Problem("dates_day_first", Severity.FIXABLE, {"column": column.name}))
        elif column.type is ColumnType.DATE_AMBIGUOUS:
            problems.append(Problem("dates_ambiguous", Severity.INFO, {"column": column.name}))
        elif column.type is ColumnType.DECIMAL_COMMA:
            problems.append(Problem("decimal_comma", Severity.FIXABLE, {"column": column.name}))
        if column.unparsed:
            problems.append(
                Problem(
                    "values_not_matching_type",
                    Severity.INFO,
                    {"column": column.name, "type": column.type.value},
                    (),
                    column.unparsed,
                )
            )
    if profile.blank_rows:
        problems.append(Problem("blank_rows", Severity.FIXABLE, {}, (), profile.blank_rows))
    if profile.duplicate_rows:
        problems.append(Problem("duplicate_rows", Severity.INFO, {}, (), profile.duplicate_rows))
    if not profile.duplicate_rows_counted:
        problems.append(Problem("duplicates_not_counted", Severity.INFO))
    return problems
