"""Notice when the data files changed since they were last checked, without reading them whole.

A release may hold several gigabytes of images, and the wizard checks its files every time a
project is opened: reading everything then would make resuming take minutes. So the check is in
two stages:

1. size and modification time (`mtime_ns`) — a `stat`, nothing read. Same both: unchanged.
2. otherwise a *fast fingerprint*: a hash of the size and of three 1 MiB samples (start, middle,
   end). Same fingerprint with a new mtime means the file was only touched (copied, restored
   from a backup…); a different one means its content changed.

The fast fingerprint is NOT a full checksum: an edit of a large file that keeps its size and
falls outside the three samples, while also restoring the mtime, goes unseen. It only guards
against the common accidents between two sessions (a file replaced, re-exported, truncated).
The full SHA-256 of every file, which is what gets published, comes with the inspection step.

A folder counts as one data path: its size is the sum of its regular files, its mtime the latest
of its files' and its folders', and its fingerprint combines each file's relative path, size and
sample fingerprint. Symbolic links inside a folder are not followed and not counted: what would
be published is the folder's own files, and a link out of it could point anywhere (even back up).
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from hdh_wizard.core.release import DataFile

FINGERPRINT_PREFIX = "fp1:"
SAMPLE_SIZE = 1024 * 1024  # 1 MiB per sample

# blake2b's personalisation keeps a file's and a folder's hashes in separate domains, so a file
# can never carry the fingerprint of a folder (or the reverse) by accident.
_FILE_PERSON = b"hdhwiz-fp1-file"
_FOLDER_PERSON = b"hdhwiz-fp1-dir"
_DIGEST_SIZE = 32
_SIZE = struct.Struct(">Q")  # sizes and lengths as fixed-width fields: no ambiguous concatenation


class FileChangeKind(StrEnum):
    MISSING = "missing"  # gone: deleted, moved or renamed
    MODIFIED = "modified"  # its content is different
    TOUCHED = "touched"  # new mtime, same content: the caller only updates the stored mtime
    UNREADABLE = "unreadable"  # there, but the wizard may not read it (permissions, I/O error)


@dataclass(frozen=True)
class FileChange:
    """One data path that is no longer as recorded; `current` is how it is now, when known."""

    data_file: DataFile
    kind: FileChangeKind
    current: DataFile | None = None


# --- public API ----------------------------------------------------------------------------


def fast_fingerprint(path: Path) -> str:
    """ "fp1:" and a blake2b hex digest of a file's size and samples, or of a folder's files.

    Raises OSError (FileNotFoundError, PermissionError…) when the path cannot be read, and an
    OSError with errno EINVAL for what is neither a regular file nor a folder (a FIFO would
    block the wizard forever if it were opened).
    """
    st = path.stat()
    if stat.S_ISDIR(st.st_mode):
        return _folder_fingerprint(_scan_folder(path))
    _require_regular(path, st)
    return FINGERPRINT_PREFIX + _file_digest(path).hex()


def describe_file(path: Path, project_dir: Path) -> DataFile:
    """How a file or folder is now, with its path as the state file stores it.

    Raises OSError as `fast_fingerprint` does.
    """
    stored = stored_path(path, project_dir)
    st = path.stat()
    if stat.S_ISDIR(st.st_mode):
        scan = _scan_folder(path)
        return DataFile(stored, scan.size, scan.mtime_ns, _folder_fingerprint(scan))
    _require_regular(path, st)
    return DataFile(
        stored, st.st_size, st.st_mtime_ns, FINGERPRINT_PREFIX + _file_digest(path).hex()
    )


def stored_path(path: Path, project_dir: Path) -> str:
    """POSIX path relative to the project folder when inside it, absolute otherwise.

    Relative paths keep a project valid when its whole folder is moved or copied to a server.
    """
    absolute = Path(os.path.abspath(path))
    base = Path(os.path.abspath(project_dir))
    # abspath normalises ".." without resolving symlinks: a data folder that is a link inside
    # the project stays stored by its name in the project, as the user chose it.
    try:
        return absolute.relative_to(base).as_posix()
    except ValueError:
        return absolute.as_posix()


def resolve_data_path(data_file: DataFile, project_dir: Path) -> Path:
    """The path on this machine of a stored data path (relative ones are under `project_dir`)."""
    return resolve_stored_path(data_file.path, project_dir)


def resolve_stored_path(path: str, project_dir: Path) -> Path:
    """The path on this machine of a POSIX path as the state stores it."""
    stored = PurePosixPath(path)
    if stored.is_absolute():
        return Path(stored)
    return project_dir / Path(*stored.parts)


def check_files(files: Sequence[DataFile], project_dir: Path) -> list[FileChange]:
    """The data paths that changed since recorded, in the given order; unchanged ones are left out.

    Unchanged size and mtime are trusted without reading anything (see the module docstring).
    """
    changes: list[FileChange] = []
    for data_file in files:
        change = _check_one(data_file, resolve_data_path(data_file, project_dir))
        if change is not None:
            changes.append(change)
    return changes


# --- checking ------------------------------------------------------------------------------


def _check_one(data_file: DataFile, path: Path) -> FileChange | None:
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            scan = _scan_folder(path)
            size, mtime_ns = scan.size, scan.mtime_ns
            if size == data_file.size and mtime_ns == data_file.mtime_ns:
                return None
            fingerprint = _folder_fingerprint(scan)
        else:
            _require_regular(path, st)
            size, mtime_ns = st.st_size, st.st_mtime_ns
            if size == data_file.size and mtime_ns == data_file.mtime_ns:
                return None
            fingerprint = FINGERPRINT_PREFIX + _file_digest(path).hex()
    except (FileNotFoundError, NotADirectoryError):
        # NotADirectoryError: a parent of the path was replaced by a file; the path is gone too.
        return FileChange(data_file, FileChangeKind.MISSING)
    except OSError:
        # Permissions, an I/O error, a special file: it is there but cannot be checked. Saying
        # "missing" would send the user looking for a file that is in plain sight.
        return FileChange(data_file, FileChangeKind.UNREADABLE)
    # Keep the stored path as it was recorded, so the caller can match `current` to it.
    current = DataFile(data_file.path, size, mtime_ns, fingerprint)
    if size == data_file.size and fingerprint == data_file.fingerprint:
        return FileChange(data_file, FileChangeKind.TOUCHED, current)
    return FileChange(data_file, FileChangeKind.MODIFIED, current)


def _require_regular(path: Path, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "neither a regular file nor a folder", str(path))


# --- files ---------------------------------------------------------------------------------


def _file_digest(path: Path) -> bytes:
    """blake2b of the size and the start, middle and end samples of a regular file."""
    digest = hashlib.blake2b(digest_size=_DIGEST_SIZE, person=_FILE_PERSON)
    # `open` is looked up as a global on purpose: the tests replace it to prove that an
    # unchanged file is not read at all.
    with open(path, "rb") as handle:
        # The size comes from the open file, so it matches the bytes read even if the file is
        # being replaced under us.
        size = os.fstat(handle.fileno()).st_size
        digest.update(_SIZE.pack(size))
        for offset, length in _sample_ranges(size):
            handle.seek(offset)
            digest.update(_read_exactly(handle, length))
    return digest.digest()


def _sample_ranges(size: int) -> list[tuple[int, int]]:
    """Start, middle and end samples; a file of three samples or less is read whole."""
    if size <= 3 * SAMPLE_SIZE:
        return [(0, size)]
    middle = (size - SAMPLE_SIZE) // 2
    return [(0, SAMPLE_SIZE), (middle, SAMPLE_SIZE), (size - SAMPLE_SIZE, SAMPLE_SIZE)]


def _read_exactly(handle: BinaryIO, length: int) -> bytes:
    # A file truncated while being read yields fewer bytes; that is fine (the fingerprint will
    # differ, as it should), but we must not loop forever waiting for them.
    chunks: list[bytes] = []
    remaining = length
    while remaining > 0:
        chunk = handle.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


# --- folders -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FolderEntry:
    parts: tuple[str, ...]  # path relative to the folder
    path: Path
    size: int

    @property
    def relative(self) -> str:
        return "/".join(self.parts)


@dataclass(frozen=True)
class _FolderScan:
    entries: tuple[_FolderEntry, ...]
    size: int
    mtime_ns: int


def _scan_folder(root: Path) -> _FolderScan:
    """Stat every regular file of a folder (symlinks not followed), reading nothing."""
    entries: list[_FolderEntry] = []
    # The folders' own mtimes count too: removing or renaming an empty file changes neither a
    # size nor a file's mtime, only its folder's.
    mtime_ns = root.stat().st_mtime_ns
    for relative, path, st in _walk(root):
        mtime_ns = max(mtime_ns, st.st_mtime_ns)
        if not stat.S_ISDIR(st.st_mode):
            entries.append(_FolderEntry(relative, path, st.st_size))
    # Sorted by path parts (not by the joined string, where "a-b" < "a/b" depends on the
    # separator), so the order, hence the fingerprint, does not depend on the traversal.
    entries.sort(key=lambda e: e.parts)
    return _FolderScan(tuple(entries), sum(e.size for e in entries), mtime_ns)


def _walk(root: Path) -> Iterator[tuple[tuple[str, ...], Path, os.stat_result]]:
    """Regular files and sub-folders under `root`, as (relative parts, path, lstat).

    Unlike os.walk, errors are raised rather than skipped: a sub-folder we may not read must
    not silently drop out of the fingerprint. A stack rather than recursion, so that no depth
    of nesting can exhaust Python's recursion limit.
    """
    pending: list[tuple[Path, tuple[str, ...]]] = [(root, ())]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as scanner:
            children = list(scanner)
        for child in children:
            st = child.stat(follow_symlinks=False)
            relative = (*prefix, child.name)
            if stat.S_ISDIR(st.st_mode):
                yield relative, Path(child.path), st
                pending.append((Path(child.path), relative))
            elif stat.S_ISREG(st.st_mode):
                yield relative, Path(child.path), st
            # Symlinks, sockets, FIFOs…: not data to publish, and a FIFO would block if opened.


def _folder_fingerprint(scan: _FolderScan) -> str:
    digest = hashlib.blake2b(digest_size=_DIGEST_SIZE, person=_FOLDER_PERSON)
    digest.update(_SIZE.pack(len(scan.entries)))
    for entry in scan.entries:
        # os.fsencode keeps names that are not valid UTF-8 distinct instead of failing on them.
        name = os.fsencode(entry.relative)
        digest.update(_SIZE.pack(len(name)))
        digest.update(name)
        digest.update(_SIZE.pack(entry.size))
        digest.update(_file_digest(entry.path))
    return FINGERPRINT_PREFIX + digest.hexdigest()
