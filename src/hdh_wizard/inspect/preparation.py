"""The prepare_data step's work (route 2): split a published table, draw its sample, group a
published folder's files by a mapping table, and install the results in `publish/`.

Each run writes into a hidden staging folder inside `publish/` (same file system), then moves
its files in place, removing what the previous run of the same table (or folder) wrote and no
longer writes: a re-run leaves no stale part behind. Installing is all or nothing: the files
replaced are first set aside in the staging folder, and put back if a move fails (a full disk).
A result never replaces a published file nor another table's prepared file (two tables of the
same name would): the run is refused with a message instead. What the state names as a previous
output is only removed when it is one this code could have written (`publish/<stem>__…`): a
hand-edited state never makes it remove a published file, or anything outside `publish/`.
A staging folder left by a killed run is removed by the next one (one wizard per project).
The state's record is `core.preparation.Preparation`; each result carries the version (size
and modification time) of what it was made from, so a table rewritten since (the anonymity
step redone) shows its prepared files as outdated.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hdh_wizard.core.deposit_plan import LocalFile
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.hosting_records import PreparedFile, PreparedKind, inside_project
from hdh_wizard.core.preparation import (
    FolderSplitSettings,
    Preparation,
    SampleSettings,
    SplitSettings,
)
from hdh_wizard.core.release import Release
from hdh_wizard.core.safe_files import (
    LinkedPathError,
    check_not_linked,
    fsync_folder,
    replace_atomically,
)
from hdh_wizard.core.steps import StepId
from hdh_wizard.core.volume import published_files
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.convert import PUBLISH_FOLDER
from hdh_wizard.inspect.deposit_files import deposit_files
from hdh_wizard.inspect.fingerprint import resolve_stored_path
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.safe_names import safe_name, unique_names
from hdh_wizard.inspect.sample import sample_name, sample_table
from hdh_wizard.inspect.split import (
    EMPTY_NAME,
    OTHERS_NAME,
    SAMPLE_NAME,
    SEPARATOR,
    STEM_BYTES,
    PartKind,
    ValueCount,
    open_source,
    split_files_by_table,
    split_table,
    split_values,
    write_error,
)

TABLE_SUFFIXES = frozenset({".csv"})  # the interoperability step leaves every table as CSV
STAGING_PREFIX = ".hdh-prepare-"
_KINDS = {
    PartKind.VALUE: PreparedKind.PART,
    PartKind.EMPTY: PreparedKind.EMPTY,
    PartKind.OTHERS: PreparedKind.OTHERS,
}


@dataclass(frozen=True)
class Published:
    """A published table or folder the step can work on."""

    stored: str  # POSIX, as the release names it
    path: Path  # on this machine
    size: int
    version: str = ""  # size and modification time (for a folder, of all its files)


@dataclass(frozen=True)
class Choices:
    tables: tuple[Published, ...]
    folders: tuple[Published, ...]


def choices(release: Release, project: Path) -> Choices:
    """The published CSV tables (anonymised copies in place of their originals, tables inside
    published folders included) and the published folders (for grouping files by a table)."""
    found, _missing = deposit_files(release, project)
    tables = tuple(
        Published(
            f.path, resolve_stored_path(f.path, project), f.size, _version(f.size, f.mtime_ns)
        )
        for f in found
        if PurePosixPath(f.path).suffix.lower() in TABLE_SUFFIXES
    )
    folders = []
    copies = _cleaned_copies(release, project)
    for stored, size in published_files(release):
        path = resolve_stored_path(stored, project)
        if path.is_dir():
            prefix = stored.rstrip("/") + "/"
            inside = [f for f in found if f.path.startswith(prefix)]
            version = _folder_version(path, inside, copies)
            folders.append(Published(stored, path, size, version))
    # A declared folder whose files the formats step lists one by one (as it records what it
    # checked) is still a folder to group: its published files, or their cleaned copies.
    offered = {f.stored for f in folders}
    for declared in release.files:
        path = resolve_stored_path(declared.path, project)
        if declared.path in offered or not path.is_dir():
            continue
        prefix = declared.path.rstrip("/") + "/"
        inside = [f for f in found if f.path.startswith(prefix)]
        root = _resolved(path)
        if inside or any(root in original.parents for original in copies):
            version = _folder_version(path, inside, copies)
            folders.append(Published(declared.path, path, sum(f.size for f in inside), version))
    return Choices(tables, tuple(folders))


def versions(found: Choices) -> dict[str, str]:
    """Each published table's and folder's current version (see `Preparation.outdated`)."""
    return {p.stored: p.version for p in (*found.tables, *found.folders)}


def table_columns(table: Published) -> tuple[str, ...]:
    """The table's column names. Raises HdhWizardError (not a CSV, no header…)."""
    with open_source(table.path) as source:
        return source.columns


