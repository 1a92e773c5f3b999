"""What the anonymity step knows and shows: its form (tables, columns and their roles, rules,
measures, the search's solutions, the three criteria, the slides, the attestation) and the
display of each part. The screen (`anonymity`) adds the partner's edits, the actions and the
workers that run `inspect.risk` and `flows.anonymity`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Select, Static, TextArea

from hdh_wizard.core.steps import StepId
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
    search_summary,
)
from hdh_wizard.ui.steps.base import StepScreen

_ROLE_BUTTONS = (Role.QUASI, Role.SENSITIVE, Role.DIRECT, Role.OTHER)
NO_RULE = "none"


class AnonymityView(StepScreen):
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


ATTEST_FIELDS = ("name", "role", "organization")
_ROLE_STYLES = {
    Role.DIRECT: "bold red",
    Role.QUASI: "yellow",
    Role.SENSITIVE: "magenta",
    Role.OTHER: "dim",
}
