"""The metadata quality score, computed here with udata 17.18.0's rules before anything is sent,
and read from what the server returns."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hdh_wizard.core.documentation import (
    FREQUENCIES,
    FREQUENCY_DELTAS,
    Documentation,
    TemporalCoverage,
)
from hdh_wizard.core.quality import (
    CLOSED_FORMATS,
    CRITERIA,
    QUALITY_DESCRIPTION_LENGTH,
    QUALITY_MAX_SCORE,
    RESOURCE_CRITERIA,
    Quality,
    ResourcePlan,
    compute_quality,
    planned_resource,
    quality_from_server,
    resource_plans_from_server,
    update_fulfilled_in_time,
    upload_format,
)
from hdh_wizard.i18n.catalogue import Lang, load_catalogue

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
LICENSES = ("lov2", "fr-lo", "notspecified")
UDATA_PYTHON = Path(__file__).resolve().parents[1] / ".udata-venv" / "bin" / "python"


def complete_doc(**changes: Any) -> Documentation:
    doc = Documentation(
        title="VisioMel",
        description="Lames de mélanome et données cliniques de patients suivis de 2012 à 2016. "
        * 3,
        license="lov2",
        temporal=TemporalCoverage(date(2012, 1, 1), date(2016, 12, 31)),
        frequency="punctual",
    )
    return replace(doc, **changes)


CSV = planned_resource("publish/cohorte.csv", description="Une ligne par patient.")
TIFF = planned_resource("lames/lame 01.tiff")


def met(quality: Quality) -> dict[str, bool]:
    return {c.name: c.ok for c in quality.criteria}


def score_of(quality: Quality) -> float:
    """udata's score: one point per criterion met, out of nine."""
    return sum(met(quality).values()) / QUALITY_MAX_SCORE


def test_a_complete_documentation_with_a_documented_csv_meets_every_criterion() -> None:
    quality = compute_quality(complete_doc(), [CSV, TIFF], now=NOW, known_licenses=LICENSES)
    assert [c.name for c in quality.criteria] == list(CRITERIA)
    assert all(met(quality).values())
    assert quality.score == 1.0
    assert quality.missing == ()


@pytest.mark.parametrize(
    ("changes", "criterion"),
    [
        ({"license": ""}, "license"),
        ({"license": "lo2"}, "license"),  # unknown to the server: saved as no licence
        ({"temporal": None}, "temporal_coverage"),
        ({"zones": (), "granularity": ""}, "spatial"),
        ({"description": "x" * QUALITY_DESCRIPTION_LENGTH}, "dataset_description_quality"),
    ],
)
def test_each_missing_metadata_costs_one_point(changes: dict[str, Any], criterion: str) -> None:
    quality = compute_quality(complete_doc(**changes), [CSV], now=NOW, known_licenses=LICENSES)
    assert [c.name for c in quality.missing] == [criterion]
    assert quality.score == pytest.approx((QUALITY_MAX_SCORE - 1) / QUALITY_MAX_SCORE)
    assert quality.score == score_of(quality)


def test_a_description_counts_once_longer_than_udatas_length() -> None:
    longer = complete_doc(description="é" * (QUALITY_DESCRIPTION_LENGTH + 1))
    assert met(compute_quality(longer, [CSV], now=NOW))["dataset_description_quality"]


def test_not_specified_counts_as_a_licence_as_udata_counts_it() -> None:
    doc = complete_doc(license="notspecified")
    assert met(compute_quality(doc, [CSV], now=NOW, known_licenses=LICENSES))["license"]


def test_without_the_servers_licence_list_a_chosen_licence_counts() -> None:
    assert met(compute_quality(complete_doc(license="cc-by"), [CSV], now=NOW))["license"]


def test_a_spatial_coverage_without_zone_still_counts_as_on_the_server() -> None:
    doc = complete_doc(zones=(), granularity="country")
    assert met(compute_quality(doc, [CSV], now=NOW))["spatial"]


def test_an_unknown_frequency_loses_both_frequency_points() -> None:
    quality = compute_quality(complete_doc(frequency="unknown"), [CSV], now=NOW)
    assert [c.name for c in quality.missing] == ["update_frequency", "update_fulfilled_in_time"]
    assert quality.score == score_of(quality)


@pytest.mark.parametrize("frequency", [f for f in FREQUENCIES if FREQUENCY_DELTAS[f] is None])
def test_a_frequency_without_regular_updates_is_never_late(frequency: str) -> None:
    long_ago = NOW - timedelta(days=3650)
    expected = None if frequency == "unknown" else True
    assert update_fulfilled_in_time(frequency, long_ago, NOW) is expected


