"""Work the process must not be ended in the middle of, even when the user quits at once.

Quitting does not wait for a job that has not reached its next cancel point (`ui.cancelling`),
and that is safe while each save is atomic. A few sequences are two writes that must go together
(the prepared files moved into `publish/`, then the state that lists them): they run inside
`finish_before_exit()`, and the command waits for them before ending the process
(`cli.tui`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_running: dict[int, int] = {}  # thread id -> depth


@contextmanager
def finish_before_exit() -> Iterator[None]:
    ident = threading.get_ident()
    with _lock:
        _running[ident] = _running.get(ident, 0) + 1
    try:
        yield
    finally:
        with _lock:
            _running[ident] -= 1
            if not _running[ident]:
                del _running[ident]


def unfinished() -> bool:
    """Some thread is inside `finish_before_exit()`."""
    with _lock:
        return bool(_running)
