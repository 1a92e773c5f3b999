"""Progress and cancellation of long inspections, shared by the CLI and the screen's worker."""

from __future__ import annotations

import threading
from dataclasses import dataclass


class Cancelled(Exception):
    """The user cancelled: the work stopped and left no partial output."""


@dataclass
class Progress:
    """Where a long job stands; the screen polls it, the job updates it (plain attributes, no lock:
    one writer, and a reader that only displays)."""

    total_bytes: int = 0
    done_bytes: int = 0
    current: str = ""  # the file being read
    _cancel: threading.Event | None = None

    def __post_init__(self) -> None:
        self._cancel = threading.Event()

    def cancel(self) -> None:
        assert self._cancel is not None
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        assert self._cancel is not None
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise `Cancelled` when the user asked to stop: called between chunks."""
        if self.cancelled:
            raise Cancelled

    def advance(self, nbytes: int) -> None:
        self.done_bytes += nbytes
        self.check()
