"""Step 1 of both routes: the contract with the Health Data Hub."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, Label

from hdh_wizard.core.checks import Check
from hdh_wizard.core.contract import ContractForm, check_contract, contract_outputs
from hdh_wizard.core.steps import StepId
from hdh_wizard.ui.steps.base import StepScreen
from hdh_wizard.ui.widgets.wrapping_checkbox import WrappingCheckbox

_TEXT_FIELDS = ("reference", "signed_on", "partner_signatory", "hdh_signatory", "other_signatories")


class ContractStepScreen(StepScreen):
    step_id = StepId.CONTRACT

    def compose_form(self) -> ComposeResult:
        for name in _TEXT_FIELDS:
            yield Label(self.t(f"contract.field.{name}"), classes="field-label")
            yield Input(placeholder=self.t(f"contract.placeholder.{name}"), id=name)
        yield WrappingCheckbox(self.t("contract.field.confirmed"), id="confirmed")

    def form(self) -> ContractForm:
        values = {name: self.query_one(f"#{name}", Input).value for name in _TEXT_FIELDS}
        return ContractForm(**values, confirmed=self.query_one("#confirmed", Checkbox).value)

    def load_outputs(self, outputs: dict[str, Any]) -> None:
        form = ContractForm.from_outputs(outputs)
        for name, value in asdict(form).items():
            if name in _TEXT_FIELDS:
                self.query_one(f"#{name}", Input).value = str(value)
        self.query_one("#confirmed", Checkbox).value = form.confirmed

    def read_outputs(self) -> dict[str, Any]:
        return contract_outputs(self.form())

    def step_checks(self) -> list[Check]:
        return check_contract(self.form(), self.wizard.now().date())
