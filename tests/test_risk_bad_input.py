"""The anonymity analysis against bad input: odd files, odd column names, odd values, odd options.

The promise under test: bad input gets a clear message (French by default), never a traceback nor
a crash report, nothing is lost, and no value of the data is ever shown in clear (only masked
shapes such as "Xxxx 99/99/9999") on the terminal, in the JSON document or in the report.

Tests marked `xfail(strict=True, reason="BUG: …")` expect the correct behaviour of a bug found by
this campaign: they document it and turn into failures (XPASS) once it is fixed.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import sys
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import tifffile

from hdh_wizard.cli.main import main
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import detect_lang, load_catalogue
from hdh_wizard.inspect.inspection import InventoryEntry
from hdh_wizard.inspect.risk.analysis import Choice, assess, scan_table
from hdh_wizard.inspect.risk.export import export_name, export_table
from hdh_wizard.inspect.risk.generalise import OTHERS, Coarsening, ColumnRule, generalise
from hdh_wizard.inspect.risk.measures import measure_risk
from hdh_wizard.inspect.risk.release import TableRef, export_ref
from hdh_wizard.inspect.risk.tables import open_tables

# Distinctive values: none may ever be printed or written in clear.
SURNAME = "Zyxwvut"
PHONE = "06 12 34 56 78"
NIR = "1 84 12 76 451 089 46"  # a valid key
EMAIL = "zyxwvut@exemple.fr"
BIRTH = "1984-12-03"
DIAGNOSIS = "Qwertzu"
IP = "192.168.12.34"
CLEAR_VALUES = (SURNAME, PHONE, NIR, EMAIL, BIRTH, DIAGNOSIS, IP, "75012")
# What a crash or a polars message looks like: neither belongs in front of a partner.
INTERNALS = ("Traceback", "erreur interne", "crash-", "Resolved plan", "strict_cast")


@pytest.fixture(autouse=True)
def _french_in_a_project_folder(
    french_cli_in_tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A crash report, if any, goes to this test's folder, not to the user's log folder.
    logs = french_cli_in_tmp_path / "logs"
    monkeypatch.setenv("XDG_STATE_HOME", str(logs))


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def _risk(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["risk", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = _risk(capsys, "--json", *args)
    return code, json.loads(out), err


def _no_internals(text: str) -> None:
    for marker in INTERNALS:
        assert marker not in text, marker
    assert not list(Path("logs").rglob("crash-*"))


def _ages(rows: int = 30) -> str:
    """age, sexe, stade: three classes of 10 on age."""
    lines = ["age,sexe,stade"] + [f"{30 + i % 3},F,{'I' if i % 2 else 'II'}" for i in range(rows)]
    return "\n".join(lines) + "\n"


def _patients(rows: int = 8) -> str:
    """Every kind of identifying value, under identifying and under neutral column names."""
    header = "nom,col_a,col_b,col_c,date_naissance,age,sexe,code_postal,diag,remarque,col_ip"
    lines = [header]
    for i in range(rows):
        lines.append(
            f"{SURNAME},{PHONE},{NIR},{EMAIL},{BIRTH},{30 + i % 3},F,75012,{DIAGNOSIS},"
            f"le patient {SURNAME} suivi pour {DIAGNOSIS} habite rue {i},{IP}"
        )
    return "\n".join(lines) + "\n"


def _records(document: dict[str, Any]) -> list[int]:
    return [t["original"]["records"] for t in document["tables"]]


# --- files --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("lf.csv", "âge,sexe,ville\n{rows}".encode()),
        ("crlf.csv", "âge,sexe,ville\r\n{rows}".encode()),
        ("cr.csv", "âge,sexe,ville\r{rows}".encode()),
        ("bom.csv", b"\xef\xbb\xbf" + "âge,sexe,ville\n{rows}".encode()),
        ("cp1252.csv", "âge;sexe;ville\r\n{rows}".encode("cp1252")),
        ("latin1.csv", "âge;sexe;ville\n{rows}".encode("latin-1")),
        ("blank_lines.csv", "âge,sexe,ville\n\n{rows}\n\n".encode()),
    ],
    ids=["lf", "crlf", "cr", "bom", "cp1252", "latin1", "blank_lines"],
)
def test_encodings_line_endings_and_blank_lines_give_the_same_measures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, data: bytes
) -> None:
    head, _, tail = data.partition(b"{rows}")
    delimiter = ";" if b";" in head else ","
    ending = "\r\n" if b"\r\n" in head else ("\r" if head.endswith(b"\r") else "\n")
    encoding = "latin-1" if "latin1" in name else ("cp1252" if "cp1252" in name else "utf-8")
    rows = ending.join(delimiter.join((str(30 + i % 3), "F", "Besançon")) for i in range(30))
    (tmp_path / name).write_bytes(head + (rows + ending).encode(encoding) + tail)
    code, document, err = _json(capsys, name, "--qi", "âge,sexe,ville")
    assert code == 1, err
    (table,) = document["tables"]
    assert [c["name"] for c in table["columns"]] == ["âge", "sexe", "ville"]
    assert (table["original"]["records"], table["original"]["k"]) == (30, 10)


def test_a_table_with_a_header_only_is_measured_as_zero_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "entete.csv", "age,sexe\n")
    code, document, err = _json(capsys, "entete.csv", "--qi", "age,sexe")
    _no_internals(err)
    assert code == 1  # inference is not measured without a sensitive attribute
    assert _records(document) == [0]
    assert document["tables"][0]["original"]["k"] == 0


def test_a_ragged_row_is_a_clear_error_without_the_values_of_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "casse.csv", _ages() + f"34,F,II,{SURNAME},{PHONE}\n")
    code, out, err = _risk(capsys, "casse.csv", "--qi", "age")
    assert code == 1
    assert "Impossible de lire la table « casse.csv »" in err
    _no_internals(out + err)
    assert SURNAME not in out + err and PHONE not in out + err


def test_a_short_row_reads_its_missing_fields_as_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "court.csv", _ages() + "34\n")
    code, document, err = _json(capsys, "court.csv", "--qi", "age,sexe")
    _no_internals(err)
    assert code == 1
    assert _records(document) == [31]
    assert document["tables"][0]["original"]["unique_records"] == 1


def test_a_nul_byte_in_a_value_does_not_stop_the_analysis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "nul.csv").write_bytes(_ages().encode() + b"34,F,I\x00I\n")
    code, document, err = _json(capsys, "nul.csv", "--qi", "age,sexe")
    _no_internals(err)
    assert code == 1
    assert _records(document) == [31]


def test_a_file_that_vanishes_after_the_listing_is_named_and_the_others_are_measured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "agrege.csv", _ages())
    gone = tmp_path / "disparu.csv"
    entries = [
        InventoryEntry(gone, "disparu.csv", 10, 0),
        InventoryEntry(tmp_path / "agrege.csv", "agrege.csv", 10, 0),
    ]
    monkeypatch.setattr("hdh_wizard.cli.risk.inventory", lambda paths, root: (entries, []))
    code, out, err = _risk(capsys, "disparu.csv", "agrege.csv", "--qi", "age")
    assert code == 1
    assert "disparu.csv" in err
    assert "agrege.csv · 30 enregistrements" in out
    _no_internals(out + err)


def test_a_workbook_with_an_empty_sheet_measures_the_others_and_masks_their_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xlsxwriter = pytest.importorskip("xlsxwriter")
    workbook = xlsxwriter.Workbook(str(tmp_path / "cohorte.xlsx"))
    patients = workbook.add_worksheet("Patients")
    patients.write_row(0, 0, ["nom", "telephone", "age", "sexe"])
    for i in range(30):
        patients.write_row(i + 1, 0, [f"{SURNAME}{i}", PHONE, 30 + i % 3, "F"])
    workbook.add_worksheet("Vide")
    dates = workbook.add_worksheet("Naissances")
    dates.write_row(0, 0, ["date_naissance", "age"])
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    for i in range(30):
        dates.write_datetime(i + 1, 0, datetime(1984, 12, 3), day)
        dates.write(i + 1, 1, 30 + i % 3)
    workbook.close()
    code, out, err = _risk(capsys, "cohorte.xlsx", "--qi", "age")
    _no_internals(err)
    assert code == 1
    assert "cohorte.xlsx › Patients · 30 enregistrements" in out
    assert "cohorte.xlsx › Naissances · 30 enregistrements" in out
    assert "Vide" not in out + err
    for clear in (SURNAME, PHONE, "1984", "03/12"):
        assert clear not in out + err


def test_parquet_columns_of_every_plain_type_are_measured_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    n = 30
    pl.DataFrame(
        {
            "age": [30 + i % 3 for i in range(n)],
            "poids": [60.5 + i % 2 for i in range(n)],
            "date_diagnostic": [date(2014, 1, 1 + i % 2) for i in range(n)],
            "deces": [i % 2 == 0 for i in range(n)],
            "vide": [None] * n,
            "stade": ["I", "II", "III"] * 10,
        }
    ).write_parquet(tmp_path / "types.parquet")
    code, document, err = _json(
        capsys,
        "types.parquet",
        "--qi",
        "age,poids,date_diagnostic,deces,vide",
        "--sensitive",
        "stade",
    )
    _no_internals(err)
    original = document["tables"][0]["original"]
    # age (3) × poids (2) × date (2, in step with poids) × deces (2, in step too): 6 classes of 5.
    assert (original["records"], original["classes"], original["k"]) == (30, 6, 5)
    assert original["l_diversity"][0]["smallest_l"] == 1
    assert code == 1


def test_a_slide_whose_tags_name_the_patient_is_reported_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tifffile.imwrite(
        tmp_path / "lame.tif",
        np.zeros((8, 8), np.uint8),
        description=f"Patient: {SURNAME} Jean, DDN 03/12/1984, NIR {NIR}, tel {PHONE}",
        metadata=None,
        extratags=[(315, "s", 0, f"Dr {DIAGNOSIS}", True)],
    )
    code, out, err = _risk(capsys, "lame.tif")
    code_json, document, err_json = _json(capsys, "lame.tif")
    assert code == code_json == 1
    assert {f["tag"] for f in document["images"][0]["findings"]} >= {"ImageDescription", "Artist"}
    everything = out + err + json.dumps(document, ensure_ascii=False) + err_json
    for clear in (SURNAME, PHONE, NIR, "1984", DIAGNOSIS):
        assert clear not in everything


# --- column names -------------------------------------------------------------------------------


def test_internal_names_as_column_names_are_measured_like_any_other(tmp_path: Path) -> None:
    rows = [("a", "x", "1", "p"), ("a", "x", "2", "p"), ("b", "y", "1", "q"), ("a", "x", "1", "r")]
    path = _write(
        tmp_path / "internes.csv",
        "__class,n,l,v\n" + "".join(",".join(r) + "\n" for r in rows),
    )
    with open_tables(path, "internes.csv") as (table,):
        m = measure_risk(table.frame, ["__class", "n"], ["l", "v"])
        grouped = generalise(table.frame, [ColumnRule("n", Coarsening.GROUP_RARE, 2)]).collect()
    assert (m.records, m.classes, m.k, m.unique_records) == (4, 2, 1, 1)
    assert [(d.column, d.smallest_l, d.records_l1) for d in m.diversity] == [
        ("l", 1, 1),
        ("v", 1, 1),
    ]
    assert grouped["n"].to_list() == ["x", "x", OTHERS, "x"]


def test_column_names_with_markup_and_line_breaks_are_escaped_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = '"<script>alert(1)</script>",a|b,"x\ny",**gras**\n'
    _write(tmp_path / "balises.csv", header + "".join(f"{i % 3},F,I,w\n" for i in range(30)))
    code, out, err = _risk(
        capsys,
        "balises.csv",
        "--qi",
        "<script>alert(1)</script>,a|b,**gras**",
        "--sensitive",
        "x\ny",
        "--report",
        "rapport",
    )
    _no_internals(out + err)
    assert code == 1
    html = (tmp_path / "rapport" / "analyse-risque-reidentification.html").read_text("utf-8")
    markdown = (tmp_path / "rapport" / "analyse-risque-reidentification.md").read_text("utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "| a\\|b |" in markdown
    assert not any(line == "y" or line.startswith("y |") for line in markdown.splitlines())


def test_a_rule_on_a_column_whose_name_holds_an_equal_sign_splits_on_the_last_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "egal.csv", "a=b,sexe\n" + "".join(f"{i % 3},F\n" for i in range(30)))
    code, document, err = _json(capsys, "egal.csv", "--qi", "a=b,sexe", "--rule", "a=b=drop")
    _no_internals(err)
    assert code == 1  # no sensitive attribute: inference is not measured
    table = document["tables"][0]
    assert table["rules"] == [{"column": "a=b", "rule": "drop"}]
    assert table["generalised"]["k"] == 30


def test_quasi_identifiers_with_spaces_and_trailing_commas_are_read_as_meant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "agrege.csv", _ages(60))
    code, document, err = _json(
        capsys, "agrege.csv", "--qi", " age , sexe ,,", "--sensitive", "stade,"
    )
    _no_internals(err)
    assert code == 0  # 3 classes of 20, two stages in each
    table = document["tables"][0]
    assert table["quasi_identifiers"] == ["age", "sexe"]
    assert table["sensitive"] == ["stade"]


def test_json_keeps_non_ascii_column_names_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path / "unicode.csv", "âge,SEXE,日本\n" + "".join(f"{i % 3},F,x\n" for i in range(30))
    )
    code, out, err = _risk(capsys, "--json", "unicode.csv", "--qi", "âge,日本")
    _no_internals(err)
    assert code == 1
    assert '"日本"' in out and '"âge"' in out
    assert json.loads(out)["tables"][0]["quasi_identifiers"] == ["âge", "日本"]


def test_a_column_name_in_the_wrong_case_is_refused_with_the_names_available(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "casse.csv", "Age,SEXE\n" + "".join(f"{i % 3},F\n" for i in range(30)))
    code, out, err = _risk(capsys, "casse.csv", "--qi", "age,sexe")
    assert code == 2
    assert "Dans casse.csv, aucune colonne ne s'appelle : age, sexe" in err
    assert "Colonnes disponibles : Age, SEXE" in err
    _no_internals(out + err)


# --- options ------------------------------------------------------------------------------------


@pytest.mark.parametrize("threshold", ["1", "0", "-5", "1001", "5.0", "", "cinq", "1e3"])
def test_a_threshold_that_is_not_a_whole_number_from_2_to_1000_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], threshold: str
) -> None:
    _write(tmp_path / "agrege.csv", _ages())
    code, out, err = _risk(capsys, "agrege.csv", "--qi", "age", "--threshold", threshold)
    assert code == 2
    assert f"Seuil « {threshold} » invalide" in err
    _no_internals(out + err)


@pytest.mark.parametrize(
    ("threshold", "expected", "exit_code"),
    # 2 is accepted but below the open-data default 11: singling out then needs a justification.
    [("2", 2, 1), (" 11 ", 11, 1), ("1000", 1000, 1)],
)
def test_thresholds_from_2_to_1000_are_accepted_even_with_spaces(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    threshold: str,
    expected: int,
    exit_code: int,
) -> None:
    _write(tmp_path / "agrege.csv", _ages())  # classes of 10, two stages in each
    code, document, _err = _json(capsys, "agrege.csv", "--qi", "age", "--threshold", threshold)
    assert document["tables"][0]["threshold"] == expected
    assert code == exit_code


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (["age"], "Règle de généralisation « age » invalide"),
        (["age="], "Règle de généralisation « age= » invalide"),
        (["=drop"], "Règle de généralisation « =drop » invalide"),
        (["age=age_7"], "Règle de généralisation « age=age_7 » invalide"),
        (["age=AGE_5"], "Règle de généralisation « age=AGE_5 » invalide"),
        (["sexe=group_rare:x"], "Règle de généralisation « sexe=group_rare:x » invalide"),
        (["sexe=group_rare:5.0"], "Règle de généralisation « sexe=group_rare:5.0 » invalide"),
        (["sexe=group_rare:1"], "Effectif minimal « 1 » invalide"),
        (["sexe=suppress_rare:0"], "Effectif minimal « 0 » invalide"),
        (["sexe=group_rare:-3"], "Effectif minimal « -3 » invalide"),
        (["sexe=drop", "sexe=age_5"], "Deux règles portent sur la colonne « sexe »"),
    ],
)
def test_malformed_rules_are_usage_errors_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rules: list[str], message: str
) -> None:
    _write(tmp_path / "agrege.csv", _ages())
    args = [arg for rule in rules for arg in ("--rule", rule)]
    code, out, err = _risk(capsys, "agrege.csv", "--qi", "age", *args)
    assert code == 2
    assert message in err
    _no_internals(out + err)


def test_a_rare_value_rule_with_a_huge_count_groups_every_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "agrege.csv", _ages())
    code, document, err = _json(
        capsys, "agrege.csv", "--qi", "age,sexe", "--rule", "age=group_rare:99999999999999999999"
    )
    _no_internals(err)
    assert code == 0
    generalised = document["tables"][0]["generalised"]
    assert (generalised["classes"], generalised["k"]) == (1, 30)


@pytest.mark.parametrize("where", ["un_fichier", "un_fichier/dessous", "/proc/hdh-wizard-test"])
def test_a_report_folder_that_cannot_be_written_is_a_clear_error_after_the_analysis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    _write(tmp_path / "agrege.csv", _ages())
    _write(tmp_path / "un_fichier", "x")
    code, out, err = _risk(capsys, "agrege.csv", "--qi", "age", "--report", where)
    assert code == 1
    assert "agrege.csv · 30 enregistrements" in out
    assert f"Impossible d'écrire le rapport d'analyse dans le dossier « {where} »" in err
    _no_internals(out + err)
    assert (tmp_path / "un_fichier").read_text() == "x"


# --- values never shown in clear ----------------------------------------------------------------


def test_identifying_values_never_appear_in_the_text_the_json_nor_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "patients.csv", _patients())
    shown = []
    for args in (
        ["patients.csv"],
        ["--json", "patients.csv"],
        ["--json", "patients.csv", "--qi", "age,sexe,col_a", "--rule", "nom=drop"],
        [
            "patients.csv",
            "--qi",
            "age,sexe,date_naissance,code_postal",
            "--sensitive",
            "diag",
            "--rule",
            "date_naissance=year",
            "--rule",
            "code_postal=departement",
            "--rule",
            "col_b=group_rare:2",
            "--report",
            "dossier avec espaces",
        ],
    ):
        code, out, err = _risk(capsys, *args)
        assert code == 1
        _no_internals(out + err)
        shown.append(out + err)
    shown += [p.read_text("utf-8") for p in (tmp_path / "dossier avec espaces").iterdir()]
    everything = "\n".join(shown)
    assert "Xxxxxxx" in everything  # the masked shape of the surname is shown, not the surname
    for clear in CLEAR_VALUES:
        assert clear not in everything, clear


# --- the numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(40))
def test_k_classes_uniques_and_l_agree_with_a_brute_force_count_through_the_csv_path(
    tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    width = rng.randint(2, 4)
    names = [f"c{i}" for i in range(width)] + ["id"]  # id: no row is entirely empty
    pool = ["", "a", "b", " ", "NA", "0", "00", "a,b", 'q"x', "é"]
    rows = [
        [rng.choice(pool[: rng.randint(2, len(pool))]) for _ in range(width)] + [str(r)]
        for r in range(rng.randint(1, 40))
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(rows)
    path = _write(tmp_path / "hasard.csv", buffer.getvalue())
    quasi = names[: rng.randint(1, width - 1)]
    sensitive = names[width - 1]

    def value(row: list[str], column: str) -> str | None:
        text = row[names.index(column)]
        return None if text == "" else text  # an empty CSV field reads as null

    classes = Counter(tuple(value(r, c) for c in quasi) for r in rows)
    diagnoses: dict[tuple[str | None, ...], set[str | None]] = defaultdict(set)
    for row in rows:
        diagnoses[tuple(value(row, c) for c in quasi)].add(value(row, sensitive))
    with open_tables(path, "hasard.csv") as (table,):
        m = measure_risk(table.frame, quasi, [sensitive], threshold=3)
    assert m.records == len(rows)
    assert m.classes == len(classes)
    assert m.k == min(classes.values())
    assert m.unique_records == sum(1 for n in classes.values() if n == 1)
    assert m.records_in_small == sum(n for n in classes.values() if n < 3)
    assert m.diversity[0].smallest_l == min(len(s) for s in diagnoses.values())
    assert m.diversity[0].records_l1 == sum(
        classes[key] for key, values in diagnoses.items() if len(values) == 1
    )


def test_ages_that_are_not_ages_are_kept_as_written_by_the_bands() -> None:
    ages = ["-3", "200", "inf", "nan", "34 ans", "NA", "", None, "034", "+34", "199.99", " 34 "]
    frame = pl.DataFrame({"age": ages}).lazy()
    banded = generalise(frame, [ColumnRule("age", Coarsening.AGE_10)]).collect()["age"].to_list()
    assert banded == [
        "-3",
        "200",
        "inf",
        "nan",
        "34 ans",
        "NA",
        "",
        None,
        "30-39",
        "30-39",
        "190-199",
        "30-39",
    ]


# --- the generalised copy -----------------------------------------------------------------------


def test_the_generalised_copy_of_a_legacy_csv_keeps_every_row_the_order_and_the_original(
    tmp_path: Path,
) -> None:
    lines = ["nom;age;sexe;date_diagnostic"]
    lines += [f"{SURNAME}é{i};{30 + i % 7};{'FM'[i % 2]};0{1 + i % 9}/03/2014" for i in range(40)]
    source = _write(tmp_path / "donnees" / "cohorte.csv", "\r\n".join(lines) + "\r\n\r\n", "cp1252")
    before = source.read_bytes()
    choice = Choice(
        ("age", "sexe"),
        rules=(
            ColumnRule("nom", Coarsening.DROP),
            ColumnRule("age", Coarsening.AGE_10),
            ColumnRule("date_diagnostic", Coarsening.MONTH),
        ),
    )
    publish = tmp_path / "publish"
    with open_tables(source, "donnees/cohorte.csv") as (table,):
        risk = assess(table, scan_table(table), choice)
        exported = export_table(table, choice, publish, risk.original.records)
    assert risk.original.records == exported.rows == 40
    assert source.read_bytes() == before
    written = pl.read_csv(exported.output, infer_schema=False)
    assert written.columns == ["age", "sexe", "date_diagnostic"]
    assert set(written["date_diagnostic"]) == {"2014-03"}
    assert written["sexe"].to_list() == ["FM"[i % 2] for i in range(40)]
    assert [p.name for p in publish.iterdir()] == ["donnees_cohorte_anonymise.csv"]


def test_a_copy_that_fails_while_being_written_leaves_nothing_in_publish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _write(tmp_path / "agrege.csv", _ages())

    def full_disk(output: Path, expected: int | None, name: str) -> int:
        raise HdhWizardError("inspect.error.rows_differ", file=name, expected=expected, written=0)

    monkeypatch.setattr("hdh_wizard.inspect.risk.export.verify_csv", full_disk)
    publish = tmp_path / "publish"
    with open_tables(source, "agrege.csv") as (table,), pytest.raises(HdhWizardError):
        export_table(table, Choice(("age",)), publish, 30)
    assert list(publish.iterdir()) == []


# =================================================================================================
# Bugs found by this campaign: each test expects the correct behaviour.
# =================================================================================================


def test_a_quote_never_closed_is_refused_without_printing_the_values_that_follow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = "".join(f"{30 + i % 3},F,{SURNAME}{i},{PHONE}\n" for i in range(5))
    _write(
        tmp_path / "guillemet.csv", "age,sexe,col_x,col_y\n" + rows + f'34,F,"{SURNAME},1\n' + rows
    )
    code, out, err = _risk(capsys, "guillemet.csv", "--qi", "age")
    assert code == 1
    assert "guillemet.csv" in err
    for clear in (SURNAME, PHONE):
        assert clear not in out + err
    _no_internals(err)


def test_an_unreadable_table_is_not_reported_as_no_table_at_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "casse.csv", _ages() + "34,F,II,en trop\n")
    code, out, err = _risk(capsys, "casse.csv", "--qi", "age")
    assert code == 1
    assert "casse.csv" in err
    assert "Aucune table" not in out


@pytest.mark.parametrize("case", ["missing", "fifo", "link_outside", "empty_csv", "binary_csv"])
def test_a_path_that_cannot_be_analysed_is_named_and_never_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    project = tmp_path / "projet"
    project.mkdir()
    monkeypatch.chdir(project)
    name = f"{case}.csv"
    if case == "fifo":
        os.mkfifo(project / name)
    elif case == "link_outside":
        _write(tmp_path / "dehors.csv", _ages())
        (project / name).symlink_to(tmp_path / "dehors.csv")
    elif case == "empty_csv":
        (project / name).write_bytes(b"")
    elif case == "binary_csv":
        (project / name).write_bytes(bytes(range(256)) * 8)
    code, out, err = _risk(capsys, name, "--qi", "age")
    assert code != 0
    assert name in out + err


def test_a_symlink_loop_in_a_folder_is_skipped_and_the_tables_beside_it_are_measured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "donnees" / "agrege.csv", _ages())
    (tmp_path / "donnees" / "boucle.csv").symlink_to("boucle.csv")
    code, out, err = _risk(capsys, "donnees", "--qi", "age")
    _no_internals(out + err)
    assert code == 1
    assert "donnees/agrege.csv · 30 enregistrements" in out


def test_json_with_a_report_is_still_a_valid_json_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "agrege.csv", _ages())
    _code, out, _err = _risk(capsys, "--json", "agrege.csv", "--qi", "age", "--report", "rapport")
    assert (tmp_path / "rapport" / "analyse-risque-reidentification.md").exists()
    assert json.loads(out)["tables"][0]["original"]["k"] == 10


def test_json_does_not_call_the_criteria_excluded_when_no_table_was_analysed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "patients.csv", _patients())
    code, document, err = _json(capsys, "patients.csv", "--qi", "agee")
    assert code == 2
    assert "aucune colonne ne s'appelle" in err
    assert set(document["criteria"].values()) != {"excluded"}


def test_json_names_a_table_that_could_not_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "agrege.csv", _ages())
    _write(tmp_path / "casse.csv", _ages() + "34,F,II,en trop\n")
    code, out, err = _risk(
        capsys, "--json", "agrege.csv", "casse.csv", "--qi", "age,sexe", "--sensitive", "stade"
    )
    assert code == 1
    assert "casse.csv" in err
    criteria = json.loads(out)["criteria"]
    assert "casse.csv" in out or set(criteria.values()) != {"excluded"}


def test_a_column_named_star_does_not_make_the_table_unreadable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path / "etoile.csv", "*,age,sexe\n" + "".join(f"x{i},{i % 3},F\n" for i in range(30))
    )
    _code, out, err = _risk(capsys, "etoile.csv", "--qi", "age,sexe")
    _no_internals(err)
    assert "etoile.csv · 30 enregistrements" in out


def test_a_column_named_like_a_regular_expression_is_measured_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "regex.csv", "^a.*$,age\n" + "".join(f"x{i},{i % 3}\n" for i in range(30)))
    _code, document, _err = _json(capsys, "regex.csv", "--qi", "^a.*$")
    original = document["tables"][0]["original"]
    assert (original["k"], original["unique_records"]) == (1, 30)
    assert document["tables"][0]["criteria"]["singling_out"] == "not_excluded"


def test_the_same_quasi_identifier_twice_is_measured_once_or_refused_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "agrege.csv", _ages())
    code, _out, err = _risk(capsys, "agrege.csv", "--qi", "age,age")
    _no_internals(err)
    assert "Impossible de lire" not in err
    assert code in (0, 1, 2)


def test_a_csv_with_duplicated_headers_is_refused_with_the_column_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path / "double.csv", "age,age,sexe\n" + "".join(f"{i % 3},{i},F\n" for i in range(30))
    )
    code, out, err = _risk(capsys, "double.csv", "--qi", "age,sexe")
    assert code == 1  # the file is to fix, not the command
    assert "age_duplicated" not in out + err
    assert "double" in err and "age" in err


def test_a_header_with_an_unnamed_index_column_is_read_or_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path / "pandas.csv", ",age,sexe\n" + "".join(f"{i},{30 + i % 3},F\n" for i in range(30))
    )
    _code, out, err = _risk(capsys, "pandas.csv", "--qi", "age,sexe")
    assert "column_0" not in err
    assert "30 enregistrements" in out or "en-tête" in err


def test_a_file_without_header_does_not_print_its_first_record_as_column_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = f"{SURNAME},Jean,F,{EMAIL},{PHONE}\n"
    _write(tmp_path / "sans_entete.csv", record * 3 + "Martin,Paul,M,p@m.fr,07 00 00 00 00\n")
    _code, out, err = _risk(capsys, "sans_entete.csv", "--qi", "age")
    for clear in (SURNAME, EMAIL, PHONE):
        assert clear not in out + err


def test_header_names_with_surrounding_spaces_can_be_chosen_by_their_visible_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "espaces.csv", " age , sexe \n" + "".join(f"{i % 3},F\n" for i in range(30)))
    code, out, err = _risk(capsys, "espaces.csv", "--qi", "age,sexe")
    assert code == 1, err
    assert "30 enregistrements" in out


def test_a_column_whose_name_holds_a_comma_can_be_given_quoted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path / "virgule.csv",
        '"age, en années",sexe\n' + "".join(f"{i % 3},F\n" for i in range(30)),
    )
    code, document, err = _json(capsys, "virgule.csv", "--qi", '"age, en années",sexe')
    assert code in (0, 1), err
    assert document["tables"][0]["quasi_identifiers"] == ["age, en années", "sexe"]


def test_a_rule_on_an_unknown_column_names_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "agrege.csv", _ages())
    code, _out, err = _risk(capsys, "agrege.csv", "--qi", "age", "--rule", "ville=drop")
    assert code == 2
    assert "Dans agrege.csv, aucune colonne ne s'appelle : ville" in err


def test_a_parquet_file_with_a_list_column_is_still_measured_on_its_other_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pl.DataFrame(
        {"age": [30 + i % 3 for i in range(30)], "diags": [["C50", "C43"]] * 30}
    ).write_parquet(tmp_path / "imbrique.parquet")
    _code, out, err = _risk(capsys, "imbrique.parquet", "--qi", "age")
    _no_internals(err)
    assert "imbrique.parquet · 30 enregistrements" in out


@pytest.mark.parametrize("rule", [Coarsening.MONTH, Coarsening.YEAR])
@pytest.mark.parametrize("value", ["09/03/14", "14-03-09"])
def test_a_date_with_a_two_digit_year_is_not_moved_to_the_year_14(
    rule: Coarsening, value: str
) -> None:
    frame = pl.DataFrame({"d": [value]}).lazy()
    (result,) = generalise(frame, [ColumnRule("d", rule)]).collect()["d"].to_list()
    assert not result.startswith("0014")


@pytest.mark.parametrize("value", ["19841203", "03.12.1984"])
def test_every_date_shape_reported_as_a_birth_date_is_reduced_to_its_year(value: str) -> None:
    frame = pl.DataFrame({"date_naissance": [value]}).lazy()
    rule = ColumnRule("date_naissance", Coarsening.YEAR)
    assert generalise(frame, [rule]).collect()["date_naissance"].to_list() == ["1984"]


@pytest.mark.xfail(
    strict=True,
    reason="BUG: tables._csv_frame drops rows of empty fields only when the file has a blank line "
    "somewhere: the same ',' row is a record (a unique class) or nothing, depending on an "
    "unrelated trailing blank line",
)
def test_a_row_of_empty_fields_counts_the_same_with_or_without_a_blank_line_elsewhere(
    tmp_path: Path,
) -> None:
    plain = _write(tmp_path / "a.csv", "a,b\n1,2\n,\n1,2\n")
    trailing = _write(tmp_path / "b.csv", "a,b\n1,2\n,\n1,2\n\n")
    measured = []
    for path in (plain, trailing):
        with open_tables(path, path.name) as (table,):
            m = measure_risk(table.frame, ["a"])
        measured.append((m.records, m.classes, m.k))
    assert measured[0] == measured[1]


def test_each_sheet_of_a_workbook_gets_its_own_generalised_copy(tmp_path: Path) -> None:
    xlsxwriter = pytest.importorskip("xlsxwriter")
    workbook = xlsxwriter.Workbook(str(tmp_path / "cohorte.xlsx"))
    for sheet in ("Patients", "Sejours"):
        worksheet = workbook.add_worksheet(sheet)
        worksheet.write_row(0, 0, ["age", "sexe"])
        for i in range(10):
            worksheet.write_row(i + 1, 0, [30 + i % 3, "F"])
    workbook.close()
    publish = tmp_path / "publish"
    with open_tables(tmp_path / "cohorte.xlsx", "cohorte.xlsx") as tables:
        outputs = {export_table(t, Choice(("age",)), publish, 10).output for t in tables}
    assert len(outputs) == 2
    assert len(list(publish.iterdir())) == 2


@pytest.mark.xfail(
    strict=True,
    reason="KNOWN: export.export_name maps different tables ('a b.csv', 'a_b.csv'; 'd/x.csv', "
    "'d_x.csv') to one name; the screen passes the other copies as `taken`, so the second gets "
    "'-2' instead of replacing the first (test_risk_generalise), but the name alone is not unique",
)
@pytest.mark.parametrize(("first", "second"), [("a b.csv", "a_b.csv"), ("d/x.csv", "d_x.csv")])
def test_two_tables_never_share_a_copy_name(first: str, second: str) -> None:
    assert export_name(first) != export_name(second)


def test_a_publish_folder_that_cannot_be_created_is_a_write_error_not_a_read_error(
    tmp_path: Path,
) -> None:
    source = _write(tmp_path / "agrege.csv", _ages())
    blocked = _write(tmp_path / "publish", "un fichier à la place du dossier")
    ref = TableRef(source, "agrege.csv", "agrege.csv", source.stat().st_size)
    with pytest.raises(HdhWizardError) as raised:
        export_ref(ref, Choice(("age",)), blocked, 30)
    message = raised.value.message(load_catalogue(detect_lang("fr")))
    assert "Impossible de lire" not in message
    with open_tables(source, "agrege.csv") as (table,), pytest.raises(HdhWizardError):
        export_table(table, Choice(("age",)), blocked, 30)


def test_dropping_every_column_is_refused_with_a_message_about_columns(tmp_path: Path) -> None:
    source = _write(tmp_path / "noms.csv", "nom\nA\nB\n")
    publish = tmp_path / "publish"
    choice = Choice(("nom",), rules=(ColumnRule("nom", Coarsening.DROP),))
    with open_tables(source, "noms.csv") as (table,), pytest.raises(HdhWizardError) as raised:
        export_table(table, choice, publish, 2)
    assert not publish.exists() or list(publish.iterdir()) == []
    assert "lignes au lieu de" not in raised.value.message(load_catalogue(detect_lang("fr")))


def test_the_report_can_be_redirected_to_a_cp1252_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "agrege.csv", _ages())
    stream = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    monkeypatch.setattr(sys, "stdout", stream)
    code = main(["risk", "agrege.csv", "--qi", "age"])
    err = capsys.readouterr().err
    _no_internals(err)
    assert code in (0, 1)


def test_a_csv_of_blank_lines_only_is_said_to_be_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "blanc.csv", "\n\n\n")
    _code, out, err = _risk(capsys, "blanc.csv")
    assert "--qi" not in err
    assert "column_0" not in err
    assert "blanc.csv" in out + err
