"""The files a deposit sends: the files to publish, folders opened, hidden files left out."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path, PurePosixPath

from hdh_wizard.core.data_dictionary import DICTIONARY_NAME, SCHEMA_FOLDER, schema_file_name
from hdh_wizard.core.deposit_plan import LocalFile
from hdh_wizard.core.release import Release
from hdh_wizard.core.volume import published_files, replaced_sources
from hdh_wizard.inspect.fingerprint import resolve_stored_path


def deposit_files(release: Release, folder: Path) -> tuple[list[LocalFile], list[str]]:
    """(files found, paths missing): a folder gives each of its files, in name order."""
    found: list[LocalFile] = []
    missing: list[str] = []
    replaced = replaced_sources(release)  # an original replaced by its anonymised copy
    for stored, _size in published_files(release):
        path = resolve_stored_path(stored, folder)
        try:
            if path.is_dir():
                found.extend(
                    _local(name, child) for name, child in folder_files(stored, path, replaced)
                )
            elif path.is_file():
                found.append(_local(stored, path))
            else:
                missing.append(stored)
        except OSError:
            missing.append(stored)
    return found, missing


def dictionary_documents(folder: Path, files: Collection[LocalFile]) -> list[LocalFile]:
    """The data dictionary written in `publish/` (`flows.dictionary`), deposited beside the
    data as documentation: its CSV and the Table Schema of each CSV in `files`. (Its Markdown
    pages stay in the project: data.gouv.fr refuses the .md extension.)"""
    publish = PurePosixPath("publish")
    names = [publish / f"{DICTIONARY_NAME}.csv"]
    names += [
        publish / SCHEMA_FOLDER / schema_file_name(f.path)
        for f in files
        if PurePosixPath(f.path).suffix.lower() == ".csv"
    ]
    found = []
    for name in names:
        path = folder / Path(*name.parts)
        if path.is_file() and not path.is_symlink():
            found.append(_local(name.as_posix(), path))
    return found


def folder_files(stored: str, path: Path, replaced: Collection[str]) -> Iterator[tuple[str, Path]]:
    """(name in the release, path here) of each file published with the folder, in name
    order. Hidden files, originals replaced by their anonymised copy and links are left out:
    the folder's fingerprint and the anonymity check do not follow links, so what they lead to
    (maybe out of the project) was never checked."""
    for child in sorted(path.rglob("*")):
        relative = child.relative_to(path)
        name = str(PurePosixPath(stored) / relative.as_posix())
        hidden = any(p.startswith(".") for p in relative.parts)
        regular = child.is_file() and not child.is_symlink()
        if regular and not hidden and name not in replaced:
            yield name, child


def _local(stored: str, path: Path) -> LocalFile:
    stat = path.stat()
    return LocalFile(stored, stat.st_size, stat.st_mtime_ns)
