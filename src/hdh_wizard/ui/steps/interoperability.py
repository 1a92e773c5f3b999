"""Prerequisite I.2: standard, readable formats — the inventory, each file's verdict, conversions.

Inspection and conversion run in a thread worker; the screen polls their `Progress` to draw the
bar, and the cancel button asks them to stop between chunks (they leave no partial file).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, ProgressBar, Static

from hdh_wizard.core.checks import Check
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.formatting import format_count, format_size
from hdh_wizard.inspect.convert import PUBLISH_FOLDER, Converted, convert
from hdh_wizard.inspect.fingerprint import resolve_data_path
from hdh_wizard.inspect.inspection import (
    InventoryEntry,
    inspect_all,
    inventory,
)
from hdh_wizard.inspect.progress import Cancelled, Progress
from hdh_wizard.inspect.report import FileReport, Verdict
from hdh_wizard.inspect.step import files_to_publish, step_checks, step_outputs
from hdh_wizard.present.inspect_presenters import (
    VERDICT_STYLES,
    column_text,
    problem_text,
    route_summary,
    verdict_text,
)
from hdh_wizard.ui.steps.base import StepScreen


class InteroperabilityStepScreen(StepScreen):
    step_id = StepId.INTEROPERABILITY

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[InventoryEntry] = []
        self.reports: list[FileReport] = []
        self.converted: list[Converted] = []
        self.outputs: list[FileReport] = []
        self.progress: Progress | None = None

    def compose_form(self) -> ComposeResult:
        yield Static(id="interop-summary")
        yield DataTable(id="inventory", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="interop-work"):
            yield ProgressBar(id="interop-progress", show_eta=False)
            yield Static(id="interop-current")
        with Horizontal(id="interop-actions"):
            yield Button(self.t("interop.button.inspect"), id="inspect")
            yield Button(self.t("interop.button.convert"), id="convert", variant="warning")
            yield Button(self.t("interop.button.cancel"), id="cancel", variant="error")
        yield Static(self.t("interop.no_selection"), id="file-detail")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        for key in ("file", "kind", "size", "rows", "verdict"):
            table.add_column(self.t(f"interop.inventory.{key}"), key=key)
        self.set_interval(0.25, self._poll_progress)
        self.start_inspection()

    # --- work ---------------------------------------------------------------------------------

    def start_inspection(self) -> None:
        folder = self.wizard.project.folder
        paths = [resolve_data_path(f, folder) for f in self.release.files]
        self.entries, _skipped = inventory(paths, folder)
        self.converted, self.outputs = [], []
        self.progress = Progress()
        self._set_working(True)
        self._inspect(self.entries, self.progress)

    @work(thread=True, exclusive=True, group="interop")
    def _inspect(self, entries: list[InventoryEntry], progress: Progress) -> None:
        try:
            reports = inspect_all(entries, progress)
        except Cancelled:
            self.app.call_from_thread(self._cancelled)
            return
        self.app.call_from_thread(self._inspected, reports)

    @work(thread=True, exclusive=True, group="interop")
    def _convert(self, pairs: list[tuple[InventoryEntry, FileReport]], progress: Progress) -> None:
        publish = self.wizard.project.folder / PUBLISH_FOLDER
        converted: list[Converted] = []
        try:
            for entry, report in pairs:
                converted.extend(convert(entry, report, publish, progress))
            outputs, _ = inventory([c.output for c in converted], self.wizard.project.folder)
            checked = inspect_all(outputs, progress)
        except Cancelled:
            for item in converted:  # all or nothing: half a conversion would mislead
                item.output.unlink(missing_ok=True)
            self.app.call_from_thread(self._cancelled)
            return
        except HdhWizardError as error:
            self.app.call_from_thread(self._failed, error)
            return
        self.app.call_from_thread(self._converted_done, converted, checked)

    def _inspected(self, reports: list[FileReport]) -> None:
        self.reports = reports
        self._set_working(False)
        self._refresh_table()

    def _converted_done(self, converted: list[Converted], outputs: list[FileReport]) -> None:
        self.converted, self.outputs = converted, outputs
        self._set_working(False)
        self._refresh_table()
        self.notify(self.t("interop.converted", count=len(converted), folder=PUBLISH_FOLDER + "/"))

    def _cancelled(self) -> None:
        self._set_working(False)
        self.notify(self.t("interop.cancelled"), severity="warning")

    def _failed(self, error: HdhWizardError) -> None:
        self._set_working(False)
        self.notify(error.message(self.cat), severity="error", timeout=10)

    def _set_working(self, working: bool) -> None:
        self.query_one("#interop-work").display = working
        self.query_one("#cancel").display = working
        self.query_one("#inspect", Button).disabled = working
        self.query_one("#convert", Button).disabled = working or not self._fixable()

    def _fixable(self) -> list[tuple[InventoryEntry, FileReport]]:
        by_path = {e.display: e for e in self.entries}
        done = {c.source for c in self.converted}
        return [
            (by_path[r.path], r)
            for r in self.reports
            if r.verdict is Verdict.FIXABLE and r.path in by_path and r.path not in done
        ]

    def _poll_progress(self) -> None:
        progress = self.progress
        if progress is None or not self.query_one("#interop-work").display:
            return
        bar = self.query_one(ProgressBar)
        bar.update(
            total=max(progress.total_bytes, 1),
            progress=min(progress.done_bytes, progress.total_bytes),
        )
        self.query_one("#interop-current", Static).update(
            self.t("interop.working", file=progress.current or "…")
        )

    # --- display ------------------------------------------------------------------------------

    def _all_reports(self) -> list[tuple[FileReport, bool]]:
        return [(r, False) for r in self.reports] + [(r, True) for r in self.outputs]

    def _refresh_table(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        lang = self.cat.lang
        for index, (report, is_output) in enumerate(self._all_reports()):
            rows = format_count(report.table.rows) if report.table else "—"
            name = f"→ {report.path}" if is_output else report.path
            table.add_row(
                name,
                report.kind.value,
                format_size(report.size, lang),
                rows,
                Text(verdict_text(self.cat, report.verdict), style=VERDICT_STYLES[report.verdict]),
                key=str(index),
            )
        self._show_summary()
        self.refresh_checks()
        if self.reports:
            self._show_detail(0)

    def _show_summary(self) -> None:
        publish = files_to_publish(self.reports, self.converted, self.outputs)
        total = sum(r.size for r in publish)
        self.query_one("#interop-summary", Static).update(route_summary(self.cat, total))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self._show_detail(int(event.row_key.value))

    def _show_detail(self, index: int) -> None:
        everything = self._all_reports()
        if not 0 <= index < len(everything):
            return
        report, _ = everything[index]
        text = Text()
        text.append(report.path + "\n", style="bold")
        if report.sha256:
            text.append(self.t("inspect.report.sha256", sha256=report.sha256) + "\n")
        for problem in report.problems:
            text.append(f"• {problem_text(self.cat, problem)}\n")
        if not report.problems:
            text.append(self.t("interop.no_problem") + "\n", style="green")
        if report.table is not None:
            for column in report.table.columns[:40]:
                text.append(f"  {column_text(self.cat, column)}\n", style="dim")
        self.query_one("#file-detail", Static).update(text)

    # --- the step -----------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "inspect":
            self.start_inspection()
        elif event.button.id == "convert":
            pairs = self._fixable()
            if pairs:
                self.progress = Progress(total_bytes=sum(e.size for e, _ in pairs))
                self._set_working(True)
                self._convert(pairs, self.progress)
        elif event.button.id == "cancel":
            if self.progress is not None:
                self.progress.cancel()
        else:
            super().on_button_pressed(event)

    def read_outputs(self) -> dict[str, Any]:
        return step_outputs(self.reports, self.converted, self.outputs)

    def step_checks(self) -> list[Check]:
        return step_checks(self.reports, self.converted, self.outputs)
