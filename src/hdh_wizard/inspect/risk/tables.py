"""The release's tables as polars lazy frames of text, for the risk measures.

Values are compared as written (text): "075" and "75" are different answers an attacker could
match on. CSV in a legacy encoding is read through a UTF-8 copy, as the inspection does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import NDArray

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect import csv_diagnose
from hdh_wizard.inspect.csv_dialect import Sniffed, sniff_dialect
from hdh_wizard.inspect.csv_profile import scan
from hdh_wizard.inspect.kinds import FileKind, sniff_kind
from hdh_wizard.inspect.risk.masking import mask
from hdh_wizard.inspect.tables import TableReadError, read_sheets
from hdh_wizard.inspect.transcode import readable_as_utf8

_CHUNK = 16 * 1024 * 1024
_LF, _CR = 10, 13
_QUOTED = re.compile(r"`([^`]*)`")
# A header field that is a value, not a name: an email, a phone number, a long run of digits.
_DATA_LIKE = re.compile(r"@|\d[\d .-]{7,}\d")
TABLE_KINDS = frozenset(
    {FileKind.TEXT, FileKind.PARQUET, FileKind.XLSX, FileKind.XLS, FileKind.ODS}
)


@dataclass(frozen=True)
class Table:
    name: str  # the file's display path, with " › sheet" for a workbook sheet
    frame: pl.LazyFrame  # every column as text

    @property
    def columns(self) -> list[str]:
        return self.frame.collect_schema().names()


TABLE_SUFFIXES = frozenset({".csv", ".tsv", ".tab", ".psv"})


def is_table(path: Path) -> bool:
    """A workbook, Parquet, a .csv/.tsv file, or a .txt file shaped as a table (a README is not)."""
    try:
        kind = sniff_kind(path)
        if kind is not FileKind.TEXT:
            return kind in TABLE_KINDS
        if path.suffix.lower() in TABLE_SUFFIXES:
            return True
        if path.suffix.lower() != ".txt":
            return False
        sniffed = sniff_dialect(path)
    except OSError:
        return False
    width = len(sniffed.header)
    rows = sniffed.sample_rows
    return width >= 2 and len(rows) >= 2 and all(len(row) == width for row in rows)


@contextmanager
def open_tables(path: Path, display: str) -> Iterator[list[Table]]:
    """The tables of one file (one per non-empty sheet of a workbook). Raises HdhWizardError."""
    kind: FileKind | None = None
    try:
        kind = sniff_kind(path)
        if kind is FileKind.TEXT:
            with _csv_frame(path, display) as frame:
                yield [Table(display, frame)]
            return
        if kind is FileKind.PARQUET:
            frame = pl.scan_parquet(path)
            frame.collect_schema()  # a damaged file fails here, with a clear message
            yield [Table(display, _as_text(frame))]
            return
        if kind in (FileKind.XLSX, FileKind.XLS, FileKind.ODS):
            sheets = read_sheets(path)
            yield [
                Table(f"{display} › {name}", _as_text(sheet.lazy()))
                for name, sheet in sheets.items()
                if sheet.height
            ]
            return
    except (OSError, TableReadError, pl.exceptions.PolarsError) as error:
        if kind is FileKind.TEXT and isinstance(error, pl.exceptions.PolarsError):
            malformed = malformed_line(path, display)
            if malformed is not None:
                raise malformed from error
        raise HdhWizardError(
            "risk.error.unreadable", file=display, detail=safe_detail(error)
        ) from error
    raise HdhWizardError("risk.error.not_a_table", file=display, kind=kind.value)


def malformed_line(path: Path, display: str) -> HdhWizardError | None:
    """polars says *that* a delimited file is malformed (in its own words, quoting data); the
    exact reading says where, in the partner's words: the first row with too many or too few
    fields, or the quote that never closes."""
    try:
        sniffed = sniff_dialect(path)
        found = csv_diagnose.find_ragged_rows(
            path, sniffed.dialect.encoding, sniffed.dialect.delimiter, len(sniffed.header)
        )
    except (OSError, ValueError):
        return None
    if found.ragged_lines:
        return HdhWizardError(
            "risk.error.ragged_row",
            file=display,
            line=found.ragged_lines[0],
            found=found.ragged_counts[0],
            expected=len(sniffed.header),
            total=found.ragged_total,
        )
    if found.unclosed_quote_line:
        return HdhWizardError(
            "risk.error.unclosed_quote", file=display, line=found.unclosed_quote_line
        )
    return None


@contextmanager
def _csv_frame(path: Path, display: str) -> Iterator[pl.LazyFrame]:
    sniffed = sniff_dialect(path)
    check_header(sniffed, display)
    with readable_as_utf8(path, sniffed) as (readable, utf8):
        frame = scan(readable, utf8, infer=False)
        yield _without_blank_rows(frame) if has_blank_line(readable) else frame


def check_header(sniffed: Sniffed, display: str) -> None:
    """The measures name columns: a file needs a header of distinct names, and a first record
    taken for a header would put a patient's data in every message that lists the columns."""
    names = [name.strip() for name in sniffed.header]
    if not any(names):
        raise HdhWizardError("risk.error.empty_table", file=display)
    if not sniffed.dialect.header or "" in names or any(_DATA_LIKE.search(n) for n in names):
        raise HdhWizardError("risk.error.no_header", file=display)
    doubles = sorted({n for n in names if names.count(n) > 1})
    if doubles:
        raise HdhWizardError(
            "risk.error.duplicate_columns", file=display, columns=", ".join(doubles)
        )


