"""Ctrl+C in a long headless command: the first one asks the work to stop cleanly, a second one
stops at once. Shared by `hdh-wizard transfer` and `hdh-wizard prepare`."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def cancel_on_interrupt(
    cancelled: Callable[[], bool], cancel: Callable[[], None]
) -> Iterator[None]:
    """Within the block, Ctrl+C (or SIGTERM) calls `cancel` (which tells the user); once
    `cancelled()` is true, the next one raises KeyboardInterrupt."""

    def stop(signum: int, frame: FrameType | None) -> None:
        if cancelled():
            raise KeyboardInterrupt
        cancel()

    if threading.current_thread() is not threading.main_thread():
        yield  # signals can only be caught in the main thread (tests call from others)
        return
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
