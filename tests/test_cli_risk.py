"""`hdh-wizard risk`: the identification-risk analysis headless — exit codes, JSON, the report,
clear messages on bad input, and never a value in clear."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hdh_wizard.cli.main import main

PATIENTS = (
    "nom,nir,telephone,age,sexe,code_postal,date_diagnostic,stade\n"
    "Dupont,1 84 12 76 451 089 46,06 12 34 56 78,34,F,75012,2014-03-09,II\n"
    "Martin,2 91 07 2A 004 123 35,01 23 45 67 89,52,M,20090,2015-11-20,III\n"
    "Durand,1 70 01 13 055 001 63,07 98 76 54 32,34,F,13001,2016-01-02,II\n"
)


pytestmark = pytest.mark.usefixtures("french_cli_in_tmp_path")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _mixed_table(rows: int = 60) -> str:
    lines = ["age,sexe,stade"]
    lines += [f"{40 + i % 3},{'FM'[i % 2]},{['I', 'II', 'III'][i % 5 % 3]}" for i in range(rows)]
    return "\n".join(lines) + "\n"


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["risk", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_a_table_of_patients_is_reported_with_its_identifiers_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "patients.csv", PATIENTS)
    code = main(["risk", "patients.csv"])
    out = capsys.readouterr().out
    assert code == 1
    assert "patients.csv · 3 enregistrements · 8 colonnes" in out
    assert "Colonnes identifiantes" in out
    assert "Individualisation : non exclue" in out
    for clear in ("Dupont", "1 84 12", "06 12 34", "75012", "2014-03-09"):
        assert clear not in out


def test_json_names_the_findings_the_measures_and_each_criterion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "patients.csv", PATIENTS)
    code, document = _json(capsys, "patients.csv", "--qi", "age,sexe", "--sensitive", "stade")
    assert code == 1
    (table,) = document["tables"]
    rules = {(f["column"], f["rule"]) for f in table["findings"]}
    assert {("nom", "name"), ("nir", "nir"), ("telephone", "phone")} <= rules
    assert table["quasi_identifiers"] == ["age", "sexe"]
    assert table["original"]["k"] == 1
    assert table["original"]["l_diversity"][0]["column"] == "stade"
    assert table["criteria"]["singling_out"] == "not_excluded"
    assert "Dupont" not in json.dumps(document)


def test_a_well_generalised_table_excludes_the_three_criteria_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "agrege.csv", _mixed_table(120))  # classes of 20: above the threshold 11
    code, document = _json(capsys, "agrege.csv", "--qi", "age,sexe", "--sensitive", "stade")
    assert document["criteria"] == {
        "singling_out": "excluded",
        "linkability": "excluded",
        "inference": "excluded",
    }
    assert code == 0


def test_rules_and_the_stricter_threshold_are_applied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "agrege.csv", _mixed_table())
    code, document = _json(
        capsys, "agrege.csv", "--qi", "age,sexe", "--threshold", "11", "--rule", "age=age_10"
    )
    assert code == 0  # classes of 10 are below 11, but the bands make them 30
    table = document["tables"][0]
    assert table["threshold"] == 11
    assert table["rules"] == [{"column": "age", "rule": "age_10"}]
    assert table["original"]["k"] == 10
    assert table["generalised"]["k"] == 30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--qi", "age,ville"], "aucune colonne ne s'appelle"),
        (["--threshold", "0"], "Seuil « 0 » invalide"),
        (["--threshold", "beaucoup"], "Seuil « beaucoup » invalide"),
        (["--rule", "age=age_7"], "Règle de généralisation « age=age_7 » invalide"),
        (["--rule", "ville=drop"], "aucune colonne ne s'appelle"),
        (["--qi", "age", "--sensitive", "age"], "à la fois quasi-identifiant et attribut sensible"),
    ],
)
def test_bad_choices_are_usage_errors_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    _write(tmp_path / "agrege.csv", _mixed_table())
    code = main(["risk", "agrege.csv", *args])
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.out + captured.err
    assert "Traceback" not in captured.out + captured.err


def test_a_table_with_no_proposed_quasi_identifier_asks_for_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "mesures.csv", "x,y\n1,2\n3,4\n")
    code = main(["risk", "mesures.csv"])
    assert code == 2
    assert "--qi" in capsys.readouterr().err


def test_a_file_with_one_row_and_an_empty_column_are_measured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "un.csv", "age,sexe,commentaire_vide\n40,F,\n")
    code, document = _json(capsys, "un.csv", "--qi", "age,sexe,commentaire_vide")
    assert code == 1
    original = document["tables"][0]["original"]
    assert (original["records"], original["k"], original["unique_records"]) == (1, 1, 1)


def test_the_report_is_written_in_markdown_and_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "patients.csv", PATIENTS)
    main(["risk", "patients.csv", "--report", "rapport"])
    out = capsys.readouterr().out
    assert "rapport/analyse-risque-reidentification.md" in out
    markdown = (tmp_path / "rapport" / "analyse-risque-reidentification.md").read_text("utf-8")
    html = (tmp_path / "rapport" / "analyse-risque-reidentification.html").read_text("utf-8")
    assert "patients.csv" in markdown and "<svg" in html
    for clear in ("Dupont", "75012"):
        assert clear not in markdown and clear not in html


def test_paths_with_no_table_say_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "LISEZMOI.md", "# Cohorte\n")
    assert main(["risk", "LISEZMOI.md"]) == 1  # nothing measured excludes nothing
    assert "Aucune table" in capsys.readouterr().out


def test_english_on_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "agrege.csv", _mixed_table(120))
    main(["risk", "--lang", "en", "agrege.csv", "--qi", "age,sexe"])
    out = capsys.readouterr().out
    assert "Singling out: excluded by the measures" in out


def test_help_shows_the_usage_once_in_french(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["risk", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.count("paths [paths ...]") == 1
    assert out.startswith("usage : hdh-wizard risk")
    assert "--threshold" in out and "convention plus stricte" in out


def test_a_damaged_slide_is_named_and_the_other_files_are_still_analysed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "lames").mkdir()
    (tmp_path / "lames" / "abimee.tif").write_bytes(b"II*\x00\xff\xff\xff\x7f" + b"\x00" * 32)
    _write(tmp_path / "agrege.csv", _mixed_table())
    code = main(["risk", "lames", "agrege.csv", "--qi", "age,sexe"])
    captured = capsys.readouterr()
    assert code == 1
    assert "abimee.tif" in captured.err
    assert "Traceback" not in captured.err
    assert "agrege.csv · 60 enregistrements" in captured.out


def test_a_proposed_quasi_identifier_named_sensitive_moves_to_the_sensitive_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "agrege.csv", _mixed_table())
    code, document = _json(capsys, "agrege.csv", "--sensitive", "age")
    table = document["tables"][0]
    assert table["sensitive"] == ["age"]
    assert "age" not in table["quasi_identifiers"]
    assert code in (0, 1)
