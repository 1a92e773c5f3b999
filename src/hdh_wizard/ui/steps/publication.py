"""III: publication. A review of what data.gouv.fr holds, then the private draft made public.

The review reads the dataset back from the server: metadata, files, and the quality score (the
server's, beside the one computed here). The first publication on www.data.gouv.fr asks for the
portal's name to be typed: it is the real thing, seen by everyone.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Static

from hdh_wizard.core.checks import Check
from hdh_wizard.core.enums import Environment
from hdh_wizard.core.portal_records import (
    PublicationRecord,
    dataset_of,
    same_site,
)
from hdh_wizard.core.quality import quality_from_server
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows import publication as pub_flow
from hdh_wizard.flows.stops import PublishStop
from hdh_wizard.i18n.formatting import format_size
from hdh_wizard.present.portal_presenters import dataset_review, resource_type_label
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.ui.flow_store import flow_context
from hdh_wizard.ui.screens.dialogs import TypedConfirmDialog
from hdh_wizard.ui.steps.portal_base import PortalStepScreen


class PublicationStepScreen(PortalStepScreen):
    step_id = StepId.PUBLICATION

    def __init__(self) -> None:
        super().__init__()
        self.dataset: dict[str, Any] | None = None
        self.record: PublicationRecord | None = None

    def compose_form(self) -> ComposeResult:
        yield Static(id="pub-site", classes="portal-site")
        yield Static(id="pub-review", classes="portal-result")
        yield DataTable(id="pub-resources", cursor_type="row", zebra_stripes=True)
        yield Static(id="pub-quality", classes="portal-note")
        with Horizontal(classes="portal-buttons"):
            yield Button(self.t("publication.button.publish"), id="publish", variant="success")
            yield Button(self.t("publication.button.reload"), id="pub-reload")
        yield self.status_line()
        yield Static(id="pub-result", classes="portal-result")

    def on_mount(self) -> None:
        super().on_mount()
        target = self.release.target
        style = "bold red" if target.environment is Environment.PRODUCTION else "bold"
        self.query_one("#pub-site", Static).update(
            Text(
                self.t("portal.site", site=self.site_label())
                + "\n"
                + self.t(f"publication.environment.{target.environment.value}"),
                style=style,
            )
        )
        table = self.query_one("#pub-resources", DataTable)
        for key in ("title", "format", "size", "type"):
            table.add_column(self.t(f"publication.col.{key}"), key=key)
        self.show_result()
        self.reload()

    def reload(self) -> None:
        record = dataset_of(self.release)
        if record is None:
            self.show_status(self.t("publication.no_dataset"), "error")
            return
        self.call_portal(
            lambda client: client.dataset(record.dataset_id),
            self.loaded,
            status=self.t("publication.reading"),
        )

    def loaded(self, dataset: dict[str, Any]) -> None:
        self.dataset = dataset
        self.query_one("#pub-review", Static).update(dataset_review(self.cat, dataset))
        table = self.query_one("#pub-resources", DataTable)
        table.clear()
        for resource in dataset.get("resources") or []:
            size = resource.get("filesize")
            table.add_row(
                str(resource.get("title", "")),
                str(resource.get("format", "")),
                format_size(size, self.cat.lang) if isinstance(size, int) else "—",
                resource_type_label(self.cat, str(resource.get("type", ""))),
            )
        quality = quality_from_server(dataset)
        text = Text(
            self.t("publication.quality", score=round(quality.score * 100)) + "\n", style="bold"
        )
        for criterion in quality.criteria:
            if not criterion.ok:
                text.append("✗ " + self.t(f"doc.quality.criterion.{criterion.name}"), style="red")
                explanation = self.t(criterion.explanation_key, **criterion.params)
                text.append(" — " + explanation + "\n", style="dim")
        self.query_one("#pub-quality", Static).update(text)
        if not dataset.get("private") and self.record is not None:
            self.show_result()

    def show_result(self) -> None:
        result = self.query_one("#pub-result", Static)
        if self.record is not None and same_site(self.record.site, self.site):
            result.update(
                Text(self.t("publication.published", page=self.record.page), style="green")
            )
        elif self.dataset is not None and not self.dataset.get("private"):
            result.update(self.t("publication.public_on_server"))
        else:
            result.update(self.t("publication.draft"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "publish":
            self.ask_publish()
        elif event.button.id == "pub-reload":
            self.reload()
        else:
            super().on_button_pressed(event)

    def ask_publish(self) -> None:
        try:
            pub_flow.check(self.release)
        except PublishStop as stop:
            key = "publication.no_dataset" if stop.key.endswith("no_dataset") else ""
            self.show_status(self.t(key or "publication.not_ready"), "error")
            return
        host = pub_flow.production_host(self.release)
        if host is not None:
            self.app.push_screen(
                TypedConfirmDialog(self.t("publication.confirm_production", host=host), host),
                lambda yes: self.publish() if yes else None,
            )
            return
        self.publish()

    def publish(self) -> None:
        record = dataset_of(self.release)
        if record is None:
            return
        app = self.wizard

        def call(client: DataGouvClient) -> tuple[dict[str, Any], PublicationRecord]:
            # The address is kept at once, so leaving without committing loses nothing.
            return pub_flow.publish_dataset(flow_context(app), client, record)

        self.call_portal(call, self.published, status=self.t("publication.publishing"))

    def published(self, result: tuple[dict[str, Any], PublicationRecord]) -> None:
        dataset, self.record = result
        self.loaded(dataset)
        self.show_result()
        self.notify(self.t("publication.published", page=self.record.page), timeout=15)

    def load_outputs(self, outputs: dict[str, Any]) -> None:
        record = PublicationRecord.from_outputs(outputs)
        if record is not None and same_site(record.site, self.site):
            self.record = record

    def read_outputs(self) -> dict[str, Any]:
        return self.record.to_outputs() if self.record else {}

    def step_checks(self) -> list[Check]:
        record = dataset_of(self.release)
        public = self.dataset is not None and not self.dataset.get("private")
        matches = (
            self.record is not None
            and record is not None
            and self.record.dataset_id == record.dataset_id
            and same_site(self.record.site, self.site)
        )
        return [
            Check("publication.check.dataset", record is not None),
            Check("publication.check.public", public and matches),
        ]
