"""Atomic writes inside a project folder, which a symbolic link cannot turn against the user.

Every file the wizard writes in a project (the state file and its backup, converted and split
files in `publish/`, cleaned slides, the risk documents) takes its place through this module:

- `write_atomically` writes bytes (or whatever a callback writes) to a new temporary file beside
  the target, syncs it and renames it over the target, then syncs the folder;
- `replace_atomically` does the last part for code that already streamed into a temporary file
  (polars, tifffile).

At every instant the target holds either its old or its new complete content. A project folder
may be shared, or come from someone else (an archive, a copy): a symbolic link planted where the
wizard writes could make it empty or overwrite a file anywhere the user may write. So the
temporary file is created with O_EXCL|O_NOFOLLOW (never through a link, never an existing file),
and a target that is a link, or that sits in a linked folder inside the project, is refused with
`LinkedPathError` before anything is written. (The rename itself would replace a link rather than
follow it; refusing says clearly that something odd stands there instead of silently removing it.)

Pure Python, no Textual: `core`, `inspect` and the report writers share it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from hdh_wizard.errors import ProjectError

Writer = Callable[[BinaryIO], object]  # writes the content to the stream it is given

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # absent on Windows, where links need privileges
_BINARY = getattr(os, "O_BINARY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_TEMP_ATTEMPTS = 8  # names are random: a clash means something planted there, not bad luck


class LinkedPathError(ProjectError):
    """The wizard was asked to write through a symbolic link: refused, nothing written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__("state.linked_path", file=str(path))


def check_not_linked(path: Path, *, project: Path | None = None) -> None:
    """Raise `LinkedPathError` when `path` is a symbolic link, or when one of its folders below
    `project` is. The project folder itself (and what is above it) may be a link: that is the
    user's own choice of where the project lives."""
    if os.path.islink(path):
        raise LinkedPathError(path)
    if project is None:
        return
    folder = path.parent
    if folder != project and project not in folder.parents:
        return  # not inside the project: nothing to say about its folders
    while folder != project:
        if os.path.islink(folder):
            raise LinkedPathError(folder)
        folder = folder.parent


def temporary_name(path: Path) -> Path:
    """A hidden, unique name beside `path`: `.<name>.<pid>.<8 hex>.tmp` (the state file's
    clean-up of interrupted saves recognises this pattern)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def write_atomically(
    path: Path,
    content: bytes | Writer,
    *,
    backup: Path | None = None,
    mode: int | None = None,
    project: Path | None = None,
) -> None:
    """Put `content` (bytes, or a callback writing to a binary stream) at `path` atomically.

    `backup`: the current file, when there is one, is first copied there (atomically too).
    `mode`: the new file's permissions; by default an existing file keeps its own, a new one
    gets 0o666 less the umask. Raises `LinkedPathError` (nothing written) for a linked target,
    backup or folder (see `check_not_linked`), `OSError` when the disk refuses; the old file and
    the backup are then as they were.
    """
    check_not_linked(path, project=project)
    if backup is not None:
        check_not_linked(backup, project=project)
    temp = write_temporary(path, content, mode)
    try:
        if backup is not None and _is_regular_file(path):
            _copy_to(path, backup)
        os.replace(temp, path)
    except BaseException:
        _remove_quietly(temp)
        raise
    fsync_folder(path.parent)


def replace_atomically(
    temporary: Path, final: Path, *, project: Path | None = None, sync_folder: bool = True
) -> None:
    """Rename the complete `temporary` (a file or a folder, in `final`'s folder) over `final`.

    The temporary file is synced first, so that the name never points at missing data after a
    power cut. `sync_folder=False` lets a caller placing many files sync the folder once at the
    end (`fsync_folder`). Raises `LinkedPathError` (nothing moved) when `final` or one of its
    folders below `project` is a link, `OSError` when the rename fails; the temporary is then
    left where it is, for its owner to remove.
    """
    check_not_linked(final, project=project)
    _fsync_path(temporary)
    os.replace(temporary, final)
    if sync_folder:
        fsync_folder(final.parent)


def fsync_folder(folder: Path) -> None:
    """Make the renames in `folder` durable. Windows cannot open a folder, and some network
    filesystems refuse to sync one: the rename itself is still atomic there."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_temporary(beside: Path, content: bytes | Writer, mode: int | None = None) -> Path:
    """A complete, synced temporary file in `beside`'s folder (same filesystem: the rename is
    atomic), for a caller that must do something between writing and `replace_atomically`.
    Its mode is `mode`, else that of an existing `beside`, else 0o666 less the umask."""
    temp, fd = _create_temp(beside)
    try:
        with os.fdopen(fd, "wb") as stream:
            if isinstance(content, bytes):
                stream.write(content)
            else:
                content(stream)
            stream.flush()
            os.fsync(stream.fileno())
        if mode is None:
            _copy_mode(beside, temp)
        else:
            os.chmod(temp, mode)
    except BaseException:
        _remove_quietly(temp)
        raise
    return temp


# --- inside -----------------------------------------------------------------------------------


def _create_temp(beside: Path) -> tuple[Path, int]:
    # O_EXCL never opens an existing file nor follows a link at the name; O_NOFOLLOW says the
    # same on systems where O_EXCL alone would not. 0o666 and the umask, as any new file.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY | _CLOEXEC
    for attempt in range(_TEMP_ATTEMPTS):
        temp = temporary_name(beside)
        try:
            return temp, os.open(temp, flags, 0o666)
        except FileExistsError:
            if attempt + 1 == _TEMP_ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _copy_mode(source: Path, destination: Path) -> None:
    try:
        kind = os.lstat(source).st_mode
    except OSError:
        return  # no previous file: the new one keeps the umask's mode
    if stat.S_ISREG(kind):  # never a link's 0o777
        os.chmod(destination, stat.S_IMODE(kind))


def _copy_to(source: Path, destination: Path) -> None:
    """Copy `source` over `destination` so that `destination` is never half written."""
    temp = write_temporary(destination, _read_no_follow(source), None)
    try:
        os.replace(temp, destination)
    except BaseException:
        _remove_quietly(temp)
        raise


def _read_no_follow(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY | _CLOEXEC)
    with os.fdopen(fd, "rb") as stream:
        return stream.read()


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _fsync_path(path: Path) -> None:
    """Sync a regular file or a folder; a link or anything else is left alone (never opened)."""
    try:
        kind = os.lstat(path).st_mode
    except OSError:
        return  # the rename will say what is wrong
    if stat.S_ISREG(kind):
        flags = os.O_RDONLY | _NOFOLLOW | _BINARY | _CLOEXEC
    elif stat.S_ISDIR(kind) and os.name != "nt":
        flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW
    else:
        return
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # a filesystem that cannot sync: the rename stays atomic
    finally:
        os.close(fd)


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
