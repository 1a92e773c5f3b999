"""A big table split into one conformant CSV per value of a column, and files (slides) grouped
into one folder per value, so that users of a hosted release download only the part they need.

The table is read once, streaming, by polars' partitioned sink: each row goes to the file of its
value as it is read, whatever the number of values (never one scan per value). The files are
written in a hidden scratch folder inside the destination, through a writer that hashes them
and counts their records from the bytes as they pass (no second reading), and moved in place
only when complete and checked: their rows must add up to the source's, counted in a pass of
its own that reads the rows' boundaries only. A cancel, a full disk or a malformed line leaves
no partial output. Memory stays bounded whatever the file's size: nothing is mapped whole (see
`SourceTable.count_rows`).

What goes where:
- Values are compared as written (text): "075" and "75" are two values. A missing value, an
  empty text and a text of spaces only are one "empty" value, in `<stem>__vide.csv`.
- With `group_rare_below=N`, the values of fewer than N rows share `<stem>__autres.csv`.
- Every other value gets `<stem>__<name>.csv`, the name made safe by `safe_names` (ASCII,
  length-limited, told apart without regard to case: `-2`, `-3`… in the values' sorted order).
- Conformant CSV, as the copies of `publish/` are: UTF-8 without BOM, comma, `"` quotes only
  where needed, LF; values copied as text, nothing reformatted; the source's columns in order.
- Blank lines are not records (as for the risk measures and the conversion). Rows polars reads
  as nulls only are set apart while splitting; only when there are some is the file scanned for
  a blank line, which decides whether they are dropped (blank lines) or records of the empty
  value (rows of empty fields, then split again).
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import queue
import secrets
import shutil
import stat
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum, StrEnum
from pathlib import Path, PurePosixPath
from typing import IO, TypeVar, cast

import numpy as np
import polars as pl

from hdh_wizard.core.safe_files import (
    LinkedPathError,
    check_not_linked,
    fsync_folder,
    replace_atomically,
)
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect import csv_diagnose
from hdh_wizard.inspect.byte_scan import sha256_of
from hdh_wizard.inspect.csv_dialect import sniff_dialect
from hdh_wizard.inspect.csv_profile import scan
from hdh_wizard.inspect.kinds import FileKind, sniff_kind
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.report import Dialect
from hdh_wizard.inspect.risk.tables import has_blank_line, safe_detail
from hdh_wizard.inspect.safe_names import safe_name, unique_names
from hdh_wizard.inspect.transcode import readable_as_utf8

MAX_PARTS = 1000  # files (or folders) a split may make: beyond, group the rare values
EMPTY_NAME = "vide"
OTHERS_NAME = "autres"
SAMPLE_NAME = "echantillon"  # the sample's file, beside the parts: sejours__echantillon.csv
SEPARATOR = "__"  # between the table's name and the value's: sejours__Stade_III.csv
STEM_BYTES = 60
SCRATCH_PREFIX = ".hdh-split-"
T = TypeVar("T")
_QUOTE, _LF = ord('"'), ord("\n")


class PartKind(StrEnum):
    VALUE = "value"
    EMPTY = "empty"  # missing, "" or spaces only
    OTHERS = "others"  # the rare values grouped


@dataclass(frozen=True)
class ValueCount:
    value: str | None  # None: the empty value (missing, "" or spaces only)
    rows: int


@dataclass(frozen=True)
class SplitPart:
    kind: PartKind
    values: tuple[str, ...]  # the value of the file; the rare values for OTHERS; () for EMPTY
    path: Path
    rows: int
    size: int
    sha256: str
    renamed: bool  # "-2"… added: another value gives the same safe name (é and e, A and a)


@dataclass(frozen=True)
class SplitResult:
    source: Path
    column: str
    column_index: int
    source_rows: int
    group_rare_below: int | None
    parts: tuple[SplitPart, ...]  # EMPTY first, then the values in sorted order, OTHERS last


# --- the source table -------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceTable:
    """A delimited text file opened for splitting or sampling: every column as text."""

    path: Path
    display: str
    readable: Path  # the UTF-8 file polars reads (a temporary copy for a legacy encoding)
    dialect: Dialect  # of `readable`
    raw: pl.LazyFrame  # every row polars reads, blank lines included (as rows of nulls)
    columns: tuple[str, ...]

    def has_blank_lines(self) -> bool:
        """Whether the file has a blank line (a byte scan, remembered per file version)."""
        return has_blank_line(self.readable)

    def records(self) -> pl.LazyFrame:
        """The table's records. polars reads a blank line as a row of nulls: when the file has
        one, rows of nulls only are dropped (as the risk measures and the conversion do). The
        filter reads every column, so it is only added when needed."""
        if self.has_blank_lines():
            return self.raw.filter(~all_null())
        return self.raw

    def column_index(self, index: int) -> int:
        """`index` when the table has such a column; else a typed error naming the count."""
        if (
            isinstance(index, bool)
            or not isinstance(index, int)
            or not 0 <= index < len(self.columns)
        ):
            raise HdhWizardError(
                "prepare.error.unknown_column",
                file=self.display,
                number=str(index + 1) if isinstance(index, int) else str(index),
                count=len(self.columns),
            )
        return index

    def run(self, query: Callable[[], T], progress: Progress | None = None) -> T:
        """Run a polars query on the table; a reading failure becomes a typed error naming the
        line when one is to blame. Raises HdhWizardError, Cancelled, OSError."""
        try:
            return query()
        except pl.exceptions.PolarsError as error:
            raise self.reading_error(error, progress) from error

    def reading_error(self, error: Exception, progress: Progress | None) -> HdhWizardError:
        # polars says *that* the file is malformed; the exact (slower) reading says where.
        if progress is not None:
            progress.current = self.display
        text = str(error)
        if "utf-8" in text or "utf8" in text:
            bad = csv_diagnose.find_byte_problems(self.readable, progress)
            if bad.bad_utf8_lines:
                return HdhWizardError(
                    "prepare.error.bad_encoding", file=self.display, line=bad.bad_utf8_lines[0]
                )
        found = csv_diagnose.find_ragged_rows(
            self.readable, "utf-8", self.dialect.delimiter, len(self.columns), progress
        )
        if found.ragged_lines:
            return HdhWizardError(
                "prepare.error.ragged_row",
                file=self.display,
                line=found.ragged_lines[0],
                expected=len(self.columns),
                found=found.ragged_counts[0],
            )
        if found.unclosed_quote_line:
            return HdhWizardError(
                "prepare.error.unclosed_quote", file=self.display, line=found.unclosed_quote_line
            )
        return HdhWizardError(
            "prepare.error.unreadable", file=self.display, detail=safe_detail(error)
        )

    def count_rows(self, progress: Progress | None = None, *, blank_lines: bool = False) -> int:
        """The records (or, with `blank_lines`, every row polars reads), counted by reading the
        rows' boundaries only. (polars' own row count maps the whole file in memory, and keeps
        it mapped: a 2 GB file would count as 2 GB of memory.) Raises HdhWizardError."""
        return self.run(lambda: self.count_rows_raw(progress, blank_lines=blank_lines), progress)

    def count_rows_raw(self, progress: Progress | None = None, *, blank_lines: bool = False) -> int:
        """`count_rows`, letting polars' errors through (for a count run beside another
        reading, which names the malformed line itself)."""
        (name,) = free_names(self.columns, 1)
        row = checkpoint(progress, pl.UInt32())(pl.col(name))
        frame = self.raw if blank_lines else self.records()
        last = frame.with_row_index(name).select(row.max()).collect(engine="streaming").item()
        return 0 if last is None else int(last) + 1


@contextmanager
def open_source(path: Path, progress: Progress | None = None) -> Iterator[SourceTable]:
    """Open a delimited text file (in any encoding the inspection reads) for splitting or
    sampling. Raises HdhWizardError (not a CSV, empty, no header, duplicate names)."""
    display = path.name
    try:
        kind = sniff_kind(path)
        if kind is FileKind.EMPTY:
            raise HdhWizardError("prepare.error.empty_table", file=display)
        if kind is not FileKind.TEXT:
            raise HdhWizardError("prepare.error.not_csv", file=display, kind=kind.value)
        sniffed = sniff_dialect(path)
    except OSError as error:
        raise HdhWizardError(
            "prepare.error.unreadable", file=display, detail=error.strerror or type(error).__name__
        ) from error
    names = [name.strip() for name in sniffed.header]
    if not any(names):
        raise HdhWizardError("prepare.error.empty_table", file=display)
    if not sniffed.dialect.header or "" in names:
        raise HdhWizardError("prepare.error.no_header", file=display)
    doubles = sorted({name for name in names if names.count(name) > 1})
    if doubles:
        raise HdhWizardError(
            "prepare.error.duplicate_columns", file=display, columns=", ".join(doubles)
        )
    with readable_as_utf8(path, sniffed, progress) as (readable, utf8):
        try:
            frame = scan(readable, utf8, infer=False)
            columns = tuple(frame.collect_schema().names())
        except (OSError, pl.exceptions.PolarsError) as error:
            raise HdhWizardError(
                "prepare.error.unreadable", file=display, detail=safe_detail(error)
            ) from error
        yield SourceTable(path, display, readable, utf8.dialect, frame, columns)


def all_null() -> pl.Expr:
    """A row of nulls only: what polars reads for a blank line."""
    return pl.all_horizontal(pl.all().is_null())


def is_blank(value: pl.Expr) -> pl.Expr:
    """Missing, "" or spaces only: the values that go to the "empty" file."""
    return value.is_null() | (value.str.strip_chars() == "")


def checkpoint(
    progress: Progress | None, dtype: pl.DataType | None = None
) -> Callable[[pl.Expr], pl.Expr]:
    """Wraps a column so that each batch polars reads checks for a cancel: a streaming query
    polars runs cannot otherwise be stopped (its own `cancel()` waits for the end)."""

    def check(series: pl.Series) -> pl.Series:
        if progress is not None:
            progress.check()
        return series

    def wrap(value: pl.Expr) -> pl.Expr:
        if progress is None:
            return value
        return value.map_batches(check, return_dtype=dtype or pl.String(), is_elementwise=True)

    return wrap


def value_counts(
    source: SourceTable, index: int, progress: Progress | None = None
) -> list[ValueCount]:
    """Rows per value of a column, in one streaming group-by: most frequent first.

    Blank lines read as empty values: only when some value is empty and the file has a blank
    line is the count made again on the records (a slower reading of every column)."""
    counts = _group_by_value(source.raw, source, index, progress)
    if any(c.value is None for c in counts) and source.has_blank_lines():
        counts = _group_by_value(source.records(), source, index, progress)
    return sorted(counts, key=lambda c: (-c.rows, c.value is None, c.value or ""))


def _group_by_value(
    frame: pl.LazyFrame, source: SourceTable, index: int, progress: Progress | None
) -> list[ValueCount]:
    value = checkpoint(progress)(pl.nth(index))
    query = (
        frame.select(pl.when(is_blank(value)).then(None).otherwise(value).alias("value"))
        .group_by("value")
        .len(name="rows")
    )
    table = source.run(lambda: query.collect(engine="streaming"), progress)
    return [ValueCount(value, int(rows)) for value, rows in table.iter_rows()]


def split_values(
    path: Path, column_index: int, *, progress: Progress | None = None
) -> list[ValueCount]:
    """The values of a column with their row counts, most frequent first (the empty value, if
    any, as `None`). Raises HdhWizardError, Cancelled."""
    with open_source(path, progress) as source:
        index = source.column_index(column_index)
        if progress is not None:
            progress.current = source.display
        counts = value_counts(source, index, progress)
    if not counts:
        raise HdhWizardError("prepare.error.empty_table", file=source.display)
    return counts


# --- splitting a table ------------------------------------------------------------------------


class _TooManyParts(Exception):
    """Raised inside polars' sink when the values outnumber MAX_PARTS."""


