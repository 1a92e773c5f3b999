"""What the data.gouv.fr step screens share: the portal they talk to, and calls in threads.

A call to data.gouv.fr runs in a worker thread, so the screen never freezes; its result (or the
explained error) comes back on the UI thread. Only one call per screen runs at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from rich.text import Text
from textual import work
from textual.widgets import Static

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.errors import ApiError
from hdh_wizard.ui.steps.base import StepScreen

T = TypeVar("T")


class PortalStepScreen(StepScreen):
    """A step screen that talks to the release's target portal."""

    busy = False
    # A field the server refused (400) → the widget that holds it and its label's catalogue key.
    FIELD_WIDGETS: dict[str, tuple[str, str]] = {}

    @property
    def site(self) -> str:
        return self.release.target.url

    def site_label(self) -> str:
        # The environment's name says its address ("démonstration (demo.data.gouv.fr)").
        return self.t(f"environment.{self.release.target.environment.value}", url=self.site)

    def call_portal(
        self,
        call: Callable[[DataGouvClient], T],
        done: Callable[[T], None],
        *,
        client: Callable[[], DataGouvClient] | None = None,
        status: str = "",
    ) -> None:
        """Run `call` with a client in a thread; `done` gets its result, errors are shown."""
        if self.busy:
            return
        self.busy = True
        self.show_status(status or self.t("portal.working"), "working")
        self._run(call, done, client or (lambda: self.wizard.portal.client(self.site)))

    @work(thread=True, exclusive=True, group="portal")
    def _run(
        self,
        call: Callable[[DataGouvClient], Any],
        done: Callable[[Any], None],
        make_client: Callable[[], DataGouvClient],
    ) -> None:
        try:
            with make_client() as client:
                result = call(client)
        except ApiError as error:  # its refused fields are marked on the form
            self.app.call_from_thread(self.api_failed, error)
            return
        except HdhWizardError as error:  # no key, a locked keyring, a publication not taken…
            self.app.call_from_thread(self._failed, error.message(self.cat))
            return
        self.app.call_from_thread(self._succeeded, done, result)

    def _succeeded(self, done: Callable[[Any], None], result: Any) -> None:
        if not self.is_attached:
            return  # the screen was left meanwhile; what must be kept was kept by `call`
        self.busy = False
        self.show_status("", "")
        done(result)
        self.refresh_checks()

    def _failed(self, message: str) -> None:
        if not self.is_attached:
            self.app.notify(message, severity="error", timeout=15)
            return
        self.busy = False
        self.show_status(message, "error")
        self.refresh_checks()

    def api_failed(self, error: ApiError) -> None:
        self._failed(self.explain(error))

    def explain(self, error: ApiError) -> str:
        """The error in plain words, each refused field named as the form names it and marked."""
        labels = {field: self.t(label) for field, (_, label) in self.FIELD_WIDGETS.items()}
        if self.is_attached:
            self.mark_fields(error.field_errors)
        return error.message(self.cat, labels)

    def mark_fields(self, fields: Mapping[str, object]) -> None:
        for widget in self.query(".-server-refused"):
            widget.remove_class("-server-refused")
        for field in fields:
            entry = self.FIELD_WIDGETS.get(field) or self.FIELD_WIDGETS.get(field.split(".")[0])
            if entry is not None:
                for widget in self.query(f"#{entry[0]}"):
                    widget.add_class("-server-refused")

    def show_status(self, message: str, kind: str) -> None:
        """The line under the form that says what is going on, or what went wrong."""
        for status in self.query("#portal-status").results(Static):
            status.set_classes(f"portal-status -{kind}" if kind else "portal-status")
            status.update(Text(message))

    def status_line(self) -> Static:
        return Static("", id="portal-status", classes="portal-status")
