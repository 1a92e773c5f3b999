"""Where the release is published: rehearsal (default), production after confirmation, or custom."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from hdh_wizard.core.enums import Environment
from hdh_wizard.core.release import Target
from hdh_wizard.ui.base import WizardModal

CONFIRMATION_WORD = "PRODUCTION"


@dataclass(frozen=True)
class TargetChoice:
    environment: Environment
    url: str | None
    confirmed: bool


class TargetDialog(WizardModal[TargetChoice | None]):
    def __init__(self, current: Target) -> None:
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self.t("target.title"), classes="dialog-question")
            with RadioSet(id="environment"):
                for env in Environment:
                    label = self.t(f"environment.{env.value}", url="…")
                    yield RadioButton(
                        label, value=env is self._current.environment, id=f"env-{env.value}"
                    )
            yield Label(self.t("target.custom_url"), classes="field-label")
            custom = self._current.url if self._current.environment is Environment.CUSTOM else ""
            yield Input(value=custom, placeholder="https://", id="custom-url")
            yield Label(
                self.t("target.confirm_production", word=CONFIRMATION_WORD), classes="field-label"
            )
            yield Input(id="production-word")
            yield Static("", id="target-error", classes="field-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.t("dialog.ok"), id="ok", variant="primary")
                yield Button(self.t("dialog.cancel"), id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "ok":
            self.dismiss(None)
            return
        pressed = self.query_one("#environment", RadioSet).pressed_button
        if pressed is None or pressed.id is None:
            return
        env = Environment(pressed.id.removeprefix("env-"))
        word = self.query_one("#production-word", Input).value.strip()
        confirmed = word == CONFIRMATION_WORD
        if env is Environment.PRODUCTION and not confirmed:
            self.query_one("#target-error", Static).update(
                self.t("target.production_refused", word=CONFIRMATION_WORD)
            )
            return
        url = self.query_one("#custom-url", Input).value.strip() or None
        self.dismiss(TargetChoice(env, url, confirmed))