class HashingWriter(io.RawIOBase):
    """A file written by polars, hashed and its records counted as the bytes pass (no second
    reading); each write checks for a cancel, so a long split stops promptly.

    The records are counted from the bytes, as a reader would: a line ending outside quotes
    ends a record (polars quotes a value holding a line break, and doubles its quotes). With a
    `Digester`, hashing and counting run in its thread, beside polars' own."""

    def __init__(
        self, path: Path, progress: Progress | None, digester: Digester | None = None
    ) -> None:
        super().__init__()
        self.path = path
        self.size = 0
        self.lines = 0  # records, header included
        # polars turns an exception raised here into a bare OSError: the original is kept.
        self.failure: BaseException | None = None
        self._in_quotes = False
        self._file = path.open("xb")
        self._digest = hashlib.sha256()
        self._progress = progress
        self._digester = digester

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        try:
            if self._progress is not None:
                self._progress.advance(len(data))  # raises Cancelled
            data = bytes(data)  # polars passes bytes; a copy otherwise, kept for the digest
            self._file.write(data)
        except BaseException as error:
            self.failure = error
            raise
        self.size += len(data)
        if self._digester is not None:
            self._digester.put(self, data)
        else:
            self.digest(data)
        return len(data)

    def digest(self, data: bytes) -> None:
        """Hash and count one written piece (pieces of one file in their order)."""
        self._digest.update(data)
        chunk = np.frombuffer(data, dtype=np.uint8)
        quotes = np.flatnonzero(chunk == _QUOTE)
        ends = np.flatnonzero(chunk == _LF)
        if not quotes.size:
            self.lines += 0 if self._in_quotes else int(ends.size)
            return
        # A line break is outside quotes when an even number of quotes precede it.
        inside = (np.searchsorted(quotes, ends) & 1).astype(bool) ^ self._in_quotes
        self.lines += int(ends.size - np.count_nonzero(inside))
        self._in_quotes ^= bool(quotes.size & 1)

    @property
    def rows(self) -> int:
        """Data rows: the records but the header."""
        return max(0, self.lines - 1)

    def raise_failure(self) -> None:
        """Raise what stopped this writer, if anything did."""
        if self.failure is not None:
            raise self.failure

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        super().close()

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


