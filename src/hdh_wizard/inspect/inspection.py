"""The inventory of a release's files and the check of each one: the interoperability step's logic.

`inventory` walks what the partner chose (files and folders, recursively); `inspect_file` gives one
`FileReport` per file, whatever its kind, and never raises for a bad file: a file that vanishes or
cannot be read mid-way is itself a finding.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from hdh_wizard.inspect.byte_scan import sha256_of
from hdh_wizard.inspect.csv_check import check_delimited
from hdh_wizard.inspect.kinds import FileKind, sniff_kind
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.report import FileReport, Problem, Severity, TableReport, verdict_of
from hdh_wizard.inspect.risk.identifiers import looks_identifying
from hdh_wizard.inspect.risk.masking import mask
from hdh_wizard.inspect.tables import check_parquet, check_spreadsheet
from hdh_wizard.phases import phase

# What each kind without a check of its own needs from the partner.
_GUIDANCE: dict[FileKind, tuple[str, Severity]] = {
    FileKind.EMPTY: ("empty_file", Severity.BLOCKING),
    FileKind.BINARY: ("unknown_binary", Severity.BLOCKING),
    FileKind.GZIP: ("archive", Severity.BLOCKING),
    FileKind.ZIP: ("archive", Severity.BLOCKING),
    FileKind.SAS7BDAT: ("sas_export", Severity.BLOCKING),
    FileKind.SAS_XPORT: ("sas_export", Severity.BLOCKING),
    FileKind.PDF: ("pdf_document", Severity.INFO),
    FileKind.DOCUMENTATION: ("documentation", Severity.INFO),
}
SKIPPED_FOLDERS = frozenset({".hdh-wizard", "publish", ".git", "__pycache__"})


@dataclass(frozen=True)
class InventoryEntry:
    path: Path  # absolute
    display: str  # as shown and recorded: relative to the project folder when inside it
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Skipped:
    display: str
    reason: str  # catalogue key suffix: inspect.skipped.<reason>


def display_path(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def inventory(
    paths: Sequence[Path], root: Path | None = None, follow_links: bool = False
) -> tuple[list[InventoryEntry], list[Skipped]]:
    """Every regular file under `paths`, sorted, once. Links (to files or folders) pointing
    outside `root` are skipped unless `follow_links`: what is published must be what the partner
    chose, and a link could lead anywhere."""
    entries: dict[Path, InventoryEntry] = {}
    skipped: dict[str, Skipped] = {}
    resolved_root = root.resolve() if root is not None else None

    def allowed(link: Path) -> bool:
        if follow_links:
            return True
        try:
            target = link.resolve()
        except (OSError, RuntimeError):  # a loop of links: nothing to read there
            skipped.setdefault(
                display_path(link, root), Skipped(display_path(link, root), "unreadable")
            )
            return False
        if resolved_root is not None and target.is_relative_to(resolved_root):
            return True
        skipped.setdefault(
            display_path(link, root), Skipped(display_path(link, root), "link_outside")
        )
        return False

    for start in paths:
        for path in _walk(start, skipped, root, allowed):
            display = display_path(path, root)
            if path.is_symlink() and not allowed(path):
                continue
            try:
                info = path.stat()
            except OSError:
                skipped.setdefault(display, Skipped(display, "unreadable"))
                continue
            if not stat.S_ISREG(info.st_mode):
                skipped.setdefault(display, Skipped(display, "not_regular"))
                continue
            absolute = Path(os.path.abspath(path))
            entries.setdefault(
                absolute, InventoryEntry(absolute, display, info.st_size, info.st_mtime_ns)
            )
    return sorted(entries.values(), key=lambda e: e.display), list(skipped.values())


def _walk(
    start: Path, skipped: dict[str, Skipped], root: Path | None, allowed: Callable[[Path], bool]
) -> Iterable[Path]:
    if not start.is_dir():
        if not start.exists() and not start.is_symlink():
            display = display_path(start, root)
            skipped.setdefault(display, Skipped(display, "missing"))
            return
        yield start
        return
    if start.is_symlink() and not allowed(start):
        return

    def on_error(error: OSError) -> None:
        display = display_path(Path(error.filename or start), root)
        skipped.setdefault(display, Skipped(display, "unreadable"))

    seen: set[Path] = set()  # real folders walked: a link loop must not walk forever
    for folder, folders, files in os.walk(start, onerror=on_error, followlinks=True):
        real = Path(folder).resolve()
        if real in seen:
            folders[:] = []
            continue
        seen.add(real)
        folders[:] = sorted(
            f
            for f in folders
            if f not in SKIPPED_FOLDERS
            and (not (Path(folder) / f).is_symlink() or allowed(Path(folder) / f))
        )
        for name in sorted(files):
            yield Path(folder) / name


def inspect_file(
    entry: InventoryEntry,
    progress: Progress | None = None,
    identifying: Callable[[str], bool] = looks_identifying,
) -> FileReport:
    """Check one file. Raises only `Cancelled`."""
    if progress is not None:
        progress.current = entry.display
    path = entry.path
    try:
        kind = sniff_kind(path)
        table = image = None
        problems: list[Problem] = []
        if kind is FileKind.TEXT:
            result = check_delimited(path, progress, identifying)
            sha256, table, problems = result.counts.sha256, result.table, list(result.problems)
        else:
            with phase("check.sha256"):
                _size, sha256 = sha256_of(path, progress)
            if kind in (FileKind.XLSX, FileKind.XLS, FileKind.ODS):
                table, problems = check_spreadsheet(path, kind)
            elif kind is FileKind.PARQUET:
                table, problems = check_parquet(path)
            elif kind.is_image:
                from hdh_wizard.inspect.images import check_image  # tifffile: loaded when needed

                image, problems = check_image(path, kind)
            else:
                code, severity = _GUIDANCE[kind]
                problems = [Problem(code, severity, {"kind": kind.value})]
    except OSError as error:
        return _unreadable(entry, error)
    if table is not None:
        table = mask_identifying(table, identifying)
    return FileReport(
        path=entry.display,
        kind=kind,
        size=entry.size,
        mtime_ns=entry.mtime_ns,
        sha256=sha256,
        verdict=verdict_of(problems),
        problems=tuple(problems),
        table=table,
        image=image,
    )


def mask_identifying(table: TableReport, identifying: Callable[[str], bool]) -> TableReport:
    """Examples and bounds of identifying columns only by their shape (Xxxx 99/99/9999): every
    screen, report and JSON document shows the profile, none may show a name or a birth date."""
    columns = tuple(
        replace(
            column,
            examples=tuple(mask(e) for e in column.examples),
            minimum=None if column.minimum is None else mask(column.minimum),
            maximum=None if column.maximum is None else mask(column.maximum),
            masked=True,
        )
        if identifying(column.name)
        else column
        for column in table.columns
    )
    return replace(table, columns=columns)


def _unreadable(entry: InventoryEntry, error: OSError) -> FileReport:
    vanished = isinstance(error, FileNotFoundError)
    problem = Problem(
        "file_vanished" if vanished else "file_unreadable",
        Severity.BLOCKING,
        {"detail": error.strerror or str(error)},
    )
    return FileReport(
        path=entry.display,
        kind=FileKind.BINARY,
        size=entry.size,
        mtime_ns=entry.mtime_ns,
        sha256="",
        verdict=verdict_of([problem]),
        problems=(problem,),
    )


def inspect_all(
    entries: Sequence[InventoryEntry],
    progress: Progress | None = None,
    identifying: Callable[[str], bool] = looks_identifying,
) -> list[FileReport]:
    if progress is not None:
        progress.total_bytes = sum(e.size for e in entries)
    return [inspect_file(entry, progress, identifying) for entry in entries]
