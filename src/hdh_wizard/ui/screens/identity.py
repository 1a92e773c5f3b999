"""Who is at the keyboard: a partner or an HDH Open Science staff member (recorded in the audit)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from hdh_wizard.core.release import Person
from hdh_wizard.ui.base import WizardModal
from hdh_wizard.ui.widgets.identity import IdentityForm


class IdentityDialog(WizardModal[Person | None]):
    def __init__(self, person: Person) -> None:
        super().__init__()
        self._person = person

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self.t("identity.title"), classes="dialog-question")
            yield IdentityForm(self.cat, self._person)
            # Not markup: the message quotes the name typed, which may hold `[/]`.
            yield Static("", id="identity-error", classes="field-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.t("dialog.ok"), id="ok", variant="primary")
                yield Button(self.t("dialog.cancel"), id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "ok":
            self.dismiss(None)
            return
        form = self.query_one(IdentityForm)
        person = form.person()
        error = self.query_one("#identity-error", Static)
        if person is None:
            error.update(self.t("identity.name_required"))
            return
        if (refused := form.refusal()) is not None:
            error.update(refused)
            return
        self.dismiss(person)
