"""The anonymity step over a whole release: find its tables and slides, scan, assess, write copies.

Tables are reopened for each measure (a legacy-encoded CSV's UTF-8 copy lives only as long as
one reading), so a `TableRef` says where a table comes from rather than holding it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.byte_scan import sha256_of
from hdh_wizard.inspect.convert import output_stem
from hdh_wizard.inspect.inspection import InventoryEntry, inventory
from hdh_wizard.inspect.kinds import FileKind, sniff_kind
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.risk.analysis import (
    Choice,
    TableRisk,
    TableScan,
    assess,
    assess_passes,
    scan_table,
)
from hdh_wizard.inspect.risk.export import export_table
from hdh_wizard.inspect.risk.rekey import ReleaseKey
from hdh_wizard.inspect.risk.report import (
    FileHash,
    Replacement,
    TableDetails,
    describe_table,
    hash_file,
)
from hdh_wizard.inspect.risk.slide_privacy import (
    ImagePrivacyReport,
    scan_image_privacy,
    write_clean_copy,
)
from hdh_wizard.inspect.risk.solutions import TableSearch, search_table
from hdh_wizard.inspect.risk.tables import Table, is_table, open_tables

CLEAN_SUFFIX = "_sans-etiquette"


@dataclass(frozen=True)
class TableRef:
    path: Path
    display: str  # the file's display path
    name: str  # the table's name: the display path, with " › sheet" for a workbook sheet
    size: int


@dataclass(frozen=True)
class Sources:
    tables: tuple[InventoryEntry, ...]
    slides: tuple[InventoryEntry, ...]


def find_sources(paths: Sequence[Path], root: Path) -> Sources:
    entries, _skipped = inventory(paths, root)
    tables, slides = [], []
    for entry in entries:
        try:
            kind = sniff_kind(entry.path)
        except OSError:
            continue
        if kind in (FileKind.TIFF, FileKind.BIGTIFF):
            slides.append(entry)
        elif is_table(entry.path):
            tables.append(entry)
    return Sources(tuple(tables), tuple(slides))


@dataclass(frozen=True)
class Scanned:
    tables: tuple[tuple[TableRef, TableScan], ...]
    images: tuple[ImagePrivacyReport, ...]
    failures: tuple[HdhWizardError, ...]  # files that could not be read, each with its message
    choices: dict[str, Choice] = field(default_factory=dict)  # by table name, when measured
    risks: dict[str, TableRisk] = field(default_factory=dict)


def scan_sources(
    sources: Sources,
    progress: Progress | None = None,
    choose: Callable[[TableScan], Choice] | None = None,
) -> Scanned:
    """Every table scanned for identifying content, every slide for labels and tags; a file that
    cannot be read is reported and the others are still scanned. With `choose`, each table is
    also measured for the choice it gives, in the same opening of the file (a legacy-encoded CSV
    is transcoded once). Raises Cancelled."""
    scans: list[tuple[TableRef, TableScan]] = []
    failures: list[HdhWizardError] = []
    choices: dict[str, Choice] = {}
    risks: dict[str, TableRisk] = {}
    for entry in sources.tables:
        if progress is not None:
            progress.current = entry.display
            progress.check()
        counted = 0  # of the file's bytes, counted as read so far
        try:
            with open_tables(entry.path, entry.display) as tables:
                # Each table's share of the file, half for its scan and half for its measures:
                # the progress moves (and the job can stop) between these passes.
                share = entry.size // max(len(tables), 1) // (2 if choose is not None else 1)
                for table in tables:
                    ref = TableRef(entry.path, entry.display, table.name, entry.size)
                    scan = scan_table(table)
                    scans.append((ref, scan))
                    counted += _advance(progress, share)
                    if choose is not None:
                        choice = choices[ref.name] = choose(scan)
                        step = share // assess_passes(choice)
                        measured = 0

                        def passed(step: int = step) -> None:
                            nonlocal measured
                            measured += _advance(progress, step)

                        try:
                            risks[ref.name] = assess(table, scan, choice, progress, passed)
                        except HdhWizardError as error:  # a saved choice that no longer fits
                            failures.append(error)
                        counted += measured + _advance(progress, share - measured)
        except HdhWizardError as error:
            failures.append(error)
        _advance(progress, entry.size - counted)
    images = []
    for entry in sources.slides:
        if progress is not None:
            progress.current = entry.display
            progress.check()
        try:
            images.append(scan_image_privacy(entry.path, entry.display))
        except HdhWizardError as error:
            failures.append(error)
    return Scanned(tuple(scans), tuple(images), tuple(failures), choices, risks)


def _advance(progress: Progress | None, nbytes: int) -> int:
    """Count `nbytes` more as read (a cancel point); returns them."""
    if progress is not None:
        progress.advance(nbytes)
    return nbytes


def _table(ref: TableRef, tables: list[Table]) -> Table:
    for table in tables:
        if table.name == ref.name:
            return table
    raise HdhWizardError("risk.error.table_gone", table=ref.name)


def assess_ref(
    ref: TableRef, scan: TableScan, choice: Choice, progress: Progress | None = None
) -> TableRisk:
    """The table measured for `choice`; with `progress`, each of its readings counts its share
    of the file's bytes (`Progress.total_bytes` is the caller's to set)."""
    step = ref.size // assess_passes(choice)

    def passed() -> None:
        _advance(progress, step)

    with open_tables(ref.path, ref.display) as tables:
        return assess(_table(ref, tables), scan, choice, progress, passed)


def search_ref(
    ref: TableRef, choice: Choice, progress: Progress | None = None, *, inference: bool = True
) -> TableSearch:
    """The automatic search on a table (see `solutions.search_table`); cancelled by `progress`."""
    with open_tables(ref.path, ref.display) as tables:
        check = progress.check if progress is not None else None
        return search_table(_table(ref, tables), choice, inference=inference, check=check)


def describe_ref(
    ref: TableRef, risk: TableRisk, progress: Progress | None = None
) -> tuple[TableDetails, FileHash]:
    """What the report needs beyond the measures: each rule's counts, the classes at risk, the
    information loss, and the table's SHA-256 (one more pass over the file)."""
    with open_tables(ref.path, ref.display) as tables:
        if progress is not None:
            progress.current = ref.name
            progress.check()
        details = describe_table(_table(ref, tables), risk)
    return details, hash_file(ref.path, ref.display)