def count_values(table: Published, column_index: int, progress: Progress) -> list[ValueCount]:
    """Rows per value of the column, most frequent first. Raises HdhWizardError, Cancelled."""
    return split_values(table.path, column_index, progress=progress)


def file_stem(table: Published, tables: Sequence[Published] = ()) -> str:
    """The start of the names of a table's prepared files: its name made safe (`sejours`) or,
    when another of the published `tables` has the same (two `sejours.csv` in two folders, one
    a year), with as many of its folders' names as tell it apart (`2019_sejours`)."""
    return _distinct_stem(table.stored, [t.stored for t in tables], folder=False)


def _distinct_stem(stored: str, others: Sequence[str], *, folder: bool) -> str:
    def named(path: str, depth: int) -> str:
        pure = PurePosixPath(path)
        parents = pure.parent.parts[len(pure.parent.parts) - depth :] if depth else ()
        return _safe_stem("_".join((*parents, pure.name if folder else pure.stem)))

    own = named(stored, 0)
    same = [other for other in others if named(other, 0).casefold() == own.casefold()]
    if len(same) < 2 or stored not in same:
        return own
    deepest = max(len(PurePosixPath(other).parent.parts) for other in same)
    for depth in range(1, deepest + 1):
        names = [named(other, depth).casefold() for other in same]
        mine = named(stored, depth)
        if names.count(mine.casefold()) == 1:
            return mine
    return own  # not told apart (a name too long): refused when installing, as a name taken


def _safe_stem(stem: str) -> str:
    return safe_name(stem, max_bytes=STEM_BYTES, fallback="table")


def planned_names(
    table: Published,
    counts: Sequence[ValueCount],
    group_rare_below: int | None,
    tables: Sequence[Published] = (),
) -> dict[str | None, str]:
    """The file each value goes to, as `split_into_publish` names them (None: the empty
    value); `tables`, the published ones, tell apart two tables of the same name."""
    stem = file_stem(table, tables)
    rare = {
        c.value
        for c in counts
        if c.value is not None and group_rare_below is not None and c.rows < group_rare_below
    }
    values = sorted(c.value for c in counts if c.value is not None and c.value not in rare)
    names = unique_names(values, taken=(EMPTY_NAME, OTHERS_NAME, SAMPLE_NAME))
    planned: dict[str | None, str] = {
        value: f"{stem}{SEPARATOR}{name}.csv" for value, name in zip(values, names, strict=True)
    }
    planned.update({value: f"{stem}{SEPARATOR}{OTHERS_NAME}.csv" for value in rare})
    planned[None] = f"{stem}{SEPARATOR}{EMPTY_NAME}.csv"
    return planned


def split_into_publish(
    release: Release,
    project: Path,
    preparation: Preparation,
    table: Published,
    column_index: int,
    group_rare_below: int | None,
    progress: Progress,
    tables: Sequence[Published] | None = None,
) -> Preparation:
    """Split the table into `publish/`, replacing the table's previous parts. `tables`, the
    published ones (listed again when not given), tell apart two tables of the same name.
    Raises HdhWizardError, Cancelled (nothing changed in `publish/` then)."""
    publish = project / PUBLISH_FOLDER
    stem = file_stem(table, choices(release, project).tables if tables is None else tables)
    written_stem = _safe_stem(table.path.stem)  # as split_table names the parts
    stored = [f.path for f in preparation.split_files(table.stored)]
    previous = _previous(project, stored, (f"{stem}{SEPARATOR}", f"{written_stem}{SEPARATOR}"))
    protected = _protected(release, project, preparation, previous)
    version = _current_version(table)
    with _staging(publish) as stage:
        result = split_table(
            table.path, column_index, stage, group_rare_below=group_rare_below, progress=progress
        )
        finals = {
            part.path: publish / (stem + part.path.name[len(written_stem) :])
            for part in result.parts
        }
        _install(list(finals.items()), previous, protected, project, stage, progress)
    files = [
        PreparedFile(
            _relative(finals[part.path], project),
            _KINDS[part.kind],
            part.size,
            part.sha256,
            table.stored,
            part.values[0] if part.kind is PartKind.VALUE else "",
            part.rows,
        )
        for part in result.parts
    ]
    settings = SplitSettings(
        result.column, result.column_index, group_rare_below, result.source_rows, version
    )
    return preparation.with_split(table.stored, settings, files)


