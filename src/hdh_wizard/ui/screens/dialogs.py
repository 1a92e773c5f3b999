"""Small modal questions: a confirmation, a reason to give, leaving with unsaved work.

Questions are shown as plain text, never markup: they may name data files, which may hold `[/]`.
"""

from __future__ import annotations

from enum import StrEnum

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from hdh_wizard.ui.base import WizardModal


class ConfirmDialog(WizardModal[bool]):
    cancel_result = False

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self._question, classes="dialog-question", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.t("dialog.confirm"), id="yes", variant="warning")
                yield Button(self.t("dialog.cancel"), id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ReasonDialog(WizardModal[str | None]):
    """Asks for a non-empty reason (to skip or block a step)."""

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self._question, classes="dialog-question", markup=False)
            yield Input(placeholder=self.t("dialog.reason_placeholder"), id="reason")
            yield Static("", id="reason-error", classes="field-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.t("dialog.ok"), id="ok", variant="primary")
                yield Button(self.t("dialog.cancel"), id="cancel")

    def on_input_submitted(self, _: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self._submit()
        else:
            self.dismiss(None)

    def _submit(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self.query_one("#reason-error", Static).update(self.t("error.reason_required"))
            return
        self.dismiss(reason)


class TypedConfirmDialog(WizardModal[bool]):
    """A confirmation that needs a word typed (the portal's name, before a first publication)."""

    cancel_result = False

    def __init__(self, question: str, word: str) -> None:
        super().__init__()
        self._question = question
        self._word = word

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self._question, classes="dialog-question", markup=False)
            yield Input(placeholder=self._word, id="typed-word")
            yield Static("", id="typed-error", classes="field-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.t("dialog.confirm"), id="yes", variant="error")
                yield Button(self.t("dialog.cancel"), id="no")

    def on_input_submitted(self, _: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "yes":
            self._submit()
        else:
            self.dismiss(False)

    def _submit(self) -> None:
        if self.query_one("#typed-word", Input).value.strip() == self._word:
            self.dismiss(True)
        else:
            self.query_one("#typed-error", Static).update(
                self.t("dialog.type_word", word=self._word)
            )


class LeaveChoice(StrEnum):
    SAVE = "save"
    DISCARD = "discard"
    STAY = "stay"


class LeaveDialog(WizardModal[LeaveChoice]):
    """Leaving a screen with typed work: save the draft, discard it, or stay (also Escape).

    Without a draft to save to (the new project form), only discard or stay."""

    cancel_result = LeaveChoice.STAY

    def __init__(self, question: str, *, can_save: bool = True) -> None:
        super().__init__()
        self._question = question
        self._can_save = can_save

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="leave-box"):
            yield Static(self._question, classes="dialog-question", markup=False)
            with Horizontal(classes="dialog-buttons"):
                if self._can_save:
                    yield Button(self.t("leave.save_draft"), id="save", variant="primary")
                yield Button(self.t("leave.discard"), id="discard", variant="warning")
                yield Button(self.t("leave.stay"), id="stay")

    def on_mount(self) -> None:
        self.query_one("#save" if self._can_save else "#stay", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(LeaveChoice(event.button.id or LeaveChoice.STAY))
