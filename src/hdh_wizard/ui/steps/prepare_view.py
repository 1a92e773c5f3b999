"""What the "prepare the data" screen knows and shows: its form, the published tables and
folders found, a column's value counts and the files a split would write, each table's parts and
sample, the slides grouped, everything prepared, and the work under way. The screen
(`prepare_data`) adds the selections, the actions and the workers that run `flows.prepare`.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Input,
    Label,
    ProgressBar,
    RadioButton,
    RadioSet,
    Select,
    Static,
)

from hdh_wizard.core.hosting_records import PreparedFile, PreparedKind
from hdh_wizard.core.preparation import (
    Preparation,
    SampleSettings,
    parse_threshold,
    parts_count,
    suggest_threshold,
)
from hdh_wizard.core.steps import get_step
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.flows import prepare as flow
from hdh_wizard.i18n.formatting import format_count, format_size
from hdh_wizard.inspect.preparation import Choices, Published, planned_names, versions
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.split import MAX_PARTS, ValueCount
from hdh_wizard.services.storage.hosting_choice import HostingChoice, split_sources
from hdh_wizard.ui.steps.jobs import JobStepScreen

SHOWN_VALUES = 200  # values listed; the count of the others is said below the list
_KIND_ORDER = {
    PreparedKind.SAMPLE: 0,
    PreparedKind.EMPTY: 1,
    PreparedKind.PART: 2,
    PreparedKind.OTHERS: 3,
    PreparedKind.FOLDER: 4,
}


class PrepareDataView(JobStepScreen):
    """Base of `PrepareDataStepScreen`: its form, its state, and what is shown."""

    def __init__(self) -> None:
        super().__init__()
        self.preparation = Preparation()
        self.choices = Choices((), ())
        self.columns: dict[str, tuple[str, ...]] = {}  # table → its columns, once read
        self.counts: dict[tuple[str, int], list[ValueCount]] = {}
        self.progress: Progress | None = None
        self.working = False
        self.reopened = False  # a run changed the files of the finished step: reopened
        self.count_pending = False  # a column chosen while a job ran
        self.first_load = True
        self.loaded = False  # the published tables listed (their versions known)
        self.closed = False  # unmounted (the app quit): a job still running saves by itself
        self.sample_shown: tuple[str, SampleSettings] | None = None  # in the sample's fields
        self.last_error = ""
        self.focus_after: Widget | None = None  # given the focus back when a job ends

    # --- the form ----------------------------------------------------------------------------

    def compose_form(self) -> ComposeResult:
        yield Static(self.t("prepare.screen.loading"), id="prep-intro")
        with Horizontal(id="prep-work"):
            yield ProgressBar(id="prep-progress", show_eta=False)
            yield Static(id="prep-current")
            yield Button(self.t("prepare.screen.cancel"), id="prep-cancel", variant="error")
        yield Static(id="prep-error")
        yield Label(self.t("prepare.screen.split_title"), classes="section-title")
        yield Select[str]([], id="prep-table", prompt=self.t("prepare.screen.table"))
        yield Select[int]([], id="prep-column", prompt=self.t("prepare.screen.column"))
        with Horizontal(id="prep-threshold-row"):
            yield Label(self.t("prepare.screen.threshold_before"), classes="inline-label")
            yield Input(id="prep-threshold", placeholder="—")
            yield Label(self.t("prepare.screen.threshold_after"), classes="inline-label")
        yield Static(id="prep-values-summary")
        yield DataTable(id="prep-values", cursor_type="row", zebra_stripes=True)
        yield Button(self.t("prepare.screen.split"), id="prep-split", variant="primary")
        yield Static(id="prep-split-result")
        yield DataTable(id="prep-parts", cursor_type="row", zebra_stripes=True)
        yield Label(self.t("prepare.screen.sample_title"), classes="section-title")
        with Horizontal(id="prep-sample-row"):
            yield Label(self.t("prepare.screen.size"), classes="inline-label")
            yield Input(id="prep-size", placeholder="1000")
            yield Label(self.t("prepare.screen.fraction"), classes="inline-label")
            yield Input(id="prep-fraction", placeholder="10 %")
        with Horizontal(id="prep-seed-row"):
            yield Label(self.t("prepare.screen.seed"), classes="inline-label")
            yield Input(id="prep-seed", placeholder=self.t("prepare.screen.random_seed"))
            yield Button(self.t("prepare.screen.new_seed"), id="prep-new-seed", compact=True)
        yield Checkbox(self.t("prepare.screen.stratify"), id="prep-stratify")
        yield Button(self.t("prepare.screen.sample"), id="prep-sample", variant="primary")
        yield Static(id="prep-sample-result")
        with Horizontal(id="prep-folder-section"):
            yield Label(self.t("prepare.screen.folder_title"), classes="section-title")
        yield Select[str]([], id="prep-folder", prompt=self.t("prepare.screen.folder"))
        yield Select[str]([], id="prep-mapping", prompt=self.t("prepare.screen.mapping"))
        yield Select[int]([], id="prep-file-column", prompt=self.t("prepare.screen.file_column"))
        yield Select[int]([], id="prep-value-column", prompt=self.t("prepare.screen.value_column"))
        yield Button(self.t("prepare.screen.split_files"), id="prep-split-files", variant="primary")
        yield Static(id="prep-folder-result")
        yield Label(self.t("prepare.screen.all_title"), classes="section-title")
        yield Static(id="prep-all")
        yield Button(self.t("prepare.screen.drop_outdated"), id="prep-drop", variant="warning")
        yield Label(
            self.t("prepare.journey.hosting_title"), classes="section-title", id="prep-host-title"
        )
        yield Static(id="prep-host-intro")
        with RadioSet(id="prep-hosting"):
            yield RadioButton("", id="prep-host-parts")
            yield RadioButton("", id="prep-host-whole")
        yield Static(id="prep-host-result")

    def _outdated(self) -> list[str]:
        """The tables and folders changed since prepared (once the published ones are listed)."""
        return self.preparation.outdated(versions(self.choices)) if self.loaded else []

    # --- what is selected ----------------------------------------------------------------------

    def _table(self) -> Published | None:
        value = self.query_one("#prep-table", Select).value
        return next((t for t in self.choices.tables if t.stored == value), None)

    def _column(self) -> int | None:
        value = self.query_one("#prep-column", Select).value
        return value if isinstance(value, int) else None

    def _threshold(self) -> int | None:
        """The typed threshold, or None when empty or not valid (said under the field)."""
        try:
            return parse_threshold(self.query_one("#prep-threshold", Input).value)
        except HdhWizardError:
            return None

    # --- what is shown -------------------------------------------------------------------------

    def _loaded(self, found: Choices) -> None:
        self.choices = found
        self.loaded = True
        if not self.is_attached:
            return
        self._show_prepared()  # the tables changed since prepared are known now
        size = sum(t.size for t in found.tables)
        intro = Text(
            self.t(
                "prepare.screen.intro",
                tables=len(found.tables),
                size=format_size(size, self.cat.lang),
                folders=len(found.folders),
            )
        )
        blockers = flow.blockers(self.release)
        if blockers:
            names = ", ".join(self.t(get_step(b).title_key) for b in blockers)
            intro.append("\n" + self.t("prepare.screen.blocked", steps=names), "bold yellow")
        self.query_one("#prep-intro", Static).update(intro)
        options = [
            (f"{t.stored} ({format_size(t.size, self.cat.lang)})", t.stored) for t in found.tables
        ]
        self._show_folder_section(bool(found.folders) and bool(found.tables))
        with self.prevent(Select.Changed):
            self.query_one("#prep-mapping", Select).set_options(options)
            self.query_one("#prep-folder", Select).set_options(
                [
                    (f"{f.stored}/ ({format_size(f.size, self.cat.lang)})", f.stored)
                    for f in found.folders
                ]
            )
            self.query_one("#prep-table", Select).set_options(options)
        if not found.tables:
            self._show_error(self.t("prepare.screen.no_table"))
            return
        known = [t.table for t in self.preparation.tables]
        first = next((t.stored for t in found.tables if t.stored in known), found.tables[0].stored)
        if found.folders:
            folder = self.query_one("#prep-folder", Select)
            saved = self.preparation.folders[0].folder if self.preparation.folders else None
            known_folders = {f.stored for f in found.folders}
            folder.value = saved if saved in known_folders else found.folders[0].stored
        self.query_one("#prep-table", Select).value = first

    def _set_working(self, progress: Progress | None) -> None:
        self.working = progress is not None
        self.query_one("#prep-work").display = self.working
        # Before anonymity is done, the tables are not the ones to publish: look, don't write.
        blocked = bool(flow.blockers(self.release))
        for button_id in ("#prep-split", "#prep-sample", "#prep-split-files"):
            self.query_one(button_id, Button).disabled = self.working or blocked
        for button_id in ("#prep-new-seed", "#prep-drop"):  # giving up is always allowed
            self.query_one(button_id, Button).disabled = self.working
        for select_id in ("#prep-table", "#prep-column", "#prep-folder", "#prep-mapping"):
            self.query_one(select_id, Select).disabled = self.working

    def _poll_progress(self) -> None:
        progress = self.progress
        if progress is None or not self.working:
            return
        bar = self.query_one("#prep-progress", ProgressBar)
        if progress.total_bytes:
            bar.update(
                total=progress.total_bytes, progress=min(progress.done_bytes, progress.total_bytes)
            )
        else:
            bar.update(total=None)
        self.query_one("#prep-current", Static).update(
            self.t("prepare.screen.working", file=progress.current or "…")
        )

    def _show_error(self, message: str) -> None:
        self.last_error = message
        widget = self.query_one("#prep-error", Static)
        widget.update(Text(message, style="bold red"))
        widget.display = bool(message)

    def _show_folder_section(self, shown: bool) -> None:
        for selector in (
            "#prep-folder-section",
            "#prep-folder",
            "#prep-mapping",
            "#prep-file-column",
            "#prep-value-column",
            "#prep-split-files",
            "#prep-folder-result",
        ):
            self.query_one(selector).display = shown

    def _show_all(self) -> None:
        self._show_table_results()
        self._show_folder_result()
        self._show_prepared()
        self.refresh_checks()

    def _show_values(self) -> None:
        table, column = self._table(), self._column()
        values = self.query_one("#prep-values", DataTable)
        values.clear()
        summary = self.query_one("#prep-values-summary", Static)
        counts = self.counts.get((table.stored, column)) if table and column is not None else None
        if counts is None:
            summary.update("")
            return
        threshold = self._threshold()
        tables = self.choices.tables
        planned = planned_names(table, counts, threshold, tables) if table else {}
        for count in counts[:SHOWN_VALUES]:
            name = count.value if count.value is not None else self.t("prepare.screen.empty_value")
            values.add_row(name, format_count(count.rows), planned.get(count.value, "—"))
        pairs = [(c.value, c.rows) for c in counts]
        text = self.t(
            "prepare.screen.values_summary",
            values=format_count(len(counts)),
            rows=format_count(sum(c.rows for c in counts)),
            files=format_count(parts_count(pairs, threshold)),
        )
        suggested = suggest_threshold(pairs, MAX_PARTS)
        if parts_count(pairs, threshold) > MAX_PARTS:
            text += "\n" + self.t(
                "prepare.screen.too_many",
                limit=format_count(MAX_PARTS),
                threshold=format_count(suggested or 2),
            )
        if len(counts) > SHOWN_VALUES:
            text += " " + self.t(
                "prepare.screen.more_values", count=format_count(len(counts) - SHOWN_VALUES)
            )
        raw = self.query_one("#prep-threshold", Input).value
        if raw.strip() and threshold is None:
            text += "\n" + HdhWizardError("prepare.error.min_count", value=raw.strip()).message(
                self.cat
            )
        summary.update(text)

    def _show_table_results(self) -> None:
        table = self._table()
        parts = self.query_one("#prep-parts", DataTable)
        parts.clear()
        split_text = self.query_one("#prep-split-result", Static)
        sample_text = self.query_one("#prep-sample-result", Static)
        if table is None:
            split_text.update("")
            sample_text.update("")
            return
        record = self.preparation.table(table.stored)
        lang = self.cat.lang
        files = sorted(
            self.preparation.split_files(table.stored),
            key=lambda f: (_KIND_ORDER[f.kind], f.value),
        )
        sample = self.preparation.sample_file(table.stored)
        for file in ([sample] if sample else []) + files:
            parts.add_row(
                file.path,
                self._value_text(file),
                format_count(file.rows) if file.rows is not None else "—",
                format_size(file.size, lang),
            )
        if record.split is not None:
            written = sum(f.rows or 0 for f in files)
            threshold = record.split.group_rare_below
            split_text.update(
                self.t(
                    "prepare.screen.split_done",
                    files=len(files),
                    column=record.split.column,
                    written=format_count(written),
                    rows=format_count(record.split.source_rows),
                )
                + ("\n" + self.t("prepare.part.others", min_count=threshold) if threshold else "")
            )
        else:
            split_text.update(self.t("prepare.screen.not_split"))
        if record.sample is not None and sample is not None:
            settings = record.sample
            asked = (
                self.t("prepare.screen.asked_size", size=format_count(settings.size))
                if settings.size is not None
                else self.t("prepare.screen.asked_fraction", fraction=f"{settings.fraction:g}")
            )
            text = Text()
            text.append(self.t("prepare.screen.look_first", file=sample.path) + "\n", "bold green")
            text.append(
                self.t(
                    "prepare.screen.sample_done",
                    rows=format_count(settings.rows),
                    total=format_count(settings.source_rows),
                    asked=asked,
                    seed=settings.seed,
                )
            )
            if settings.stratify_column:
                text.append(
                    "\n" + self.t("prepare.sample.stratified", column=settings.stratify_column)
                )
            sample_text.update(text)
            # The fields show a table's sample once (chosen, or drawn again): what is typed
            # for the next sample is not put back by another run (a split).
            if self.sample_shown != (table.stored, settings):
                self.sample_shown = (table.stored, settings)
                self._fill_sample_fields(settings)
        else:
            sample_text.update(self.t("prepare.screen.no_sample"))

    def _fill_sample_fields(self, settings: SampleSettings) -> None:
        with self.prevent(Input.Changed):
            self.query_one("#prep-seed", Input).value = str(settings.seed)
            self.query_one("#prep-size", Input).value = (
                str(settings.size) if settings.size is not None else ""
            )
            self.query_one("#prep-fraction", Input).value = (
                f"{settings.fraction:g}" if settings.fraction is not None else ""
            )
            self.query_one("#prep-stratify", Checkbox).value = bool(settings.stratify_column)

    def _value_text(self, file: PreparedFile) -> str:
        if file.kind is PreparedKind.SAMPLE:
            return self.t("prepare.screen.sample_kind")
        if file.kind is PreparedKind.EMPTY:
            return self.t("prepare.screen.empty_value")
        if file.kind is PreparedKind.OTHERS:
            return self.t("prepare.screen.others_kind")
        return file.value

    def _show_folder_result(self) -> None:
        widget = self.query_one("#prep-folder-result", Static)
        folder = self.query_one("#prep-folder", Select).value
        saved = self.preparation.folder_split(folder) if isinstance(folder, str) else None
        if saved is None:
            widget.update("")
            return
        lang = self.cat.lang
        text = Text()
        text.append(
            self.t(
                "prepare.screen.folder_done",
                placed=saved.placed,
                output=saved.output,
                column=saved.value_column,
            )
            + "\n"
        )
        for file in self.preparation.folder_files(saved.output):
            text.append(f"  {file.path}/  {file.value or '—'}  {format_size(file.size, lang)}\n")
        for key in ("missing", "unlisted", "ambiguous", "conflicting", "refused"):
            count = getattr(saved, key)
            if count:
                text.append(
                    self.t(f"prepare.screen.folder_{key}", count=count) + "\n", style="yellow"
                )
        widget.update(text)

    def _show_prepared(self) -> None:
        files = self.preparation.files
        text = self.t(
            "prepare.screen.all",
            count=len(files),
            size=format_size(sum(f.size for f in files), self.cat.lang),
        )
        if self.reopened:
            text += "\n" + self.t("prepare.screen.reopened")
        outdated = self._outdated()
        if outdated:
            text += "\n" + self.t("prepare.screen.outdated", files=", ".join(outdated))
        self.query_one("#prep-all", Static).update(text)
        self.query_one("#prep-drop", Button).display = bool(outdated)
        self._show_hosting()

    def _show_hosting(self) -> None:
        """The hosting choice, with what each costs; shown once a table is split."""
        split = sorted(split_sources(self.preparation.files))
        for widget in ("#prep-host-title", "#prep-host-intro", "#prep-hosting"):
            self.query_one(widget).display = bool(split)
        if not split:
            self.query_one("#prep-host-result", Static).update("")
            return
        costs = flow.costs(self.release, self.preparation)
        lang = self.cat.lang
        self.query_one("#prep-host-intro", Static).update(
            self.t("prepare.journey.hosting_intro", count=len(split), tables=", ".join(split))
        )
        parts = self.query_one("#prep-host-parts", RadioButton)
        whole = self.query_one("#prep-host-whole", RadioButton)
        parts.label = self.t("prepare.journey.host_parts", size=format_size(costs.parts, lang))
        whole.label = self.t(
            "prepare.journey.host_whole",
            size=format_size(costs.whole_too, lang),
            extra=format_size(costs.whole, lang),
        )
        # The screen's handler keeps nothing when the button pressed is the choice recorded.
        choice = flow.hosting(self.release)
        (parts if choice is HostingChoice.PARTS else whole).value = True