def sample_into_publish(
    release: Release,
    project: Path,
    preparation: Preparation,
    table: Published,
    *,
    size: int | None,
    fraction: float | None,
    seed: int,
    stratify_column_index: int | None,
    progress: Progress,
    tables: Sequence[Published] | None = None,
) -> Preparation:
    """Draw the table's sample into `publish/<table>__echantillon.csv` (`tables`: as for
    `split_into_publish`). Raises HdhWizardError, Cancelled."""
    publish = project / PUBLISH_FOLDER
    stem = file_stem(table, choices(release, project).tables if tables is None else tables)
    old = preparation.sample_file(table.stored)
    prefixes = (f"{stem}{SEPARATOR}", f"{_safe_stem(table.path.stem)}{SEPARATOR}")
    previous = _previous(project, [old.path] if old else [], prefixes)
    protected = _protected(release, project, preparation, previous)
    version = _current_version(table)
    with _staging(publish) as stage:
        staged = stage / sample_name(table.path)
        result = sample_table(
            table.path,
            staged,
            size=size,
            fraction=fraction,
            seed=seed,
            stratify_column_index=stratify_column_index,
            progress=progress,
        )
        final = publish / f"{stem}{SEPARATOR}{SAMPLE_NAME}.csv"
        _install([(staged, final)], previous, protected, project, stage, progress)
    file = PreparedFile(
        _relative(final, project),
        PreparedKind.SAMPLE,
        result.file_size,
        result.sha256,
        table.stored,
        "",
        result.rows,
    )
    settings = SampleSettings(
        seed,
        size,
        fraction,
        result.stratify_column,
        result.rows,
        result.source_rows,
        result.stratify_column_index,
        version,
    )
    return preparation.with_sample(table.stored, settings, file)


def split_folder_into_publish(
    release: Release,
    project: Path,
    preparation: Preparation,
    folder: Published,
    mapping: Published,
    file_column_index: int,
    value_column_index: int,
    progress: Progress,
    folders: Sequence[Published] | None = None,
) -> Preparation:
    """Group the folder's files into `publish/<folder>__<column>/<value>/` as the mapping table
    says (slides by stage), hard-linked where possible. A file the anonymity step replaced by
    a cleaned copy is placed as that copy. `folders`, the published ones (listed again when not
    given), tell apart two folders of the same name. Raises HdhWizardError, Cancelled."""
    publish = project / PUBLISH_FOLDER
    columns = table_columns(mapping)
    value_column = columns[value_column_index] if 0 <= value_column_index < len(columns) else ""
    published = choices(release, project).folders if folders is None else folders
    folder_stem = _distinct_stem(folder.stored, [f.stored for f in published], folder=True)
    plain_stem = _safe_stem(PurePosixPath(folder.stored).name)
    name = f"{folder_stem}{SEPARATOR}{safe_name(value_column, max_bytes=STEM_BYTES, fallback='v')}"
    old = preparation.folder_split(folder.stored)
    prefixes = (f"{folder_stem}{SEPARATOR}", f"{plain_stem}{SEPARATOR}")
    previous = _previous(project, [old.output] if old else [], prefixes)
    protected = _protected(release, project, preparation, previous)
    mapping_version = _current_version(mapping)
    with _staging(publish) as stage:
        result = split_files_by_table(
            mapping.path,
            file_column_index,
            value_column_index,
            folder.path,
            stage / name,
            progress=progress,
        )
        if not result.files:
            raise HdhWizardError(
                "prepare.error.no_file_placed", table=mapping.stored, folder=folder.stored
            )
        cleaned = _cleaned_copies(release, project)
        sizes: dict[str | None, int] = {}
        for placed in result.files:
            size = placed.size
            copy = cleaned.get(placed.source.resolve())
            if copy is not None:  # never the original of a slide that had a label
                try:
                    placed.path.unlink()
                    shutil.copyfile(copy, placed.path)
                    size = placed.path.stat().st_size
                except OSError as error:
                    raise write_error(publish, error) from error
            sizes[placed.value] = sizes.get(placed.value, 0) + size
        _install([(stage / name, publish / name)], previous, protected, project, stage, progress)
    files = [
        PreparedFile(
            _relative(publish / name / part.path.name, project),
            PreparedKind.FOLDER,
            sizes.get(part.value, 0),
            "",
            mapping.stored,
            part.value or "",
            None,
        )
        for part in result.folders
    ]
    settings = FolderSplitSettings(
        folder.stored,
        mapping.stored,
        columns[file_column_index] if 0 <= file_column_index < len(columns) else "",
        value_column,
        _relative(publish / name, project),
        len(result.files),
        len(result.missing),
        len(result.unlisted),
        len(result.ambiguous),
        len(result.conflicting),
        len(result.refused),
        mapping_version,
        folder.version,
    )
    return preparation.with_folder_split(settings, files)


