"""What the deposit (route 1) and the dataset page (route 2) share: the documentation tab.

The form is the guide's standardized template; the quality score is computed here, with
data.gouv.fr's own criteria, before anything is sent. The lists the form offers (licences,
granularities) come from the portal itself, so an id it does not know is never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, OptionList, Static, TabbedContent, TabPane

from hdh_wizard.core.checks import Check
from hdh_wizard.core.documentation import (
    Documentation,
    check_documentation,
    description_template,
    documentation_from_outputs,
    documentation_to_outputs,
)
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.portal_records import dataset_of, organization_of
from hdh_wizard.core.quality import Quality, ResourcePlan, compute_quality
from hdh_wizard.core.steps import StepId
from hdh_wizard.core.tags import (
    USE_TAGS,
    has_theme_tags,
    missing_best_practice_tags,
    suggest_tags,
)
from hdh_wizard.core.volume import published_files
from hdh_wizard.flows.dictionary import DictionaryState, dictionary_state
from hdh_wizard.services.datagouv.errors import ApiError
from hdh_wizard.ui.screens.dictionary import DictionaryScreen
from hdh_wizard.ui.steps.portal_base import PortalStepScreen
from hdh_wizard.ui.widgets.documentation_form import DocumentationForm

DOCUMENTATION_KEY = "documentation"


@dataclass(frozen=True)
class PortalLists:
    """What the portal accepts, read once per screen (public endpoints, no key needed)."""

    licenses: tuple[tuple[str, str], ...]
    granularities: tuple[tuple[str, str], ...]
    extensions: frozenset[str]


def saved_documentation(outputs: dict[str, Any]) -> Documentation | None:
    raw = outputs.get(DOCUMENTATION_KEY)
    return documentation_from_outputs(raw) if isinstance(raw, dict) else None


class DocumentationStepScreen(PortalStepScreen):
    """A step screen whose first tab is the documentation form."""

    FIELD_WIDGETS = {
        "title": ("doc-title", "doc.field.title"),
        "acronym": ("doc-acronym", "doc.field.acronym"),
        "description": ("doc-description", "doc.field.description"),
        "description_short": ("doc-short", "doc.field.description_short"),
        "license": ("doc-license", "doc.field.license"),
        "tags": ("doc-tags", "doc.field.tags"),
        "temporal_coverage": ("doc-start", "doc.field.start"),
        "frequency": ("doc-frequency", "doc.field.frequency"),
        "spatial": ("doc-zones", "doc.field.zones"),
        "spatial.granularity": ("doc-granularity", "doc.field.granularity"),
        "contact_points": ("doc-contact-email", "doc.field.contact_email"),
        "organization": ("doc-site", "doc.check.organization"),
    }

    def __init__(self) -> None:
        super().__init__()
        self.lists: PortalLists | None = None
        self.loaded_doc = False
        self._dictionary: DictionaryState | None = None

    # --- layout ----------------------------------------------------------------------------------

    def compose_form(self) -> ComposeResult:
        yield Static(id="doc-site", classes="portal-site")
        with TabbedContent(id="doc-tabs", initial="tab-documentation"):
            with TabPane(self.t("doc.tab.documentation"), id="tab-documentation"):
                yield DocumentationForm(self.cat)
                with Horizontal(classes="doc-dictionary-row"):
                    yield Button(self.t("dictionary.button.open"), id="doc-dictionary")
                    yield Static("", id="doc-dictionary-state", markup=False)
            yield from self.compose_tabs()
        yield self.status_line()

    def compose_tabs(self) -> ComposeResult:
        """The step's own tabs, after the documentation."""
        yield from ()

    @property
    def doc_form(self) -> DocumentationForm:
        return self.query_one(DocumentationForm)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#doc-site", Static).update(self.t("portal.site", site=self.site_label()))
        if not self.loaded_doc:
            self.doc_form.load(self.default_documentation())
        self.refresh_documentation()
        self.show_dictionary_state()
        self._load_lists(self.site)

    # --- the data dictionary (its own screen) ----------------------------------------------------

    def dictionary_state(self) -> DictionaryState:
        """As last looked at: the checks ask at every key typed, and looking lists the files
        (a folder of slides walked). Looked at again by `show_dictionary_state`."""
        if self._dictionary is None:
            self._dictionary = dictionary_state(self.release, self.wizard.project.folder)
        return self._dictionary

    def show_dictionary_state(self) -> None:
        self._dictionary = None  # the files may have changed: look again
        state = self.dictionary_state()
        self.query_one("#doc-dictionary-state", Static).update(
            self.t(f"dictionary.state.{state.value}")
        )

    def dictionary_closed(self, _: None = None) -> None:
        """Back from the dictionary: what it wrote may change the files to send."""
        self.show_dictionary_state()
        self.refresh_checks()

    # --- the documentation -----------------------------------------------------------------------

    def default_documentation(self) -> Documentation:
        """A documentation saved on the other dataset step, else the template filled from the
        release (its name, the anonymity step's measures, the files)."""
        for step_id in (StepId.DEPOSIT, StepId.DATASET_PAGE):
            saved = saved_documentation(dict(self.release.record(step_id).outputs))
            if saved is not None:
                return saved
        return Documentation(
            title=self.release.name,
            description=self.template_text(),
            contact_name=self.wizard.actor.name,
        )

    def template_text(self) -> str:
        anonymity = self.release.record(StepId.ANONYMITY)
        outputs = dict(anonymity.outputs) if anonymity.status is StepStatus.DONE else None
        return description_template(
            self.release.name, outputs, self.cat.lang, files=published_files(self.release)
        )

    def documentation(self) -> Documentation:
        return self.doc_form.read()

    def org_acronym(self) -> str:
        org = organization_of(self.release)
        return org.acronym if org else ""

    def resource_plans(self) -> list[ResourcePlan]:
        """The resources the dataset will have, for the score; none by default."""
        return []

    def local_quality(self) -> Quality:
        known = {lid for lid, _ in self.lists.licenses} if self.lists else None
        return compute_quality(
            self.documentation(), self.resource_plans(), now=self.wizard.now(), known_licenses=known
        )

    def server_quality(self) -> Quality | None:
        return None

    def refresh_documentation(self) -> None:
        doc = self.documentation()
        form = self.doc_form
        add_tags = self.query_one("#doc-add-tags", Button)
        pressed = self.focused is add_tags
        form.show_tag_advice(
            missing_best_practice_tags(doc.tags, self.org_acronym()),
            has_theme_tags(doc.tags, self.org_acronym()),
        )
        if pressed and add_tags.disabled:
            # Disabled by its own result (nothing left to add), it would drop the focus, and
            # the next Tab would start again from the top of the form: the focus stays on it
            # (enabled: pressing it again adds nothing) until it moves on.
            add_tags.disabled = False
            self.set_focus(add_tags, scroll_visible=False)
        form.show_quality(self.local_quality(), self.server_quality())

    def documentation_checks(self) -> list[Check]:
        doc = self.documentation()
        lists = self.lists
        problems = check_documentation(
            doc,
            known_licenses={lid for lid, _ in lists.licenses} if lists else None,
            known_granularities={gid for gid, _ in lists.granularities} if lists else None,
        )
        checks = [Check(p.key, False, p.params) for p in problems]
        start, end = self.doc_form.typed_dates()
        if start.strip() and doc.temporal is None:
            checks.append(Check("doc.form.date_unreadable", False, {"text": start}))
        if end.strip() and (doc.temporal is None or doc.temporal.end is None):
            checks.append(Check("doc.form.date_unreadable", False, {"text": end}))
        checks.append(Check("doc.check.organization", organization_of(self.release) is not None))
        if not problems:
            checks.append(Check("doc.check.complete", True))
        return checks

    # --- events ----------------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "doc-zone-search":
            query = event.value.strip()
            if len(query) >= 2:
                self._search_zones(self.site, query)
            return
        self.refresh_documentation()
        super().on_input_changed(event)

    def on_text_area_changed(self, event: Any) -> None:
        self.refresh_documentation()
        super().on_text_area_changed(event)

    def on_select_changed(self, _: Any) -> None:
        self.refresh_documentation()
        self.refresh_checks()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "doc-zone-results" and event.option.id:
            self.doc_form.add_zone(event.option.id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "doc-template":
            event.prevent_default()  # handled once (see the dictionary button)
            template = self.template_text()
            if self.documentation().description.strip() in ("", template.strip()):
                self.doc_form.set_description(template)
            else:  # hours of writing could go in one click: ask first
                self.wizard.confirm(
                    self.t("doc.confirm_template"),
                    lambda: self._reset_description(template),
                )
            return
        elif event.button.id == "doc-dictionary":
            # Handled once: Textual also calls this class's handler after a subclass's own
            # (which hands unknown buttons to `super()`), and a second push would clash.
            event.prevent_default()
            if not any(isinstance(s, DictionaryScreen) for s in self.app.screen_stack):
                self.app.push_screen(DictionaryScreen(), self.dictionary_closed)
            return
        elif event.button.id == "doc-add-tags":
            doc = self.documentation()
            # The use keywords (data-challenge, prediction…) are the partner's call: only advised.
            suggested = suggest_tags(self.org_acronym(), self.release.name, doc.tags)
            self.doc_form.add_tags([tag for tag in suggested if tag not in USE_TAGS])
        else:
            super().on_button_pressed(event)
            return
        event.prevent_default()  # handled once (see the dictionary button)
        self.refresh_documentation()
        self.refresh_checks()

    def _reset_description(self, template: str) -> None:
        self.doc_form.set_description(template)
        self.refresh_documentation()
        self.refresh_checks()

    # --- the portal's lists ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="lists")
    def _load_lists(self, site: str) -> None:
        try:
            with self.wizard.portal.anonymous(site) as client:
                lists = PortalLists(
                    tuple((lic.id, lic.title) for lic in client.licenses()),
                    tuple((g.id, g.name) for g in client.granularities()),
                    client.allowed_extensions(),
                )
        except ApiError:
            return  # the form keeps its defaults; the deposit itself will say what is wrong
        self.app.call_from_thread(self._lists_loaded, lists)

    def _lists_loaded(self, lists: PortalLists) -> None:
        self.lists = lists
        doc = self.documentation()
        self.doc_form.set_licenses(lists.licenses, doc.license)
        self.doc_form.set_granularities(lists.granularities, doc.granularity)
        self.refresh_documentation()
        self.refresh_checks()

    @work(thread=True, exclusive=True, group="zones")
    def _search_zones(self, site: str, query: str) -> None:
        try:
            with self.wizard.portal.anonymous(site) as client:
                zones = [(z.id, z.name) for z in client.zones_suggest(query, size=8)]
        except ApiError:
            zones = []
        self.app.call_from_thread(self._zones_found, query, zones)

    def _zones_found(self, query: str, zones: list[tuple[str, str]]) -> None:
        # A slower answer to an older query must not replace the newer one's.
        if self.is_attached and self.doc_form.value("#doc-zone-search").strip() == query:
            self.doc_form.show_zone_results(zones)

    # --- outputs ---------------------------------------------------------------------------------

    def load_outputs(self, outputs: dict[str, Any]) -> None:
        saved = saved_documentation(outputs)
        if saved is not None:
            self.doc_form.load(saved)
            self.loaded_doc = True

    def documentation_outputs(self) -> dict[str, Any]:
        return {DOCUMENTATION_KEY: documentation_to_outputs(self.documentation())}

    def has_dataset(self) -> bool:
        return dataset_of(self.release) is not None

    def show_tab(self, tab_id: str) -> None:
        """Switch tab, and take the focus there: a field left focused in the hidden tab would
        bring its tab back."""
        tabs = self.query_one("#doc-tabs", TabbedContent)
        focusable = [w for w in tabs.query(f"#{tab_id} *") if w.focusable]
        if focusable:
            focusable[0].focus()
        tabs.active = tab_id
