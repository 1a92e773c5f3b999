"""The documentation template: its state, the udata request bodies, its checks, tags as udata stores
them, and the Markdown description prefilled from the anonymity step."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hdh_wizard.core import workflow
from hdh_wizard.core.documentation import (
    FREQUENCIES,
    PUT_FIELDS,
    Documentation,
    FieldProblem,
    TemporalCoverage,
    anonymity_summary,
    check_documentation,
    dataset_payload,
    description_template,
    documentation_from_outputs,
    documentation_to_outputs,
    frequency_label_key,
    has_placeholders,
    merge_for_put,
)
from hdh_wizard.core.enums import Role as PersonRole
from hdh_wizard.core.release import Person
from hdh_wizard.core.state_file import dump_release, load_release
from hdh_wizard.core.steps import StepId
from hdh_wizard.core.tags import (
    HDH_TAGS,
    TAG_MAX_LENGTH,
    TAG_MIN_LENGTH,
    can_preview,
    has_theme_tags,
    missing_best_practice_tags,
    normalise_tags,
    slugify_tag,
    suggest_tags,
)
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.inspect.risk.analysis import Choice, Criterion, TableRisk, TableScan
from hdh_wizard.inspect.risk.generalise import Coarsening, ColumnRule
from hdh_wizard.inspect.risk.identifiers import Finding, IdRule, Role
from hdh_wizard.inspect.risk.measures import RiskMeasures
from hdh_wizard.inspect.risk.report import Attestation, Replacement, RiskReport
from hdh_wizard.inspect.risk.step import step_outputs

ROOT = Path(__file__).resolve().parents[1]
UDATA_PYTHON = ROOT / ".udata-venv" / "bin" / "python"
SWAGGER = (
    Path(__file__).parent / "data" / "udata-swagger.json"
)  # copied from ../shared/reference/udata
ORG_ID = "6b0bbae9a0c9452c0ce0f46c"

needs_udata = pytest.mark.skipif(not UDATA_PYTHON.exists(), reason="udata's venv not installed")


def guide_documentation(**changes: Any) -> Documentation:
    """The guide's example page: a melanoma base, 2012 to 2016, France, published once."""
    doc = Documentation(
        title="VisioMel : prédiction de la rechute du mélanome",
        description="## Présentation\n\n" + "Le mélanome est un cancer de la peau. " * 5,
        description_short="Lames de mélanome anonymisées et données cliniques",
        license="lov2",
        tags=("visiomel", "health-data-hub", "hdh", "melanoma", "data-challenge"),
        temporal=TemporalCoverage(date(2012, 1, 1), date(2016, 12, 31)),
        frequency="punctual",
        zones=("country:fr",),
        granularity="country",
        contact_name="Équipe Open Science",
        contact_email="opendata@health-data-hub.fr",
        acronym="VM",
    )
    return replace(doc, **changes)


@cache
def swagger_definitions() -> dict[str, Any]:
    if not SWAGGER.exists():
        pytest.skip(f"udata's swagger.json is not at {SWAGGER}")
    definitions: dict[str, Any] = json.loads(SWAGGER.read_text())["definitions"]
    return definitions


