"""A French screen names things in French: "image TIFF", "Licence Ouverte 2.0", "France · pays",
"Fichier principal", a link to the dataset's page; and an estimated count says "≈"."""

from __future__ import annotations

from pathlib import Path

import pytest

from hdh_wizard.cli.main import main
from hdh_wizard.core.portal_records import DatasetRecord
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.i18n.formatting import format_count
from hdh_wizard.inspect.kinds import FileKind
from hdh_wizard.inspect.report import ColumnProfile, ColumnType, FileReport, Verdict
from hdh_wizard.present.inspect_presenters import column_text, file_summary, kind_label
from hdh_wizard.present.portal_presenters import (
    dataset_page_url,
    dataset_review,
    license_label,
    reference_mismatch_text,
    resource_type_label,
)

FR = load_catalogue(Lang.FR)
EN = load_catalogue(Lang.EN)


def _report(path: str, kind: FileKind) -> FileReport:
    return FileReport(path, kind, 2_000_000, 0, "ab" * 32, Verdict.CONFORM)


# --- what a file is ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(FileKind))
def test_every_kind_of_file_has_a_french_and_an_english_label(kind: FileKind) -> None:
    assert kind_label(FR, kind) and kind_label(EN, kind)


def test_a_slide_is_an_image_tiff_in_the_file_summary() -> None:
    summary = file_summary(FR, _report("lames/l1.tif", FileKind.TIFF))
    assert "lames/l1.tif · image TIFF · 2 Mo" in summary
    assert "· tiff ·" not in summary
    assert "· TIFF image ·" in file_summary(EN, _report("lames/l1.tif", FileKind.TIFF))


@pytest.mark.usefixtures("french_cli_in_tmp_path")
def test_check_counts_the_files_by_kind_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "patients.csv").write_bytes(b"id,age\n1,40\n2,50\n")
    (tmp_path / "notice.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    main(["check", "patients.csv", "notice.pdf"])
    out = capsys.readouterr().out
    assert "Par type : document PDF (1), texte (1)" in out
    assert "text 1" not in out and "· text ·" not in out
    assert "2 fichiers, " in out


# --- the dataset as data.gouv.fr holds it --------------------------------------------------


def test_the_review_says_the_licence_and_the_coverage_in_words() -> None:
    dataset = {
        "title": "VisioMel",
        "license": "lov2",
        "spatial": {"zones": ["country:fr"], "granularity": "country"},
        "frequency": "punctual",
        "private": True,
    }
    review = dataset_review(FR, dataset).plain
    assert "Licence : Licence Ouverte 2.0" in review
    assert "France · pays" in review
    assert "lov2" not in review and "country:fr" not in review


def test_the_review_keeps_the_names_the_server_gives_and_an_unknown_id_as_it_is() -> None:
    dataset = {
        "license": {"id": "cc-by", "title": "CC-BY"},
        "spatial": {
            "zones": [{"id": "fr:departement:75", "name": "Paris"}],
            "granularity": {"id": "fr:departement", "name": "Department"},
        },
    }
    review = dataset_review(FR, dataset).plain
    assert "Creative Commons Attribution (CC-BY)" in review
    assert "Paris · département" in review
    assert license_label(FR, "odc-unknown-2031") == "odc-unknown-2031"


def test_a_resource_type_is_said_in_words() -> None:
    assert resource_type_label(FR, "main") == "Fichier principal"
    assert resource_type_label(EN, "documentation") == "Documentation"
    line = reference_mismatch_text(
        FR, "donnees/t.csv", "references.mismatch.type", {"read": "main"}
    )
    assert "Fichier principal" in line and "(main)" not in line


def test_the_dataset_page_is_a_link_even_before_the_server_names_it() -> None:
    record = DatasetRecord("https://demo.data.gouv.fr/", "6b1416b5c0ffee")
    assert dataset_page_url(record) == "https://demo.data.gouv.fr/datasets/6b1416b5c0ffee/"
    with_slug = DatasetRecord("https://demo.data.gouv.fr", "6b1416b5", slug="visiomel")
    assert dataset_page_url(with_slug) == "https://demo.data.gouv.fr/datasets/visiomel/"
    named = DatasetRecord("https://x.org", "6b14", page="https://x.org/fr/datasets/v/")
    assert dataset_page_url(named) == "https://x.org/fr/datasets/v/"


def test_the_account_check_does_not_speak_of_the_api() -> None:
    assert "/me/" not in FR.t("account.check.verified")
    assert "/me/" not in EN.t("account.check.verified")


# --- estimates say so ----------------------------------------------------------------------


def _column(distinct: int, exact: bool) -> ColumnProfile:
    return ColumnProfile("id_patient", ColumnType.TEXT, 0, distinct, exact)


def test_an_estimated_distinct_count_carries_the_approximation_sign() -> None:
    estimated = column_text(FR, _column(16_500_000, exact=False))
    assert "≈\u00a016\u202f500\u202f000 valeurs distinctes" in estimated
    exact = column_text(FR, _column(16_500_000, exact=True))
    assert "≈" not in exact and "16\u202f500\u202f000 valeurs distinctes" in exact


def test_an_estimate_of_one_is_still_singular() -> None:
    assert "≈\u00a01 valeur distincte" in column_text(FR, _column(1, exact=False))
    assert format_count(3, exact=False) == "≈\u00a03"
