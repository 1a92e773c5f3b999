"""The prepare_data step's record (route 2): what was split and sampled, with which settings.

`outputs["files"]` holds the prepared files (`PreparedFile`, the contract with the transfer
and the references); beside them, the settings that made them, per table and per folder of
files, so that reopening the step shows what was done and the sample can be drawn again from
its seed. The values typed in the screen are checked here too (sample size, share, seed, the
threshold under which values are grouped into "autres").
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from hdh_wizard.core.checks import Check
from hdh_wizard.core.hosting_records import PreparedFile, PreparedKind, inside_project
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError

MAX_SEED = (1 << 64) - 1
SEED_DIGITS = 9  # a drawn seed fits in 9 digits: easy to note and type again
SPLIT_KINDS = frozenset({PreparedKind.PART, PreparedKind.OTHERS, PreparedKind.EMPTY})


@dataclass(frozen=True)
class SplitSettings:
    column: str
    column_index: int
    group_rare_below: int | None
    source_rows: int
    source_version: str = ""  # the table's size and time when split ("" in older records)

    def to_outputs(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "column_index": self.column_index,
            "group_rare_below": self.group_rare_below,
            "source_rows": self.source_rows,
            "source_version": self.source_version,
        }

    @classmethod
    def from_outputs(cls, data: Any) -> SplitSettings | None:
        if not isinstance(data, Mapping):
            return None
        column, index, rows = (
            data.get("column"),
            _int(data, "column_index"),
            _int(data, "source_rows"),
        )
        if not isinstance(column, str) or index is None or rows is None:
            return None
        return cls(
            column, index, _int(data, "group_rare_below"), rows, _str(data, "source_version")
        )


@dataclass(frozen=True)
class SampleSettings:
    seed: int
    size: int | None  # as asked (rows)…
    fraction: float | None  # …or as a share of the table
    stratify_column: str | None
    rows: int  # drawn
    source_rows: int
    stratify_column_index: int | None = None
    source_version: str = ""  # the table's size and time when drawn ("" in older records)

    def to_outputs(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "size": self.size,
            "fraction": self.fraction,
            "stratify_column": self.stratify_column,
            "stratify_column_index": self.stratify_column_index,
            "rows": self.rows,
            "source_rows": self.source_rows,
            "source_version": self.source_version,
        }

    @classmethod
    def from_outputs(cls, data: Any) -> SampleSettings | None:
        if not isinstance(data, Mapping):
            return None
        seed, rows, total = _int(data, "seed"), _int(data, "rows"), _int(data, "source_rows")
        fraction = data.get("fraction")
        if not isinstance(fraction, int | float) or isinstance(fraction, bool):
            fraction = None
        column = data.get("stratify_column")
        size = _int(data, "size")
        if fraction is not None and not 0 < fraction <= 1:
            fraction = None
        if size is not None and size < 1:
            size = None
        # A sample it could not draw again (no seed, neither size nor share) says nothing usable.
        if seed is None or not 0 <= seed <= MAX_SEED or (size is None) == (fraction is None):
            return None
        if rows is None or total is None:
            return None
        return cls(
            seed,
            size,
            float(fraction) if fraction is not None else None,
            column if isinstance(column, str) else None,
            rows,
            total,
            _int(data, "stratify_column_index"),
            _str(data, "source_version"),
        )


@dataclass(frozen=True)
class TablePreparation:
    """What was done to one published table (relative POSIX path, as the release names it)."""

    table: str
    split: SplitSettings | None = None
    sample: SampleSettings | None = None

    def to_outputs(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "split": self.split.to_outputs() if self.split else None,
            "sample": self.sample.to_outputs() if self.sample else None,
        }

    @classmethod
    def from_outputs(cls, data: Any) -> TablePreparation | None:
        if not isinstance(data, Mapping) or not isinstance(data.get("table"), str):
            return None
        return cls(
            str(data["table"]),
            SplitSettings.from_outputs(data.get("split")),
            SampleSettings.from_outputs(data.get("sample")),
        )


@dataclass(frozen=True)
class FolderSplitSettings:
    """Files of a published folder grouped by value, as a mapping table says (slides by
    stage). `output` is the folder holding one sub-folder per value."""

    folder: str
    mapping: str
    file_column: str
    value_column: str
    output: str
    placed: int  # files placed (a file with two values counts twice)
    missing: int = 0  # named in the table, not found
    unlisted: int = 0  # in the folder, named by no row
    ambiguous: int = 0
    conflicting: int = 0
    refused: int = 0
    mapping_version: str = ""  # the mapping table's size and time when grouped
    folder_version: str = ""  # the folder's files (and their cleaned copies), summed up

    def to_outputs(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "mapping": self.mapping,
            "file_column": self.file_column,
            "value_column": self.value_column,
            "output": self.output,
            "placed": self.placed,
            "missing": self.missing,
            "unlisted": self.unlisted,
            "ambiguous": self.ambiguous,
            "conflicting": self.conflicting,
            "refused": self.refused,
            "mapping_version": self.mapping_version,
            "folder_version": self.folder_version,
        }

    @classmethod
    def from_outputs(cls, data: Any) -> FolderSplitSettings | None:
        if not isinstance(data, Mapping):
            return None
        texts = [data.get(k) for k in ("folder", "mapping", "file_column", "value_column")]
        output = data.get("output")
        if (
            not all(isinstance(t, str) for t in texts)
            or not isinstance(output, str)
            or not inside_project(output)
        ):
            return None
        counts = {
            k: _int(data, k) or 0
            for k in ("placed", "missing", "unlisted", "ambiguous", "conflicting", "refused")
        }
        folder, mapping, file_column, value_column = (str(t) for t in texts)
        return cls(
            folder,
            mapping,
            file_column,
            value_column,
            output,
            **counts,
            mapping_version=_str(data, "mapping_version"),
            folder_version=_str(data, "folder_version"),
        )


@dataclass(frozen=True)
class Preparation:
    """The whole step: settings per table and per folder, and every file written."""

    tables: tuple[TablePreparation, ...] = ()
    folders: tuple[FolderSplitSettings, ...] = ()
    files: tuple[PreparedFile, ...] = ()

    # --- reading -----------------------------------------------------------------------------

    def table(self, path: str) -> TablePreparation:
        found = next((t for t in self.tables if t.table == path), None)
        return found if found is not None else TablePreparation(path)

    def split_files(self, table: str) -> tuple[PreparedFile, ...]:
        return tuple(f for f in self.files if f.source == table and f.kind in SPLIT_KINDS)

    def sample_file(self, table: str) -> PreparedFile | None:
        return next(
            (f for f in self.files if f.source == table and f.kind is PreparedKind.SAMPLE), None
        )

    def folder_split(self, folder: str) -> FolderSplitSettings | None:
        return next((f for f in self.folders if f.folder == folder), None)

    def folder_files(self, output: str) -> tuple[PreparedFile, ...]:
        prefix = output.rstrip("/") + "/"
        return tuple(
            f for f in self.files if f.kind is PreparedKind.FOLDER and f.path.startswith(prefix)
        )

    def outdated(self, versions: Mapping[str, str]) -> list[str]:
        """The tables and folders changed (or no longer published) since their files were
        prepared, by their current versions (what is not in `versions` is gone). Older records,
        without versions, are taken as current."""
        used: list[tuple[str, str]] = []
        for entry in self.tables:
            for settings, kinds in (
                (entry.split, SPLIT_KINDS),
                (entry.sample, {PreparedKind.SAMPLE}),
            ):
                if settings is not None and any(
                    f.source == entry.table and f.kind in kinds for f in self.files
                ):
                    used.append((entry.table, settings.source_version))
        for folder in self.folders:
            if self.folder_files(folder.output):
                used += [
                    (folder.mapping, folder.mapping_version),
                    (folder.folder, folder.folder_version),
                ]
        changed = {name for name, version in used if version and versions.get(name) != version}
        return sorted(changed)

    def without(self, sources: Collection[str]) -> Preparation:
        """The record without what was made from `sources` (tables, folders or their mapping
        tables, as `outdated` names them): to give up a table no longer published."""
        folders = [f for f in self.folders if f.folder in sources or f.mapping in sources]
        dropped = {f for folder in folders for f in self.folder_files(folder.output)}
        dropped |= {
            f for f in self.files if f.source in sources and f.kind is not PreparedKind.FOLDER
        }
        return replace(
            self,
            tables=tuple(t for t in self.tables if t.table not in sources),
            folders=tuple(f for f in self.folders if f not in folders),
            files=tuple(f for f in self.files if f not in dropped),
        )

    # --- changing (each returns a new record; the files replaced are dropped) ----------------

    def with_split(
        self, table: str, settings: SplitSettings, files: Iterable[PreparedFile]
    ) -> Preparation:
        old = set(self.split_files(table))
        kept = tuple(f for f in self.files if f not in old)
        entry = replace(self.table(table), split=settings)
        return replace(self, tables=_put(self.tables, entry), files=kept + tuple(files))

    def with_sample(self, table: str, settings: SampleSettings, file: PreparedFile) -> Preparation:
        old = self.sample_file(table)
        kept = tuple(f for f in self.files if f != old)
        entry = replace(self.table(table), sample=settings)
        return replace(self, tables=_put(self.tables, entry), files=(*kept, file))

    def with_folder_split(
        self, settings: FolderSplitSettings, files: Iterable[PreparedFile]
    ) -> Preparation:
        previous = self.folder_split(settings.folder)
        old = set(self.folder_files(previous.output)) if previous else set()
        kept = tuple(f for f in self.files if f not in old)
        folders = tuple(f for f in self.folders if f.folder != settings.folder)
        return replace(self, folders=(*folders, settings), files=kept + tuple(files))

    # --- the state ---------------------------------------------------------------------------

    def to_outputs(self) -> dict[str, Any]:
        return {
            "files": [f.to_outputs() for f in self.files],
            "tables": [t.to_outputs() for t in self.tables],
            "folders": [f.to_outputs() for f in self.folders],
            "file_count": len(self.files),
            "total_bytes": sum(f.size for f in self.files),
        }

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any]) -> Preparation:
        """Tolerant: a hand-edited entry that says nothing usable is left out, and so is a file
        outside the project (absolute, or reaching up with ".."): it would be hosted, and
        replaced (removed) by the next run."""
        files = (PreparedFile.from_outputs(item) for item in _items(outputs, "files"))
        unique: dict[str, PreparedFile] = {}  # a file listed twice (by hand) is kept once
        for file in files:
            if file is not None and inside_project(file.path):
                unique.setdefault(file.path, file)
        tables = (TablePreparation.from_outputs(item) for item in _items(outputs, "tables"))
        folders = (FolderSplitSettings.from_outputs(item) for item in _items(outputs, "folders"))
        return cls(
            tuple(t for t in tables if t is not None),
            tuple(f for f in folders if f is not None),
            tuple(unique.values()),
        )


def preparation_of(release: Release) -> Preparation:
    """The step's record, done or in a draft (`prepared_files` reads only a finished one)."""
    return Preparation.from_outputs(release.record(StepId.PREPARE_DATA).outputs)