class Digester:
    """Hashes and counts the written pieces in a thread of its own: polars' sink leaves part of
    the processors idle, and hashlib and numpy release the interpreter's lock. The queue is
    bounded, so memory stays small when the disk is faster than the hashing."""

    def __init__(self, pending: int = 64) -> None:
        self._queue: queue.Queue[tuple[HashingWriter, bytes] | None] = queue.Queue(pending)
        self.failure: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="hdh-digest", daemon=True)
        self._thread.start()

    def put(self, writer: HashingWriter, data: bytes) -> None:
        self._queue.put((writer, data))

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            writer, data = item
            if self.failure is None:
                try:
                    writer.digest(data)
                except Exception as error:  # a bug: kept for `finish`, the queue still drained
                    self.failure = error

    def finish(self) -> None:
        """Wait until every piece is hashed and counted."""
        self._queue.put(None)
        self._thread.join()
        if self.failure is not None:
            raise self.failure


_BLANK_ROWS = "blank"  # rows of nulls only, set apart until the file says what they are


@dataclass(frozen=True)
class _Key:
    kind: str  # a PartKind's value, or _BLANK_ROWS
    value: str | None  # for VALUE


@dataclass(frozen=True)
class _Written:
    writers: dict[_Key, HashingWriter]
    rows_read: int  # rows polars reads from the source, blank lines included, counted apart


