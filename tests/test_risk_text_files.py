"""Issue 13 on the risk side: a ragged file is named by its line, phone numbers inside free
text are found (and dates, codes and long ids are not taken for them), and `risk --json` lists
every input file, with what identifies in a table it could not measure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from hdh_wizard.cli.main import main
from hdh_wizard.inspect.risk.identifiers import IdRule, find_identifiers

pytestmark = pytest.mark.usefixtures("french_cli_in_tmp_path")


def _risk_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["risk", "--json", *args])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


# --- 5. a ragged file ----------------------------------------------------------------------------


def test_risk_on_a_ragged_file_names_the_line_in_plain_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["age,sexe,stade"] + [f"{40 + i % 3},F,II" for i in range(60)]
    lines[31] = "41,F,II,en trop"
    (tmp_path / "ragged.csv").write_text("\n".join(lines) + "\n")
    code = main(["risk", "ragged.csv", "--qi", "age,sexe"])
    err = capsys.readouterr().err
    assert code == 1
    assert "ligne 32 a 4 champs au lieu de 3" in err
    assert "Schema" not in err and "en trop" not in err


# --- 6. phone numbers inside text ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "rappeler au 06 12 34 56 78 demain",
        "tel. 01.23.45.67.89.",
        "joignable au +33 6 12 34 56 78",
        "portable 0612345678, le soir",
        "fixe : 04-78-12-34-56",
    ],
)
def test_a_phone_number_inside_free_text_is_found(text: str) -> None:
    frame = pl.LazyFrame({"remarque": [text, "rien à signaler", "revu en consultation"]})
    (finding,) = [f for f in find_identifiers(frame) if f.rule is IdRule.PHONE]
    assert finding.matches == 1
    assert all("12" not in example and "34" not in example for example in finding.examples)


@pytest.mark.parametrize(
    "text",
    [
        "vu le 01.02.2020 12:30",
        "vu le 01 02 2020 10 30",
        "domicile 75012 Paris",
        "dossier 06123456789012",
        "référence ID0612345678",
        "lot 2023-0612345678",
        "dose 0,0612345678 mg",
        "NIR 1 84 12 75 123 456 78",
        "du 12/03/2020 au 15/03/2020",
    ],
)
def test_dates_codes_and_long_ids_inside_text_are_not_phone_numbers(text: str) -> None:
    frame = pl.LazyFrame({"remarque": [text, "rien à signaler"]})
    assert not [f for f in find_identifiers(frame) if f.rule is IdRule.PHONE]


# --- 9. every input file in the JSON -------------------------------------------------------------


def test_a_table_without_quasi_identifier_is_in_the_json_with_its_reason_and_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "contacts.csv").write_text(
        "id,contact,remarque\n1,a.b@exemple.fr,appeler au 06 12 34 56 78\n2,c.d@exemple.fr,rien\n"
    )
    code, document, err = _risk_json(capsys, "contacts.csv")
    assert code == 2
    (entry,) = document["not_assessed"]
    assert entry["path"] == "contacts.csv"
    assert "quasi-identifiant" in entry["reason"]
    rules = {(f["column"], f["rule"]) for f in entry["findings"]}
    assert {("contact", "email"), ("remarque", "phone")} <= rules
    text = json.dumps(document, ensure_ascii=False)
    assert "exemple.fr" not in text and "06 12" not in text
    assert "quasi-identifiant" in err


def test_every_input_file_is_in_the_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "agrege.csv").write_text(
        "age,sexe,stade\n" + "".join(f"{40 + i % 3},F,II\n" for i in range(30))
    )
    (tmp_path / "vide.csv").write_bytes(b"")
    (tmp_path / "LISEZMOI.txt").write_text("Notes.\n\nRien d'autre.\n")
    _code, document, _err = _risk_json(
        capsys, "agrege.csv", "vide.csv", "LISEZMOI.txt", "absent.csv", "--qi", "age"
    )
    assessed = {t["table"] for t in document["tables"]}
    not_assessed = {e["path"]: e["reason"] for e in document["not_assessed"]}
    assert assessed == {"agrege.csv"}
    assert set(not_assessed) == {"vide.csv", "LISEZMOI.txt", "absent.csv"}
    assert all(not_assessed.values())