@pytest.mark.parametrize("frequency", [f for f in FREQUENCIES if FREQUENCY_DELTAS[f] is not None])
def test_a_regular_frequency_is_late_a_day_after_its_next_update(frequency: str) -> None:
    delta = FREQUENCY_DELTAS[frequency]
    assert delta is not None
    # udata: (next_update - now).days >= -1, next_update = last_update + delta
    assert update_fulfilled_in_time(frequency, NOW, NOW) is True
    assert update_fulfilled_in_time(frequency, NOW - delta - timedelta(days=1), NOW) is True
    late = NOW - delta - timedelta(days=1, seconds=1)
    assert update_fulfilled_in_time(frequency, late, NOW) is False


def test_an_annual_dataset_whose_files_are_old_is_late() -> None:
    doc = complete_doc(frequency="annual")
    fresh = compute_quality(doc, [CSV], now=NOW)
    old = compute_quality(doc, [CSV], now=NOW, last_update=NOW - timedelta(days=400))
    assert met(fresh)["update_fulfilled_in_time"]
    assert [c.name for c in old.missing] == ["update_fulfilled_in_time"]


def test_naive_and_aware_dates_compare_in_utc() -> None:
    naive_now = NOW.replace(tzinfo=None)
    last = naive_now - timedelta(days=366)
    assert update_fulfilled_in_time("annual", last, NOW) is True
    assert update_fulfilled_in_time("annual", last - timedelta(days=1), NOW) is False


def test_without_files_the_file_criteria_wait_for_them() -> None:
    quality = compute_quality(complete_doc(), [], now=NOW)
    waiting = [c for c in quality.criteria if c.name in RESOURCE_CRITERIA]
    assert [c.ok for c in waiting] == [False, False, False]
    assert {c.explanation_key for c in waiting} == {"doc.quality.todo.no_resources"}
    assert quality.score == pytest.approx(6 / QUALITY_MAX_SCORE)


@pytest.mark.parametrize("closed", CLOSED_FORMATS)
def test_closed_formats_alone_are_not_open(closed: str) -> None:
    resource = ResourcePlan("fichier", format=closed.upper(), description="décrit")
    assert not met(compute_quality(complete_doc(), [resource], now=NOW))["has_open_format"]
    with_csv = compute_quality(complete_doc(), [resource, CSV], now=NOW)
    assert met(with_csv)["has_open_format"]


def test_a_file_without_format_is_not_open() -> None:
    resource = ResourcePlan("fichier", format="", description="décrit")
    assert not met(compute_quality(complete_doc(), [resource], now=NOW))["has_open_format"]


def test_a_remote_file_counts_as_available_until_the_server_finds_it_is_not() -> None:
    remote = ResourcePlan("lien", format="csv", filetype="remote", url="https://s3.example/x.csv")
    doc = complete_doc()
    assert met(compute_quality(doc, [remote, CSV], now=NOW))["all_resources_available"]
    checked = replace(remote, available=True)
    assert met(compute_quality(doc, [checked, CSV], now=NOW))["all_resources_available"]
    broken = replace(remote, available=False)
    assert not met(compute_quality(doc, [broken, CSV], now=NOW))["all_resources_available"]


def test_uploaded_files_are_never_checked_for_availability() -> None:
    uploaded = replace(CSV, available=False)  # udata only checks remote resources
    assert met(compute_quality(complete_doc(), [uploaded], now=NOW))["all_resources_available"]


def test_files_are_documented_by_a_description_or_a_documentation_file() -> None:
    doc = complete_doc()
    bare = planned_resource("cohorte.csv")
    assert not met(compute_quality(doc, [bare], now=NOW))["resources_documentation"]
    dictionary = planned_resource("dictionnaire.pdf", resource_type="documentation")
    assert met(compute_quality(doc, [bare, dictionary], now=NOW))["resources_documentation"]
    described = planned_resource("cohorte.csv", description="Une ligne par patient.")
    assert met(compute_quality(doc, [described], now=NOW))["resources_documentation"]


@pytest.mark.parametrize("lang", list(Lang))
def test_every_criterion_has_a_label_and_an_explanation_either_way(lang: Lang) -> None:
    cat = load_catalogue(lang)
    worst = compute_quality(
        Documentation(title="", description="", license="", frequency="unknown", zones=()),
        [ResourcePlan("x", format="pdf", filetype="remote", available=False)],
        now=NOW,
    )
    best = compute_quality(complete_doc(), [CSV], now=NOW)
    empty = compute_quality(complete_doc(), [], now=NOW)
    for quality in (worst, best, empty):
        for criterion in quality.criteria:
            assert cat.t(criterion.label_key).strip()
            assert cat.t(criterion.explanation_key, **criterion.params).strip()
    description = worst.criterion("dataset_description_quality")
    assert str(QUALITY_DESCRIPTION_LENGTH) in cat.t(
        description.explanation_key, **description.params
    )


# --- what the server says -------------------------------------------------------------------

# `quality` as the real udata 17.18.0 returned it (see LOCAL-UDATA.md), for datasets created with
# the documentation above: without files, then with one uploaded CSV and no description.
SERVER_WITHOUT_FILES = {
    "dataset_description_quality": True,
    "license": True,
    "score": 0.6666666666666666,
    "spatial": True,
    "temporal_coverage": True,
    "update_frequency": True,
    "update_fulfilled_in_time": True,
}
SERVER_WITH_A_CSV = {
    "all_resources_available": True,
    "dataset_description_quality": True,
    "has_open_format": True,
    "has_resources": True,
    "license": True,
    "resources_documentation": False,
    "score": 0.7777777777777778,
    "spatial": True,
    "temporal_coverage": False,
    "update_frequency": True,
    "update_fulfilled_in_time": True,
}


def test_the_servers_quality_reads_as_the_local_one_for_the_same_dataset() -> None:
    local = compute_quality(complete_doc(), [], now=NOW, known_licenses=LICENSES)
    assert quality_from_server({"quality": SERVER_WITHOUT_FILES}) == local
    uploaded = planned_resource("data.csv")
    local = compute_quality(complete_doc(temporal=None), [uploaded], now=NOW)
    assert quality_from_server({"quality": SERVER_WITH_A_CSV}) == local


def test_the_servers_score_is_kept_as_it_sent_it() -> None:
    quality = quality_from_server({"quality": SERVER_WITH_A_CSV})
    assert quality.score == SERVER_WITH_A_CSV["score"]
    assert quality.score == score_of(quality)


def test_a_frequency_left_unknown_is_absent_from_the_servers_quality_and_not_met() -> None:
    server = {k: v for k, v in SERVER_WITHOUT_FILES.items() if k != "update_fulfilled_in_time"}
    server |= {"update_frequency": False, "score": 4 / 9}
    quality = quality_from_server({"quality": server})
    assert not met(quality)["update_fulfilled_in_time"]
    assert quality == compute_quality(complete_doc(frequency="unknown"), [], now=NOW)


@pytest.mark.parametrize(
    "dataset",
    [{}, {"quality": None}, {"quality": "high"}, {"quality": {"score": "high", "license": "yes"}}],
)
def test_an_odd_server_answer_reads_as_nothing_met(dataset: dict[str, Any]) -> None:
    quality = quality_from_server(dataset)
    assert not any(met(quality).values())
    assert quality.score == 0


def test_the_servers_resources_read_as_plans() -> None:
    dataset = {
        "resources": [
            {"title": "data.csv", "format": "csv", "filetype": "file", "type": "main"},
            {"title": "lien", "format": None, "filetype": "remote", "extras": {}},
            {"title": "mort", "filetype": "remote", "extras": {"check:available": False}},
            "garbage",
        ]
    }
    plans = resource_plans_from_server(dataset)
    assert [p.title for p in plans] == ["data.csv", "lien", "mort"]
    assert [p.available for p in plans] == [None, None, False]
    assert plans[1].format == "" and plans[1].closed_or_no_format


# --- the format of an uploaded file ---------------------------------------------------------

FILENAMES = [
    "cohorte.csv",
    "COHORTE.CSV",
    "lames/lame 01.tiff",
    "img.TIF",
    "test.2022.csv.tar.gz",
    "archive.tar.gz",
    "a.geojson.csv",
    "x.csv.zip",
    "noext",
    "a.b.c",
]


def test_an_uploaded_file_gets_udatas_format() -> None:
    assert upload_format("test.2022.csv.tar.gz") == "csv.tar.gz"
    assert upload_format("COHORTE.CSV") == "csv"
    assert planned_resource("lames/lame 01.tiff") == ResourcePlan("lame 01.tiff", format="tiff")


@pytest.mark.skipif(not UDATA_PYTHON.exists(), reason="udata's venv not installed")
def test_upload_formats_match_udatas_own_function() -> None:
    script = """
import json, sys
from flask import Flask
from udata.settings import Defaults
from udata.core.storages.utils import extension, normalize
app = Flask("probe")
app.config.from_object(Defaults)
with app.app_context():
    json.dump([extension(normalize(n)) or "" for n in json.load(sys.stdin)], sys.stdout)
"""
    result = subprocess.run(
        [str(UDATA_PYTHON), "-c", script],
        input=json.dumps([Path(n).name for n in FILENAMES]),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert [upload_format(n) for n in FILENAMES] == json.loads(result.stdout)