def udata(script: str, payload: Any) -> Any:
    """Runs `script` in udata's own environment with `payload` as JSON on stdin."""
    result = subprocess.run(
        [str(UDATA_PYTHON), "-c", script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout)


# --- frequencies ----------------------------------------------------------------------------


def test_frequencies_are_the_forty_ids_of_udatas_api_in_its_order() -> None:
    enum = swagger_definitions()["Dataset"]["properties"]["frequency"]["enum"]
    assert list(FREQUENCIES) == enum
    assert len(FREQUENCIES) == 40


@pytest.mark.parametrize("lang", list(Lang))
def test_every_frequency_has_a_label_in_each_language(lang: Lang) -> None:
    cat = load_catalogue(lang)
    labels = [cat.t(frequency_label_key(f)) for f in FREQUENCIES]
    assert all(label.strip() for label in labels)
    assert len(set(labels)) == len(FREQUENCIES)  # a list to choose from: no two alike


def test_the_guides_frequencies_read_as_on_its_screenshots() -> None:
    cat = load_catalogue(Lang.FR)
    assert cat.t(frequency_label_key("punctual")) == "Ponctuelle"
    assert cat.t(frequency_label_key("irregular")) == "Sans régularité"


@needs_udata
def test_french_frequency_labels_are_those_data_gouv_fr_shows() -> None:
    script = """
import gettext, json, sys
from pathlib import Path
import udata
from udata.core.dataset.constants import UpdateFrequency
mo = Path(udata.__file__).parent / "translations/fr/LC_MESSAGES/udata.mo"
fr = gettext.GNUTranslations(mo.open("rb"))
json.dump({f.value: fr.gettext(f.label._args[0]) for f in UpdateFrequency}, sys.stdout)
"""
    theirs = udata(script, None)
    cat = load_catalogue(Lang.FR)
    assert {f: cat.t(frequency_label_key(f)) for f in FREQUENCIES} == theirs


# --- the state file -------------------------------------------------------------------------


NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def through_the_state_file(outputs: dict[str, Any], folder: Path) -> Any:
    """The outputs as saved in a deposit draft by the project's own state file, and read back."""
    release = workflow.new_release("Base", Person("A", PersonRole.PARTNER), NOW)
    release = workflow.save_draft(
        release, StepId.DEPOSIT, {"documentation": outputs}, Person("A", PersonRole.PARTNER), NOW
    )
    path = folder / "state.yaml"
    path.write_text(dump_release(release), encoding="utf-8")
    return load_release(path).record(StepId.DEPOSIT).outputs["documentation"]


def test_documentation_survives_the_state_file_round_trip(tmp_path: Path) -> None:
    doc = guide_documentation()
    saved = through_the_state_file(documentation_to_outputs(doc), tmp_path)
    assert documentation_from_outputs(saved) == doc


dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
# Any text the state file keeps: it refuses NUL in outputs, and says so (test_state_file.py).
kept_text = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(kept_text, max_size=40),
    description=st.text(kept_text, max_size=200),
    tags=st.lists(st.text(kept_text, max_size=12), max_size=5),
    start=dates,
    end=st.none() | dates,
    with_temporal=st.booleans(),
    frequency=st.sampled_from(FREQUENCIES),
    zones=st.lists(
        st.sampled_from(["country:fr", "fr:region:84", "fr:departement:69"]), max_size=3
    ),
)
def test_any_documentation_survives_the_round_trip(
    title: str,
    description: str,
    tags: list[str],
    start: date,
    end: date | None,
    with_temporal: bool,
    frequency: str,
    zones: list[str],
) -> None:
    doc = Documentation(
        title=title,
        description=description,
        tags=tuple(tags),
        temporal=TemporalCoverage(start, end) if with_temporal else None,
        frequency=frequency,
        zones=tuple(zones),
    )
    with tempfile.TemporaryDirectory() as folder:
        saved = through_the_state_file(documentation_to_outputs(doc), Path(folder))
    assert documentation_from_outputs(saved) == doc


def test_outputs_are_plain_yaml_values() -> None:
    outputs = documentation_to_outputs(guide_documentation())
    # safe_dump refuses anything that is not a plain type (dates are written as ISO strings)
    yaml.safe_dump(outputs)
    assert outputs["temporal"] == {"start": "2012-01-01", "end": "2016-12-31"}


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        "a text instead of a mapping",
        42,
        [],
        {},
        {"title": 5, "description": ["x"], "tags": "abc, def", "zones": "country:fr"},
        {"temporal": {"start": "not a date", "end": "2016-12-31"}, "frequency": "hebdo"},
        {"temporal": "2012-2016", "license": None, "granularity": 3, "contact_email": {}},
        {"temporal": {"end": "2016-12-31"}, "tags": [1, None, "ok-tag"], "zones": [None]},
    ],
)
def test_a_hand_edited_state_falls_back_to_defaults_without_raising(garbage: Any) -> None:
    doc = documentation_from_outputs(garbage)
    defaults = Documentation(title="", description="")
    assert isinstance(doc.title, str) and isinstance(doc.description, str)
    assert doc.frequency in FREQUENCIES
    assert all(isinstance(tag, str) for tag in doc.tags)
    assert all(isinstance(zone, str) for zone in doc.zones)
    if not isinstance(garbage, Mapping) or "license" in garbage:
        assert doc.license == defaults.license
    if isinstance(garbage, Mapping) and isinstance(garbage.get("temporal"), Mapping):
        assert doc.temporal is None  # no readable start: no coverage, rather than a wrong one


