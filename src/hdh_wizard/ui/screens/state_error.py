"""When the state file cannot be read: say what is wrong, and offer to restore the backup."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Static

from hdh_wizard.errors import StateFileError
from hdh_wizard.ui.base import WizardScreen


class StateErrorScreen(WizardScreen[bool]):
    """Dismissed with True when the user asks to restore the backup, False to quit."""

    BINDINGS = [
        Binding("q", "quit_wizard", "key.quit"),
        Binding("escape", "quit_wizard", "key.quit", show=False),
    ]

    def __init__(self, error: StateFileError) -> None:
        super().__init__(id="state-error")
        self._error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="state-error-box"):
            yield Static(self.t("state_error.title"), id="state-error-title")
            # Not markup: the message quotes the value refused and the paths, which may hold
            # `[/]` (Textual would fail to parse them, and this screen is the last resort).
            yield Static(self._error.message(self.cat), id="state-error-message", markup=False)
            if self._error.backup is not None:
                yield Static(
                    self.t("state_error.backup_offer", backup=str(self._error.backup)),
                    id="state-error-offer",
                    markup=False,
                )
            else:
                yield Static(self.t("state_error.no_backup"), id="state-error-offer")
            with Horizontal(classes="dialog-buttons"):
                if self._error.backup is not None:
                    yield Button(self.t("state_error.restore"), id="restore", variant="warning")
                yield Button(self.t("state_error.quit"), id="quit")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "restore")

    def action_quit_wizard(self) -> None:
        self.dismiss(False)
