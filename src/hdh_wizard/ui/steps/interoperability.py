"""Prerequisite I.2: standard, readable formats — the inventory, each file's verdict, conversions.

Inspection and conversion run in a thread worker; the screen polls their `Progress` to draw the
bar, and the cancel button asks them to stop between chunks (they leave no partial file).

What is shown is what will be published: where the anonymity step wrote a copy to publish
instead of a file (a generalised table, a cleaned slide), that copy is inspected too and shown in
the file's place; the columns the anonymity step marked (removed, re-keyed, generalised) show
their values only by their shape, like the columns whose names look identifying.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
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
from hdh_wizard.inspect.risk.step import identifying_with, published_copies
from hdh_wizard.inspect.step import files_to_publish, step_checks, step_outputs
from hdh_wizard.present.inspect_presenters import (
    VERDICT_STYLES,
    column_text,
    kind_label,
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
        self.copies: dict[str, FileReport] = {}  # the anonymity step's copy, by source file
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

    @property
    def _anonymity(self) -> dict[str, Any]:
        return dict(self.release.record(StepId.ANONYMITY).outputs)

    def _identifying(self) -> Callable[[str], bool]:
        return identifying_with(self._anonymity)

    def start_inspection(self) -> None:
        folder = self.wizard.project.folder
        paths = [resolve_data_path(f, folder) for f in self.release.files]
        self.entries, _skipped = inventory(paths, folder)
        self.converted, self.outputs = [], []
        copies = published_copies(self._anonymity, folder)
        wanted = {e.display: copies[e.display] for e in self.entries if e.display in copies}
        self.progress = Progress()
        self._set_working(True)
        self._inspect(self.entries, wanted, self.progress, self._identifying())

    @work(thread=True, exclusive=True, group="interop")
    def _inspect(
        self,
        entries: list[InventoryEntry],
        copies: dict[str, Path],
        progress: Progress,
        identifying: Callable[[str], bool],
    ) -> None:
        folder = self.wizard.project.folder
        try:
            reports = inspect_all(entries, progress, identifying)
            sources = list(copies)
            copy_entries, _ = inventory([copies[s] for s in sources], folder)
            checked = inspect_all(copy_entries, progress, identifying)
        except Cancelled:
            self._back(self._cancelled)
            return
        by_path = {r.path: r for r in checked}
        found = {
            source: by_path[entry.display]
            for source, entry in zip(sources, copy_entries, strict=False)
            if entry.display in by_path
        }
        self._back(self._inspected, reports, found)

    def on_unmount(self) -> None:
        # The screen is gone (Esc, quitting): its inspection stops at its next cancel point.
        if self.progress is not None:
            self.progress.cancel()

    def _back(self, then: Callable[..., None], *args: Any) -> None:
        if not self.is_attached:
            return  # the screen was closed meanwhile
        try:
            self.app.call_from_thread(then, *args)
        except RuntimeError:  # the app stopped meanwhile
            return

    @work(thread=True, exclusive=True, group="interop")
    def _convert(self, pairs: list[tuple[InventoryEntry, FileReport]], progress: Progress) -> None:
        publish = self.wizard.project.folder / PUBLISH_FOLDER
        converted: list[Converted] = []
        try:
            for entry, report in pairs:
                converted.extend(convert(entry, report, publish, progress))
            outputs, _ = inventory([c.output for c in converted], self.wizard.project.folder)
            checked = inspect_all(outputs, progress, self._identifying())
        except Cancelled:
            for item in converted:  # all or nothing: half a conversion would mislead
                item.output.unlink(missing_ok=True)
            self._back(self._cancelled)
            return
        except HdhWizardError as error:
            self._back(self._failed, error)
            return
        self._back(self._converted_done, converted, checked)

    def _inspected(self, reports: list[FileReport], copies: dict[str, FileReport]) -> None:
        self.reports, self.copies = reports, copies
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
            copy = None if is_output else self.copies.get(report.path)
            if copy is not None:  # what will be published: the anonymity step's copy
                name = self.t("risk_journey.interop.copy", copy=copy.path, source=report.path)
                report = copy
            else:
                name = f"→ {report.path}" if is_output else report.path
            rows = format_count(report.table.rows) if report.table else "—"
            table.add_row(
                name,
                kind_label(self.cat, report.kind),
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
        report, is_output = everything[index]
        text = Text()
        copy = None if is_output else self.copies.get(report.path)
        if copy is not None:
            text.append(self.t("risk_journey.interop.copy_detail", source=report.path) + "\n")
            report = copy
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