def _without_blank_rows(frame: pl.LazyFrame) -> pl.LazyFrame:
    """polars reads a blank line as a row of nulls: it is not a record (conversion drops it too).

    The filter reads every column, which defeats polars' projection of the few columns a measure
    needs: it is only added to files that have a blank line."""
    return frame.filter(~pl.all_horizontal(pl.all().is_null()))


def has_blank_line(path: Path) -> bool:
    """Whether some line is empty: a line ending right after another (LF LF, CR LF CR LF, CR CR).

    Inside quotes too: then the filter is merely unneeded. Remembered per file version, since the
    screen reopens a table for every measure."""
    info = path.stat()
    return _has_blank_line(path, info.st_size, info.st_mtime_ns)


@lru_cache(maxsize=64)
def _has_blank_line(path: Path, _size: int, _mtime_ns: int) -> bool:
    # Vectorised over the few bytes that can be line endings: a plain byte search for "\n\n"
    # stops at every line and is several times slower.
    context = np.zeros(2, dtype=np.uint8)  # the two bytes before the chunk
    buffer = bytearray(_CHUNK)
    with path.open("rb") as handle:
        while size := handle.readinto(buffer):
            chunk = np.frombuffer(buffer, dtype=np.uint8, count=size)
            ends = np.flatnonzero(chunk <= _CR)  # a cheap first cut: control bytes only
            before = _byte_before(chunk, context, ends, 1)
            earlier = _byte_before(chunk, context, ends, 2)
            code = chunk[ends]
            after_ending = (earlier == _LF) | (earlier == _CR)
            lf_blank = (code == _LF) & ((before == _LF) | ((before == _CR) & after_ending))
            cr_blank = (code == _CR) & (before == _CR)
            if np.any(lf_blank | cr_blank):
                return True
            context = np.concatenate((context, chunk[-2:]))[-2:]
    return False


def _byte_before(
    chunk: NDArray[np.uint8], context: NDArray[np.uint8], positions: NDArray[np.intp], back: int
) -> NDArray[np.uint8]:
    """chunk[p - back] for each p, reaching into the previous chunk's last bytes."""
    shifted = positions - back
    inside = shifted >= 0
    values = np.empty(positions.size, dtype=np.uint8)
    values[inside] = chunk[shifted[inside]]
    values[~inside] = context[shifted[~inside] + 2]
    return values


def safe_detail(error: BaseException) -> str:
    """The first line of a reading error, with any quoted excerpt of the file masked: polars
    quotes the rows it could not parse, and those are patients' data."""
    first = (str(error).strip().splitlines() or [type(error).__name__])[0]
    first = _QUOTED.sub(lambda m: "`" + mask(m.group(1)) + "`", first)
    if "`" in first:  # an excerpt that goes on over the next lines: cut it
        first = first[: first.index("`")] + "`…`"
    return first[:200]


def column(frame: pl.LazyFrame, name: str) -> pl.Expr:
    """A column by its position: `pl.col` would read "^a.*$" as a pattern and "*" as every column,
    and a partner's file may name its columns so."""
    return pl.nth(frame.collect_schema().names().index(name))


def _as_text(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Every column as text; a list becomes its items joined by "|", a structure its JSON."""
    columns = []
    for i, dtype in enumerate(frame.collect_schema().dtypes()):
        value = pl.nth(i)
        if isinstance(dtype, pl.List | pl.Array):
            if isinstance(dtype, pl.Array):
                value = value.arr.to_list()
            columns.append(value.list.eval(pl.element().cast(pl.String)).list.join("|"))
        elif isinstance(dtype, pl.Struct):
            columns.append(value.struct.json_encode())
        else:
            columns.append(value.cast(pl.String))
    return frame.select(columns)
