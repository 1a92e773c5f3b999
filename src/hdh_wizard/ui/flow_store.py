"""The flows' store inside the TUI: the release the app holds, saved on the UI thread.

A flow runs in a screen's worker thread; the project is the app's, so each save is handed to
the app (`apply`, which says why a save is refused and keeps the old state). From the UI
thread itself, the save is made at once.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from hdh_wizard.core.release import Release
from hdh_wizard.flows.port import FlowContext

if TYPE_CHECKING:
    from hdh_wizard.ui.app import HdhWizardApp


class AppStore:
    """A refused save leaves the release as it was (the app has said why); the flow sees it
    through `release`, as the screens always did."""

    def __init__(self, app: HdhWizardApp) -> None:
        self.app = app

    @property
    def release(self) -> Release:
        return self.app.project.release

    def save(self, release: Release) -> Release:
        if threading.get_ident() == getattr(self.app, "_thread_id", None):
            self.app.apply(lambda _current: release)
        else:
            self.app.call_from_thread(self.app.apply, lambda _current: release)
        return self.release


def flow_context(app: HdhWizardApp, cancel: threading.Event | None = None) -> FlowContext:
    """What a screen's flow needs: the app's state, the person at the keyboard, its clock."""
    context = FlowContext(store=AppStore(app), actor=app.actor, now=app.now)
    if cancel is not None:
        context.cancel = cancel
    return context