def test_a_date_written_bare_in_yaml_is_read_as_a_date() -> None:
    state = yaml.safe_load("temporal:\n  start: 2012-01-01\n  end: 2016-12-31\n")
    assert isinstance(state["temporal"]["start"], date)  # what YAML makes of a bare date
    doc = documentation_from_outputs(state)
    assert doc.temporal == TemporalCoverage(date(2012, 1, 1), date(2016, 12, 31))


def test_a_legacy_udata_frequency_id_is_read_as_its_current_one() -> None:
    assert documentation_from_outputs({"frequency": "biannual"}).frequency == "semiannual"
    assert documentation_from_outputs({"frequency": "realtime"}).frequency == "continuous"


def test_removed_zones_stay_removed_rather_than_coming_back_as_france() -> None:
    doc = documentation_from_outputs(documentation_to_outputs(guide_documentation(zones=())))
    assert doc.zones == ()


# --- the request bodies ---------------------------------------------------------------------


def writable_properties(definition: str) -> set[str]:
    properties = swagger_definitions()[definition]["properties"]
    return {name for name, spec in properties.items() if not spec.get("readOnly")}


def test_every_key_of_the_payload_is_a_writable_field_of_udatas_dataset() -> None:
    payload = dataset_payload(guide_documentation(), ORG_ID, private=True, contact_point_id="c1")
    assert set(payload) <= writable_properties("Dataset")
    assert set(payload["temporal_coverage"]) <= writable_properties("TemporalCoverage")
    assert set(payload["spatial"]) <= writable_properties("SpatialCoverage (read)")
    enum = swagger_definitions()["Dataset"]["properties"]["frequency"]["enum"]
    assert payload["frequency"] in enum


def test_the_payload_holds_the_guides_page() -> None:
    payload = dataset_payload(guide_documentation(), ORG_ID, private=True)
    assert payload["title"] == "VisioMel : prédiction de la rechute du mélanome"
    assert payload["license"] == "lov2"
    assert payload["frequency"] == "punctual"
    assert payload["organization"] == ORG_ID
    assert payload["private"] is True
    assert payload["spatial"] == {"zones": ["country:fr"], "granularity": "country"}
    start = datetime.fromisoformat(payload["temporal_coverage"]["start"])
    end = datetime.fromisoformat(payload["temporal_coverage"]["end"])
    assert (start.date(), end.date()) == (date(2012, 1, 1), date(2016, 12, 31))


def test_an_open_ended_coverage_sends_no_end_and_no_coverage_sends_null() -> None:
    open_ended = guide_documentation(temporal=TemporalCoverage(date(2012, 1, 1)))
    assert "end" not in dataset_payload(open_ended, ORG_ID, private=True)["temporal_coverage"]
    cleared = dataset_payload(guide_documentation(temporal=None), ORG_ID, private=False)
    assert "temporal_coverage" in cleared and cleared["temporal_coverage"] is None


def test_tags_are_sent_as_udata_stores_them_so_none_is_split_on_commas() -> None:
    doc = guide_documentation(tags=("Health Data Hub", "a, b, c", "HDH", "hdh", "!!!"))
    tags = dataset_payload(doc, ORG_ID, private=True)["tags"]
    assert tags == sorted(set(tags))
    assert all("," not in tag and tag == slugify_tag(tag) for tag in tags)
    assert tags == ["a-b-c", "hdh", "health-data-hub"]


def test_the_contact_point_is_referenced_by_its_id_when_known() -> None:
    without = dataset_payload(guide_documentation(), ORG_ID, private=True)
    assert without["contact_points"] == []  # a contact removed from the form is cleared
    with_one = dataset_payload(guide_documentation(), ORG_ID, private=True, contact_point_id="c1")
    assert with_one["contact_points"] == ["c1"]


