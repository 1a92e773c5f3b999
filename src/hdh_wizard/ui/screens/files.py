"""Change the data files of a release (a file moved, a folder added)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Static

from hdh_wizard.ui.base import WizardScreen
from hdh_wizard.ui.widgets.file_picker import FilePicker


class FilesScreen(WizardScreen[list[Path] | None]):
    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", priority=True),
        Binding("ctrl+a", "add_folder", "key.add_folder"),
        Binding("escape", "cancel", "key.back"),
    ]

    def __init__(self, root: Path, chosen: list[Path]) -> None:
        super().__init__(id="files")
        self._root = root
        self._initial = chosen

    def compose(self) -> ComposeResult:
        with Vertical(id="files-body"):
            yield Static(self.t("files.title"), id="files-title")
            yield Static(self.t("files.stale_warning"), classes="step-intro")
            yield FilePicker(self.cat, self._root, self._initial)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.t("files.save"), id="save", variant="primary")
                yield Button(self.t("dialog.cancel"), id="cancel")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "cancel":
            self.action_cancel()

    def action_add_folder(self) -> None:
        self.query_one(FilePicker).add_selected_folder()

    def action_save(self) -> None:
        self.dismiss(self.query_one(FilePicker).chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