def split_table(
    path: Path,
    column_index: int,
    out_dir: Path,
    *,
    group_rare_below: int | None = None,
    progress: Progress | None = None,
) -> SplitResult:
    """Write one conformant CSV per value of the column into `out_dir` (see the module).

    Files of the same names are replaced; other files are left alone. `progress.done_bytes`
    counts the bytes written (about the source's size). Raises HdhWizardError, Cancelled."""
    if group_rare_below is not None and (
        isinstance(group_rare_below, bool)
        or not isinstance(group_rare_below, int)
        or group_rare_below < 2
    ):
        raise HdhWizardError("prepare.error.min_count", value=str(group_rare_below))
    with open_source(path, progress) as source:
        index = source.column_index(column_index)
        column = source.columns[index]
        if progress is not None:
            progress.current = source.display
            progress.total_bytes = path.stat().st_size
        expected: dict[_Key, int] | None = None
        rare: list[str] = []
        if group_rare_below is not None:
            counts = value_counts(source, index, progress)
            rare = [c.value for c in counts if c.value is not None and c.rows < group_rare_below]
            expected = _expected_rows(counts, set(rare))
            if len(expected) > MAX_PARTS:
                raise too_many(column, len(expected))
        with scratch_folder(out_dir) as scratch:
            written = _write_parts(source, index, rare, scratch / "1", progress, True)
            blank = written.writers.pop(_Key(_BLANK_ROWS, None), None)
            source_rows = written.rows_read
            if blank is not None and source.has_blank_lines():
                source_rows -= blank.rows  # blank lines (and rows of nulls): not records
            elif blank is not None:
                # Rows of empty fields in a file without blank lines: records of the empty
                # value after all. Rare enough to be written again, in the file's order.
                written = _write_parts(source, index, rare, scratch / "2", progress, False)
                source_rows = written.rows_read
            if source_rows == 0:
                raise HdhWizardError("prepare.error.empty_table", file=source.display)
            parts = _check_parts(source, written.writers, expected, rare, source_rows, out_dir)
            commit(((written.writers[key].path, part.path) for key, part in parts), out_dir)
    return SplitResult(
        path, column, index, source_rows, group_rare_below, tuple(part for _, part in parts)
    )


def _expected_rows(counts: Sequence[ValueCount], rare: set[str]) -> dict[_Key, int]:
    expected: dict[_Key, int] = defaultdict(int)
    for count in counts:
        if count.value is None:
            expected[_Key(PartKind.EMPTY.value, None)] += count.rows
        elif count.value in rare:
            expected[_Key(PartKind.OTHERS.value, None)] += count.rows
        else:
            expected[_Key(PartKind.VALUE.value, count.value)] += count.rows
    return dict(expected)


