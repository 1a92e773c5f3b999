"""The data dictionary, edited: one row per published column, its description typed beside it.

The wizard fills what it knows (type, values or range, empty share, generalisation); the partner
types what only they know (meaning, unit, an English text if they want one), or takes it from a
dictionary file they already have. Writing puts the dictionary, its pages and one Table Schema
per CSV in `publish/` (`flows.dictionary`); reading the tables and writing run in a thread.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Footer, Input, Label, Static

from hdh_wizard.core.data_dictionary import Variable
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.flows.dictionary import Draft, Written, paste, read_draft, write_draft
from hdh_wizard.i18n.formatting import format_percent
from hdh_wizard.present.dictionary_document import generalisation_text, values_text
from hdh_wizard.present.presenters import printable
from hdh_wizard.ui.base import WizardScreen
from hdh_wizard.ui.screens.dialogs import ConfirmDialog

T = TypeVar("T")
_COLUMNS = ("table", "name", "type", "description", "unit", "values", "empty", "generalisation")
_VALUES_WIDTH = 28


class DictionaryScreen(WizardScreen[None]):
    """Opened from the documentation of the deposit or of the dataset page."""

    CSS_PATH = Path(__file__).parent.parent / "styles" / "dictionary.tcss"
    BINDINGS = [
        Binding("ctrl+s", "write", "key.dictionary_write", priority=True),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self) -> None:
        super().__init__(id="dictionary")
        self.draft: Draft | None = None
        self.dirty = False  # descriptions typed or pasted and not written yet
        self.busy = True  # a thread is reading, pasting or writing
        self._shown: tuple[str, str] | None = None  # the column whose fields are shown

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dictionary-body"):
            yield Static(self.t("dictionary.screen.title"), id="dictionary-title")
            yield Static(self.t("dictionary.screen.intro"), classes="step-intro")
            yield Static(self.t("dictionary.screen.reading"), id="dictionary-status", markup=False)
            yield DataTable(id="dictionary-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="dictionary-column", markup=False)
            yield Label(self.t("dictionary.screen.description"), classes="field-label")
            yield Input(id="dictionary-description", select_on_focus=False)
            yield Label(self.t("dictionary.screen.description_en"), classes="field-label")
            yield Input(id="dictionary-description-en", select_on_focus=False)
            yield Label(self.t("dictionary.screen.unit"), classes="field-label")
            yield Input(id="dictionary-unit", select_on_focus=False)
            yield Label(self.t("dictionary.screen.paste"), classes="field-label")
            with Horizontal(classes="dictionary-row"):
                yield Input(
                    placeholder=self.t("dictionary.screen.paste_placeholder"),
                    id="dictionary-paste-path",
                    select_on_focus=False,
                )
                yield Button(self.t("dictionary.screen.paste_button"), id="dictionary-paste")
            yield Static("", id="dictionary-paste-result", markup=False)
            with Horizontal(classes="dictionary-row"):
                yield Button(
                    self.t("dictionary.screen.write"), id="dictionary-write", variant="primary"
                )
                yield Button(self.t("step.button.back"), id="dictionary-back")
            yield Static("", id="dictionary-write-result", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key in _COLUMNS:
            table.add_column(self.t(f"dictionary.screen.column.{key}"), key=key)
        self._set_fields_enabled(False)
        self._read()

    # --- work in a thread ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="dictionary")
    def _read(self) -> None:
        project = self.wizard.project
        self._in_thread(lambda: read_draft(project.release, project.folder), self._loaded)

    @work(thread=True, exclusive=True, group="dictionary")
    def _paste(self, draft: Draft, path: Path) -> None:
        self._in_thread(lambda: paste(draft, path), self._pasted)

    @work(thread=True, exclusive=True, group="dictionary")
    def _write(self, draft: Draft) -> None:
        project = self.wizard.project
        self._in_thread(lambda: write_draft(project.release, project.folder, draft), self._written)

    def _in_thread(self, job: Callable[[], T], then: Callable[[T], None]) -> None:
        try:
            result = job()
        except HdhWizardError as error:
            self.app.call_from_thread(self._done, self._failed, error)
            return
        self.app.call_from_thread(self._done, then, result)

    def _done(self, then: Callable[[T], None], result: T) -> None:
        self.busy = False
        if self.is_attached:  # left meanwhile: nothing to show
            self._set_fields_enabled(self.draft is not None or then == self._loaded)
            then(result)

    # --- results -------------------------------------------------------------------------------

    def _loaded(self, draft: Draft) -> None:
        self.draft = draft
        self.query_one("#dictionary-status", Static).update(self._summary(draft))
        self._fill_table()
        self._set_fields_enabled(True)
        table = self.query_one(DataTable)
        if table.row_count:
            table.move_cursor(row=0)
            self._show(0)
            table.focus()

    def _pasted(self, draft: Draft) -> None:
        before = self.draft.variables if self.draft is not None else ()
        found = sum(1 for a, b in zip(before, draft.variables, strict=False) if a != b)
        self.draft, self.dirty = draft, True
        self._fill_table()
        self._refresh_fields()
        message = self.t("dictionary.screen.pasted", count=found, unused=len(draft.unused))
        self.query_one("#dictionary-paste-result", Static).update(message)
        self.query_one("#dictionary-status", Static).update(self._summary(draft))

    def _written(self, written: Written) -> None:
        self.dirty = False
        folder = self.wizard.project.folder
        names = ", ".join(printable(_relative(p, folder)) for p in written.files)
        self.query_one("#dictionary-write-result", Static).update(
            self.t("dictionary.screen.written", files=names)
        )

    def _failed(self, error: HdhWizardError) -> None:
        message = error.message(self.cat)
        if self.draft is None:
            self.query_one("#dictionary-status", Static).update(message)
        else:
            self.query_one("#dictionary-paste-result", Static).update(message)

    # --- the table and the fields --------------------------------------------------------------

    def _fill_table(self) -> None:
        assert self.draft is not None
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for index, variable in enumerate(self.draft.variables):
            table.add_row(*self._cells(variable), key=str(index))
        if table.row_count:
            table.move_cursor(row=min(max(row, 0), table.row_count - 1))

    def _cells(self, v: Variable) -> list[str | Text]:
        values = values_text(self.cat, v)
        if len(values) > _VALUES_WIDTH:
            values = values[: _VALUES_WIDTH - 1] + "…"
        description = v.description or self.t("dictionary.md.no_description")
        return [
            Text(printable(Path(v.table).name)),
            Text(printable(v.name)),
            self.t(f"dictionary.type.{v.field_type.value}"),
            Text(printable(description), style="" if v.description else "dim"),
            Text(printable(v.unit)),
            Text(printable(values)),
            format_percent(v.empty_share, self.cat.lang),
            generalisation_text(self.cat, v),
        ]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show(event.cursor_row)

    def _show(self, row: int) -> None:
        if self.draft is None or not 0 <= row < len(self.draft.variables):
            return
        variable = self.draft.variables[row]
        self._shown = variable.key
        self.query_one("#dictionary-column", Static).update(
            self.t(
                "dictionary.screen.column_title",
                name=printable(variable.name),
                table=printable(variable.table),
            )
        )
        self._refresh_fields()

    def _refresh_fields(self) -> None:
        variable = self._current()
        if variable is None:
            return
        # Set without the Changed messages counting as typing.
        for widget_id, value in (
            ("#dictionary-description", variable.description),
            ("#dictionary-description-en", variable.description_en),
            ("#dictionary-unit", variable.unit),
        ):
            field = self.query_one(widget_id, Input)
            if field.value != value:
                with field.prevent(Input.Changed):
                    field.value = value

    def _current(self) -> Variable | None:
        if self.draft is None or self._shown is None:
            return None
        return next((v for v in self.draft.variables if v.key == self._shown), None)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id not in (
            "dictionary-description",
            "dictionary-description-en",
            "dictionary-unit",
        ):
            return
        if self.draft is None or self._shown is None:
            return
        texts = [
            " ".join(self.query_one(f"#{i}", Input).value.split())
            for i in ("dictionary-description", "dictionary-description-en", "dictionary-unit")
        ]
        self.draft = self.draft.described(self._shown, *texts)
        self.dirty = True
        row = next(i for i, v in enumerate(self.draft.variables) if v.key == self._shown)
        table = self.query_one(DataTable)
        cells = self._cells(self.draft.variables[row])
        for column, value in zip(("description", "unit"), (cells[3], cells[4]), strict=True):
            table.update_cell(str(row), column, value)
        self.query_one("#dictionary-status", Static).update(self._summary(self.draft))

    def _set_fields_enabled(self, enabled: bool) -> None:
        for widget in self.query(Input).results():
            widget.disabled = not enabled
        for button_id in ("#dictionary-paste", "#dictionary-write"):
            self.query_one(button_id, Button).disabled = not enabled

    def _summary(self, draft: Draft) -> str:
        described = sum(1 for v in draft.variables if v.description)
        return self.t(
            "dictionary.summary",
            tables=len(draft.tables),
            variables=len(draft.variables),
            described=described,
            missing=len(draft.variables) - described,
        )

    # --- actions -------------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "dictionary-paste":
            self.action_paste()
        elif event.button.id == "dictionary-write":
            self.action_write()
        elif event.button.id == "dictionary-back":
            self.action_back()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "dictionary-paste-path":
            self.action_paste()

    def action_paste(self) -> None:
        text = self.query_one("#dictionary-paste-path", Input).value.strip()
        result = self.query_one("#dictionary-paste-result", Static)
        if self.draft is None or self.busy:
            return  # still reading, or busy: what is typed meanwhile would be overwritten
        if not text:
            result.update(self.t("dictionary.screen.paste_empty"))
            return
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = self.wizard.project.folder / path
        result.update(self.t("dictionary.screen.pasting"))
        self._start_busy()
        self._paste(self.draft, path)

    def action_write(self) -> None:
        if self.draft is None or self.busy:
            return
        self.query_one("#dictionary-write-result", Static).update(
            self.t("dictionary.screen.writing")
        )
        self._start_busy()
        self._write(self.draft)

    def _start_busy(self) -> None:
        """Fields locked while a thread pastes or writes: nothing typed meanwhile can be lost
        under the result (or counted as written)."""
        self.busy = True
        self._set_fields_enabled(False)

    def action_back(self) -> None:
        self.leave(self._close)

    def _close(self) -> None:
        self.dismiss(None)

    def leave(self, then: Callable[[], None]) -> None:
        """Run `then` (close, quit) at once when every description typed is written; otherwise
        ask first (they live only here until written)."""
        if not self.dirty:
            then()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                then()

        self.app.push_screen(ConfirmDialog(self.t("dictionary.screen.discard")), answered)


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)
