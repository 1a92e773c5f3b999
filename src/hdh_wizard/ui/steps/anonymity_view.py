"""What the anonymity step knows and shows: its form (tables, columns and their roles, rules,
measures, the search's solutions, the three criteria, the slides, the attestation) and the
display of each part. The screen (`anonymity`) adds the partner's edits, the actions and the
workers that run `inspect.risk` and `flows.anonymity`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Select, Static, TextArea

from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.formatting import format_count, format_percent
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.risk.analysis import (
    Choice,
    Criterion,
    TableRisk,
    TableScan,
    role_in,
    rule_on,
)
from hdh_wizard.inspect.risk.generalise import Coarsening
from hdh_wizard.inspect.risk.identifiers import Role
from hdh_wizard.inspect.risk.linkability import persistent_identifier_name
from hdh_wizard.inspect.risk.measures import DEFAULT_THRESHOLD
from hdh_wizard.inspect.risk.release import (
    Sources,
    TableRef,
)
from hdh_wizard.inspect.risk.report import Attestation, Replacement, RiskReport
from hdh_wizard.inspect.risk.slide_privacy import ImagePrivacyReport
from hdh_wizard.inspect.risk.solutions import TableSearch
from hdh_wizard.inspect.risk.step import replacements_from_state
from hdh_wizard.present.risk_presenters import (
    CRITERION_STYLES,
    criterion_facts,
    criterion_text,
    finding_text,
    image_finding_text,
    measure_rows,
    rule_text,
    scan_progress_text,
    search_summary,
)
from hdh_wizard.ui.steps.base import StepScreen
from hdh_wizard.ui.widgets.wrapping_checkbox import WrappingCheckbox

_ROLE_BUTTONS = (Role.QUASI, Role.SENSITIVE, Role.DIRECT, Role.OTHER)
NO_RULE = "none"


class AnonymityView(StepScreen):
    step_id = StepId.ANONYMITY
    CSS_PATH = Path(__file__).parent.parent / "styles" / "anonymity.tcss"

    def __init__(self) -> None:
        super().__init__()
        self.sources = Sources((), ())
        self.refs: list[TableRef] = []
        self.scans: dict[str, TableScan] = {}
        self.choices: dict[str, Choice] = {}
        self.risks: dict[str, TableRisk] = {}
        self.searches: dict[str, TableSearch] = {}  # the last search's solutions, per table
        self.images: list[ImagePrivacyReport] = []
        self.failures: list[HdhWizardError] = []  # files that could not be read, choices unfit
        self.file_records: list[dict[str, Any]] = []  # the scanned files' fingerprints
        self.from_cache = False  # the figures shown come from the last opening's measures
        self.started = 0.0  # when the current job started (time.monotonic)
        self._refocus: Button | None = None  # the button pressed, focused again when done
        self._last_action = ""  # the id of the last action button pressed
        self._no_person_table: str | None = None  # the table the declaration's fields show
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
        yield Button(self.t("risk_journey.rescan"), id="risk-rescan", compact=True)
        with Horizontal(id="risk-work"):
            yield Static(id="risk-current")
            yield Button(self.t("risk.screen.cancel"), id="risk-cancel", variant="error")
        yield Select[str]([], id="risk-table", prompt=self.t("risk.screen.table"), allow_blank=True)
        yield Static(id="risk-findings", classes="risk-block")
        yield Label(self.t("risk.screen.columns"), classes="field-label")
        yield DataTable(id="risk-columns", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="risk-no-person-row"):
            yield WrappingCheckbox(self.t("risk_journey.no_person.checkbox"), id="risk-no-person")
            yield Input(
                placeholder=self.t("risk_journey.no_person.reason"), id="risk-no-person-reason"
            )
        yield Static(id="risk-no-person-status", classes="risk-block")
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
        yield Static(id="risk-action-result", classes="risk-block")
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
        yield Static(id="risk-clean-result", classes="risk-block")
        yield Label(self.t("risk.screen.attestation"), classes="section-title")
        yield Static(self.t("risk.screen.attestation_text"), id="risk-attestation-text")
        for name in ("name", "role", "organization"):
            yield Label(self.t(f"risk.screen.attest.{name}"), classes="field-label")
            yield Input(id=f"attest-{name}")
        yield WrappingCheckbox(self.t("risk.screen.attest.confirm"), id="attest-confirm")

    def _rule_options(self) -> list[tuple[str, str]]:
        options = [(self.t("risk.screen.no_rule"), NO_RULE)]
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
        self.query_one("#risk-no-person-reason", Input).display = False  # until ticked
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

    def _attestation(self) -> Attestation | None:
        if not self.query_one("#attest-confirm", Checkbox).value:
            return None
        name, role, organization = (
            self.query_one(f"#attest-{n}", Input).value.strip() for n in ATTEST_FIELDS
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

    def start_scan(self) -> None:
        """Find and scan the release's tables and slides (the screen runs it in a worker)."""
        raise NotImplementedError

    @property
    def folder(self) -> Path:
        return self.wizard.project.folder

    # --- display ---------------------------------------------------------------------------------

    def _set_working(self, working: bool, writing: bool = False) -> None:
        """A worker runs; `writing`: it writes copies, and the choices they follow stay fixed
        meanwhile (a measure, on the contrary, is simply dropped if the choice changes).

        The button pressed is disabled meanwhile, which would send the focus (and the scroll)
        elsewhere: it gets the focus back when the work is done."""
        if working and not self.working:
            self.started = time.monotonic()
            focused = self.app.focused
            self._refocus = focused if isinstance(focused, Button) else None
        self.working, self.writing = working, working and writing
        self.query_one("#risk-work").display = working
        for button_id in ACTION_BUTTONS:
            button = self.query_one(f"#{button_id}", Button)
            # The focused one stays enabled (presses are ignored meanwhile): disabled, it would
            # lose the focus, and the screen would scroll away from it.
            button.disabled = working and button is not self._refocus
        for widget in self.query(
            "#risk-roles Button, #risk-rule, #risk-min-count, #risk-threshold, "
            "#risk-no-person, #risk-no-person-reason"
        ):
            widget.disabled = self.writing
        if working:
            self._poll_progress()
        elif self._refocus is not None:
            button, self._refocus = self._refocus, None
            if button.is_attached and button.display and not button.disabled:
                button.focus(scroll_visible=False)

    def show_result(self, text: str, error: bool = False) -> None:
        """An action's result, next to the button that started it (the last one only)."""
        clean = self._last_action == "risk-clean-images"
        target = "#risk-clean-result" if clean else "#risk-action-result"
        self.clear_results()
        self.query_one(target, Static).update(Text(text, style="red" if error else "green"))

    def clear_results(self) -> None:
        """The results shown go with their cause: an edit makes them the previous choice's."""
        for selector in ("#risk-action-result", "#risk-clean-result"):
            self.query_one(selector, Static).update("")

    def _poll_progress(self) -> None:
        if self.progress is not None and self.working:
            progress = self.progress
            elapsed = time.monotonic() - self.started
            item = scan_progress_text(
                self.cat, progress.current, progress.done_bytes, progress.total_bytes, elapsed
            )
            self.query_one("#risk-current", Static).update(
                self.t("risk_journey.working", progress=item)
            )

    def _show_all(self) -> None:
        self._show_status()
        self._show_table()
        self._show_measures()
        self._show_criteria()
        self._show_images()
        self._show_search()
        self.refresh_checks()

    def message_of(self, error: HdhWizardError) -> str:
        """An error in the screen's words: the command's options are no help here."""
        if error.key in SCREEN_WORDS:
            return self.t(SCREEN_WORDS[error.key], **error.params)
        return error.message(self.cat)

    def _show_status(self) -> None:
        key = "risk.screen.found" if (self.refs or self.images) else "risk.screen.nothing"
        text = Text(self.t(key, tables=len(self.refs), images=len(self.images)))
        if self.from_cache:
            text.append("\n" + self.t("risk_journey.from_cache"), style="italic")
        for failure in self.failures:
            text.append(f"\n✗ {self.message_of(failure)}", style="red")
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
        self._show_no_person()

    def _show_no_person(self) -> None:
        """The declaration "this table describes no person" as the choice holds it; checked
        without a reason yet, it waits for one (and says so)."""
        choice = self.choices.get(self.current or "")
        box = self.query_one("#risk-no-person", Checkbox)
        reason = self.query_one("#risk-no-person-reason", Input)
        status = self.query_one("#risk-no-person-status", Static)
        if choice is None:
            status.update("")
            reason.display = box.value
            return
        switched = self._no_person_table != self.current
        self._no_person_table = self.current
        declared = choice.declares_no_person
        with self.prevent(Checkbox.Changed, Input.Changed):
            if declared or switched or (box.value and choice.quasi):
                box.value = declared
            if declared:
                reason.value = choice.no_person
            elif switched:
                reason.value = ""
        reason.display = box.value
        if declared:
            status.update(Text(self.t("risk_journey.no_person.declared"), style="green"))
        elif box.value:
            status.update(Text(self.t("risk_journey.no_person.needs_reason"), style="yellow"))
        else:
            status.update("")

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
        # Shown once a slide had something to remove, cleaned or not: hidden after its work, the
        # button would take the focus (and the scroll) away with it.
        self.query_one("#risk-clean-images", Button).display = any(i.findings for i in self.images)


ATTEST_FIELDS = ("name", "role", "organization")
# The messages of `inspect.risk` that name the command's options, as the screen says them.
SCREEN_WORDS = {"risk.error.no_quasi_identifiers": "risk_journey.no_quasi_identifiers"}
ACTION_BUTTONS = ("risk-rescan", "risk-measure", "risk-search", "risk-export", "risk-clean-images")
_ROLE_STYLES = {
    Role.DIRECT: "bold red",
    Role.QUASI: "yellow",
    Role.SENSITIVE: "magenta",
    Role.OTHER: "dim",
}