def too_many(column: str, count: int) -> HdhWizardError:
    return HdhWizardError(
        "prepare.error.too_many_values", column=column, count=count, limit=MAX_PARTS
    )


@contextmanager
def scratch_folder(out_dir: Path) -> Iterator[Path]:
    """A hidden folder inside `out_dir` (same file system: the parts are then renamed in
    place), removed at the end whatever happens."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        scratch = out_dir / f"{SCRATCH_PREFIX}{secrets.token_hex(4)}"
        scratch.mkdir()
    except OSError as error:
        raise write_error(out_dir, error) from error
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def write_error(folder: Path, error: OSError) -> HdhWizardError:
    return HdhWizardError(
        "prepare.error.not_writable",
        folder=str(folder),
        detail=error.strerror or type(error).__name__,
    )


def free_names(columns: Sequence[str], count: int) -> list[str]:
    """Names for helper columns that no column of the table has (and no pattern character)."""
    names: list[str] = []
    while len(names) < count:
        name = f"__hdh_{secrets.token_hex(4)}"
        if name not in columns and name not in names:
            names.append(name)
    return names


def _write_parts(
    source: SourceTable,
    index: int,
    rare: Sequence[str],
    scratch: Path,
    progress: Progress | None,
    mark_blank_rows: bool,
) -> _Written:
    """One streaming pass: each row to the file of its value, by polars' partitioned sink.

    With `mark_blank_rows`, rows of nulls only (what polars reads for a blank line) go to a
    file of their own: whether they are records depends on the file having blank lines, which
    takes a scan of its own, only made when there are such rows."""
    kind_name, value_name = free_names(source.columns, 2)
    value = pl.nth(index)
    grouped = pl.lit(False)
    if rare:
        grouped = value.is_in(pl.Series(list(rare), dtype=pl.String).implode())
    blank_rows = all_null() if mark_blank_rows else pl.lit(False)
    kind = (
        pl.when(blank_rows)
        .then(pl.lit(_BLANK_ROWS))
        .when(is_blank(value))
        .then(pl.lit(PartKind.EMPTY.value))
        .when(grouped)
        .then(pl.lit(PartKind.OTHERS.value))
        .otherwise(pl.lit(PartKind.VALUE.value))
    )
    keyed = source.raw.with_columns(
        kind.alias(kind_name),
        pl.when(is_blank(value) | grouped).then(None).otherwise(value).alias(value_name),
    )
    scratch.mkdir()
    parts = _Parts(scratch, progress)
    target = pl.PartitionBy(
        scratch,
        key=[pl.col(kind_name), pl.col(value_name)],
        include_key=False,
        file_path_provider=parts.open,
        approximate_bytes_per_file=None,  # one file per value, however big
    )
    # The source's rows are counted beside the sink, which leaves part of the processors idle.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hdh-count")
    counting = pool.submit(source.count_rows_raw, progress, blank_lines=True)
    try:
        keyed.sink_csv(
            target, separator=",", quote_char='"', line_terminator="\n", include_bom=False
        )
        rows_read = source.run(counting.result, progress)
    except (OSError, pl.exceptions.PolarsError, _TooManyParts) as error:
        writers = parts.close()
        if parts.overflowed:
            raise too_many(source.columns[index], MAX_PARTS + 1) from error
        try:
            for writer in writers.values():
                writer.raise_failure()  # the cancel or the full disk, not polars' wrapping
            raise
        except OSError as failure:
            raise write_error(scratch.parent, failure) from failure
        except pl.exceptions.PolarsError as failure:
            raise source.reading_error(failure, progress) from error
    finally:
        writers = parts.close()
        pool.shutdown(wait=True)  # a failed sink: the count stops at the same line, or ends
    if progress is not None:
        progress.check()
    return _Written(writers, rows_read)


class _Parts:
    """The parts' writers, opened as polars asks for them (from several threads). Once closed,
    no more are opened: polars may return from a failed sink before all its threads stop."""

    def __init__(self, scratch: Path, progress: Progress | None) -> None:
        self._scratch = scratch
        self._progress = progress
        self._digester = Digester()
        self._writers: dict[_Key, HashingWriter] = {}
        self._closed = False
        self._lock = threading.Lock()
        self.overflowed = False  # more values than MAX_PARTS

    def open(self, args: pl.io.partition.FileProviderArgs) -> IO[bytes]:
        kind, text = args.partition_keys.row(0)
        key = _Key(kind, text)
        with self._lock:
            if self._closed:
                raise OSError(errno.ECANCELED, "the split was stopped")
            if key in self._writers:
                # polars opens one file per key (no size limit asked): a second one would be
                # a second header in the middle of the part.
                raise OSError(errno.EEXIST, "a second file for one value")
            if len(self._writers) >= MAX_PARTS + (kind == _BLANK_ROWS):
                self.overflowed = True
                raise _TooManyParts
            path = self._scratch / f"part-{len(self._writers)}.csv"
            writer = HashingWriter(path, self._progress, self._digester)
            self._writers[key] = writer
        return cast(IO[bytes], writer)

    def close(self) -> dict[_Key, HashingWriter]:
        """Stop opening files, close them, and wait for their digests. Idempotent."""
        with self._lock:
            closing = not self._closed
            self._closed = True
            writers = dict(self._writers)
        for writer in writers.values():
            writer.close()
        if closing:
            self._digester.finish()
        return writers


def _check_parts(
    source: SourceTable,
    writers: dict[_Key, HashingWriter],
    expected: dict[_Key, int] | None,
    rare: Sequence[str],
    source_rows: int,
    out_dir: Path,
) -> list[tuple[_Key, SplitPart]]:
    """Name the parts, and check their rows (counted from the bytes written) add up to the
    rows read from the source (and, when counted first, to each value's)."""
    stem = safe_name(Path(source.display).stem, max_bytes=STEM_BYTES, fallback="table")
    values = sorted(
        k.value for k in writers if k.kind == PartKind.VALUE.value and k.value is not None
    )
    taken = (EMPTY_NAME, OTHERS_NAME, SAMPLE_NAME)
    names = dict(zip(values, unique_names(values, taken=taken), strict=True))
    order = {PartKind.EMPTY.value: 0, PartKind.VALUE.value: 1, PartKind.OTHERS.value: 2}
    keys = sorted(writers, key=lambda k: (order[k.kind], k.value or ""))
    parts: list[tuple[_Key, SplitPart]] = []
    total = 0
    for key in keys:
        writer = writers[key]
        total += writer.rows
        if expected is not None and writer.rows != expected.get(key, -1):
            raise HdhWizardError(
                "prepare.error.rows_differ",
                file=source.display,
                expected=expected.get(key, 0),
                written=writer.rows,
            )
        held: tuple[str, ...] = ()
        kind = PartKind(key.kind)
        if kind is PartKind.VALUE and key.value is not None:
            name, held = names[key.value], (key.value,)
            renamed = name != safe_name(key.value)
        else:
            name = EMPTY_NAME if kind is PartKind.EMPTY else OTHERS_NAME
            held = () if kind is PartKind.EMPTY else tuple(sorted(rare))
            renamed = False
        path = out_dir / f"{stem}{SEPARATOR}{name}.csv"
        part = SplitPart(kind, held, path, writer.rows, writer.size, writer.sha256, renamed)
        parts.append((key, part))
    if total != source_rows:
        raise HdhWizardError(
            "prepare.error.rows_differ", file=source.display, expected=source_rows, written=total
        )
    return parts


def rows_written(path: Path, display: str) -> int:
    """The records of a written file, read back as any user will read it."""
    try:
        rows = pl.scan_csv(path, infer_schema=False).select(pl.len()).collect().item()
    except (OSError, pl.exceptions.PolarsError) as error:
        raise HdhWizardError(
            "prepare.error.unreadable", file=display, detail=safe_detail(error)
        ) from error
    return int(rows)


def commit(moves: Iterable[tuple[Path, Path]], out_dir: Path) -> None:
    """Move the checked files in place; on a failure, those already moved are removed (all or
    nothing). Raises `LinkedPathError` before anything moves when a final path, or a folder
    of it inside `out_dir`, is a symbolic link."""
    moves = list(moves)
    for _, final in moves:
        check_not_linked(final, project=out_dir)
    done: list[Path] = []
    try:
        for temporary, final in moves:
            replace_atomically(temporary, final, project=out_dir, sync_folder=False)
            done.append(final)
    except (OSError, LinkedPathError) as error:
        for final in done:
            final.unlink(missing_ok=True)
        if isinstance(error, LinkedPathError):
            raise
        raise write_error(out_dir, error) from error
    for folder in sorted({final.parent for final in done}):  # once per folder, not per file
        fsync_folder(folder)


# --- splitting files (slides) by a table that maps each file to a value -----------------------


@dataclass(frozen=True)
class PlacedFile:
    source: Path
    path: Path
    value: str | None  # None: the empty value
    size: int
    sha256: str  # "" when checksums were not asked
    linked: bool  # a hard link to the source (no copy): same file system


@dataclass(frozen=True)
class FolderPart:
    value: str | None
    path: Path
    files: int
    renamed: bool  # "-2"… added: another value gives the same safe name


@dataclass(frozen=True)
class FilesSplitResult:
    folders: tuple[FolderPart, ...]
    files: tuple[PlacedFile, ...]
    missing: tuple[str, ...]  # named in the table, found nowhere under the root
    unlisted: tuple[str, ...]  # under the root (relative paths), named in no row of the table
    ambiguous: tuple[str, ...]  # named by a bare name that several files under the root have
    conflicting: tuple[str, ...]  # files given two different values (placed under each)
    refused: tuple[str, ...]  # names reaching outside the root (absolute, "..")
    rows_without_file: int  # rows whose file cell is empty


def split_files_by_table(
    mapping_table: Path,
    file_column_index: int,
    value_column_index: int,
    files_root: Path,
    out_dir: Path,
    *,
    link: bool = True,
    checksums: bool = True,
    progress: Progress | None = None,
) -> FilesSplitResult:
    """Group the files under `files_root` into one folder per value of `out_dir`, as a table
    says (a column naming the file, another its value: slides by stage).

    A file is named by its path under the root, or by its bare name (or name without extension)
    when only one file has it; symbolic links are not followed. Files are hard-linked when
    `link` and the file system allows it, else copied; their names are made safe (extension
    kept). Files of the same names are replaced, others left alone. Raises HdhWizardError,
    Cancelled."""
    root = _folder(files_root)
    destination = out_dir.resolve()
    if destination == root or root in destination.parents or destination in root.parents:
        raise HdhWizardError(
            "prepare.error.folders_overlap", files=str(files_root), folder=str(out_dir)
        )
    with open_source(mapping_table, progress) as source:
        file_index = source.column_index(file_column_index)
        value_index = source.column_index(value_column_index)
        if file_index == value_index:
            raise HdhWizardError("prepare.error.same_column", file=source.display)
        if progress is not None:
            progress.current = source.display
        check = checkpoint(progress)
        rows = source.run(
            lambda: (
                source.records()
                .select(check(pl.nth(file_index)), pl.nth(value_index))
                .collect(engine="streaming")
                .rows()
            ),
            progress,
        )
    files = _regular_files(root, progress)
    by_name: dict[str, list[str]] = defaultdict(list)
    by_stem: dict[str, list[str]] = defaultdict(list)
    for relative in files:
        name = PurePosixPath(relative).name
        by_name[name].append(relative)
        by_stem[name.rpartition(".")[0] or name].append(relative)
    wanted: dict[str, set[str | None]] = defaultdict(set)  # file → its values
    missing: set[str] = set()
    ambiguous: set[str] = set()
    refused: set[str] = set()
    empty_cells = 0
    for cell, raw_value in rows:
        reference = (cell or "").strip()
        if not reference:
            empty_cells += 1
            continue
        value = raw_value if raw_value is not None and raw_value.strip() else None
        found = _find(reference, files, by_name, by_stem)
        if found is _Lookup.REFUSED:
            refused.add(reference)
        elif found is _Lookup.AMBIGUOUS:
            ambiguous.add(reference)
        elif found is _Lookup.MISSING:
            missing.add(reference)
        else:
            wanted[found].add(value)
    values = sorted({v for vs in wanted.values() for v in vs if v is not None})
    if len(values) + any(None in vs for vs in wanted.values()) > MAX_PARTS:
        raise too_many(source.columns[value_index], len(values))
    folder_names: dict[str | None, str] = dict(
        zip(values, unique_names(values, taken=(EMPTY_NAME,)), strict=True)
    )
    folder_names[None] = EMPTY_NAME
    placements: dict[str | None, list[str]] = defaultdict(list)
    for relative in sorted(wanted):
        for value in wanted[relative]:
            placements[value].append(relative)
    if progress is not None:
        progress.total_bytes = sum(files[r] for vs in placements.values() for r in vs) * (
            2 if checksums else 1
        )
    with scratch_folder(out_dir) as scratch:
        placed, folders, moves = _place(
            root, placements, folder_names, scratch, out_dir, link, checksums, progress
        )
        _commit_into_folders(moves, out_dir)
    return FilesSplitResult(
        folders=tuple(folders),
        files=tuple(placed),
        missing=tuple(sorted(missing)),
        unlisted=tuple(sorted(set(files) - set(wanted))),
        ambiguous=tuple(sorted(ambiguous)),
        conflicting=tuple(sorted(r for r, vs in wanted.items() if len(vs) > 1)),
        refused=tuple(sorted(refused)),
        rows_without_file=empty_cells,
    )


class _Lookup(Enum):
    """Why a table's cell names no file."""

    MISSING = "missing"
    AMBIGUOUS = "ambiguous"
    REFUSED = "refused"


def _folder(path: Path) -> Path:
    try:
        resolved = path.resolve(strict=True)
    except OSError as error:
        raise HdhWizardError("prepare.error.not_a_folder", folder=str(path)) from error
    if not resolved.is_dir():
        raise HdhWizardError("prepare.error.not_a_folder", folder=str(path))
    return resolved


def _regular_files(root: Path, progress: Progress | None) -> dict[str, int]:
    """Every regular file under `root` (hidden ones and symbolic links left out): its path
    relative to the root, POSIX style, and its size."""
    found: dict[str, int] = {}
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in names:
            if name.startswith("."):
                continue
            path = Path(folder, name)
            info = path.lstat()
            if stat.S_ISREG(info.st_mode):
                found[path.relative_to(root).as_posix()] = info.st_size
        if progress is not None:
            progress.check()
    return found


def _find(
    reference: str,
    files: dict[str, int],
    by_name: dict[str, list[str]],
    by_stem: dict[str, list[str]],
) -> str | _Lookup:
    """The file a table's cell names: a path under the root, else a name only one file has."""
    parts = reference.replace("\\", "/").split("/")
    if reference.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        return _Lookup.REFUSED
    relative = "/".join(p for p in parts if p not in ("", "."))
    if relative in files:
        return relative
    if "/" in relative:
        return _Lookup.MISSING
    for index in (by_name, by_stem):
        candidates = index.get(relative, [])
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            return _Lookup.AMBIGUOUS
    return _Lookup.MISSING


def _place(
    root: Path,
    placements: dict[str | None, list[str]],
    folder_names: dict[str | None, str],
    scratch: Path,
    out_dir: Path,
    link: bool,
    checksums: bool,
    progress: Progress | None,
) -> tuple[list[PlacedFile], list[FolderPart], list[tuple[Path, Path]]]:
    placed: list[PlacedFile] = []
    folders: list[FolderPart] = []
    moves: list[tuple[Path, Path]] = []
    order = sorted(placements, key=lambda v: (v is not None, v or ""))
    try:
        for value in order:
            relatives = placements[value]
            folder = folder_names[value]
            (scratch / folder).mkdir()
            names = unique_names(
                [PurePosixPath(r).name for r in relatives], file_names=True, max_bytes=120
            )
            for relative, name in zip(relatives, names, strict=True):
                source, temporary = root / relative, scratch / folder / name
                linked = _link_or_copy(source, temporary, link, progress)
                size, digest = temporary.stat().st_size, ""
                if checksums:
                    size, digest = sha256_of(temporary, progress)
                final = out_dir / folder / name
                placed.append(PlacedFile(source, final, value, size, digest, linked))
                moves.append((temporary, final))
            renamed = value is not None and folder != safe_name(value)
            folders.append(FolderPart(value, out_dir / folder, len(relatives), renamed))
    except OSError as error:
        raise write_error(out_dir, error) from error
    return placed, folders, moves


def _link_or_copy(source: Path, target: Path, link: bool, progress: Progress | None) -> bool:
    """A hard link when asked and possible (another file system, a FAT disk: a copy)."""
    if progress is not None:
        progress.check()
    if link:
        try:
            os.link(source, target, follow_symlinks=False)
            if progress is not None:
                progress.advance(target.stat().st_size)
            return True
        except OSError as error:
            if error.errno not in (
                errno.EXDEV,
                errno.EPERM,
                errno.EMLINK,
                errno.ENOTSUP,
                errno.EACCES,
            ):
                raise
    with source.open("rb") as reader, target.open("xb") as writer:
        while chunk := reader.read(16 * 1024 * 1024):
            writer.write(chunk)
            if progress is not None:
                progress.advance(len(chunk))
    shutil.copystat(source, target)
    return False


def _commit_into_folders(moves: list[tuple[Path, Path]], out_dir: Path) -> None:
    try:
        for folder in sorted({final.parent for _, final in moves}):
            folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise write_error(out_dir, error) from error
    commit(moves, out_dir)