def step_checks(
    preparation: Preparation, missing: Sequence[str], outdated: Sequence[str] = ()
) -> list[Check]:
    """Something was prepared, every prepared file is still there as written, and made from
    the tables as they are now (the anonymity step redone rewrites them)."""
    return [
        Check("prepare.check.something", bool(preparation.files)),
        Check("prepare.check.present", not missing, {"files": ", ".join(missing[:5]) or "—"}),
        Check("prepare.check.current", not outdated, {"files": ", ".join(outdated[:5]) or "—"}),
    ]


# --- values typed in the screen ----------------------------------------------------------------


def parse_threshold(text: str) -> int | None:
    """The row count under which values are grouped into "autres": empty for none."""
    text = text.strip()
    if not text:
        return None
    value = _whole(text)
    if value is None or value < 2:
        raise HdhWizardError("prepare.error.min_count", value=text)
    return value


def parse_sample_request(size_text: str, fraction_text: str) -> tuple[int | None, float | None]:
    """(size, fraction), exactly one given. A share is written 0,1 or 0.1 or 10 %."""
    size_text, fraction_text = size_text.strip(), fraction_text.strip()
    if bool(size_text) == bool(fraction_text):
        raise HdhWizardError("prepare.error.size_or_fraction")
    if size_text:
        size = _whole(size_text)
        if size is None or size < 1:
            raise HdhWizardError("prepare.error.sample_size", value=size_text)
        return size, None
    return None, parse_fraction(fraction_text)