def export_ref(
    ref: TableRef,
    choice: Choice,
    publish: Path,
    records: int,
    progress: Progress | None = None,
    taken: Collection[Path] = (),
    key: ReleaseKey | None = None,
) -> Replacement:
    """The table's generalised copy; `taken`: the other tables' copies, never overwritten;
    `key`: the release's key for re-keyed identifiers."""
    with open_tables(ref.path, ref.display) as tables:
        table = _table(ref, tables)
        exported = export_table(table, choice, publish, records, progress, taken, key)
    return Replacement(ref.name, exported.output, exported.size, exported.sha256, ref.size)


def clean_target(entry: InventoryEntry, publish: Path, taken: Collection[Path] = ()) -> Path:
    """Where a slide's cleaned copy goes: `publish/` under the slide's own name
    (`donnees/lames/d6ly8nf6.tif` → `publish/d6ly8nf6.tif`), so the name still matches the
    table's slide code and the copy groups like its original. When that name is `taken` (another
    slide of the same name, cleaned too) or is the slide itself (a converted copy already in
    `publish/`), the copy is named after its whole path with the `_sans-etiquette` suffix."""
    target = publish / entry.path.name
    if target not in taken and target.resolve() != entry.path.resolve():
        return target
    stem = output_stem(entry.display.removeprefix(f"{publish.name}/"))
    return publish / f"{stem}{CLEAN_SUFFIX}{entry.path.suffix.lower() or '.tif'}"


def clean_slide(
    entry: InventoryEntry,
    publish: Path,
    progress: Progress | None = None,
    taken: Collection[Path] = (),
) -> Replacement:
    """The slide's copy without its label, macro image and identifying tags (`clean_target`)."""
    target = clean_target(entry, publish, taken)
    publish.mkdir(parents=True, exist_ok=True)
    write_clean_copy(entry.path, target, entry.display, progress)
    size, sha256 = sha256_of(target)
    return Replacement(entry.display, target, size, sha256, entry.size)
