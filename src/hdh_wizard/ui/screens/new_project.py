"""Starting a release: its name, its folder, the data to release, and who you are."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Input, Label, Static

from hdh_wizard.core.release import Person
from hdh_wizard.core.state_file import NAME_MAX, UnsavableValueError, check_name
from hdh_wizard.ui.base import WizardScreen
from hdh_wizard.ui.widgets.file_picker import FilePicker
from hdh_wizard.ui.widgets.identity import IdentityForm


@dataclass(frozen=True)
class NewProjectRequest:
    name: str
    folder: Path
    data_paths: tuple[Path, ...]
    actor: Person


class NewProjectScreen(WizardScreen[None]):
    """Asks the app to create the project; stays open, values kept, when it is refused."""

    BINDINGS = [
        Binding("ctrl+s", "create", "key.create", priority=True),
        Binding("ctrl+a", "add_folder", "key.add_folder"),
        Binding("escape", "cancel", "key.quit"),
    ]

    def __init__(self, folder: Path) -> None:
        super().__init__(id="new-project")
        self._folder = folder

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="new-project-body"):
            yield Static(self.t("new.title"), id="new-title")
            yield Static(self.t("new.intro"), classes="step-intro")
            yield Label(self.t("new.name"), classes="field-label")
            yield Input(placeholder=self.t("new.name_placeholder"), id="project-name")
            yield Label(self.t("new.folder"), classes="field-label")
            yield Input(value=str(self._folder), id="project-folder")
            yield FilePicker(self.cat, self._folder if self._folder.is_dir() else Path.cwd())
            yield IdentityForm(self.cat)
            # Not markup: the messages quote what was typed, which may hold `[/]`.
            yield Static("", id="new-error", classes="field-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.t("new.create"), id="create", variant="primary")
                yield Button(self.t("dialog.cancel"), id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#project-name", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "create":
            self.action_create()
        elif event.button.id == "cancel":
            self.action_cancel()

    def action_add_folder(self) -> None:
        self.query_one(FilePicker).add_selected_folder()

    def action_create(self) -> None:
        name = self.query_one("#project-name", Input).value.strip()
        folder_text = self.query_one("#project-folder", Input).value.strip()
        identity = self.query_one(IdentityForm)
        person = identity.person()
        error = self.query_one("#new-error", Static)
        if not name:
            error.update(self.t("error.project_name_required"))
            return
        try:  # the state file's own rule: one line, no terminal code, not endless
            check_name(name, self.t("new.name"), limit=NAME_MAX)
        except UnsavableValueError as refused:
            error.update(refused.message(self.cat))
            return
        if not folder_text:
            error.update(self.t("new.folder_required"))
            return
        if person is None:
            error.update(self.t("identity.name_required"))
            return
        if (why := identity.refusal()) is not None:
            error.update(why)
            return
        paths = tuple(self.query_one(FilePicker).chosen)
        try:
            folder = Path(folder_text).expanduser()
        except RuntimeError:  # ~someone for a user that does not exist
            error.update(self.t("files.not_found", path=folder_text))
            return
        request = NewProjectRequest(name, folder, paths, person)
        if self.wizard.create_project(request):
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
