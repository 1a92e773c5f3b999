"""Route 2, step 5: the dataset page with its documentation, and no file yet.

The files hosted by HDH are referenced on this page by URL later (step 7). The page is a
private draft until the publication step.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static, TabPane

from hdh_wizard.core import workflow
from hdh_wizard.core.checks import Check
from hdh_wizard.core.documentation import Documentation, documentation_to_outputs
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.portal_records import dataset_of, organization_of
from hdh_wizard.core.quality import Quality, quality_from_server
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.services.datagouv.deposit import DepositRun, dataset_body
from hdh_wizard.services.datagouv.errors import ApiError
from hdh_wizard.services.datagouv.session import MissingKey
from hdh_wizard.ui.steps.documentation_step import DOCUMENTATION_KEY, DocumentationStepScreen


class DatasetPageStepScreen(DocumentationStepScreen):
    step_id = StepId.DATASET_PAGE

    def __init__(self) -> None:
        super().__init__()
        self.server_dataset: dict[str, Any] | None = None
        self.sent_documentation: dict[str, Any] | None = None

    def compose_tabs(self) -> ComposeResult:
        with TabPane(self.t("page.tab.page"), id="tab-page"):
            yield Static(self.t("page.explain"), classes="portal-note")
            with Horizontal(classes="portal-buttons"):
                yield Button(self.t("page.button.send"), id="page-send", variant="success")
            yield Static(id="page-result", classes="portal-result")

    def on_mount(self) -> None:
        super().on_mount()
        self.show_page()

    def show_page(self) -> None:
        record = dataset_of(self.release)
        result = self.query_one("#page-result", Static)
        if record is None:
            result.update(self.t("page.none"))
        elif self.sent_documentation is not None:
            result.update(
                Text(self.t("page.sent", page=record.page or record.dataset_id), style="green")
            )
        else:
            result.update(self.t("page.exists", page=record.page or record.dataset_id))

    def server_quality(self) -> Quality | None:
        return quality_from_server(self.server_dataset) if self.server_dataset else None

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "page-send":
            self.send()
        else:
            super().on_button_pressed(event)

    def send(self) -> None:
        if self.busy:
            return  # one page per release: a second press must not create a second dataset
        blocking = [c for c in self.documentation_checks() if not c.ok]
        org = organization_of(self.release)
        if blocking or org is None:
            self.show_tab("tab-documentation")
            self.show_status("\n".join(self.t(c.key, **c.params) for c in blocking), "error")
            return
        status = self.release.record(self.step_id).status
        if status in (StepStatus.DONE, StepStatus.STALE):
            actor, now = self.wizard.actor, self.wizard.now()
            if not self.wizard.apply(
                lambda release: workflow.undo_step(release, self.step_id, actor, now)[0]
            ):
                return
        self.busy = True
        self.show_status(self.t("page.sending"), "working")
        self._send(self.documentation(), org.organization_id)

    @work(thread=True, exclusive=True, group="portal")
    def _send(self, doc: Documentation, organization_id: str) -> None:
        sent = {DOCUMENTATION_KEY: documentation_to_outputs(doc)}
        keep = self.progress_saver(doc)

        try:
            with self.wizard.portal.client(self.site) as client:
                record = dataset_of(self.release)
                run = DepositRun(
                    client=client,
                    site=self.site,
                    folder=self.wizard.project.folder,
                    files=(),
                    payload=dataset_body(client, doc, organization_id, record),
                    describe=lambda f, d: "",
                    save=keep,
                )
                record, dataset = run.ensure_dataset(record)
                keep(record)
        except MissingKey:
            self.app.call_from_thread(self._failed, self.t("portal.no_key"))
            return
        except ApiError as error:
            self.app.call_from_thread(self.api_failed, error)
            return
        except HdhWizardError as error:
            self.app.call_from_thread(self._failed, error.message(self.cat))
            return
        self.app.call_from_thread(self._sent, dataset, sent)

    def _sent(self, dataset: dict[str, Any], sent: dict[str, Any]) -> None:
        if not self.is_attached:
            return
        self.busy = False
        self.show_status("", "")
        self.server_dataset = dataset
        self.sent_documentation = sent
        self.show_page()
        self.refresh_documentation()
        self.refresh_checks()

    def read_outputs(self) -> dict[str, Any]:
        outputs = self.documentation_outputs()
        record = dataset_of(self.release)
        if record is not None:
            outputs["dataset"] = record.to_outputs()
        return outputs

    def step_checks(self) -> list[Check]:
        return [
            *self.documentation_checks(),
            Check("page.check.created", dataset_of(self.release) is not None),
            Check(
                "deposit.check.documentation_sent",
                self.sent_documentation is not None
                and self.sent_documentation == self.documentation_outputs(),
            ),
        ]
