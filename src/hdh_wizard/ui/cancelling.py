"""Stopping long work when its screen closes or the app quits.

Textual cancels a screen's workers when the screen is unmounted (Escape, quitting), but a thread
worker cannot be interrupted: it only *knows* it was cancelled (`Worker.is_cancelled`). So the
work must look at cancel points, between chunks. Two ways, for any step screen:

- wrap the progress callback the flow already calls::

      @work(thread=True, group="risk")
      def _scan(self) -> None:
          try:
              flow.measure(..., progress=cancellable(lambda p: self.tell(self._progress, p)))
          except JobCancelled:
              return  # the screen is gone: nothing to show, nothing half written

  `cancellable(callback)` calls `stop_if_cancelled()` before each call, which raises
  `JobCancelled` once the current worker is cancelled (and does nothing outside a worker);

- or, for work that polls an `inspect.progress.Progress` or a `threading.Event` of its own
  (`FlowContext.cancel`), have `JobStepScreen` set it when the screen closes
  (`JobStepScreen.cancel_on_close(progress_or_event)`; `flow_context(cancel)` does it for you).

And so that quitting never waits on work that has not reached a cancel point yet, the app runs
its thread workers on `DaemonExecutor` (see `HdhWizardApp(detach_workers=True)`, which
`cli/tui.py` uses): the event loop's shutdown does not join them, and the process exits once the
state is saved and the lock released. State saves are atomic (temporary file, then rename), so a
thread stopped mid-way leaves at most a temporary file, removed on the next open.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from textual.worker import NoActiveWorker, get_current_worker

P = ParamSpec("P")
R = TypeVar("R")


class JobCancelled(Exception):
    """The worker running this job was cancelled (its screen closed, the app quits)."""


def stop_if_cancelled() -> None:
    """A cancel point: raise `JobCancelled` when the current worker was cancelled."""
    try:
        worker = get_current_worker()
    except NoActiveWorker:  # called outside a worker (the headless command): never cancelled
        return
    if worker.is_cancelled:
        raise JobCancelled


def cancellable(callback: Callable[P, R]) -> Callable[P, R]:
    """`callback`, with a cancel point before each call (a progress callback, typically)."""

    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        stop_if_cancelled()
        return callback(*args, **kwargs)

    return checked


class DaemonExecutor(ThreadPoolExecutor):
    """Runs each job on its own daemon thread, and never waits for them on shutdown: the
    event loop's default executor for the app's thread workers, so that quitting is prompt.
    (A `ThreadPoolExecutor` by type, as asyncio requires, but none of its pool is used.)"""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="hdh-wizard-unused")
        self._threads: set[threading.Thread] = set()

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        future: Future[R] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as error:  # handed to the awaiting worker, as any executor does
                future.set_exception(error)
            finally:
                self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=run, name="hdh-wizard-worker", daemon=True)
        self._threads.add(thread)
        thread.start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Not waiting: the jobs were cancelled with their screens and stop at their next
        cancel point, or with the process."""

    def running(self) -> list[threading.Thread]:
        return [t for t in list(self._threads) if t.is_alive()]
