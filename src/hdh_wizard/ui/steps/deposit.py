"""Route 1, step 4: the dataset on data.gouv.fr, its documentation, and its files.

Two tabs: the documentation template (with its quality score, computed here before anything is
sent) and the files: what will be sent, replaced or kept; progress (bytes, speed, time left);
cancel; and a check of what the server holds. The dataset is created as a private draft:
publication is the next step.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, ProgressBar, Static, TabPane
from textual.widgets.data_table import CellDoesNotExist

from hdh_wizard.core.checks import Check
from hdh_wizard.core.deposit_plan import (
    Action,
    LocalFile,
    PlannedFile,
    plan_deposit,
    unsupported_formats,
)
from hdh_wizard.core.documentation import Documentation, documentation_to_outputs
from hdh_wizard.core.portal_records import dataset_of
from hdh_wizard.core.quality import Quality, ResourcePlan, planned_resource, quality_from_server
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.flows import deposit as deposit_flow
from hdh_wizard.flows.dictionary import DICTIONARY_READY, refresh_dictionary
from hdh_wizard.flows.stops import PublishStop
from hdh_wizard.i18n.formatting import format_size
from hdh_wizard.present.portal_presenters import (
    action_text,
    dataset_page_url,
    mismatch_text,
    progress_text,
    resource_description,
)
from hdh_wizard.services.datagouv.deposit import (
    DepositEvent,
    DepositOutcome,
    DepositRun,
    interrupted_uploads,
)
from hdh_wizard.services.datagouv.errors import ApiError, ErrorKind
from hdh_wizard.ui.flow_store import flow_context
from hdh_wizard.ui.steps.documentation_step import DOCUMENTATION_KEY, DocumentationStepScreen


class DepositStepScreen(DocumentationStepScreen):
    step_id = StepId.DEPOSIT

    def __init__(self) -> None:
        super().__init__()
        self.files: list[LocalFile] = []
        self.missing: list[str] = []
        self.plan: list[PlannedFile] = []
        self.server_dataset: dict[str, Any] | None = None
        self.outcome: DepositOutcome | None = None
        self.cancel_event = threading.Event()
        self.running = False
        self.sent_documentation: dict[str, Any] | None = None

    def compose_tabs(self) -> ComposeResult:
        with TabPane(self.t("deposit.tab.files"), id="tab-files"):
            yield Static(id="deposit-summary", classes="portal-note")
            yield DataTable(id="deposit-files", cursor_type="row", zebra_stripes=True)
            yield ProgressBar(id="deposit-progress", show_eta=False)
            yield Static(id="deposit-progress-text")
            with Horizontal(classes="portal-buttons"):
                yield Button(self.t("deposit.button.run"), id="deposit-run", variant="success")
                yield Button(self.t("deposit.button.cancel"), id="deposit-cancel", disabled=True)
                yield Button(self.t("deposit.button.verify"), id="deposit-verify")
            yield Static(id="deposit-result", classes="portal-result")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#deposit-files", DataTable)
        for key in ("file", "size", "action", "state"):
            table.add_column(self.t(f"deposit.col.{key}"), key=key)
        self.query_one("#deposit-progress").display = False  # shown once something is sent
        self.files, self.missing = deposit_flow.files_to_deposit(
            self.release, self.wizard.project.folder
        )
        self.show_plan()
        if dataset_of(self.release) is not None:
            self.read_server()

    # --- what will be sent -----------------------------------------------------------------------

    def show_plan(self) -> None:
        record = dataset_of(self.release)
        resources = (self.server_dataset or {}).get("resources") if self.server_dataset else None
        # Without the server's view yet, the state's word is taken for what is there.
        assumed = (
            resources
            if resources is not None
            else [
                {"id": f.resource_id, "filesize": f.size} for f in (record.files if record else ())
            ]
        )
        self.plan = plan_deposit(self.files, record, assumed)
        table = self.query_one("#deposit-files", DataTable)
        table.clear()
        sizes = {f.path: f.size for f in self.files}
        stopped = interrupted_uploads(record) if not self.running else {}
        for planned in self.plan:
            size = sizes.get(planned.path, planned.deposited.size if planned.deposited else 0)
            upload = stopped.get(planned.path)
            table.add_row(
                planned.path,
                format_size(size, self.cat.lang),
                action_text(self.cat, planned.action),
                ""
                if upload is None
                else self.t(
                    "deposit.journey.state_interrupted",
                    done=upload.done_parts,
                    total=upload.total_parts,
                ),
                key=planned.path,
            )
        total = sum(f.size for f in self.files)
        lines = [
            self.t(
                "deposit.summary",
                count=len(self.files),
                size=format_size(total, self.cat.lang),
                dataset=self.dataset_shown(),
            )
        ]
        lines.extend(
            self.t(
                "deposit.journey.interrupted",
                path=path,
                done=upload.done_parts,
                total=upload.total_parts,
            )
            for path, upload in stopped.items()
            if path in sizes
        )
        if self.missing:
            lines.append(self.t("deposit.missing", paths=", ".join(self.missing)))
        refused = unsupported_formats(self.files, self.lists.extensions if self.lists else ())
        if refused:
            lines.append(self.t("deposit.refused", paths=", ".join(f.path for f in refused)))
        self.query_one("#deposit-summary", Static).update("\n".join(lines))

    def dataset_shown(self) -> str:
        """The dataset's address once made (its page, or the one built from its slug where the
        portal gives none, as a local udata): never "not created yet" once it is."""
        record = dataset_of(self.release)
        if record is None:
            return self.t("deposit.no_dataset")
        return dataset_page_url(record)

    def resource_plans(self) -> list[ResourcePlan]:
        return [
            planned_resource(f.upload_name, resource_type=f.kind, description="-")
            for f in self.files
        ]

    def server_quality(self) -> Quality | None:
        return quality_from_server(self.server_dataset) if self.server_dataset else None

    def _lists_loaded(self, lists: Any) -> None:
        super()._lists_loaded(lists)
        self.show_plan()

    # --- the server's view -----------------------------------------------------------------------

    def read_server(self) -> None:
        record = dataset_of(self.release)
        if record is None:
            return
        self.call_portal(
            lambda client: client.dataset(record.dataset_id),
            self.server_read,
            status=self.t("deposit.reading"),
        )

    def server_read(self, dataset: dict[str, Any]) -> None:
        self.server_dataset = dataset
        self.show_plan()
        self.refresh_documentation()

    # --- sending ---------------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        handlers = {
            "deposit-run": self.start_deposit,
            "deposit-cancel": self.cancel_deposit,
            "deposit-verify": self.verify,
        }
        handler = handlers.get(event.button.id or "")
        if handler is None:
            super().on_button_pressed(event)
            return
        handler()

    def _listed(self, files: list[LocalFile]) -> None:
        """The files to send, once the dictionary was written again if a table changed."""
        self.files = files
        self.show_plan()
        self.show_dictionary_state()

    def dictionary_closed(self, _: None = None) -> None:
        self.files, self.missing = deposit_flow.files_to_deposit(
            self.release, self.wizard.project.folder
        )
        self.show_plan()
        super().dictionary_closed()

    def start_deposit(self) -> None:
        if self.running:
            return
        doc_problems = [(c.key, c.params) for c in self.documentation_checks() if not c.ok]
        try:
            organization_id = deposit_flow.check(self.release, doc_problems, self.missing)
        except PublishStop as stop:
            if stop.key == "publish.stop.missing_files":
                self.show_status(self.t("deposit.missing", paths=", ".join(self.missing)), "error")
            else:
                self.show_tab("tab-documentation")
                self.show_status(
                    "\n".join(self.t(key, **params) for key, params in doc_problems)
                    or self.t("doc.check.organization"),
                    "error",
                )
            return
        if self.nothing_to_redo():
            self.verify()  # a done deposit with nothing changed is checked, not reopened
            return
        self.cancel_event = threading.Event()
        if not deposit_flow.reopen(flow_context(self.wizard, self.cancel_event)):
            return
        self.running = True
        self.query_one("#deposit-run", Button).disabled = True
        self.query_one("#deposit-cancel", Button).disabled = False
        self.show_status(self.t("deposit.running"), "working")
        self._deposit(self.documentation(), organization_id, self.cancel_event)

    def nothing_to_redo(self) -> bool:
        """Done, every file on the server unchanged, the documentation the one sent: reopening
        would only send the publication back to review."""
        doc = self.documentation_outputs()[DOCUMENTATION_KEY]
        return deposit_flow.nothing_to_redo(self.release, doc, self.server_dataset, self.plan)

    def action_back(self) -> None:
        if self.running:  # leaving would orphan the upload: cancel it first
            self.notify(self.t("deposit.busy"), severity="warning")
            return
        super().action_back()

    def action_commit(self) -> None:
        if self.running:
            self.notify(self.t("deposit.busy"), severity="warning")
            return
        super().action_commit()

    def cancel_deposit(self) -> None:
        self.cancel_event.set()
        self.show_status(self.t("deposit.cancelling"), "working")

    @work(thread=True, exclusive=True, group="deposit")
    def _deposit(self, doc: Documentation, organization_id: str, cancel: threading.Event) -> None:
        app = self.wizard
        try:
            # The dictionary and schemas go with the data, describing the tables as they are:
            # written again first when a table changed (the descriptions typed are kept).
            refresh_dictionary(app.project.release, app.project.folder)
            files, _missing = deposit_flow.files_to_deposit(app.project.release, app.project.folder)
            app.call_from_thread(self._listed, files)
            with app.portal.client(self.site) as client:
                outcome = deposit_flow.run(
                    flow_context(app, cancel),
                    client,
                    folder=app.project.folder,
                    files=files,
                    doc=doc,  # what is sent, not the live form
                    organization_id=organization_id,
                    describe=resource_description,
                    on_event=lambda e: app.call_from_thread(self._event, e),
                    chunk_size=app.portal.chunk_size,
                )
                dataset = client.dataset(outcome.record.dataset_id)
        except ApiError as error:
            self.app.call_from_thread(self._deposit_refused, error)
            return
        except HdhWizardError as error:  # no key, a locked keyring…
            self.app.call_from_thread(self._deposit_stopped, error.message(self.cat))
            return
        except OSError as error:
            message = self.t(
                "deposit.error.read", path=str(error.filename or ""), detail=error.strerror or ""
            )
            self.app.call_from_thread(self._deposit_stopped, message)
            return
        self.app.call_from_thread(self._deposited, outcome, dataset, doc)

    def _event(self, event: DepositEvent) -> None:
        if not self.is_attached:
            return  # the screen was left: the work goes on, and is saved, without it
        bar = self.query_one("#deposit-progress", ProgressBar)
        text = self.query_one("#deposit-progress-text", Static)
        table = self.query_one("#deposit-files", DataTable)
        if event.kind == "uploading" and event.progress is not None:
            bar.display = True
            bar.update(total=max(event.progress.total, 1), progress=event.progress.sent)
            text.update(progress_text(self.cat, event))
            self._set_cell(table, event.path, self.t("deposit.state.sending"))
        elif event.kind == "hashing":
            text.update(self.t("deposit.hashing", path=event.path))
            self._set_cell(table, event.path, self.t("deposit.state.hashing"))
        elif event.kind == "file_done":
            self._set_cell(table, event.path, self.t("deposit.state.done"))
        elif event.kind == "deleted":
            self._set_cell(table, event.path, self.t("deposit.state.deleted"))
        elif event.kind == "dataset":
            text.update(self.t("deposit.dataset_ready"))

    @staticmethod
    def _set_cell(table: DataTable[Any], row: str, value: str) -> None:
        with contextlib.suppress(CellDoesNotExist):  # a row not shown (a file removed meanwhile)
            table.update_cell(row, "state", value)

    def _deposit_refused(self, error: ApiError) -> None:
        if error.kind is ErrorKind.CANCELLED:
            self._deposit_stopped(self.t("deposit.cancelled"))
        else:
            self._deposit_stopped(self.explain(error))

    def _deposit_stopped(self, message: str) -> None:
        if not self.is_attached:
            self.app.notify(message, severity="error", timeout=15)
            return
        self.running = False
        self.query_one("#deposit-run", Button).disabled = False
        self.query_one("#deposit-cancel", Button).disabled = True
        self.show_status(message, "error")
        self.show_plan()  # what was sent, and where an upload stopped
        self.refresh_checks()

    def _deposited(
        self, outcome: DepositOutcome, dataset: dict[str, Any], doc: Documentation
    ) -> None:
        if not self.is_attached:
            self.app.notify(self.t("deposit.finished_elsewhere"), timeout=15)
            return
        self.running = False
        self.query_one("#deposit-run", Button).disabled = False
        self.query_one("#deposit-cancel", Button).disabled = True
        self.outcome = outcome
        self.server_dataset = dataset
        self.sent_documentation = {DOCUMENTATION_KEY: documentation_to_outputs(doc)}
        self.show_status("", "")
        self.show_outcome()
        self.show_plan()
        self.refresh_documentation()
        self.refresh_checks()

    def show_outcome(self) -> None:
        result = self.query_one("#deposit-result", Static)
        outcome = self.outcome
        if outcome is None:
            return
        if outcome.verified:
            result.update(
                Text(
                    self.t(
                        "deposit.verified",
                        count=len(outcome.record.files),
                        page=outcome.record.page or outcome.record.dataset_id,
                    ),
                    style="green",
                )
            )
        else:
            lines = [mismatch_text(self.cat, m) for m in outcome.mismatches]
            result.update(Text(self.t("deposit.not_verified") + "\n" + "\n".join(lines), "red"))

    # --- verification alone ----------------------------------------------------------------------

    def verify(self) -> None:
        record = dataset_of(self.release)
        if record is None:
            self.show_status(self.t("deposit.no_dataset"), "error")
            return
        files = self.files

        def check(client: Any) -> tuple[DepositOutcome, dict[str, Any]]:
            run = DepositRun(
                client=client,
                site=self.site,
                folder=self.wizard.project.folder,
                files=files,
                payload={},
                describe=lambda f, d: "",
                save=lambda r: None,
            )
            mismatches = run.verify(record)
            dataset = client.dataset(record.dataset_id)
            plan = plan_deposit(files, record, dataset.get("resources") or [])
            return DepositOutcome(record, tuple(plan), tuple(mismatches)), dataset

        self.call_portal(check, self._verified, status=self.t("deposit.verifying"))

    def _verified(self, result: tuple[DepositOutcome, dict[str, Any]]) -> None:
        self.outcome, self.server_dataset = result
        # The state keeps the documentation that was sent: the form still shows it, or not.
        saved = self.release.record(self.step_id).outputs.get(DOCUMENTATION_KEY)
        shown = self.documentation_outputs()
        self.sent_documentation = shown if saved == shown.get(DOCUMENTATION_KEY) else None
        self.show_outcome()
        self.show_plan()
        self.refresh_documentation()

    # --- the step --------------------------------------------------------------------------------

    def read_outputs(self) -> dict[str, Any]:
        outputs = self.documentation_outputs()
        record = dataset_of(self.release)
        if record is not None:
            outputs["dataset"] = record.to_outputs()
        return outputs

    def step_checks(self) -> list[Check]:
        record = dataset_of(self.release)
        verified = (
            self.outcome is not None
            and self.outcome.verified
            and record is not None
            and self.outcome.record.dataset_id == record.dataset_id
        )
        pending = [p for p in self.plan if p.action is not Action.KEEP]
        return [
            *self.documentation_checks(),
            Check("dictionary.check.current", self.dictionary_state() in DICTIONARY_READY),
            Check("deposit.check.files", bool(self.files) and not self.missing),
            Check("deposit.check.dataset", record is not None),
            Check("deposit.check.all_sent", record is not None and not pending),
            Check("deposit.check.verified", verified),
            Check(
                "deposit.check.documentation_sent",
                self.sent_documentation is not None
                and self.sent_documentation == self.documentation_outputs(),
            ),
        ]
