"""One wizard at a time per project: an OS lock on `hdh-release.lock` in the project folder.

The lock is the operating system's (flock on POSIX, msvcrt on Windows), held on an open file:
when the holder exits or crashes, even by SIGKILL, the OS drops it, so a project is never
stuck. The file's content only tells a refused contender who holds it (pid, command, user, host
and since when); it never decides anything. The file is never deleted: a process could still
hold a lock on the deleted file while another locks a new one under the same name.
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import json
import os
import shlex
import socket
import stat
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from hdh_wizard.errors import ProjectError, ProjectLockedError

LOCK_FILE_NAME = "hdh-release.lock"

# The holder's info starts after a newline at offset 0: on Windows the locked first byte cannot
# be read by others, the rest can.
_INFO_OFFSET = 1
_INFO_FIELDS = ("pid", "command", "user", "host", "since")
_READ_ATTEMPTS = 20  # a new holder writes its info just after locking: wait up to ~0.5 s
_READ_PAUSE = 0.025
_UNKNOWN = "?"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # absent on Windows, where links need privileges

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class ProjectLock:
    """The lock of the project in `folder`.

    `acquire()` raises `ProjectLockedError` naming the holder when another process has it, and
    `ProjectError` (`state.lock_failed`) when the lock file cannot be opened, and
    (`state.lock_not_a_file`) when it is a symbolic link, a folder or a special file. Not
    re-entrant: a second lock on the same folder is refused, even in the same process.
    """

    def __init__(self, folder: Path, *, command: str | None = None) -> None:
        self.folder = folder
        self.path = folder / LOCK_FILE_NAME
        self._command = command
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this ProjectLock")
        fd = self._open()
        try:
            locked = _try_lock(fd)
        except OSError as error:  # e.g. a network filesystem without locks
            os.close(fd)
            raise self._failed(error) from None
        if not locked:
            try:
                holder = _read_holder(fd)
            finally:
                os.close(fd)
            raise ProjectLockedError(**holder)
        self._fd = fd
        _write_holder(fd, _owner_info(self._command))

    def release(self) -> None:
        """Let go of the lock; does nothing when it is not held."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            # Clear the info first, so that nobody is ever named as holder after leaving.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            _unlock(fd)
        finally:
            os.close(fd)  # closing drops the lock anyway

    def __enter__(self) -> ProjectLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def _open(self) -> int:
        # Never O_TRUNC: a refused contender opens the file too and must not erase the
        # holder's info. The holder's info is written into the file: a symbolic link planted
        # under its name would make the wizard empty and overwrite the file it points at
        # (anywhere the user may write), so a link, a folder or a special file is refused,
        # before opening (a FIFO could block) and by O_NOFOLLOW (no race in between).
        if not _plain_file_or_absent(self.path):
            raise self._not_a_file()
        flags = os.O_RDWR | os.O_CREAT | _NOFOLLOW | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(self.path, flags, 0o644)
        except OSError as error:
            if error.errno == errno.ELOOP or not _plain_file_or_absent(self.path):
                raise self._not_a_file() from None  # a link made in between
            raise self._failed(error) from None
        try:
            plain = stat.S_ISREG(os.fstat(fd).st_mode)
        except OSError:
            plain = False
        if not plain:
            os.close(fd)
            raise self._not_a_file()
        return fd

    def _not_a_file(self) -> ProjectError:
        return ProjectError("state.lock_not_a_file", file=str(self.path))

    def _failed(self, error: OSError) -> ProjectError:
        return ProjectError("state.lock_failed", file=str(self.path), reason=_reason(error))


def _owner_info(command: str | None) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "command": command or _command_line(),
        "user": _user(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _command_line() -> str:
    if not sys.argv or not sys.argv[0]:
        return sys.executable
    return shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name, no passwd entry (some containers)
        return _UNKNOWN


def _write_holder(fd: int, info: dict[str, Any]) -> None:
    payload = b"\n" + json.dumps(info, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
    try:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, payload)
    except OSError:
        pass  # the info only helps a refused contender: a full disk must not stop the holder


def _read_holder(fd: int) -> dict[str, Any]:
    """The holder's info, waiting briefly for a holder that has just locked to write it."""
    for attempt in range(_READ_ATTEMPTS):
        info = _parse_holder(_read_from(fd, _INFO_OFFSET))
        if info is not None:
            return info
        if attempt + 1 < _READ_ATTEMPTS:
            time.sleep(_READ_PAUSE)
    return dict.fromkeys(_INFO_FIELDS, _UNKNOWN)


def _read_from(fd: int, offset: int) -> bytes:
    chunks: list[bytes] = []
    try:
        os.lseek(fd, offset, os.SEEK_SET)
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except OSError:
        return b""
    return b"".join(chunks)


def _parse_holder(raw: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None  # empty or half written
    if not isinstance(data, dict) or "pid" not in data:
        return None
    return {name: data.get(name, _UNKNOWN) for name in _INFO_FIELDS}


def _plain_file_or_absent(path: Path) -> bool:
    """True for a regular file (never through a link) or nothing at all."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return True  # absent, or cannot tell: opening it will say why


def _reason(error: OSError) -> str:
    return error.strerror or str(error)