def drop_prepared(
    release: Release, project: Path, preparation: Preparation, sources: Sequence[str]
) -> Preparation:
    """Remove from `publish/` and from the record what was prepared from `sources` (a table no
    longer published, or changed and not to be split again). Only files this step writes
    (directly in `publish/`, never a published one) are removed. Raises HdhWizardError."""
    after = preparation.without(sources)
    kept = set(after.files)
    publish = _resolved(project / PUBLISH_FOLDER)
    published = {
        _resolved(resolve_stored_path(stored, project)) for stored, _ in published_files(release)
    }
    try:
        for file in preparation.files:
            path = resolve_stored_path(file.path, project)
            if file in kept or _resolved(path.parent) != publish:
                continue
            if _resolved(path) not in published and STAGING_PREFIX not in path.name:
                _remove(path)
    except OSError as error:
        raise write_error(project / PUBLISH_FOLDER, error) from error
    return after


def missing_outputs(project: Path, preparation: Preparation) -> list[str]:
    """The prepared files no longer on disk as written (removed, or another size; for a
    folder, its files' bytes)."""
    missing: list[str] = []
    for file in preparation.files:
        path = resolve_stored_path(file.path, project)
        try:
            if file.kind is PreparedKind.FOLDER:  # its files, as many bytes as placed
                ok = path.is_dir() and _folder_bytes(path) == file.size
            else:
                ok = path.is_file() and path.stat().st_size == file.size
        except OSError:
            ok = False
        if not ok:
            missing.append(file.path)
    return missing


# --- placing the results -------------------------------------------------------------------------


@contextmanager
def _staging(publish: Path) -> Iterator[Path]:
    # A linked `publish/` would have the work done, and the results placed, outside the project.
    check_not_linked(publish)
    try:
        publish.mkdir(parents=True, exist_ok=True)
        for left in publish.glob(f"{STAGING_PREFIX}*"):  # by a run killed (one wizard a project)
            if left.is_dir() and not left.is_symlink():
                shutil.rmtree(left, ignore_errors=True)
        stage = publish / f"{STAGING_PREFIX}{secrets.token_hex(4)}"
        stage.mkdir()
    except OSError as error:
        raise write_error(publish, error) from error
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _protected(
    release: Release, project: Path, preparation: Preparation, replaceable: Sequence[Path]
) -> frozenset[Path]:
    """What a result may not replace: the published files and folders, and the files other
    tables' (or folders') runs prepared."""
    published = {
        _resolved(resolve_stored_path(stored, project)) for stored, _ in published_files(release)
    }
    prepared = {_resolved(resolve_stored_path(f.path, project)) for f in preparation.files}
    mine = {_resolved(p) for p in replaceable}
    others = {p for p in prepared if p not in mine and not any(m in p.parents for m in mine)}
    return frozenset(published | others)


def _previous(project: Path, stored: Sequence[str], prefixes: tuple[str, ...]) -> list[Path]:
    """The previous run's outputs the state names, those this code could have written only:
    directly in `publish/`, named `<prefix>…`. (A hand-edited state could name anything.)"""
    publish = _resolved(project / PUBLISH_FOLDER)
    kept = []
    for path in stored:
        local = resolve_stored_path(path, project)
        if _resolved(local.parent) == publish and local.name.startswith(prefixes):
            kept.append(local)
    return kept