def server_dataset(**changes: Any) -> dict[str, Any]:
    """A dataset as the real udata 17.18.0 returned it (GET /datasets/{id}/), trimmed."""
    dataset: dict[str, Any] = {
        "id": "6b0bbaeaa0c9452c0ce0f46d",
        "slug": "visiomel",
        "page": None,
        "uri": "http://127.0.0.1:44355/api/1/datasets/visiomel/",
        "created_at": "2026-11-29T05:40:58.990487+00:00",
        "last_modified": "2026-11-29T05:40:58.990496+00:00",
        "last_update": "2026-11-29T05:40:58.990496+00:00",
        "internal": {"created_at_internal": "2026-11-29T05:40:58.990487+00:00"},
        "metrics": {"views": 0, "reuses": 0},
        "quality": {"license": True, "score": 0.7777777777777778},
        "badges": [],
        "harvest": None,
        "deleted": None,
        "doi": None,
        "permissions": {"delete": True, "edit": True, "edit_resources": True},
        "featured": False,
        "title": "VisioMel",
        "acronym": None,
        "description": "d" * 120,
        "description_short": "short",
        "license": "lov2",
        "tags": ["hdh", "melanoma"],
        "frequency": "punctual",
        "frequency_date": None,
        "temporal_coverage": {"start": "2012-01-01", "end": "2016-12-31"},
        "spatial": {
            "geom": None,
            "granularity": {"id": "country", "name": "Pays"},
            "zones": [{"class": "GeoZone", "id": "country:fr", "name": "France", "code": "fr"}],
        },
        "organization": {"class": "Organization", "id": ORG_ID, "name": "Consortium VisioMel"},
        "owner": None,
        "private": True,
        "extras": {},
        "contact_points": [{"id": "cp1", "name": "Équipe", "email": "x@y.fr", "role": "contact"}],
        "access_type": "open",
        "access_audiences": [],
        "access_type_reason": None,
        "access_type_reason_category": None,
        "authorization_request_url": None,
        "archived": None,
        "resources": [{"id": "r1", "title": "data.csv", "format": "csv"}],
        "community_resources": [],
    }
    dataset.update(changes)
    return dataset


def test_an_update_of_the_title_alone_keeps_the_temporal_coverage_and_tags() -> None:
    body = merge_for_put(server_dataset(), {"title": "VisioMel v2"})
    assert body["title"] == "VisioMel v2"
    assert body["temporal_coverage"] == {"start": "2012-01-01", "end": "2016-12-31"}
    assert body["tags"] == ["hdh", "melanoma"]
    assert body["contact_points"] == ["cp1"]


def test_the_full_update_sends_only_writable_fields_in_their_write_shapes() -> None:
    body = merge_for_put(server_dataset(), {})
    assert set(body) <= writable_properties("Dataset")
    assert set(body) <= set(PUT_FIELDS)
    assert "resources" not in body  # left to their own endpoints; a PUT without them keeps them
    assert body["organization"] == ORG_ID
    assert "owner" not in body
    assert body["spatial"] == {"zones": ["country:fr"], "granularity": "country"}


def test_the_payload_replaces_the_servers_values_in_the_update() -> None:
    doc = guide_documentation(temporal=TemporalCoverage(date(2010, 1, 1), date(2020, 12, 31)))
    payload = dataset_payload(doc, ORG_ID, private=False)
    body = merge_for_put(server_dataset(), payload)
    assert body["temporal_coverage"] == payload["temporal_coverage"]
    assert body["private"] is False
    assert body["tags"] == payload["tags"]
    assert body["contact_points"] == []  # the form has no contact: cleared on the server


def test_a_personal_dataset_sends_its_owner_by_id() -> None:
    body = merge_for_put(server_dataset(organization=None, owner={"id": "u1", "slug": "a"}), {})
    assert body["owner"] == "u1"
    assert "organization" not in body


