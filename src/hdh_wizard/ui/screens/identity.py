"""Who is at the keyboard: a partner or an HDH Open Science staff member (recorded in the audit).

On resume, when both roles have worked on the project, it opens with the last person, and the
last person of the other role one key away (Tab, then Enter on their button).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from hdh_wizard.core.release import Person
from hdh_wizard.ui.base import WizardModal
from hdh_wizard.ui.widgets.identity import IdentityForm


class IdentityDialog(WizardModal[Person | None]):
    def __init__(
        self, person: Person, *, other: Person | None = None, question: str | None = None
    ) -> None:
        super().__init__()
        self._person = person
        self._other = other
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            # Not markup: the question may quote a name, which may hold `[/]`.
            question = self._question or self.t("identity.title")
            yield Static(question, classes="dialog-question", markup=False)
            yield IdentityForm(self.cat, self._person)
            # Not markup: the message quotes the name typed, which may hold `[/]`.
            yield Static("", id="identity-error", classes="field-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.t("dialog.ok"), id="ok", variant="primary")
                if self._other is not None:
                    label = f"{self._other.name} ({self.t(f'role.{self._other.role.value}')})"
                    yield Button(Content(label), id="other")  # not markup: a name
                yield Button(self.t("dialog.cancel"), id="cancel")

    def on_mount(self) -> None:
        if self._question is not None:  # on resume: Enter keeps the last person, Tab the other
            self.query_one("#ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "other" and self._other is not None:
            self.dismiss(self._other)
            return
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
