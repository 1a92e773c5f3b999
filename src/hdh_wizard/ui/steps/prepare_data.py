"""Route 2, step "prepare the data": split a published table on a column, draw its sample,
group a published folder's files (slides) by a mapping table.

Every reading and writing runs in a thread worker that the screen polls for progress and can
cancel. The sequence of a run (checks, staging and moving the results into `publish/`,
recording it at once so that `publish/` and the state never part ways, reopening a finished
step) is `flows.prepare`; the work itself lives in `inspect.preparation`, the record in
`core.preparation`. The form and what is shown are in `prepare_view`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import work
from textual.widget import Widget
from textual.widgets import Button, Checkbox, DataTable, Input, RadioSet, Select, Static

from hdh_wizard.core.checks import Check
from hdh_wizard.core.preparation import (
    Preparation,
    new_seed,
    parse_sample_request,
    parse_seed,
    parse_threshold,
)
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.flows import prepare as flow
from hdh_wizard.flows.port import FlowContext
from hdh_wizard.flows.prepare import Run, disk_error
from hdh_wizard.i18n.formatting import format_size
from hdh_wizard.inspect.preparation import (
    Published,
    choices,
    count_values,
    table_columns,
)
from hdh_wizard.inspect.progress import Cancelled, Progress
from hdh_wizard.inspect.split import ValueCount
from hdh_wizard.services.storage.hosting_choice import HostingChoice
from hdh_wizard.ui.steps.prepare_view import PrepareDataView


class PrepareDataStepScreen(PrepareDataView):
    step_id = StepId.PREPARE_DATA
    busy_key = "prepare.screen.busy"

    def on_mount(self) -> None:
        values = self.query_one("#prep-values", DataTable)
        for key in ("value", "rows", "destination"):
            values.add_column(self.t(f"prepare.screen.col.{key}"), key=key)
        parts = self.query_one("#prep-parts", DataTable)
        for key in ("file", "value", "rows", "size"):
            parts.add_column(self.t(f"prepare.screen.col.{key}"), key=key)
        # As the base does, but the focus waits for the table list (see `_stopped`): the
        # first field would be the threshold, halfway down the form.
        self.load_outputs(dict(self.release.record(self.step_id).outputs))
        self.refresh_checks()
        self.set_interval(0.25, self._poll_progress)
        self._set_working(None)
        self._show_folder_section(False)
        self._run(self._load, self.t("prepare.screen.loading"))

    def load_outputs(self, outputs: dict[str, Any]) -> None:
        self.preparation = Preparation.from_outputs(outputs)
        self._show_all()

    def read_outputs(self) -> dict[str, Any]:
        return flow.outputs_of(self.release, self.preparation)

    def step_checks(self) -> list[Check]:
        found = self.choices if self.loaded else None  # outdated: once the tables are listed
        return flow.checks(self.wizard.project.folder, self.preparation, found)

    def on_unmount(self) -> None:
        # Quitting the app (Ctrl+Q) during a run: stop it before it installs anything, so that
        # publish/ and the state (which the run can no longer update) stay as they were.
        self.closed = True
        if self.working and self.progress is not None:
            self.progress.cancel()

    # --- selections ----------------------------------------------------------------------------

    def on_select_changed(self, event: Select.Changed) -> None:
        select_id = event.select.id
        if select_id == "prep-table":
            self._table_chosen()
        elif select_id == "prep-column":
            self._column_chosen()
        elif select_id == "prep-mapping":
            self._mapping_chosen()
        elif select_id == "prep-folder":
            self._folder_chosen()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        if event.radio_set.id != "prep-hosting" or event.pressed.id is None:
            return
        parts = event.pressed.id == "prep-host-parts"
        choice = HostingChoice.PARTS if parts else HostingChoice.WHOLE_TOO
        if choice is flow.hosting(self.release):
            return  # shown from the record, not chosen: nothing to keep
        flow.choose_hosting(self.flow_context(), choice)
        costs = flow.costs(self.release, self.preparation)
        hosted = costs.parts if choice is HostingChoice.PARTS else costs.whole_too
        self.query_one("#prep-host-result", Static).update(
            self.t("prepare.journey.hosting_saved", size=format_size(hosted, self.cat.lang))
        )
        self.refresh_checks()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "prep-threshold":
            self._show_values()
        super().on_input_changed(event)

    def _table_chosen(self) -> None:
        table = self._table()
        self._show_values()
        self._show_table_results()
        if table is None:
            return
        if table.stored in self.columns:
            self._columns_read(table, self.columns[table.stored])
        else:
            self._read_columns(table)

    def _columns_read(self, table: Published, columns: tuple[str, ...]) -> None:
        self.columns[table.stored] = columns
        if not self.is_attached or self._table() != table:
            return
        select = self.query_one("#prep-column", Select)
        with self.prevent(Select.Changed):
            select.set_options([(name, index) for index, name in enumerate(columns)])
        record = self.preparation.table(table.stored)
        saved = record.split.column if record.split else None
        if saved is None and record.sample is not None:
            saved = record.sample.stratify_column
        if saved in columns:
            select.value = columns.index(str(saved))
        if record.split is not None:
            threshold = record.split.group_rare_below
            self.query_one("#prep-threshold", Input).value = str(threshold) if threshold else ""
        self._show_table_results()
        self._mapping_chosen()

    def _column_chosen(self) -> None:
        table, column = self._table(), self._column()
        self._show_values()
        if table is None or column is None or (table.stored, column) in self.counts:
            return
        if self.working:  # counted when the job ends
            self.count_pending = True
            return
        self._run(lambda p: self._count(table, column, p), table.stored)

    def _folder_chosen(self) -> None:
        folder = self.query_one("#prep-folder", Select).value
        saved = self.preparation.folder_split(folder) if isinstance(folder, str) else None
        if saved is not None:
            with self.prevent(Select.Changed):
                self.query_one("#prep-mapping", Select).value = saved.mapping
        self._mapping_chosen()
        self._show_folder_result()

    def _mapping_chosen(self) -> None:
        value = self.query_one("#prep-mapping", Select).value
        mapping = next((t for t in self.choices.tables if t.stored == value), None)
        if mapping is None:
            return
        if mapping.stored not in self.columns:
            self._read_columns(mapping)
            return
        columns = self.columns[mapping.stored]
        options = [(name, index) for index, name in enumerate(columns)]
        folder = self.query_one("#prep-folder", Select).value
        saved = self.preparation.folder_split(folder) if isinstance(folder, str) else None
        for select_id, saved_name in (
            ("#prep-file-column", saved.file_column if saved else None),
            ("#prep-value-column", saved.value_column if saved else None),
        ):
            select = self.query_one(select_id, Select)
            current = select.value
            with self.prevent(Select.Changed):
                select.set_options(options)
                if saved_name in columns:
                    select.value = columns.index(str(saved_name))
                elif isinstance(current, int) and current < len(columns):
                    select.value = current

    # --- work in threads -----------------------------------------------------------------------

    def _run(self, job: Callable[[Progress], None], current: str) -> None:
        """Start a job in a thread worker; one at a time (the others wait for the user)."""
        if self.working:
            self.notify(self.t("prepare.screen.busy"), severity="warning")
            return
        self.progress = Progress(current=current)
        self.started_by = self.wizard
        # The button pressed, disabled while the job runs: the focus goes back to it after.
        # Meanwhile no widget has it: disabling a focused widget would hand the focus to the
        # next one, and scroll the form there (up to the top).
        self.focus_after = self.focused
        self.set_focus(None)
        self._set_working(self.progress)
        self._show_error("")
        self._work(job, self.progress)

    @work(thread=True, exclusive=True, group="prepare")
    def _work(self, job: Callable[[Progress], None], progress: Progress) -> None:
        try:
            job(progress)
        except Cancelled:
            self.app.call_from_thread(self._stopped, None)
        except HdhWizardError as error:
            self.app.call_from_thread(self._stopped, error)
        except OSError as error:  # a disk or a folder that went away meanwhile
            self.app.call_from_thread(self._stopped, disk_error(error))
        else:
            self.app.call_from_thread(self._stopped, None, done=True)

    def _load(self, progress: Progress) -> None:
        found = choices(self.release, self.wizard.project.folder)
        self.app.call_from_thread(self._loaded, found)

    @work(thread=True, group="prepare-columns")
    def _read_columns(self, table: Published) -> None:
        """A table's header (a quick reading, beside any other job)."""
        try:
            columns = table_columns(table)
        except HdhWizardError as error:
            self.app.call_from_thread(self._columns_failed, error)
            return
        except OSError as error:
            self.app.call_from_thread(self._columns_failed, disk_error(error))
            return
        self.app.call_from_thread(self._columns_read, table, columns)

    def _columns_failed(self, error: HdhWizardError) -> None:
        if self.is_attached:
            self._show_error(error.message(self.cat))

    def _count(self, table: Published, column: int, progress: Progress) -> None:
        counts = count_values(table, column, progress)
        self.app.call_from_thread(self._counted, table, column, counts)

    def _stopped(self, error: HdhWizardError | None, *, done: bool = False) -> None:
        if not self.is_attached:
            if error is not None:
                self.app.notify(error.message(self.cat), severity="error", timeout=15)
            return
        cancelled = not done and error is None
        self._set_working(None)
        back = self.focus_after
        self.focus_after = None
        if back is not None:
            # Once the results are laid out: scrolled to the button, not to where it was.
            self.call_after_refresh(self._focus_back, back)
        if self.first_load:
            # The first choice to make, at the top of the form, once it can be made.
            self.first_load = False
            if self.focused is None or self.focused.id == "prep-threshold":
                self.query_one("#prep-table", Select).focus()
        if error is not None:
            self._show_error(error.message(self.cat))
        elif cancelled:
            self.notify(self.t("prepare.screen.cancelled"), severity="warning")
        self.refresh_checks()
        if self.count_pending:
            self.count_pending = False
            self._column_chosen()

    def _focus_back(self, widget: Widget) -> None:
        typing = isinstance(self.focused, Input)  # moved there meanwhile by the user
        if widget.is_attached and widget.focusable and not typing:
            self.set_focus(widget)

    def _counted(self, table: Published, column: int, counts: list[ValueCount]) -> None:
        self.counts[(table.stored, column)] = counts
        if self.is_attached:  # a count finishing as the screen closes (Ctrl+Q)
            self._show_values()

    # --- the actions -----------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions: dict[str | None, Callable[[], None]] = {
            "prep-split": self.start_split,
            "prep-sample": self.start_sample,
            "prep-split-files": self.start_folder_split,
            "prep-new-seed": self._new_seed,
            "prep-cancel": self._cancel,
            "prep-drop": self.start_drop,
        }
        action = actions.get(event.button.id)
        if action is not None:
            action()
        else:
            super().on_button_pressed(event)

    def _cancel(self) -> None:
        if self.progress is not None:
            self.progress.cancel()

    def _new_seed(self) -> None:
        self.query_one("#prep-seed", Input).value = str(new_seed())

    def start_split(self) -> None:
        table, column = self._table(), self._column()
        if table is None or column is None:
            self._show_error(self.t("prepare.screen.pick_column"))
            return
        try:
            threshold = parse_threshold(self.query_one("#prep-threshold", Input).value)
        except HdhWizardError as error:
            self._show_error(error.message(self.cat))
            return
        ctx, folder, before = self._run_context(), self.wizard.project.folder, self.preparation
        tables = self.choices.tables

        def job(progress: Progress) -> None:
            run = flow.split(ctx, folder, before, table, column, threshold, progress, tables=tables)
            self._deliver(run)

        self._run(job, table.stored)

    def start_sample(self) -> None:
        table = self._table()
        if table is None:
            self._show_error(self.t("prepare.screen.pick_table"))
            return
        stratify = self.query_one("#prep-stratify", Checkbox).value
        column = self._column()
        if stratify and column is None:
            self._show_error(self.t("prepare.screen.pick_column"))
            return
        try:
            size, fraction = parse_sample_request(
                self.query_one("#prep-size", Input).value,
                self.query_one("#prep-fraction", Input).value,
            )
            seed_field = self.query_one("#prep-seed", Input)
            if not seed_field.value.strip():  # drawn now, shown, and recorded with the sample
                seed_field.value = str(new_seed())
            seed = parse_seed(seed_field.value)
        except HdhWizardError as error:
            self._show_error(error.message(self.cat))
            return
        ctx, folder, before = self._run_context(), self.wizard.project.folder, self.preparation
        tables = self.choices.tables

        def job(progress: Progress) -> None:
            run = flow.sample(
                ctx,
                folder,
                before,
                table,
                size=size,
                fraction=fraction,
                seed=seed,
                stratify_column=column if stratify else None,
                progress=progress,
                tables=tables,
            )
            self._deliver(run)

        self._run(job, table.stored)

    def start_folder_split(self) -> None:
        folder_value = self.query_one("#prep-folder", Select).value
        mapping_value = self.query_one("#prep-mapping", Select).value
        folder = next((f for f in self.choices.folders if f.stored == folder_value), None)
        mapping = next((t for t in self.choices.tables if t.stored == mapping_value), None)
        file_column = self.query_one("#prep-file-column", Select).value
        value_column = self.query_one("#prep-value-column", Select).value
        if (
            folder is None
            or mapping is None
            or not isinstance(file_column, int)
            or not isinstance(value_column, int)
        ):
            self._show_error(self.t("prepare.screen.pick_mapping"))
            return
        ctx, project, before = self._run_context(), self.wizard.project.folder, self.preparation
        folders = self.choices.folders

        def job(progress: Progress) -> None:
            run = flow.split_folder(
                ctx,
                project,
                before,
                folder,
                mapping,
                file_column,
                value_column,
                progress,
                folders=folders,
            )
            self._deliver(run)

        self._run(job, folder.stored)

    def start_drop(self) -> None:
        """Give up what was prepared from the tables changed (or gone) since: asked first."""
        outdated = self._outdated()
        if not outdated:
            return
        ctx, project, before = self._run_context(), self.wizard.project.folder, self.preparation

        def job(progress: Progress) -> None:
            self._deliver(flow.drop(ctx, project, before, outdated))

        self.wizard.confirm(
            self.t("prepare.screen.drop_question", files=", ".join(outdated)),
            lambda: self._run(job, ", ".join(outdated)),
        )

    def _run_context(self) -> FlowContext:
        """For a run: it saves through the app; once the app has quit (the run past its last
        cancel point), by itself, so that publish/ and the state still agree."""
        return self.flow_context(save_after_exit=True)

    def screen_gone(self) -> bool:
        return self.closed

    def job_running(self) -> bool:
        return self.working

    def _deliver(self, run: Run) -> None:
        """From the worker: a run's result, recorded by the flow, shown if the screen is."""
        if not self.closed:
            self.tell(self._prepared, run)

    def _prepared(self, run: Run) -> None:
        self.preparation = run.preparation
        self.reopened = self.reopened or run.reopened
        if self.is_attached:
            self._show_all()