def _install(
    staged: Sequence[tuple[Path, Path]],
    previous: Iterable[Path],
    protected: frozenset[Path],
    project: Path,
    stage: Path,
    progress: Progress | None = None,
) -> None:
    """Move the staged results in place; remove the previous run's outputs. Refused before
    anything moves when a result would replace a protected path; all or nothing: what is
    replaced or removed is set aside in `stage` first, and put back if a move fails.
    `LinkedPathError` when a result's path (or its folder inside the project) is a link."""
    for _, final in staged:  # a planted link would make the result land outside the project
        check_not_linked(final, project=project)
    finals = {_resolved(final) for _, final in staged}
    # Compared without regard to case: on macOS and Windows disks (and once downloaded there),
    # `T__a.csv` and `t__a.csv` are one file.
    guarded = [_folded(path) for path in protected]
    for final in finals:
        folded = _folded(final)
        for taken in guarded:
            if taken == folded or folded in taken.parents or taken in folded.parents:
                raise HdhWizardError("prepare.error.name_taken", file=_relative(final, project))
    if progress is not None:
        progress.check()  # the last moment a cancel (or quitting) leaves everything as it was
    aside = stage / ".replaced"
    # A published file is never removed, whatever the state says it was.
    going = {r: p for p in previous if (r := _resolved(p)) not in protected}
    going.update({_resolved(final): final for _, final in staged})
    set_aside: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        aside.mkdir()
        for number, path in enumerate(going.values()):
            if os.path.lexists(path):
                replace_atomically(path, aside / str(number), sync_folder=False)
                set_aside.append((path, aside / str(number)))
        for temporary, final in staged:
            replace_atomically(temporary, final, project=project, sync_folder=False)
            placed.append(final)
    except (OSError, LinkedPathError) as error:
        for final in placed:
            _remove(final)
        for path, kept in reversed(set_aside):
            with suppress(OSError, LinkedPathError):
                replace_atomically(kept, path, sync_folder=False)
        if isinstance(error, LinkedPathError):
            raise
        raise write_error(project / PUBLISH_FOLDER, error) from error
    for folder in sorted({final.parent for final in placed}):  # once, not once per file
        fsync_folder(folder)


def _folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _cleaned_copies(release: Release, project: Path) -> dict[Path, Path]:
    """Original → the cleaned copy the anonymity step wrote in its place."""
    record = release.record(StepId.ANONYMITY)
    items = record.outputs.get("replacements") if record.status is StepStatus.DONE else None
    copies: dict[Path, Path] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("source"), str):
            source, output = item["source"], item.get("path")
            if isinstance(output, str) and " › " not in source and inside_project(output):
                original = _resolved(resolve_stored_path(source, project))
                copies[original] = resolve_stored_path(output, project)
    return copies


def _version(size: int, mtime_ns: int) -> str:
    return f"{size}:{mtime_ns}"


def _current_version(published: Published) -> str:
    """The file's version now (it may have changed since the choices were listed)."""
    try:
        info = published.path.stat()
    except OSError as error:  # gone since listed
        raise HdhWizardError(
            "prepare.error.unreadable",
            file=published.stored,
            detail=error.strerror or type(error).__name__,
        ) from error
    return _version(info.st_size, info.st_mtime_ns)


def _folder_version(path: Path, files: Sequence[LocalFile], copies: Mapping[Path, Path]) -> str:
    """A folder's files summed up (count, bytes, latest time), their cleaned copies included."""
    count, size, latest = (
        len(files),
        sum(f.size for f in files),
        max((f.mtime_ns for f in files), default=0),
    )
    root = _resolved(path)
    for original, copy in copies.items():
        if root in original.parents:
            try:
                info = copy.stat()
            except OSError:
                continue
            count, size, latest = count + 1, size + info.st_size, max(latest, info.st_mtime_ns)
    return f"{count}:{size}:{latest}"


def _folded(path: Path) -> PurePosixPath:
    return PurePosixPath(path.as_posix().casefold())


def _resolved(path: Path) -> Path:
    return path.resolve(strict=False)


def _relative(path: Path, project: Path) -> str:
    """POSIX, relative to the project (as the release names files)."""
    try:
        return path.relative_to(project).as_posix()
    except ValueError:
        return path.as_posix()
