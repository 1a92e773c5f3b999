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

from hdh_wizard.core.checks import Check
from hdh_wizard.core.documentation import Documentation, documentation_to_outputs
from hdh_wizard.core.portal_records import dataset_of
from hdh_wizard.core.quality import Quality, quality_from_server
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.flows import dataset_page as page_flow
from hdh_wizard.flows.stops import PublishStop
from hdh_wizard.present.portal_presenters import dataset_page_url
from hdh_wizard.services.datagouv.errors import ApiError
from hdh_wizard.ui.flow_store import flow_context
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
            result.update(Text(self.t("page.sent", page=dataset_page_url(record)), style="green"))
        else:
            result.update(self.t("page.exists", page=dataset_page_url(record)))

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
        doc_problems = [(c.key, c.params) for c in self.documentation_checks() if not c.ok]
        try:
            organization_id = page_flow.check(self.release, doc_problems)
        except PublishStop:
            self.show_tab("tab-documentation")
            self.show_status("\n".join(self.t(k, **p) for k, p in doc_problems), "error")
            return
        # The form is sent again even when nothing changed: the page is put back as it says.
        if not page_flow.reopen(flow_context(self.wizard)):
            return
        self.busy = True
        self.show_status(self.t("page.sending"), "working")
        self._send(self.documentation(), organization_id)

    @work(thread=True, exclusive=True, group="portal")
    def _send(self, doc: Documentation, organization_id: str) -> None:
        sent = {DOCUMENTATION_KEY: documentation_to_outputs(doc)}
        app = self.wizard
        try:
            with app.portal.client(self.site) as client:
                _, dataset = page_flow.run(
                    flow_context(app),
                    client,
                    folder=app.project.folder,
                    doc=doc,
                    organization_id=organization_id,
                )
        except ApiError as error:
            self.app.call_from_thread(self.api_failed, error)
            return
        except HdhWizardError as error:  # no key, a locked keyring…
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