def test_ids_already_in_write_shape_are_kept() -> None:
    dataset = server_dataset(
        organization=ORG_ID, spatial={"zones": ["country:fr"], "granularity": "country"}
    )
    body = merge_for_put(dataset, {})
    assert body["organization"] == ORG_ID
    assert body["spatial"] == {"zones": ["country:fr"], "granularity": "country"}


# --- checks ---------------------------------------------------------------------------------

LICENSES = ("lov2", "fr-lo", "odc-odbl", "notspecified")
ZONES = ("country:fr", "fr:region:84")
GRANULARITIES = ("country", "fr:region", "other")


def problems(doc: Documentation) -> list[tuple[str, str]]:
    found = check_documentation(doc, LICENSES, ZONES, GRANULARITIES)
    return [(p.field, p.key.removeprefix("doc.problem.")) for p in found]


def test_the_guides_page_has_no_problem() -> None:
    assert problems(guide_documentation()) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"title": "   "}, ("title", "title_required")),
        ({"title": "t" * 351}, ("title", "title_too_long")),
        ({"description": "\n \n"}, ("description", "description_required")),
        ({"description": "x" * 100_001}, ("description", "description_too_long")),
        ({"description_short": "s" * 201}, ("description_short", "description_short_too_long")),
        ({"acronym": "A" * 129}, ("acronym", "acronym_too_long")),
        ({"license": ""}, ("license", "license_required")),
        ({"license": "lo2"}, ("license", "license_unknown")),
        ({"frequency": "hebdomadaire"}, ("frequency", "frequency_unknown")),
        (
            {"temporal": TemporalCoverage(date(2016, 1, 1), date(2012, 1, 1))},
            ("temporal", "temporal_order"),
        ),
        ({"tags": ("IA",)}, ("tags", "tag_length")),
        ({"tags": ("x" * 97,)}, ("tags", "tag_length")),
        ({"tags": ("!!!",)}, ("tags", "tag_empty")),
        ({"tags": ("北京",)}, ("tags", "tag_charset")),
        ({"zones": ("country:xx",)}, ("zones", "zone_unknown")),
        ({"granularity": "planet"}, ("granularity", "granularity_unknown")),
        ({"contact_email": "opendata.hdh.fr"}, ("contact_email", "contact_email")),
        ({"contact_email": "a@b"}, ("contact_email", "contact_email")),
        ({"contact_name": "n" * 256}, ("contact_name", "contact_too_long")),
    ],
)
def test_each_mistake_is_reported_on_its_field(
    changes: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert problems(guide_documentation(**changes)) == [expected]


def test_limits_are_inclusive_as_in_udatas_form() -> None:
    doc = guide_documentation(
        title="t" * 350, description_short="s" * 200, acronym="A" * 128, tags=("abc", "x" * 96)
    )
    assert problems(doc) == []


def test_lists_not_fetched_yet_are_not_checked() -> None:
    doc = guide_documentation(license="cc-by-sa", zones=("country:xx",), granularity="planet")
    assert check_documentation(doc) == []


def test_a_description_still_holding_the_templates_lines_is_reported() -> None:
    for lang in Lang:
        doc = guide_documentation(description=description_template("VisioMel", None, lang))
        assert problems(doc) == [("description", "description_placeholders")]


@pytest.mark.parametrize("lang", list(Lang))
def test_every_problem_has_a_message_with_its_parameters(lang: Lang) -> None:
    cat = load_catalogue(lang)
    bad = Documentation(
        title="t" * 400,
        description="x" * 100_001,
        description_short="s" * 300,
        acronym="A" * 200,
        license="lo2",
        tags=("IA", "!!!", "北京"),
        temporal=TemporalCoverage(date(2016, 1, 1), date(2012, 1, 1)),
        frequency="hebdo",
        zones=("country:xx",),
        granularity="planet",
        contact_name="n" * 300,
        contact_email="nope",
    )
    found = check_documentation(bad, LICENSES, ZONES, GRANULARITIES)
    found += check_documentation(replace(bad, title="", description="", license=""))
    found += check_documentation(replace(bad, description=description_template("x", None, lang)))
    found += check_documentation(replace(bad, contact_name="Équipe", contact_email=""))
    keys = {p.key for p in found}
    catalogue_keys = {k for k in cat.messages if k.startswith("doc.problem.")}
    assert keys == catalogue_keys  # every message is reachable, every problem has one
    for problem in found:
        assert isinstance(problem, FieldProblem)
        assert cat.t(problem.key, **problem.params).strip()


# --- tags -----------------------------------------------------------------------------------

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
UDATA_SLUG = """
import json, sys
from udata.tags import slug
# The form slugs each tag (forms.fields.TagField), then saving slugs it again
# (mongo.taglist_field.TagListField.clean): what is stored is slug(slug(text)).
json.dump([slug(slug(text)) for text in json.load(sys.stdin)], sys.stdout)
"""
GUIDE_TAGS = [
    "Health Data Hub",
    "health-data-hub",
    "HDH",
    "IA",
    "artificial intelligence",
    "Data-Challenge",
    "SFP",
    "mélanome",
    "Données de santé",
    "l’hôpital",
    "Œuvre Cœur",
    "€uro",
    "x—y «z»",
    "  a,b  ",
    "ÆSTHÉTIQUE ß İstanbul",
    "ℹ︎ 50°C ½",
]


def previewable_chars() -> list[str]:
    blocks = [range(0x20, 0x7F), range(0x80, 0x370), range(0x1E00, 0x1F00), range(0x2000, 0x2070)]
    blocks.append(range(0x20A0, 0x20B0))
    return [chr(code) for block in blocks for code in block if can_preview(chr(code))]


@needs_udata
def test_the_guides_tags_are_slugged_as_udata_stores_them() -> None:
    theirs = udata(UDATA_SLUG, GUIDE_TAGS)
    assert [slugify_tag(tag) if can_preview(tag) else None for tag in GUIDE_TAGS] == [
        t if can_preview(tag) else None for tag, t in zip(GUIDE_TAGS, theirs, strict=True)
    ]


@needs_udata
@settings(max_examples=6, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(previewable_chars()), max_size=24), min_size=80))
def test_any_latin_text_is_slugged_exactly_as_udata_does(texts: list[str]) -> None:
    assert all(can_preview(text) for text in texts)
    assert [slugify_tag(text) for text in texts] == udata(UDATA_SLUG, texts)


