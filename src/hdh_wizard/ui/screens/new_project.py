"""Starting a release: its name, its folder, the data to release, and who you are.

A refusal is shown right under the field in error, which gets the focus (so both are in view,
at any terminal size); leaving with anything typed asks first (there is no draft to keep).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Label, Static

from hdh_wizard.core.release import Person
from hdh_wizard.core.state_file import NAME_MAX, UnsavableValueError, check_name
from hdh_wizard.ui.base import WizardScreen
from hdh_wizard.ui.screens.dialogs import LeaveChoice, LeaveDialog
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
        name_field = self.query_one("#project-name", Input)
        folder_field = self.query_one("#project-folder", Input)
        name, folder_text = name_field.value.strip(), folder_field.value.strip()
        identity = self.query_one(IdentityForm)
        actor_field = identity.query_one("#actor-name", Input)
        person = identity.person()
        if not name:
            self._refuse(self.t("error.project_name_required"), name_field)
            return
        try:  # the state file's own rule: one line, no terminal code, not endless
            check_name(name, self.t("new.name"), limit=NAME_MAX)
        except UnsavableValueError as refused:
            self._refuse(refused.message(self.cat), name_field)
            return
        if not folder_text:
            self._refuse(self.t("new.folder_required"), folder_field)
            return
        if person is None:
            self._refuse(self.t("identity.name_required"), actor_field, after=identity)
            return
        if (why := identity.refusal()) is not None:
            self._refuse(why, actor_field, after=identity)
            return
        paths = tuple(self.query_one(FilePicker).chosen)
        try:
            folder = Path(folder_text).expanduser()
        except RuntimeError:  # ~someone for a user that does not exist
            self._refuse(self.t("files.not_found", path=folder_text), folder_field)
            return
        request = NewProjectRequest(name, folder, paths, person)
        if self.wizard.create_project(request):
            self.dismiss(None)

    def _refuse(self, message: str, field: Input, *, after: Widget | None = None) -> None:
        """Say why under the field in error (or `after`, the block holding it), and focus it."""
        error = self.query_one("#new-error", Static)
        error.update(message)
        self.query_one("#new-project-body").move_child(error, after=after or field)
        field.focus(scroll_visible=False)
        self.call_after_refresh(self._show_refusal, field, error)

    def _show_refusal(self, field: Input, error: Static) -> None:
        body = self.query_one("#new-project-body", VerticalScroll)
        body.scroll_to_widget(field, animate=False, immediate=True)
        body.scroll_to_widget(error, animate=False, immediate=True)

    # --- leaving --------------------------------------------------------------------------------

    def has_typed(self) -> bool:
        """Anything the user typed or chose, that leaving would lose."""
        typed = [
            self.query_one("#project-name", Input).value.strip(),
            self.query_one("#actor-name", Input).value.strip(),
        ]
        folder = self.query_one("#project-folder", Input).value.strip()
        moved = folder != str(self._folder)
        return any(typed) or moved or bool(self.query_one(FilePicker).chosen)

    def _close(self) -> None:
        self.dismiss(None)

    def leave(self, then: Callable[[], None]) -> None:
        """Run `then` at once when nothing was typed; otherwise ask: discard, or stay."""
        if not self.has_typed():
            then()
            return

        def answered(choice: LeaveChoice | None) -> None:
            if choice is LeaveChoice.DISCARD:
                then()

        self.app.push_screen(LeaveDialog(self.t("leave.question_new"), can_save=False), answered)

    def action_cancel(self) -> None:
        self.leave(self._close)
