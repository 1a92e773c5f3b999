"""Steps done outside the wizard for now: the guide's words, a note, a confirmation."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Checkbox, Label, Static, TextArea

from hdh_wizard.core.checks import Check
from hdh_wizard.core.manual_step import (
    ManualStepForm,
    check_manual_step,
    manual_outputs,
)
from hdh_wizard.core.steps import StepId
from hdh_wizard.ui.steps.base import StepScreen


class ManualStepScreen(StepScreen):
    """Any step without a dedicated screen yet; the step is given on creation."""

    def __init__(self, step_id: StepId) -> None:
        self.step_id = step_id
        super().__init__()

    def compose_form(self) -> ComposeResult:
        yield Static(self.t("manual.intro"), classes="step-intro")
        yield Label(self.t("manual.field.note"), classes="field-label")
        yield TextArea(id="note")
        yield Checkbox(self.t("manual.field.confirmed"), id="confirmed")

    def form(self) -> ManualStepForm:
        return ManualStepForm(
            self.query_one("#note", TextArea).text,
            self.query_one("#confirmed", Checkbox).value,
        )

    def load_outputs(self, outputs: dict[str, Any]) -> None:
        form = ManualStepForm.from_outputs(outputs)
        self.query_one("#note", TextArea).text = form.note
        self.query_one("#confirmed", Checkbox).value = form.confirmed

    def read_outputs(self) -> dict[str, Any]:
        return manual_outputs(self.form())

    def step_checks(self) -> list[Check]:
        return check_manual_step(self.form())