def parse_fraction(text: str) -> float:
    cleaned = "".join(text.split()).replace(",", ".")
    percent = cleaned.endswith("%")
    try:
        value = float(cleaned.rstrip("%"))
    except ValueError:
        raise HdhWizardError("prepare.error.sample_fraction", value=text) from None
    if percent:
        value /= 100
    if not 0 < value <= 1:  # also refuses nan
        raise HdhWizardError("prepare.error.sample_fraction", value=text)
    return value


def parse_seed(text: str) -> int:
    value = _whole(text.strip())
    if value is None or value > MAX_SEED:
        raise HdhWizardError("prepare.error.seed", value=text.strip())
    return value


def new_seed() -> int:
    """A random seed, short enough to note down (it is recorded and shown anyway)."""
    return secrets.randbelow(10**SEED_DIGITS)


def parts_count(counts: Iterable[tuple[str | None, int]], group_rare_below: int | None) -> int:
    """How many files splitting makes: one per value, one for the empty value, one "autres"
    for the values under the threshold (as inspect.split groups them)."""
    files, others = 0, False
    for value, rows in counts:
        if value is not None and group_rare_below is not None and rows < group_rare_below:
            others = True
        else:
            files += 1
    return files + others


def suggest_threshold(counts: Sequence[tuple[str | None, int]], limit: int) -> int | None:
    """The smallest threshold (2 or more) under which grouping the rare values into "autres"
    leaves at most `limit` files; None when no grouping is needed."""
    if parts_count(counts, None) <= limit:
        return None
    # Fewer files as the threshold grows: the smallest one that fits, by bisection.
    low, high = 2, max((rows for _, rows in counts), default=1) + 1
    while low < high:
        middle = (low + high) // 2
        if parts_count(counts, middle) <= limit:
            high = middle
        else:
            low = middle + 1
    return low


# --- helpers -----------------------------------------------------------------------------------


def _whole(text: str) -> int | None:
    cleaned = "".join(text.split())  # 1 000, with any kind of space (no-break ones too)
    return int(cleaned) if re.fullmatch(r"[0-9]{1,20}", cleaned) else None


def _put(
    tables: tuple[TablePreparation, ...], entry: TablePreparation
) -> tuple[TablePreparation, ...]:
    if any(t.table == entry.table for t in tables):
        return tuple(entry if t.table == entry.table else t for t in tables)
    return (*tables, entry)


def _int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _items(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []
