"""What the step screens that run long work in workers share: the store their flows save
through, results told to the screen from the worker, and leaving guarded while work runs.

A flow runs in a thread worker, but the project is saved on the UI thread, where the screens
read it: `AppStore` hands each change to the app's thread and waits for it. Once the app has
gone (quit during the work), a store either drops what is left (the transfer: the next run
finds the parts on the storage) or saves it itself (the preparation: what was moved into
`publish/` and what the state lists never part ways).

Closing the screen (quitting the app) stops its work: Textual cancels the screen's workers, and
every cancel signal the screen's flows poll (`cancel_on_close`, done by `flow_context`) is set, so
that the work stops at its next cancel point (see `hdh_wizard.ui.cancelling`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import CancelledError
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Protocol

from hdh_wizard.core.release import Release
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.flows.dossier import save_release
from hdh_wizard.flows.port import FlowContext
from hdh_wizard.project import Project
from hdh_wizard.ui.steps.base import StepScreen

if TYPE_CHECKING:
    from hdh_wizard.ui.app import HdhWizardApp


class AppStore:
    """A `flows.port.ChangingStore` over the app's open project. Made on the UI thread."""

    def __init__(
        self,
        app: HdhWizardApp,
        *,
        save_after_exit: bool = False,
        gone: Callable[[], bool] = lambda: False,
    ) -> None:
        self.app = app
        self.project: Project = app.project  # (still there once the app has exited)
        self.save_after_exit = save_after_exit
        self.gone = gone  # the screen closed: the app is stopping, do not call into it
        self._ui_thread = threading.get_ident()

    @property
    def release(self) -> Release:
        return self.project.release

    def save(self, release: Release) -> Release:
        return self.apply(lambda _: release)

    def apply(self, change: Callable[[Release], Release]) -> Release:
        def save() -> Release:
            return save_release(self.project, change(self.project.release)).release

        if threading.get_ident() == self._ui_thread:
            return save()
        try:
            if self.gone() or not self.app.is_running:
                raise RuntimeError("the app has gone")
            return self.app.call_from_thread(save)
        except (RuntimeError, CancelledError):  # not running, or stopping
            if not self.save_after_exit:
                return self.project.release
            with suppress(HdhWizardError):  # nothing left to show it on
                return save()
            return self.project.release


class Cancellable(Protocol):
    """What a job polls to know it must stop: an `inspect.progress.Progress` (`cancel`)."""

    def cancel(self) -> None: ...


class JobStepScreen(StepScreen):
    """A step screen whose work runs in workers: while it runs, leaving and committing wait."""

    busy_key = "step.busy"  # said when the user tries to leave or commit meanwhile

    def __init__(self) -> None:
        super().__init__()
        self._on_close: list[threading.Event | Cancellable] = []

    def cancel_on_close(self, signal: threading.Event | Cancellable) -> None:
        """Set this event (or cancel this progress) when the screen closes."""
        self._on_close.append(signal)

    def on_unmount(self) -> None:
        for signal in self._on_close:
            if isinstance(signal, threading.Event):
                signal.set()
            else:
                signal.cancel()
        self.workers.cancel_node(self)

    def job_running(self) -> bool:
        raise NotImplementedError

    def flow_context(
        self, cancel: threading.Event | None = None, *, save_after_exit: bool = False
    ) -> FlowContext:
        """For a flow run from this screen (made on the UI thread, used from the worker)."""
        store = AppStore(self.wizard, save_after_exit=save_after_exit, gone=self.screen_gone)
        context = FlowContext(store, self.wizard.actor, self.wizard.now)
        if cancel is not None:
            context.cancel = cancel
        self.cancel_on_close(context.cancel)
        return context

    def screen_gone(self) -> bool:
        return False

    def tell(self, callback: Callable[..., None], *args: Any) -> None:
        """From the worker, to the UI thread; nothing once the app is gone (quit during the
        work: the flow has saved what it must)."""
        with suppress(RuntimeError, CancelledError):  # stopped, or stopping meanwhile
            app = self.app
            if app.is_running:
                app.call_from_thread(callback, *args)

    def action_back(self) -> None:
        if self.job_running():  # leaving would hide work still writing the state: stop first
            self.notify(self.t(self.busy_key), severity="warning")
            return
        super().action_back()

    def action_commit(self) -> None:
        if self.job_running():
            self.notify(self.t(self.busy_key), severity="warning")
            return
        super().action_commit()
