"""Route step "organization": the organization the dataset is published under.

The guide's advice: publish under an organization (e.g. "Consortium VisioMel"), never in one's
own name. The partner picks one of the organizations their account belongs to, or creates one.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from hdh_wizard.core.checks import Check
from hdh_wizard.core.organization_form import OrganizationForm, check_organization_form
from hdh_wizard.core.portal_records import OrganizationRecord, same_site
from hdh_wizard.core.steps import StepId
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.models import Organization
from hdh_wizard.ui.steps.portal_base import PortalStepScreen

_FIELDS = ("org-name", "org-acronym", "org-url")


class OrganizationStepScreen(PortalStepScreen):
    step_id = StepId.ORGANIZATION
    FIELD_WIDGETS = {
        "name": ("org-name", "organization.field.name"),
        "acronym": ("org-acronym", "organization.field.acronym"),
        "description": ("org-description", "organization.field.description"),
        "url": ("org-url", "organization.field.url"),
    }

    def __init__(self) -> None:
        super().__init__()
        self.record: OrganizationRecord | None = None
        self.organizations: list[Organization] = []

    def compose_form(self) -> ComposeResult:
        yield Static(id="org-site", classes="portal-site")
        yield Static(self.t("organization.advice"), classes="portal-note")
        yield Label(self.t("organization.mine"), classes="field-label")
        yield OptionList(id="org-list")
        with Horizontal(classes="portal-buttons"):
            yield Button(self.t("organization.button.refresh"), id="org-refresh")
        yield Label(self.t("organization.create_title"), classes="section-title")
        yield Label(self.t("organization.field.name"), classes="field-label")
        yield Input(placeholder=self.t("organization.placeholder.name"), id="org-name")
        yield Label(self.t("organization.field.acronym"), classes="field-label")
        yield Input(placeholder=self.t("organization.placeholder.acronym"), id="org-acronym")
        yield Label(self.t("organization.field.description"), classes="field-label")
        yield TextArea(id="org-description")
        yield Label(self.t("organization.field.url"), classes="field-label")
        yield Input(placeholder="https://", id="org-url")
        with Horizontal(classes="portal-buttons"):
            yield Button(self.t("organization.button.create"), id="org-create", variant="success")
        yield self.status_line()
        yield Static(id="org-chosen", classes="portal-result")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#org-site", Static).update(
            Text(self.t("portal.site", site=self.site_label()), style="bold")
        )
        self.show_chosen()
        self.refresh_list()

    # --- the user's organizations ----------------------------------------------------------------

    def refresh_list(self) -> None:
        self.call_portal(
            lambda client: client.my_organizations(),
            self.listed,
            status=self.t("organization.loading"),
        )

    def listed(self, organizations: list[Organization]) -> None:
        self.organizations = organizations
        options = self.query_one("#org-list", OptionList)
        options.clear_options()
        if not organizations:
            options.add_option(Option(self.t("organization.none_yet"), disabled=True))
            return
        for org in organizations:
            label = f"{org.name} ({org.acronym})" if org.acronym else org.name
            options.add_option(Option(label, id=org.id))
        # The chosen one highlighted, else the first (the only one, often): Enter selects the
        # highlighted option, and with none highlighted it did nothing.
        chosen = self.record.organization_id if self.record is not None else None
        options.highlighted = next(
            (index for index, org in enumerate(organizations) if org.id == chosen), 0
        )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        chosen = next((o for o in self.organizations if o.id == event.option.id), None)
        if chosen is not None:
            self.choose(chosen, created=False)

    def choose(self, org: Organization, *, created: bool) -> None:
        self.record = OrganizationRecord(
            self.site, org.id, org.name, org.acronym, org.slug, org.page, created
        )
        self.show_chosen()
        self.refresh_checks()

    def show_chosen(self) -> None:
        chosen = self.query_one("#org-chosen", Static)
        if self.record is None:
            chosen.update(self.t("organization.none_chosen"))
            return
        chosen.update(
            Text(
                self.t(
                    "organization.chosen",
                    name=self.record.name,
                    page=self.record.page or self.record.slug or self.record.organization_id,
                ),
                style="green",
            )
        )

    # --- creating one ----------------------------------------------------------------------------

    def form(self) -> OrganizationForm:
        return OrganizationForm(
            name=self.query_one("#org-name", Input).value,
            acronym=self.query_one("#org-acronym", Input).value,
            description=self.query_one("#org-description", TextArea).text,
            url=self.query_one("#org-url", Input).value,
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "org-refresh":
            self.refresh_list()
        elif event.button.id == "org-create":
            self.create()
        else:
            super().on_button_pressed(event)

    def create(self) -> None:
        form = self.form()
        problems = check_organization_form(form)
        if problems:
            self.show_status("\n".join(self.t(p.key, **p.params) for p in problems), "error")
            return

        def create(client: DataGouvClient) -> Organization:
            return client.create_organization(
                form.name.strip(),
                form.description.strip(),
                acronym=form.acronym.strip(),
                url=form.url.strip(),
            )

        self.call_portal(create, self.created, status=self.t("organization.creating"))

    def created(self, org: Organization) -> None:
        self.organizations = [*self.organizations, org]
        self.listed(self.organizations)
        self.choose(org, created=True)
        self.notify(self.t("organization.created", name=org.name))

    # --- the step --------------------------------------------------------------------------------

    def load_outputs(self, outputs: dict[str, Any]) -> None:
        record = OrganizationRecord.from_outputs(outputs)
        if record is not None and same_site(record.site, self.site):
            self.record = record
        draft = outputs.get("draft")
        if isinstance(draft, dict):
            form = OrganizationForm.from_outputs(draft)
            self.query_one("#org-name", Input).value = form.name
            self.query_one("#org-acronym", Input).value = form.acronym
            self.query_one("#org-description", TextArea).text = form.description
            self.query_one("#org-url", Input).value = form.url

    def read_outputs(self) -> dict[str, Any]:
        outputs = self.record.to_outputs() if self.record else {}
        form = self.form()
        if any((form.name, form.acronym, form.description, form.url)):
            outputs["draft"] = form.to_outputs()
        return outputs

    def step_checks(self) -> list[Check]:
        chosen = self.record is not None and same_site(self.record.site, self.site)
        member = (
            chosen and any(o.id == self.record.organization_id for o in self.organizations)
            if self.record
            else False
        )
        return [
            Check("organization.check.chosen", chosen),
            Check("organization.check.member", member),
        ]
