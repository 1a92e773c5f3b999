"""Prerequisite I.1: anonymity — the three criteria measured, justified, and attested.

The screen finds the release's tables and slides, scans them in a thread worker (identifying
columns, proposed roles, labels and tags of slides), measures each table for the roles the
partner confirms, and lets them try generalisations side by side with the original. The rules
live in `inspect.risk`; this screen only gathers the choices and shows the results.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from textual import work
from textual.widgets import Button, Checkbox, DataTable, Input, Select, Static

from hdh_wizard.core.checks import Check
from hdh_wizard.core.volume import release_files
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.flows import anonymity as flow
from hdh_wizard.inspect.convert import PUBLISH_FOLDER
from hdh_wizard.inspect.fingerprint import resolve_stored_path
from hdh_wizard.inspect.progress import Cancelled, Progress
from hdh_wizard.inspect.risk.analysis import (
    Choice,
    TableRisk,
    TableScan,
    choice_from_state,
    choice_to_state,
    default_choice,
    rule_on,
    with_no_person,
    with_role,
    with_rule,
)
from hdh_wizard.inspect.risk.cache import file_records, load_scanned, save_scanned
from hdh_wizard.inspect.risk.generalise import Coarsening, ColumnRule
from hdh_wizard.inspect.risk.identifiers import Role
from hdh_wizard.inspect.risk.measures import check_threshold
from hdh_wizard.inspect.risk.release import (
    Scanned,
    TableRef,
    assess_ref,
    find_sources,
    scan_sources,
    search_ref,
)
from hdh_wizard.inspect.risk.report import (
    Replacement,
    RiskReport,
)
from hdh_wizard.inspect.risk.solutions import TableSearch, apply_solution
from hdh_wizard.inspect.risk.step import step_checks, step_outputs
from hdh_wizard.ui.steps.anonymity_view import (
    ACTION_BUTTONS,
    ATTEST_FIELDS,
    NO_RULE,
    AnonymityView,
)

T = TypeVar("T")
LIVE_MEASURE_BYTES = 50_000_000  # tables up to this size are measured again at each edit
LIVE_DELAY = 0.4  # seconds without an edit before measuring


class AnonymityStepScreen(AnonymityView):
    """The step's actions: the scan, the measures, the search, the copies, the commit."""

    _decisions_shown: dict[str, Any] | None = None  # the form's decisions once the scan showed

    # --- work in threads -------------------------------------------------------------------------

    def start_scan(self, fresh: bool = False) -> None:
        """Show the kept measures when the files are unchanged since (no reading: the first frame
        has them); else, or when `fresh` ("Measure again"), scan and measure in a worker."""
        folder = self.folder
        paths = [resolve_stored_path(path, folder) for path, _ in release_files(self.release)]
        self.sources = find_sources(paths, folder)
        kept = None if fresh else load_scanned(folder, self.sources)
        if kept is not None:
            scanned, self.file_records = kept
            self.from_cache = True
            self._restore(scanned)
            return
        self.from_cache = False
        self.progress = Progress(total_bytes=sum(e.size for e in self.sources.tables))
        self._set_working(True)
        sources, progress = self.sources, self.progress

        def scan() -> Scanned:
            try:
                records = file_records(sources)  # before reading: a change meanwhile shows
            except OSError:
                records = []
            scanned = scan_sources(sources, progress, self._initial_choice)
            self.file_records = records
            if records:
                save_scanned(folder, records, scanned)
            return scanned

        self._job(scan, self._scanned)

    def _restore(self, kept: Scanned) -> None:
        """The kept scan, with the choices saved since (a draft's); measures that answer another
        choice are dropped and measured again in a worker."""
        choices = {ref.name: self._initial_choice(scan) for ref, scan in kept.tables}
        risks = {n: r for n, r in kept.risks.items() if choices.get(n) == r.choice}
        self._scanned(replace(kept, choices=choices, risks=risks))
        missing = [(ref, scan) for ref, scan in kept.tables if ref.name not in risks]
        if not missing:
            return
        self.progress = Progress(total_bytes=sum(ref.size for ref, _ in missing))
        self._set_working(True)
        progress = self.progress

        def measure() -> list[TableRisk]:
            measured = []
            for ref, scan in missing:
                progress.current = ref.name
                # A choice that does not fit: the partner sees the table unmeasured.
                before = progress.done_bytes
                with contextlib.suppress(HdhWizardError):
                    measured.append(assess_ref(ref, scan, choices[ref.name], progress))
                progress.advance(ref.size - (progress.done_bytes - before))
            return measured

        self._job(measure, self._measured_all)

    def _measured_all(self, risks: list[TableRisk]) -> None:
        self._set_working(False)
        for risk in risks:
            current = self._still_measured(risk)
            if current is not None:
                self.risks[risk.scan.table] = current
                self._clear_failures(risk.scan.table)
        self._keep_measures()
        self._show_all()

    def _still_measured(self, risk: TableRisk) -> TableRisk | None:
        """The measure made in a thread, if it still answers the table's choice: the same, or
        differing only by the words of its "no person" reason (which measure nothing)."""
        choice = self.choices.get(risk.scan.table)
        if choice is None:
            return None
        if risk.choice == choice:
            return risk
        reworded = replace(risk.choice, no_person=choice.no_person) == choice
        if reworded and risk.choice.declares_no_person == choice.declares_no_person:
            return replace(risk, choice=choice)
        return None

    def _keep_measures(self) -> None:
        """Keep the scan and the current measures, for the next opening (a small JSON file)."""
        if not self.file_records:
            return
        scanned = Scanned(
            tuple((ref, self.scans[ref.name]) for ref in self.refs if ref.name in self.scans),
            tuple(self.images),
            tuple(self.failures),
            dict(self.choices),
            dict(self.risks),
        )
        save_scanned(self.folder, self.file_records, scanned)

    def _clear_failures(self, table: str) -> None:
        """A table measured: the messages about its choice are gone with their cause."""
        self.failures = [e for e in self.failures if e.params.get("table") != table]

    def on_unmount(self) -> None:
        # The screen is gone (Esc, quitting): its scan stops at its next cancel point.
        if self.progress is not None:
            self.progress.cancel()

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
            if isinstance(stop, Cancelled) and not self.is_attached:
                return  # the screen was closed: a quiet stop
            error = stop if isinstance(stop, HdhWizardError) else None
            self._back_on_screen(self._stopped, error)
            return
        self._back_on_screen(done, result)

    def _back_on_screen(self, then: Callable[..., None], *args: Any) -> None:
        """Hand a worker's outcome to the screen, unless the screen or the app is gone."""
        if not self.is_attached:
            return
        try:
            self.app.call_from_thread(then, *args)
        except RuntimeError:  # the app stopped meanwhile
            return

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

    # --- results back on the UI thread -----------------------------------------------------------

    def _scanned(self, scanned: Scanned) -> None:
        self.refs = [ref for ref, _ in scanned.tables]
        self.scans = {ref.name: scan for ref, scan in scanned.tables}
        self.choices, self.risks = dict(scanned.choices), dict(scanned.risks)
        self.images = list(scanned.images)
        self.failures = list(scanned.failures)
        self._set_working(False)
        select = self.query_one("#risk-table", Select)
        select.set_options([(ref.name, ref.name) for ref in self.refs])
        if self.refs:
            self.current = self.refs[0].name
            select.value = self.current
        self._show_all()
        # The roles proposed by the scan are the screen's, not the partner's: what the form
        # holds once they are shown is "unchanged" (`has_unsaved_changes`).
        self.call_after_refresh(self._remember_decisions)

    def _remember_decisions(self) -> None:
        self._decisions_shown = self._draft_outputs()

    def has_unsaved_changes(self) -> bool:
        """Only the partner's decisions count (roles, rules, justifications, attestation): the
        measures the screen makes by itself are no work to lose."""
        if self._decisions_shown is None:  # still scanning: what may have been typed counts
            return super().has_unsaved_changes()
        current = self._draft_outputs()
        saved = self.release.record(self.step_id).outputs
        kept = {key: saved.get(key) for key in current}
        return current != self._decisions_shown and current != kept

    def _measured(self, risk: TableRisk) -> None:
        self._set_working(False)
        current = self._still_measured(risk)
        if current is not None:  # not edited since
            self.risks[risk.scan.table] = current
            self._clear_failures(risk.scan.table)
            self._keep_measures()
            self.from_cache = False  # the figures shown are no longer all the kept ones
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
        # The result shows next to the button pressed, where the partner's eyes (and focus) are.
        lines = "\n".join(self.t("risk.screen.written", path=item.display) for item in written)
        self.show_result(lines)
        self._show_all()

    def _stopped(self, error: HdhWizardError | None) -> None:
        self._set_working(False)
        if error is None:
            self.show_result(self.t("risk.screen.cancelled"))
        else:
            self.notify(self.message_of(error), severity="error", timeout=10)
            self.show_result(self.message_of(error), error=True)
        self._show_all()

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
        self.query_one("#risk-action-result", Static).update("")  # it spoke of the last choice
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
            self.query_one("#risk-rule", Select).value = value or NO_RULE
        count = str(rule.min_count) if rule and rule.coarsening.needs_count else ""
        with self.prevent(Input.Changed):
            self.query_one("#risk-min-count", Input).value = count

    def _apply_rule(self) -> None:
        column = self._selected_column()
        if column is None or self.current is None:
            return
        value = self.query_one("#risk-rule", Select).value
        rule: ColumnRule | None = None
        if isinstance(value, str) and value != NO_RULE:
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

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id == "risk-no-person":
            self._apply_no_person()
        super().on_checkbox_changed(event)

    def _apply_no_person(self) -> None:
        """ "This table describes no person", with its reason: declared once both are given."""
        if self.current is None:
            return
        declared = self.query_one("#risk-no-person", Checkbox).value
        reason = self.query_one("#risk-no-person-reason", Input).value if declared else ""
        choice = self.choices[self.current]
        updated = with_no_person(choice, reason)
        if updated == choice:
            self._show_no_person()
        elif choice.declares_no_person and updated.declares_no_person:
            # Only the reason's words changed: the measures and a copy written still hold (the
            # copy does not depend on them); the verdicts are judged again with the new words.
            self.choices[self.current] = updated
            risk = self.risks.get(self.current)
            if risk is not None:
                self.risks[self.current] = replace(risk, choice=updated)
            self._show_all()
        else:
            self._update_choice(updated)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "risk-no-person-reason":
            self._apply_no_person()
            super().on_input_changed(event)
            return
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
        if button in ACTION_BUTTONS:
            if self.working:
                return  # the button pressed keeps its focus while its work runs: one at a time
            self._last_action = button
        if button.startswith("role-"):
            column = self._selected_column()
            if column is not None and self.current is not None:
                role = Role(button.removeprefix("role-"))
                self._update_choice(with_role(self.choices[self.current], column, role))
        elif button == "risk-measure":
            self._start_measure()
        elif button == "risk-rescan":
            if not self.working:
                self.start_scan(fresh=True)
        elif button == "risk-export":
            self._start_export()
        elif button == "risk-search":
            self._start_search()
        elif button == "risk-clean-images":
            if not any(i.findings and i.path not in self.replacements for i in self.images):
                self.show_result(self.t("risk_journey.nothing_to_clean"))
                return
            self.progress = Progress()
            self._set_working(True, writing=True)
            progress, slides = self.progress, self.sources.slides
            dirty = {i.path for i in self.images if i.findings}
            publish = self.folder / PUBLISH_FOLDER
            self._job(lambda: flow.clean_slides(slides, dirty, publish, progress), self._written)
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
        self.progress = Progress(total_bytes=ref.size)
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
        progress, publish = self.progress, self.folder / PUBLISH_FOLDER
        names = {r.name for r, _ in jobs}
        others = {r.output for s, r in self.replacements.items() if s not in names}
        self._job(lambda: flow.export_copies(jobs, publish, others, progress), self._written)

    # --- the step --------------------------------------------------------------------------------

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
            n: self.query_one(f"#attest-{n}", Input).value for n in ATTEST_FIELDS
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
        progress, tables = self.progress, [(ref, self.risks[ref.name]) for ref in self.refs]
        self._job(lambda: flow.describe(report, tables, progress), self._commit_report)

    def _commit_report(self, report: RiskReport) -> None:
        self._set_working(False)
        if not self.is_attached:
            return  # left meanwhile: nothing is committed behind the partner's back
        try:
            outputs = flow.finish(report, self.folder, self.cat, self.read_outputs())
        except HdhWizardError as error:
            self.notify(error.message(self.cat), severity="error", timeout=10)
            return
        if self.wizard.apply(self.commit_change(outputs)):
            self.notify(self.t("risk.screen.committed", folder=flow.REPORT_FOLDER + "/"))
            self.dismiss(None)
