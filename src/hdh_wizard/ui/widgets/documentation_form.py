"""The standardized documentation template as a form, with its quality score beside it.

Shared by the deposit (route 1) and the dataset page (route 2). It reads into and loads from a
`core.documentation.Documentation`; the rules (tags, licences, score) live in the core.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from hdh_wizard.core.documentation import FREQUENCIES, Documentation, TemporalCoverage
from hdh_wizard.core.period import format_bound, parse_bound
from hdh_wizard.core.quality import Quality
from hdh_wizard.i18n.catalogue import Catalogue

DEFAULT_LICENSES = (("lov2", "Licence Ouverte / Open Licence version 2.0"),)
DEFAULT_GRANULARITIES = (("country", "Pays"),)


def split_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace(";", ",").split(",") if part.strip())


class DocumentationForm(Vertical):
    """Title, description, licence, tags, coverage, frequency, contact."""

    def __init__(self, cat: Catalogue) -> None:
        super().__init__(id="documentation-form")
        self.cat = cat
        self.licenses: Sequence[tuple[str, str]] = DEFAULT_LICENSES
        self.granularities: Sequence[tuple[str, str]] = DEFAULT_GRANULARITIES
        self.zone_names: dict[str, str] = {"country:fr": "France"}

    def t(self, key: str, **params: object) -> str:
        return self.cat.t(key, **params)

    def compose(self) -> ComposeResult:
        t = self.t
        yield Label(t("doc.field.title"), classes="field-label")
        yield Input(id="doc-title")
        yield Label(t("doc.field.acronym"), classes="field-label")
        yield Input(id="doc-acronym", placeholder=t("doc.placeholder.acronym"))
        yield Label(t("doc.field.description_short"), classes="field-label")
        yield Input(id="doc-short", placeholder=t("doc.placeholder.description_short"))
        yield Label(t("doc.field.description"), classes="field-label")
        yield TextArea(id="doc-description", language="markdown")
        with Horizontal(classes="portal-buttons"):
            yield Button(t("doc.button.template"), id="doc-template")
        yield Label(t("doc.field.license"), classes="field-label")
        yield Select(
            [(title, lid) for lid, title in self.licenses],
            id="doc-license",
            value="lov2",
            allow_blank=False,
        )
        yield Label(t("doc.field.tags"), classes="field-label")
        yield Input(id="doc-tags", placeholder=t("doc.placeholder.tags"))
        yield Static(id="doc-tag-advice", classes="portal-note")
        with Horizontal(classes="portal-buttons"):
            yield Button(t("doc.button.add_tags"), id="doc-add-tags")
        with Horizontal(classes="doc-row"):
            with Vertical():
                yield Label(t("doc.field.start"), classes="field-label")
                yield Input(id="doc-start", placeholder=t("doc.placeholder.start"))
            with Vertical():
                yield Label(t("doc.field.end"), classes="field-label")
                yield Input(id="doc-end", placeholder=t("doc.placeholder.end"))
        yield Label(t("doc.field.frequency"), classes="field-label")
        yield Select(
            [(t(f"doc.frequency.{f}"), f) for f in FREQUENCIES],
            id="doc-frequency",
            value="punctual",
            allow_blank=False,
        )
        yield Label(t("doc.field.zones"), classes="field-label")
        yield Input(id="doc-zones", value="country:fr")
        yield Input(id="doc-zone-search", placeholder=t("doc.placeholder.zone_search"))
        yield OptionList(id="doc-zone-results")
        yield Label(t("doc.field.granularity"), classes="field-label")
        yield Select(
            [(name, gid) for gid, name in self.granularities],
            id="doc-granularity",
            value="country",
            allow_blank=False,
        )
        with Horizontal(classes="doc-row"):
            with Vertical():
                yield Label(t("doc.field.contact_name"), classes="field-label")
                yield Input(id="doc-contact-name")
            with Vertical():
                yield Label(t("doc.field.contact_email"), classes="field-label")
                yield Input(id="doc-contact-email")
        yield Label(t("doc.quality.title"), classes="section-title")
        yield Static(id="doc-quality", classes="portal-result")

    # --- reading and loading --------------------------------------------------------------------

    def read(self) -> Documentation:
        start = parse_bound(self.query_one("#doc-start", Input).value, end=False)
        end = parse_bound(self.query_one("#doc-end", Input).value, end=True)
        # As typed: the checks name a tag udata would refuse; the payload normalises them.
        tags = tuple(dict.fromkeys(split_list(self.value("#doc-tags"))))
        return Documentation(
            title=self.value("#doc-title").strip(),
            description=self.query_one("#doc-description", TextArea).text,
            description_short=self.value("#doc-short").strip(),
            license=str(self.query_one("#doc-license", Select).value),
            tags=tags,
            temporal=TemporalCoverage(start, end) if start else None,
            frequency=str(self.query_one("#doc-frequency", Select).value),
            zones=split_list(self.value("#doc-zones")),
            granularity=str(self.query_one("#doc-granularity", Select).value),
            contact_name=self.value("#doc-contact-name").strip(),
            contact_email=self.value("#doc-contact-email").strip(),
            acronym=self.value("#doc-acronym").strip(),
        )

    def value(self, selector: str) -> str:
        return self.query_one(selector, Input).value

    def typed_dates(self) -> tuple[str, str]:
        return self.value("#doc-start"), self.value("#doc-end")

    def load(self, doc: Documentation) -> None:
        self.query_one("#doc-title", Input).value = doc.title
        self.query_one("#doc-short", Input).value = doc.description_short
        self.query_one("#doc-acronym", Input).value = doc.acronym
        self.query_one("#doc-description", TextArea).text = doc.description
        self.set_licenses(self.licenses, doc.license)
        self.query_one("#doc-tags", Input).value = ", ".join(doc.tags)
        start = doc.temporal.start if doc.temporal else None
        end = doc.temporal.end if doc.temporal else None
        self.query_one("#doc-start", Input).value = format_bound(start)
        self.query_one("#doc-end", Input).value = format_bound(end)
        if doc.frequency in FREQUENCIES:
            self.query_one("#doc-frequency", Select).value = doc.frequency
        self.query_one("#doc-zones", Input).value = ", ".join(doc.zones)
        self.set_granularities(self.granularities, doc.granularity)
        self.query_one("#doc-contact-name", Input).value = doc.contact_name
        self.query_one("#doc-contact-email", Input).value = doc.contact_email

    def set_description(self, text: str) -> None:
        self.query_one("#doc-description", TextArea).text = text

    # --- lists from the server -------------------------------------------------------------------

    def set_licenses(self, licenses: Sequence[tuple[str, str]], chosen: str | None = None) -> None:
        select = self.query_one("#doc-license", Select)
        current = chosen or str(select.value)
        known = list(licenses)
        if current and current not in {lid for lid, _ in known}:
            # Kept visible so the check can say it is unknown, rather than silently replaced.
            known.append((current, self.t("doc.license_unknown", id=current)))
        self.licenses = licenses
        select.set_options([(title, lid) for lid, title in known])
        select.value = current or "lov2"

    def set_granularities(
        self, granularities: Sequence[tuple[str, str]], chosen: str | None = None
    ) -> None:
        select = self.query_one("#doc-granularity", Select)
        current = chosen or str(select.value)
        known = list(granularities)
        if current and current not in {gid for gid, _ in known}:
            known.append((current, current))
        self.granularities = granularities
        select.set_options([(name, gid) for gid, name in known])
        select.value = current or "country"

    def show_zone_results(self, zones: Sequence[tuple[str, str]]) -> None:
        results = self.query_one("#doc-zone-results", OptionList)
        results.clear_options()
        for zone_id, label in zones:
            self.zone_names[zone_id] = label
            results.add_option(Option(f"{label} ({zone_id})", id=zone_id))
        if not zones:
            results.add_option(Option(self.t("doc.zone_none"), disabled=True))

    def add_zone(self, zone_id: str) -> None:
        zones = list(split_list(self.value("#doc-zones")))
        if zone_id not in zones:
            zones.append(zone_id)
        self.query_one("#doc-zones", Input).value = ", ".join(zones)

    def add_tags(self, tags: Sequence[str]) -> None:
        current = list(split_list(self.value("#doc-tags")))
        for tag in tags:
            if tag not in current:
                current.append(tag)
        self.query_one("#doc-tags", Input).value = ", ".join(current)

    # --- advice and score ------------------------------------------------------------------------

    def show_tag_advice(self, missing: Sequence[str], has_theme: bool) -> None:
        advice = self.query_one("#doc-tag-advice", Static)
        lines = Text()
        if missing:
            lines.append(self.t("doc.tags_missing", tags=", ".join(missing)) + "\n", "yellow")
        if not has_theme:
            lines.append(self.t("doc.tags_no_theme") + "\n", "yellow")
        if not lines:
            lines.append(self.t("doc.tags_complete"), "green")
        advice.update(lines)
        self.query_one("#doc-add-tags", Button).disabled = not missing and has_theme

    def show_quality(self, local: Quality, server: Quality | None = None) -> None:
        text = Text()
        met = sum(1 for c in local.criteria if c.ok)
        text.append(
            self.t(
                "doc.quality.score",
                score=round(local.score * 100),
                met=met,
                total=len(local.criteria),
            )
            + "\n",
            style="bold",
        )
        if server is not None:
            text.append(self.t("doc.quality.server", score=round(server.score * 100)) + "\n")
        for criterion in local.criteria:
            mark, style = ("✓", "green") if criterion.ok else ("✗", "red")
            text.append(f"{mark} ", style=style)
            text.append(self.t(f"doc.quality.criterion.{criterion.name}"))
            if not criterion.ok:
                explanation = self.t(criterion.explanation_key, **criterion.params)
                text.append(" — " + explanation, style="dim")
            text.append("\n")
        self.query_one("#doc-quality", Static).update(text)
