"""The files HDH hosts, as found on disk: every file to host, folders opened into their files.

Like a deposit's files (`deposit_files`): hidden files are left out, and so are originals the
anonymity step replaced by a transformed copy. Links inside a published folder are left out too:
the folder's fingerprint and the anonymity check do not follow them, so what they lead to (maybe
out of the project) was never checked. A file listed twice (a prepared file inside a published
folder) is hosted once. Each file gets its role for the people who will download it: the sample
the preparation made, documentation (PDF, README…), or data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hdh_wizard.core.hosting_records import (
    FileRole,
    PreparedFile,
    files_to_host,
    prepared_files,
    role_of,
)
from hdh_wizard.core.release import Release
from hdh_wizard.core.volume import replaced_sources
from hdh_wizard.inspect.deposit_files import folder_files
from hdh_wizard.inspect.fingerprint import resolve_stored_path


@dataclass(frozen=True)
class HostingFile:
    """One file to host: its name in the release (POSIX, a folder's file under the folder's
    name), where it is on this machine, its size and modification time, its role."""

    path: str
    local: Path
    size: int
    mtime_ns: int
    role: FileRole = FileRole.DATA


def hosting_files(release: Release, folder: Path) -> tuple[list[HostingFile], list[str]]:
    """(files found, paths missing), in the order of `files_to_host`; a folder gives each of
    its files in name order."""
    found: dict[str, HostingFile] = {}
    missing: list[str] = []
    replaced = replaced_sources(release)
    prepared = {f.path: f for f in prepared_files(release)}
    for stored, _size in files_to_host(release):
        path = resolve_stored_path(stored, folder)
        try:
            if path.is_dir():
                for name, child in folder_files(stored, path, replaced):
                    made = prepared.get(name) or prepared.get(stored)
                    found.setdefault(name, _file(name, child, made))
            elif path.is_file():
                # Listed again as a prepared file: its role is the preparation's (the sample).
                found[stored] = _file(stored, path, prepared.get(stored))
            else:
                missing.append(stored)
        except OSError:
            missing.append(stored)
    return list(found.values()), missing


def _file(name: str, path: Path, prepared: PreparedFile | None) -> HostingFile:
    stat = path.stat()
    sample = prepared is not None and prepared.role is FileRole.SAMPLE
    return HostingFile(name, path, stat.st_size, stat.st_mtime_ns, role_of(name, sample=sample))