@given(st.text())
def test_a_slug_is_lowercase_words_joined_by_hyphens_and_stable(text: str) -> None:
    slug = slugify_tag(text)
    assert slug == "" or SLUG.match(slug)
    assert slugify_tag(slug) == slug


def test_a_tag_in_another_script_cannot_be_previewed() -> None:
    assert not can_preview("北京")
    assert not can_preview("медицина")
    assert can_preview("Données de santé — l’hôpital")


def test_tags_udata_would_refuse_for_their_length() -> None:
    assert len(slugify_tag("IA")) < TAG_MIN_LENGTH  # the guide's "IA": refused by udata
    assert len(slugify_tag("x" * 97)) > TAG_MAX_LENGTH


def test_suggestions_follow_the_guide_and_skip_what_is_there() -> None:
    suggestions = suggest_tags("SFP", "VisioMel : mélanome et rechute 2012-2016", ["HDH"])
    assert suggestions[:2] == ["sfp", "health-data-hub"]
    assert "hdh" not in suggestions  # already there, written "HDH"
    assert {"visiomel", "melanome", "rechute"} <= set(suggestions)
    assert not {"et", "2012", "2016"} & set(suggestions)
    assert "data-challenge" in suggestions and "artificial-intelligence" in suggestions
    assert all(TAG_MIN_LENGTH <= len(tag) <= TAG_MAX_LENGTH for tag in suggestions)
    assert len(suggestions) == len(set(suggestions))


def test_an_acronym_too_short_for_udata_is_not_suggested() -> None:
    assert "vm" not in suggest_tags("VM", "Base", [])
    assert missing_best_practice_tags([], "VM") == list(HDH_TAGS)


def test_missing_best_practice_tags_name_the_acronym_and_the_hdh_names() -> None:
    assert missing_best_practice_tags([], "SFP") == ["sfp", *HDH_TAGS]
    assert missing_best_practice_tags(["Health Data Hub", "sfp"], "SFP") == ["hdh"]
    assert missing_best_practice_tags(["sfp", "hdh", "health-data-hub"], "SFP") == []


