"""Prerequisite I.1: anonymity — the three criteria measured, justified, and attested.

The screen finds the release's tables and slides, scans them in a thread worker (identifying
columns, proposed roles, labels and tags of slides), measures each table for the roles the
partner confirms, and lets them try generalisations side by side with the original. The rules
live in `inspect.risk`; this screen only gathers the choices and shows the results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Select, Static, TextArea

from hdh_wizard.core.checks import Check
from hdh_wizard.core.steps import StepId
from hdh_wizard.core.volume import release_files
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.formatting import format_count, format_percent
from hdh_wizard.inspect.convert import PUBLISH_FOLDER
from hdh_wizard.inspect.fingerprint import resolve_stored_path
from hdh_wizard.inspect.progress import Cancelled, Progress
from hdh_wizard.inspect.risk.analysis import (
    Choice,
    Criterion,
    TableRisk,
    TableScan,
    choice_from_state,
    choice_to_state,
    default_choice,
    role_in,
    rule_on,
    with_role,
    with_rule,
)
from hdh_wizard.inspect.risk.generalise import Coarsening, ColumnRule
from hdh_wizard.inspect.risk.identifiers import Role
from hdh_wizard.inspect.risk.linkability import persistent_identifier_name
from hdh_wizard.inspect.risk.measures import DEFAULT_THRESHOLD, check_threshold
from hdh_wizard.inspect.risk.rekey import ReleaseKey
from hdh_wizard.inspect.risk.release import (
    Scanned,
    Sources,
    TableRef,
    assess_ref,
    clean_slide,
    describe_ref,
    export_ref,
    find_sources,
    scan_sources,
    search_ref,
)
from hdh_wizard.inspect.risk.report import (
    Attestation,
    Provenance,
    Replacement,
    RiskReport,
)
from hdh_wizard.inspect.risk.slide_privacy import ImagePrivacyReport
from hdh_wizard.inspect.risk.solutions import TableSearch, apply_solution
from hdh_wizard.inspect.risk.step import replacements_from_state, step_checks, step_outputs
from hdh_wizard.present.risk_document import write_documents
from hdh_wizard.present.risk_presenters import (
    CRITERION_STYLES,
    criterion_facts,
    criterion_text,
    finding_text,
    image_finding_text,
    measure_rows,
    rule_text,
    search_summary,
)
from hdh_wizard.ui.steps.base import StepScreen

T = TypeVar("T")
REPORT_FOLDER = "rapport"
LIVE_MEASURE_BYTES = 50_000_000  # tables up to this size are measured again at each edit
LIVE_DELAY = 0.4  # seconds without an edit before measuring
_ROLE_BUTTONS = (Role.QUASI, Role.SENSITIVE, Role.DIRECT, Role.OTHER)
_NO_RULE = "none"


class AnonymityStepScreen(StepScreen):
    step_id = StepId.ANONYMITY

    def __init__(self) -> None:
        super().__init__()
        self.sources = Sources((), ())
        self.refs: list[TableRef] = []
        self.scans: dict[str, TableScan] = {}
        self.choices: dict[str, Choice] = {}
        self.risks: dict[str, TableRisk] = {}
        self.searches: dict[str, TableSearch] = {}  # the last search's solutions, per table
        self.images: list[ImagePrivacyReport] = []
        self.failures: list[str] = []  # files that could not be read
        self.replacements: dict[str, Replacement] = {}
        self.saved: dict[str, Any] = {}
        self.current: str | None = None
        self.progress: Progress | None = None
        self.working = False
        self.writing = False  # a worker writes copies: the choices are locked
        self._live_timer: Timer | None = None

    # --- the form --------------------------------------------------------------------------------

    def compose_form(self) -> ComposeResult:
        yield Static(self.t("risk.screen.scanning"), id="risk-status")
        with Horizontal(id="risk-work"):
            yield Static(id="risk-current")
            yield Button(self.t("risk.screen.cancel"), id="risk-cancel", variant="error")
        yield Select[str]([], id="risk-table", prompt=self.t("risk.screen.table"), allow_blank=True)
        yield Static(id="risk-findings", classes="risk-block")
        yield Label(self.t("risk.screen.columns"), classes="field-label")
        yield DataTable(id="risk-columns", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="risk-roles"):
            for role in _ROLE_BUTTONS:
                yield Button(
                    self.t(f"risk.screen.set_role.{role.value}"),
                    id=f"role-{role.value}",
                    compact=True,
                    classes="role-button",
                )
        with Horizontal(id="risk-rule-row"):
            yield Select[str](self._rule_options(), id="risk-rule", allow_blank=False)
            yield Input(placeholder=self.t("risk.screen.min_count"), id="risk-min-count")
            yield Label(self.t("risk.screen.threshold"), classes="inline-label")
            yield Input(str(DEFAULT_THRESHOLD), id="risk-threshold")
        with Horizontal(id="risk-actions"):
            yield Button(self.t("risk.screen.measure"), id="risk-measure", variant="primary")
            yield Button(self.t("risk.screen.search"), id="risk-search")
            yield Button(self.t("risk.screen.export"), id="risk-export", variant="warning")
        # Under the buttons: at 80 columns a row of three buttons and a checkbox does not fit.
        yield Checkbox(self.t("risk.screen.search_inference"), True, id="risk-search-inference")
        yield Static(id="risk-search-status", classes="risk-block")
        yield DataTable(id="risk-solutions", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="risk-measures", cursor_type="none", zebra_stripes=True)
        for criterion in Criterion:
            with Vertical(classes="risk-criterion"):
                yield Static(id=f"criterion-{criterion.value}")
                yield TextArea(id=f"justify-{criterion.value}", classes="risk-justification")
        yield Static(id="risk-images", classes="risk-block")
        yield Button(self.t("risk.screen.clean_images"), id="risk-clean-images")
        yield Label(self.t("risk.screen.attestation"), classes="section-title")
        yield Static(self.t("risk.screen.attestation_text"), id="risk-attestation-text")
        for name in ("name", "role", "organization"):
            yield Label(self.t(f"risk.screen.attest.{name}"), classes="field-label")
            yield Input(id=f"attest-{name}")
        yield Checkbox(self.t("risk.screen.attest.confirm"), id="attest-confirm")

    def _rule_options(self) -> list[tuple[str, str]]:
        options = [(self.t("risk.screen.no_rule"), _NO_RULE)]
        for coarsening in Coarsening:
            if coarsening is not Coarsening.DROP:
                label = self.t(f"risk.coarsening.{coarsening.value}", count="N")
                options.append((label, coarsening.value))
        return options

    def on_mount(self) -> None:
        super().on_mount()
        columns = self.query_one("#risk-columns", DataTable)
        for key in ("column", "role", "rule", "finding"):
            columns.add_column(self.t(f"risk.screen.col.{key}"), key=key)
        measures = self.query_one("#risk-measures", DataTable)
        for key in ("measure", "before", "after"):
            measures.add_column(self.t(f"risk.screen.col.{key}"), key=key)
        solutions = self.query_one("#risk-solutions", DataTable)
        for key in ("loss", "classes", "smallest", "suppressed", "rules"):
            solutions.add_column(self.t(f"risk.screen.solution.{key}"), key=key)
        solutions.display = False
        if not self.query_one("#attest-name", Input).value:
            self.query_one("#attest-name", Input).value = self.wizard.actor.name
        self.call_after_refresh(columns.focus)  # the first thing to do: review the roles
        self.set_interval(0.3, self._poll_progress)
        self.start_scan()

    def load_outputs(self, outputs: dict[str, Any]) -> None:
        self.saved = outputs
        self.replacements = {
            r.source: r for r in replacements_from_state(outputs, self.wizard.project.folder)
        }
        criteria = outputs.get("criteria")
        if isinstance(criteria, dict):
            for criterion in Criterion:
                entry = criteria.get(criterion.value)
                if isinstance(entry, dict):
                    text = str(entry.get("justification", ""))
                    self.query_one(f"#justify-{criterion.value}", TextArea).text = text
        attestation = outputs.get("attestation")
        if isinstance(attestation, dict):
            for name in ("name", "role", "organization"):
                self.query_one(f"#attest-{name}", Input).value = str(attestation.get(name, ""))
            self.query_one("#attest-confirm", Checkbox).value = bool(attestation.get("confirmed"))

    # --- work in threads -------------------------------------------------------------------------

    def start_scan(self) -> None:
        folder = self.wizard.project.folder
        paths = [resolve_stored_path(path, folder) for path, _ in release_files(self.release)]
        self.sources = find_sources(paths, folder)
        self.progress = Progress(total_bytes=sum(e.size for e in self.sources.tables))
        self._set_working(True)
        sources, progress = self.sources, self.progress
        self._job(lambda: scan_sources(sources, progress, self._initial_choice), self._scanned)

    @work(thread=True, exclusive=True, group="risk")
    def _job(
        self,
        task: Callable[[], T],
        done: Callable[[T], None],
        undo: Callable[[], None] | None = None,
    ) -> None:
        """Run `task` off the UI thread and hand its result to `done`; a cancel or an error the
        user can act on goes to `_stopped` instead, after `undo` (all or nothing)."""
        try:
            result = task()
        except (Cancelled, HdhWizardError) as stop:
            if undo is not None:
                undo()
            error = stop if isinstance(stop, HdhWizardError) else None
            self.app.call_from_thread(self._stopped, error)
            return
        self.app.call_from_thread(done, result)

    def _initial_choice(self, scan: TableScan) -> Choice:
        """The choice saved in a draft or the finished step, if it still fits; else the proposal."""
        drafts = self.saved.get("choices")
        candidates = [drafts.get(scan.table)] if isinstance(drafts, dict) else []
        finished = self.saved.get("tables")
        if isinstance(finished, list):
            candidates += [
                t for t in finished if isinstance(t, dict) and t.get("table") == scan.table
            ]
        for saved in candidates:
            restored = choice_from_state(saved, scan)
            if restored is not None:
                return restored
        return default_choice(scan)

    def _export_task(
        self, jobs: list[tuple[TableRef, TableRisk]], progress: Progress, written: list[Replacement]
    ) -> list[Replacement]:
        """Write the copies of `jobs`; copies with re-keyed identifiers share one new key, so
        their codes join (the key lives only as long as this job)."""
        publish = self.wizard.project.folder / PUBLISH_FOLDER
        key = ReleaseKey.new() if any(risk.choice.rekeyed for _, risk in jobs) else None
        names = {ref.name for ref, _ in jobs}
        for ref, risk in jobs:
            taken = {r.output for s, r in self.replacements.items() if s not in names}
            taken |= {w.output for w in written}
            records = risk.original.records
            written.append(export_ref(ref, risk.choice, publish, records, progress, taken, key))
        return written

    def _clean_task(self, progress: Progress, written: list[Replacement]) -> list[Replacement]:
        publish = self.wizard.project.folder / PUBLISH_FOLDER
        dirty = {i.path for i in self.images if i.findings}
        for entry in self.sources.slides:
            if entry.display in dirty:
                written.append(clean_slide(entry, publish, progress))
        return written

    def _describe_task(self, report: RiskReport, progress: Progress) -> RiskReport:
        """What the report needs beyond the measures (per-rule counts, classes at risk, the
        inputs' SHA-256): one more pass over each table."""
        details, hashes = [], []
        for ref in self.refs:
            described, digest = describe_ref(ref, self.risks[ref.name], progress)
            details.append(described)
            hashes.append(digest)
        return replace(report, details=tuple(details), provenance=Provenance.current(hashes))

    # --- results back on the UI thread -----------------------------------------------------------

    def _scanned(self, scanned: Scanned) -> None:
        self.refs = [ref for ref, _ in scanned.tables]
        self.scans = {ref.name: scan for ref, scan in scanned.tables}
        self.choices, self.risks = dict(scanned.choices), dict(scanned.risks)
        self.images = list(scanned.images)
        self.failures = [error.message(self.cat) for error in scanned.failures]
        self._set_working(False)
        select = self.query_one("#risk-table", Select)
        select.set_options([(ref.name, ref.name) for ref in self.refs])
        if self.refs:
            self.current = self.refs[0].name
            select.value = self.current
        self._show_all()

    def _measured(self, risk: TableRisk) -> None:
        self._set_working(False)
        if risk.choice == self.choices.get(risk.scan.table):  # not edited since
            self.risks[risk.scan.table] = risk
        self._show_all()

    def _searched(self, table: str, choice: Choice, found: TableSearch) -> None:
        self._set_working(False)
        if self.choices.get(table) != choice:
            return  # edited meanwhile: the solutions answer another choice
        self.searches[table] = found
        self._show_search()
        solutions = self.query_one("#risk-solutions", DataTable)
        if solutions.display:
            # The next key is the choice of a solution: Enter applies the highlighted one.
            solutions.focus()
            solutions.move_cursor(row=0)
            self.call_after_refresh(solutions.scroll_visible)

    def _written(self, written: list[Replacement]) -> None:
        for item in written:
            self.replacements[item.source] = item
        self._set_working(False)
        for item in written:
            self.notify(self.t("risk.screen.written", path=item.display))
        self._show_all()

    def _stopped(self, error: HdhWizardError | None) -> None:
        self._set_working(False)
        if error is None:
            self.notify(self.t("risk.screen.cancelled"), severity="warning")
        else:
            self.notify(error.message(self.cat), severity="error", timeout=10)
        self._show_all()

    @property
    def folder(self) -> Path:
        return self.wizard.project.folder

    # --- display ---------------------------------------------------------------------------------

    def _set_working(self, working: bool, writing: bool = False) -> None:
        """A worker runs; `writing`: it writes copies, and the choices they follow stay fixed
        meanwhile (a measure, on the contrary, is simply dropped if the choice changes)."""
        self.working, self.writing = working, working and writing
        self.query_one("#risk-work").display = working
        for button_id in ("risk-measure", "risk-search", "risk-export", "risk-clean-images"):
            self.query_one(f"#{button_id}", Button).disabled = working
        for widget in self.query(
            "#risk-roles Button, #risk-rule, #risk-min-count, #risk-threshold"
        ):
            widget.disabled = self.writing

    def _poll_progress(self) -> None:
        if self.progress is not None and self.working:
            self.query_one("#risk-current", Static).update(
                self.t("risk.screen.working", item=self.progress.current or "…")
            )

    def _show_all(self) -> None:
        self._show_status()
        self._show_table()
        self._show_measures()
        self._show_criteria()
        self._show_images()
        self._show_search()
        self.refresh_checks()

    def _show_status(self) -> None:
        key = "risk.screen.found" if (self.refs or self.images) else "risk.screen.nothing"
        text = Text(self.t(key, tables=len(self.refs), images=len(self.images)))
        for failure in self.failures:
            text.append(f"\n✗ {failure}", style="red")
        self.query_one("#risk-status", Static).update(text)

    def _show_table(self) -> None:
        table = self.query_one("#risk-columns", DataTable)
        findings = self.query_one("#risk-findings", Static)
        row = table.cursor_row
        table.clear()
        scan = self.scans.get(self.current or "")
        if scan is None:
            findings.update("")
            return
        choice = self.choices[scan.table]
        by_column: dict[str, list[str]] = {}
        for finding in scan.findings:
            by_column.setdefault(finding.column, []).append(
                self.t(f"risk.rule.{finding.rule.value}")
            )
        for column in scan.columns:
            role = role_in(choice, column)
            rule = rule_on(choice, column)
            rule_label = rule_text(self.cat, rule).split(" → ", 1)[1] if rule else "—"
            table.add_row(
                column,
                Text(self.t(f"risk.role.{role.value}"), style=_ROLE_STYLES[role]),
                rule_label,
                "; ".join(by_column.get(column, [])) or "—",
                key=column,
            )
        if scan.columns:
            table.move_cursor(row=min(row, len(scan.columns) - 1))
        text = Text()
        for finding in scan.findings:
            text.append(f"• {finding_text(self.cat, finding)}\n")
        for column in scan.columns:
            if persistent_identifier_name(column):
                text.append(f"• {self.t('risk.screen.persistent', column=column)}\n")
        findings.update(text or self.t("risk.screen.no_findings"))
        self.query_one("#risk-threshold", Input).value = str(choice.threshold)

    def _show_measures(self) -> None:
        table = self.query_one("#risk-measures", DataTable)
        table.clear()
        risk = self.risks.get(self.current or "")
        if risk is None:
            return
        for label, before, after in measure_rows(self.cat, risk.original, risk.published):
            table.add_row(label, before, after or "—")

    def _show_criteria(self) -> None:
        report = self.report()
        for criterion in Criterion:
            text = Text()
            text.append(self.t(f"risk.criterion.question.{criterion.value}") + "\n", style="bold")
            if report is not None and report.tables:
                excluded = report.excluded(criterion)
                text.append(
                    criterion_text(self.cat, criterion, excluded) + "\n",
                    style=CRITERION_STYLES[excluded],
                )
                for line in criterion_facts(self.cat, report, criterion):
                    text.append(f"  {line}\n")
                if not excluded:
                    text.append(self.t(f"risk.criterion.advice.{criterion.value}") + "\n")
                    text.append(self.t("risk.screen.justify"), style="italic")
            self.query_one(f"#criterion-{criterion.value}", Static).update(text)

    def _show_search(self) -> None:
        status = self.query_one("#risk-search-status", Static)
        table = self.query_one("#risk-solutions", DataTable)
        table.clear()
        found = self.searches.get(self.current or "")
        table.display = bool(found and found.result.solutions)
        if found is None:
            status.update("")
            return
        for number, node in enumerate(found.result.solutions):
            rules = found.rules_of(node) or ()  # the screen's search uses built-in levels only
            table.add_row(
                format_percent(node.loss, self.cat.lang),
                format_count(node.classes),
                format_count(node.smallest),
                format_count(node.suppressed),
                "; ".join(rule_text(self.cat, r) for r in rules) or self.t("risk.screen.no_rule"),
                key=str(number),
            )
        status.update(Text("\n".join(search_summary(self.cat, found))))

    def _apply_solution(self, row: int) -> None:
        found = self.searches.get(self.current or "")
        if found is None or self.current is None or not 0 <= row < len(found.result.solutions):
            return
        node = found.result.solutions[row]
        self._update_choice(apply_solution(self.choices[self.current], found, node))
        # The other solutions stay on offer: they answer the same quasi-identifiers and rules.
        self.searches[self.current] = found
        self._show_search()
        self.notify(self.t("risk.screen.solution_applied"))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "risk-solutions":
            self._apply_solution(event.cursor_row)

    def _show_images(self) -> None:
        text = Text()
        for image in self.images:
            cleaned = image.path in self.replacements
            text.append(image.path, style="bold")
            if not image.findings:
                text.append(" · " + self.t("risk.screen.image_clean") + "\n", style="green")
                continue
            if cleaned:
                output = self.replacements[image.path].display
                text.append(" · " + self.t("risk.screen.image_cleaned", path=output), style="green")
            text.append("\n")
            for finding in image.findings:
                text.append(f"  • {image_finding_text(self.cat, finding)}\n")
        self.query_one("#risk-images", Static).update(text or self.t("risk.screen.no_images"))
        dirty = any(i.findings and i.path not in self.replacements for i in self.images)
        self.query_one("#risk-clean-images", Button).display = dirty

    # --- the partner's choices -------------------------------------------------------------------

    def _selected_column(self) -> str | None:
        scan = self.scans.get(self.current or "")
        table = self.query_one("#risk-columns", DataTable)
        if scan is None or not scan.columns:
            return None
        return scan.columns[min(table.cursor_row, len(scan.columns) - 1)]

    def _update_choice(self, choice: Choice) -> None:
        if self.current is None or self.writing:
            return
        self.choices[self.current] = choice
        self.risks.pop(self.current, None)  # measures are for the previous choice
        self.searches.pop(self.current, None)  # and so were the solutions
        stale = self.replacements.pop(self.current, None)
        if stale is not None:  # the copy was written for the previous choice: never publish it
            stale.output.unlink(missing_ok=True)
            self.notify(self.t("risk.screen.copy_removed", path=stale.display), severity="warning")
        self._show_all()
        ref = self._current_ref()
        if ref is not None and ref.size <= LIVE_MEASURE_BYTES:
            # Small tables are measured again as the partner edits (after a short pause, so a
            # burst of edits costs one reading); big ones wait for the "Measure" button.
            if self._live_timer is not None:
                self._live_timer.stop()
            self._live_timer = self.set_timer(LIVE_DELAY, self._live_measure)

    def _live_measure(self) -> None:
        if self.working:
            self._live_timer = self.set_timer(LIVE_DELAY, self._live_measure)
            return
        self._live_timer = None
        self._start_measure(quiet=True)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "risk-table" and isinstance(event.value, str):
            self.current = event.value
            self._show_all()
        elif event.select.id == "risk-rule":
            self._apply_rule()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id != "risk-columns" or self.current is None:
            return
        column = self._selected_column()
        if column is None:
            return
        rule = rule_on(self.choices[self.current], column)
        value = rule.coarsening.value if rule and rule.coarsening is not Coarsening.DROP else None
        with self.prevent(Select.Changed):
            self.query_one("#risk-rule", Select).value = value or _NO_RULE
        count = str(rule.min_count) if rule and rule.coarsening.needs_count else ""
        with self.prevent(Input.Changed):
            self.query_one("#risk-min-count", Input).value = count

    def _apply_rule(self) -> None:
        column = self._selected_column()
        if column is None or self.current is None:
            return
        value = self.query_one("#risk-rule", Select).value
        rule: ColumnRule | None = None
        if isinstance(value, str) and value != _NO_RULE:
            coarsening = Coarsening(value)
            count = 0
            if coarsening.needs_count:
                text = self.query_one("#risk-min-count", Input).value.strip() or "5"
                count = int(text) if text.isdecimal() and text.isascii() else 0
            rule = ColumnRule(column, coarsening, count)
        current = rule_on(self.choices[self.current], column)
        if current == rule:
            return
        if rule is None and current is not None and current.coarsening is Coarsening.DROP:
            return  # a removed column shows "no generalisation": only a role button brings it back
        self._update_choice(with_rule(self.choices[self.current], column, rule))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "risk-min-count":
            self._apply_rule()
        elif event.input.id == "risk-threshold" and self.current is not None:
            try:
                threshold = check_threshold(event.value)
            except HdhWizardError:
                self.refresh_checks()
                return
            choice = self.choices[self.current]
            if choice.threshold != threshold:
                self._update_choice(replace(choice, threshold=threshold))
            return
        super().on_input_changed(event)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        if button.startswith("role-"):
            column = self._selected_column()
            if column is not None and self.current is not None:
                role = Role(button.removeprefix("role-"))
                self._update_choice(with_role(self.choices[self.current], column, role))
        elif button == "risk-measure":
            self._start_measure()
        elif button == "risk-export":
            self._start_export()
        elif button == "risk-search":
            self._start_search()
        elif button == "risk-clean-images":
            self.progress = Progress()
            self._set_working(True, writing=True)
            progress, written = self.progress, list[Replacement]()
            self._job(
                lambda: self._clean_task(progress, written),
                self._written,
                lambda: _remove_copies(written),  # a half-cleaned set would mislead
            )
        elif button == "risk-cancel":
            if self.progress is not None:
                self.progress.cancel()
        else:
            super().on_button_pressed(event)

    def _current_ref(self) -> TableRef | None:
        return next((r for r in self.refs if r.name == self.current), None)

    def _start_measure(self, quiet: bool = False) -> None:
        ref = self._current_ref()
        if ref is None or self.working:
            return
        try:
            threshold = check_threshold(self.query_one("#risk-threshold", Input).value)
        except HdhWizardError as error:
            if not quiet:
                self.notify(error.message(self.cat), severity="error")
            return
        choice = replace(self.choices[ref.name], threshold=threshold)
        self.choices[ref.name] = choice
        self.progress = Progress()
        self._set_working(True)
        scan, progress = self.scans[ref.name], self.progress
        self._job(lambda: assess_ref(ref, scan, choice, progress), self._measured)

    def _start_search(self) -> None:
        ref = self._current_ref()
        if ref is None or self.working:
            return
        self.progress = Progress()
        self._set_working(True)
        inference = self.query_one("#risk-search-inference", Checkbox).value
        choice, progress = self.choices[ref.name], self.progress
        self._job(
            lambda: search_ref(ref, choice, progress, inference=inference),
            lambda found: self._searched(ref.name, choice, found),
        )

    def _start_export(self) -> None:
        ref = self._current_ref()
        risk = self.risks.get(self.current or "")
        if ref is None:
            return
        if risk is None:
            self.notify(self.t("risk.screen.measure_first"), severity="warning")
            return
        jobs = [(ref, risk)]
        if risk.choice.rekeyed:
            # Every table with re-keyed identifiers is written again with the same new key.
            for other in self.refs:
                if other.name == ref.name or not self.choices[other.name].rekeyed:
                    continue
                measured = self.risks.get(other.name)
                if measured is None:
                    self.notify(
                        self.t("risk.screen.rekey_measure_first", table=other.name),
                        severity="warning",
                    )
                    return
                jobs.append((other, measured))
        self.progress = Progress()
        self._set_working(True, writing=True)
        progress, written = self.progress, list[Replacement]()
        self._job(
            lambda: self._export_task(jobs, progress, written),
            self._written,
            lambda: _remove_copies(written),  # re-keyed copies must share their key: all or none
        )

    # --- the step --------------------------------------------------------------------------------

    def _attestation(self) -> Attestation | None:
        if not self.query_one("#attest-confirm", Checkbox).value:
            return None
        name, role, organization = (
            self.query_one(f"#attest-{n}", Input).value.strip() for n in _ATTEST_FIELDS
        )
        return Attestation(name, role, organization, self.wizard.now().date())

    def _justifications(self) -> dict[Criterion, str]:
        return {c: self.query_one(f"#justify-{c.value}", TextArea).text for c in Criterion}

    def report(self) -> RiskReport | None:
        """The analysis as it stands, if every table has measures for its current choice."""
        if self.working or any(ref.name not in self.risks for ref in self.refs):
            return None
        if not self.refs and not self.images:
            return None
        return RiskReport(
            release=self.release.name,
            generated_at=self.wizard.now(),
            tables=tuple(self.risks[ref.name] for ref in self.refs),
            images=tuple(self.images),
            replacements=tuple(self.replacements.values()),
            justifications=self._justifications(),
            attestation=self._attestation(),
        )

    def read_outputs(self) -> dict[str, Any]:
        """The finished step's outputs when measured, plus what a draft needs to come back."""
        outputs = self._draft_outputs()
        report = self.report()
        if report is not None:
            attestation = outputs.pop("attestation")
            outputs.update(step_outputs(report, self.folder, []))
            outputs["attestation"] = {**(outputs["attestation"] or {}), **attestation}
        return outputs

    def _draft_outputs(self) -> dict[str, Any]:
        attestation: dict[str, Any] = {
            n: self.query_one(f"#attest-{n}", Input).value for n in _ATTEST_FIELDS
        }
        attestation["confirmed"] = self.query_one("#attest-confirm", Checkbox).value
        return {
            "choices": {name: choice_to_state(c) for name, c in self.choices.items()},
            "criteria": {
                c.value: {"justification": text} for c, text in self._justifications().items()
            },
            "attestation": attestation,
        }

    def step_checks(self) -> list[Check]:
        checks = step_checks(self.report())
        fresh = all(ref.name in self.risks for ref in self.refs)
        checks.insert(1, Check("risk.check.measured", fresh and not self.working))
        return checks

    def action_commit(self) -> None:
        report = self.report()
        if report is None or not all(c.ok for c in self.all_checks()):
            super().action_commit()  # says what is missing
            return
        # The report's per-rule counts, classes at risk and input hashes take one more pass.
        self.progress = Progress()
        self._set_working(True)
        progress = self.progress
        self._job(lambda: self._describe_task(report, progress), self._commit_report)

    def _commit_report(self, report: RiskReport) -> None:
        self._set_working(False)
        if not self.is_attached:
            return  # left meanwhile: nothing is committed behind the partner's back
        try:
            documents = write_documents(report, self.folder / REPORT_FOLDER, self.cat)
        except HdhWizardError as error:
            self.notify(error.message(self.cat), severity="error", timeout=10)
            return
        outputs = {**self.read_outputs(), **step_outputs(report, self.folder, documents)}
        outputs["attestation"] = {**(outputs["attestation"] or {}), "confirmed": True}
        if self.wizard.apply(self.commit_change(outputs)):
            self.notify(self.t("risk.screen.committed", folder=REPORT_FOLDER + "/"))
            self.dismiss(None)


def _remove_copies(written: list[Replacement]) -> None:
    for item in written:
        item.output.unlink(missing_ok=True)


_ATTEST_FIELDS = ("name", "role", "organization")
_ROLE_STYLES = {
    Role.DIRECT: "bold red",
    Role.QUASI: "yellow",
    Role.SENSITIVE: "magenta",
    Role.OTHER: "dim",
}
