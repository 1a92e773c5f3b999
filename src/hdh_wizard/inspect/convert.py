"""Conformant copies of fixable files, written to the project's `publish/` folder.

The originals are never touched. Each output is written under a temporary name and renamed when
complete, so a cancel or a crash leaves no half file. Every CSV written is checked again and its
row count compared with the source's: a conversion that loses rows is an error, not a result.

Values are copied as text (no number is reformatted); only what the guide asks changes:
UTF-8 without BOM, comma delimiter, `"` quoting, `\\n` line endings, day-first dates to ISO
(when unambiguous), decimal commas to dots.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from hdh_wizard.core.safe_files import check_not_linked, replace_atomically
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.csv_check import check_delimited
from hdh_wizard.inspect.csv_dialect import MIXED, UTF16
from hdh_wizard.inspect.csv_profile import DAY_FIRST
from hdh_wizard.inspect.inspection import InventoryEntry
from hdh_wizard.inspect.kinds import FileKind
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.report import ColumnType, FileReport, Verdict
from hdh_wizard.inspect.tables import TableReadError, read_sheets
from hdh_wizard.inspect.transcode import transcode_to_utf8

PUBLISH_FOLDER = "publish"
_UNSAFE = re.compile(r"[^\w.-]+")
_DECIMAL_COMMA_VALUE = r"^[-+]?\d+,\d+$"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # absent on Windows


@dataclass(frozen=True)
class Converted:
    source: str  # the source's display path
    output: Path
    rows: int  # data rows written (0 for images)


def output_stem(display: str) -> str:
    """A flat, safe file name for a source path: a/b c/f.xlsx → a_b_c_f."""
    stem = Path(display).with_suffix("").as_posix().replace("/", "_")
    return _UNSAFE.sub("_", stem).strip("_") or "fichier"


def convert(
    entry: InventoryEntry,
    report: FileReport,
    publish: Path,
    progress: Progress | None = None,
    encoding: str | None = None,
) -> list[Converted]:
    """Write the conformant copies of one fixable file. Raises HdhWizardError, Cancelled.

    `encoding`: the partner's choice for a text file in a single-byte encoding, where the
    inspection's guess may be wrong (cp850 rather than cp1252); see `source_encoding`."""
    if report.verdict is not Verdict.FIXABLE:
        raise HdhWizardError("inspect.error.not_fixable", file=report.path)
    publish.mkdir(parents=True, exist_ok=True)
    stem = output_stem(report.path)
    if progress is not None:
        progress.current = report.path
    if report.kind is FileKind.TEXT:
        target = publish / f"{stem}.csv"
        rows = _convert_delimited(entry.path, report, target, progress, encoding)
        return [Converted(report.path, publish / f"{stem}.csv", rows)]
    if report.kind in (FileKind.XLSX, FileKind.XLS, FileKind.ODS):
        return _convert_sheets(entry.path, report, publish, stem, progress)
    if report.kind is FileKind.PARQUET:
        target = publish / f"{stem}.csv"
        with atomic_output(target) as temporary:
            if progress is not None:
                progress.check()
            pl.scan_parquet(entry.path).sink_csv(temporary)
            if progress is not None:
                progress.check()
            rows = verify_csv(temporary, report.table.rows if report.table else None, report.path)
        return [Converted(report.path, target, rows)]
    if report.kind in (FileKind.PNG, FileKind.JPEG):
        from hdh_wizard.inspect.images import convert_to_tiff

        target = publish / f"{stem}.tiff"
        convert_to_tiff(entry.path, target, lambda: _is_cancelled(progress))
        return [Converted(report.path, target, 0)]
    raise HdhWizardError("inspect.error.not_fixable", file=report.path)


def _is_cancelled(progress: Progress | None) -> bool:
    return progress is not None and progress.cancelled


@contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """A temporary path beside `target`, synced and renamed onto it only if the block completes.

    Raises `LinkedPathError` (before anything is written) when `target` is a symbolic link."""
    check_not_linked(target)  # refused before the work, not after it
    temporary = target.with_name(f".{target.name}.part-{secrets.token_hex(4)}")
    # Made here, empty, as a new plain file: the writer (polars) then opens our own file, never
    # a link someone planted under that name.
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666))
    try:
        yield temporary
        replace_atomically(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def verify_csv(output: Path, expected_rows: int | None, source: str) -> int:
    result = check_delimited(output)
    # Rows of empty fields count: a sheet or Parquet row of missing values is data.
    rows = result.table.rows + result.table.blank_rows if result.table is not None else -1
    if expected_rows is not None and rows != expected_rows:
        raise HdhWizardError(
            "inspect.error.rows_differ", file=source, expected=expected_rows, written=rows
        )
    return rows


def source_encoding(detected: str, chosen: str | None) -> str:
    """The encoding a text file is read in: the partner's choice when the file is in a
    single-byte encoding (a guess from its bytes); UTF-8, UTF-8 with stray bytes and UTF-16
    (told by a byte order mark) are not guesses, and stay as detected."""
    if chosen is None or detected in ("utf-8", MIXED) or detected in UTF16:
        return detected
    return chosen


def _convert_delimited(
    source: Path,
    report: FileReport,
    target: Path,
    progress: Progress | None,
    chosen_encoding: str | None = None,
) -> int:
    table = report.table
    if table is None or table.dialect is None:
        raise HdhWizardError("inspect.error.not_fixable", file=report.path)
    dialect = table.dialect
    encoding = source_encoding(dialect.encoding, chosen_encoding)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".transcode-") as scratch:
        readable = source
        if encoding != "utf-8":
            readable = Path(scratch) / "utf8.csv"
            transcode_to_utf8(source, readable, encoding, progress)
        frame = pl.scan_csv(
            readable,
            separator=dialect.delimiter,
            quote_char=dialect.quote,
            has_header=True,
            infer_schema=False,  # values are copied as text: nothing reformatted
            encoding="utf8",
            eol_char="\r" if dialect.line_ending == "\r" else "\n",
        )
        if table.blank_rows:
            frame = frame.filter(~pl.all_horizontal(pl.all().is_null()))
        changes = []
        for column in table.columns:
            col = pl.col(column.name)
            if column.type is ColumnType.DATE_DAY_FIRST:
                parsed = col.str.to_date(DAY_FIRST, strict=False)
                # A value that is not a date stays as it was: nothing is lost.
                changes.append(
                    pl.when(parsed.is_not_null())
                    .then(parsed.dt.strftime("%Y-%m-%d"))
                    .otherwise(col)
                    .alias(column.name)
                )
            elif column.type is ColumnType.DECIMAL_COMMA:
                changes.append(
                    pl.when(col.str.contains(_DECIMAL_COMMA_VALUE))
                    .then(col.str.replace(",", ".", literal=True))
                    .otherwise(col)
                    .alias(column.name)
                )
        if changes:
            frame = frame.with_columns(changes)
        if progress is not None:
            progress.check()
        with atomic_output(target) as temporary:
            frame.sink_csv(temporary, separator=",", quote_char='"', line_terminator="\n")
            if progress is not None:
                progress.check()
            return verify_csv(temporary, table.rows, report.path)


def _convert_sheets(
    source: Path, report: FileReport, publish: Path, stem: str, progress: Progress | None
) -> list[Converted]:
    try:
        sheets = read_sheets(source)
    except TableReadError as error:
        raise HdhWizardError(
            "inspect.error.spreadsheet_unreadable", file=report.path, detail=str(error)
        ) from error
    written: list[Converted] = []
    try:
        for name, frame in sheets.items():
            if not frame.height:
                continue
            if progress is not None:
                progress.check()
            target = publish / f"{stem}-{output_stem(name)}.csv"
            with atomic_output(target) as temporary:
                frame.write_csv(temporary, line_terminator="\n")
                rows = verify_csv(temporary, frame.height, report.path)
            written.append(Converted(report.path, target, rows))
    except BaseException:
        for converted in written:  # all sheets or none: a half-converted workbook misleads
            converted.output.unlink(missing_ok=True)
        raise
    return written