def test_theme_tags_are_those_beyond_who_made_the_data() -> None:
    assert not has_theme_tags(["sfp", "hdh", "health-data-hub"], "SFP")
    assert has_theme_tags(["sfp", "hdh", "melanoma"], "SFP")


def test_normalised_tags_are_unique_sorted_and_never_empty() -> None:
    assert normalise_tags(["HDH", "hdh", " ", "!!", "Mélanome"]) == ["hdh", "melanome"]


# --- the description template ---------------------------------------------------------------


def measures(k: int, in_small: int, records: int = 36) -> RiskMeasures:
    return RiskMeasures(
        records=records,
        quasi_identifiers=("age", "sexe"),
        threshold=5,
        classes=4,
        k=k,
        small_classes=in_small,
        records_in_small=in_small,
        unique_records=0,
        size_histogram=(0, 0, 0, 0, 0, 0, 0, 0),
        diversity=(),
    )


def anonymity_outputs(**changes: Any) -> dict[str, Any]:
    """What the anonymity step commits (`inspect.risk.step.step_outputs`) for one table whose
    direct identifiers were dropped and ages banded, inference justified by the partner."""
    roles = {"nom": Role.DIRECT, "age": Role.QUASI, "sexe": Role.QUASI, "<b>x</b>": Role.OTHER}
    scan = TableScan(
        "cohorte.csv", tuple(roles), (Finding("nom", IdRule.NAME, 36, 36, ("Xxx",)),), roles
    )
    rules = (
        ColumnRule("nom", Coarsening.DROP),
        ColumnRule("age", Coarsening.AGE_10),
        ColumnRule("<b>x</b>", Coarsening.GROUP_RARE, 5),
    )
    choice = Choice(("age", "sexe", "<b>x</b>"), (), 5, rules)
    risk = TableRisk(scan, choice, measures(1, 11), measures(6, 0), (), (), tuple(roles))
    values: dict[str, Any] = {
        "release": "Cohorte mélanome",
        "generated_at": datetime(2026, 11, 29, 10, 5),
        "tables": (risk,),
        "images": (),
        "replacements": (
            Replacement(
                "donnees/cohorte.csv", Path("publish/cohorte.csv"), 1_200, "ab" * 32, 2_400
            ),
        ),
        "justifications": {
            Criterion.INFERENCE: "Aucun attribut sensible n'est publié avec ces quasi-identifiants."
        },
        "attestation": Attestation("Camille Martin", "DPO", "CHU de Nulle-Part", date(2026, 12, 1)),
    }
    values.update(changes)
    return step_outputs(RiskReport(**values), Path("/projet"), [])


def sections(markdown: str) -> list[str]:
    return re.findall(r"^## (.+)$", markdown, flags=re.M)


@pytest.mark.parametrize("lang", list(Lang))
def test_the_template_has_the_guides_sections_in_order_in_the_users_language(lang: Lang) -> None:
    cat = load_catalogue(lang)
    names = (
        "overview",
        "context",
        "content",
        "variables",
        "collection",
        "anonymisation",
        "cite",
        "contact",
    )
    expected = [cat.t(f"doc.template.{name}.title") for name in names]
    assert sections(description_template("VisioMel", None, lang)) == expected
    assert sections(description_template("VisioMel", anonymity_outputs(), lang)) == expected


def test_the_french_template_reads_as_the_guide() -> None:
    text = description_template("VisioMel", None, Lang.FR)
    assert sections(text)[:2] == ["Présentation", "Contexte"]
    assert "Méthode d'anonymisation" in sections(text)
    assert "« VisioMel »" in text


def anonymisation_section(markdown: str) -> str:
    start = markdown.index("## Méthode d'anonymisation")
    return markdown[start : markdown.index("## ", start + 3)]


def test_without_the_anonymity_step_every_section_is_left_to_complete() -> None:
    text = description_template("VisioMel", None, Lang.FR)
    assert text.count("[À compléter : ") == 7
    assert has_placeholders(text)


def test_the_anonymisation_method_is_written_from_the_anonymity_step() -> None:
    section = anonymisation_section(description_template("VisioMel", anonymity_outputs(), Lang.FR))
    assert "À compléter" not in section
    assert "trois critères du G29" in section
    inference = section[section.index("**Inférence") :]
    assert "le producteur justifie" in inference.splitlines()[0]
    assert "  > Aucun attribut sensible n'est publié" in inference
    assert "`nom` : colonne retirée" in section
    assert "`age` : âge en tranches de 10 ans" in section
    assert "moins de 5 fois regroupées" in section
    assert "k = 5" in section and "6 enregistrements" in section and "avant : k = 1" in section
    assert "30,6\u00a0%" in section  # 11 of 36 records, in French figures
    assert "`cohorte.csv`" in section
    assert "Camille Martin (DPO, CHU de Nulle-Part) le 1er décembre 2026" in section


def test_verdicts_follow_the_steps_criteria() -> None:
    outputs = anonymity_outputs()
    lines = anonymity_summary(outputs, Lang.FR)
    for criterion, entry in outputs["criteria"].items():
        label = load_catalogue(Lang.FR).t(f"doc.template.criterion.{criterion}")
        line = next(line for line in lines if label in line)
        assert ("exclu par" in line and "non exclu" not in line) == entry["excluded"]


def test_names_from_the_data_are_shown_as_code_never_as_markup() -> None:
    section = anonymisation_section(description_template("V", anonymity_outputs(), Lang.FR))
    assert "`<b>x</b>`" in section
    assert re.sub(r"`[^`]*`", "", section).count("<b>") == 0


def test_the_english_template_uses_english_figures() -> None:
    text = description_template("VisioMel", anonymity_outputs(), Lang.EN)
    assert "30.6%" in text and "December 1, 2026" not in text and "1 December 2026" in text


def test_listed_files_fill_the_content_section() -> None:
    files = [("publish/cohorte.csv", 1_200), ("lames/lame 01.tiff", 3_000_000)]
    text = description_template("VisioMel", None, Lang.FR, files=files)
    assert "- `cohorte.csv` (1,2 ko)" in text
    assert "- `lame 01.tiff` (3 Mo)" in text


def hand_edited_outputs() -> Iterator[Any]:
    good = anonymity_outputs()
    yield {"criteria": {"singling_out": True, "linkability": True}, "k_anonymity": 5}
    yield {"tables": "cohorte.csv", "images": 3, "replacements": [None, {"path": 5}]}
    yield {"tables": [{"table": "t.csv", "original": "x", "rules": [{"rule": "nope"}]}]}
    yield {**good, "attestation": {"name": "", "role": 3}}
    yield {**good, "tables": [{**good["tables"][0], "generalised": {"k": "six"}}]}
    yield {"attestation": {"name": "A", "role": "B", "organization": "C", "date": "demain"}}


@pytest.mark.parametrize("outputs", list(hand_edited_outputs()))
def test_hand_edited_anonymity_outputs_never_break_the_template(outputs: Any) -> None:
    text = description_template("VisioMel", outputs, Lang.FR)
    assert sections(text)[5] == "Méthode d'anonymisation"


def test_outputs_saying_nothing_usable_leave_the_section_to_complete() -> None:
    legacy = {"criteria": {"singling_out": True}, "k_anonymity": 5, "notes": "…"}
    section = anonymisation_section(description_template("VisioMel", legacy, Lang.FR))
    assert "[À compléter : " in section


def test_a_table_without_generalisation_gives_its_own_measures() -> None:
    outputs = anonymity_outputs()
    outputs["tables"][0]["generalised"] = None
    outputs["tables"][0]["rules"] = []
    section = anonymisation_section(description_template("V", outputs, Lang.FR))
    assert "aucune transformation appliquée" in section
    assert "avant" not in section and "k = 5" in section


def test_filled_sections_leave_no_placeholder() -> None:
    text = description_template("VisioMel", None, Lang.FR)
    filled = re.sub(r"\[À compléter : [^\]]*\]", "Texte du partenaire.", text)
    assert not has_placeholders(filled)
