"""The data dictionary and the Table Schemas: written from the files to publish, every schema
accepted by the Frictionless tools for its CSV (and a broken row refused), descriptions kept
across re-runs and pasted from the partner's own dictionary (CSV in Windows-1252, workbooks of
several sheets), identifying columns never listed, and every bad input said plainly."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from frictionless import Resource, Schema

from hdh_wizard import project as projects
from hdh_wizard.cli.main import main
from hdh_wizard.core import workflow
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows.dictionary import UNUSED_NAME, write_dictionary
from hdh_wizard.inspect.dictionary_file import DictionaryFileError
from hdh_wizard.inspect.risk.generalise import Coarsening, ColumnRule, generalise
from tests.tui_helpers import ALICE, NOW, make_demo_project

TABLE = "donnees/cohorte_melanome.csv"
DICTIONARY = "publish/dictionnaire-des-variables.csv"


def _validate(folder: Path, csv_name: str, schema: Path) -> list[str]:
    """Frictionless' own validation of a CSV (a path inside `folder`) against a schema file."""
    descriptor = json.loads(schema.read_text(encoding="utf-8"))
    resource = Resource(
        path=csv_name, basepath=str(folder), schema=Schema.from_descriptor(descriptor)
    )
    report = resource.validate()
    return [error.message for task in report.tasks for error in task.errors]


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _entry(folder: Path, name: str) -> dict[str, str]:
    return next(r for r in _rows(folder / DICTIONARY) if r["variable"] == name)


def _with_published(folder: Path, release: Release, names: list[str]) -> Release:
    entries = [{"path": n, "kind": "csv", "size": (folder / n).stat().st_size} for n in names]
    release = workflow.commit_step(
        release, StepId.INTEROPERABILITY, {"publish": entries}, ALICE, NOW
    )
    projects.save(projects.Project(folder, release), release)
    return release


def test_every_demo_schema_validates_its_csv_and_a_broken_row_fails(tmp_path: Path) -> None:
    release = make_demo_project(tmp_path).release

    written = write_dictionary(release, tmp_path)

    schemas = [p for p in written.files if p.name.endswith(".schema.json")]
    assert [p.name for p in schemas] == ["donnees-cohorte_melanome.schema.json"]
    assert _validate(tmp_path, TABLE, schemas[0]) == []
    broken = tmp_path / "donnees" / "casse.csv"
    lines = (tmp_path / TABLE).read_text(encoding="utf-8").splitlines()
    fields = lines[1].split(",")
    fields[1], fields[2] = "X", "quatre-vingts"  # sexe outside F/M, age not a number
    broken.write_text("\n".join([lines[0], ",".join(fields), *lines[2:]]) + "\n", "utf-8")
    errors = _validate(tmp_path, "donnees/casse.csv", schemas[0])
    assert len(errors) == 2, errors
    schema = json.loads(schemas[0].read_text(encoding="utf-8"))
    sexe = next(f for f in schema["fields"] if f["name"] == "sexe")
    assert sexe["constraints"] == {"required": True, "enum": ["F", "M"]}


def test_identifying_columns_are_never_listed(tmp_path: Path) -> None:
    release = make_demo_project(tmp_path).release
    ids = {r["id_patient"] for r in _rows(tmp_path / TABLE)}

    written = write_dictionary(release, tmp_path)

    for path in written.files:
        text = path.read_text(encoding="utf-8")
        assert not any(i in text for i in ids), path
    assert _entry(tmp_path, "id_patient")["valeurs"] == "masquées (colonne identifiante)"


def test_french_formats_get_a_schema_their_readers_accept(tmp_path: Path) -> None:
    release = make_demo_project(tmp_path).release
    table = tmp_path / "donnees" / "sejours.csv"
    table.write_text(
        "id_sejour;poids_kg;date_entree;urgence;commentaire\n"
        + "".join(
            f"S{i:04d};{60 + i % 30},{i % 10};{1 + i % 28:02d}/0{1 + i % 9}/2019;"
            f"{'true' if i % 2 else 'false'};{'' if i % 3 else 'revu'}\n"
            for i in range(200)
        ),
        encoding="utf-8",
    )
    release = _with_published(tmp_path, release, [TABLE, "donnees/sejours.csv"])

    written = write_dictionary(release, tmp_path)

    schema_path = next(p for p in written.files if p.name == "donnees-sejours.schema.json")
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    by_name = {f["name"]: f for f in schema["fields"]}
    assert by_name["poids_kg"]["type"] == "number" and by_name["poids_kg"]["decimalChar"] == ","
    assert by_name["date_entree"] == {
        "name": "date_entree",
        "type": "date",
        "format": "%d/%m/%Y",
        "constraints": {"required": True},
    }
    assert "required" not in by_name["commentaire"].get("constraints", {})
    assert _validate(tmp_path, "donnees/sejours.csv", schema_path) == []
    assert _entry(tmp_path, "commentaire")["part_vide"] == "0.6650"  # 133 of 200 rows


def test_descriptions_survive_a_rerun_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    release = make_demo_project(tmp_path).release
    write_dictionary(release, tmp_path)
    rows = _rows(tmp_path / DICTIONARY)
    for row in rows:
        if row["variable"] == "breslow_mm":
            row["description"], row["unite"] = "Épaisseur de Breslow", "mm"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (tmp_path / DICTIONARY).write_text(out.getvalue(), encoding="utf-8")

    first = write_dictionary(release, tmp_path)
    before = {p: p.read_bytes() for p in first.files}
    second = write_dictionary(release, tmp_path)

    assert _entry(tmp_path, "breslow_mm")["description"] == "Épaisseur de Breslow"
    assert _entry(tmp_path, "breslow_mm")["unite"] == "mm"
    assert {p: p.read_bytes() for p in second.files} == before
    schema = json.loads(
        (tmp_path / "publish/schemas/donnees-cohorte_melanome.schema.json").read_text("utf-8")
    )
    breslow = next(f for f in schema["fields"] if f["name"] == "breslow_mm")
    assert breslow["description"] == "Épaisseur de Breslow"


def test_descriptions_pasted_from_a_windows_1252_csv_with_semicolons(tmp_path: Path) -> None:
    release = make_demo_project(tmp_path).release
    pasted = tmp_path / "dico.csv"
    pasted.write_bytes(
        "Variable;Libellé;Unité\n"
        "age_diagnostic;Âge au diagnostic;années\n"
        "sexe;Sexe déclaré;\n"
        "taille_cm;Taille;cm\n"
        "site_primaire;;\n".encode("cp1252")
    )

    written = write_dictionary(release, tmp_path, pasted)

    assert _entry(tmp_path, "age_diagnostic")["description"] == "Âge au diagnostic"
    assert _entry(tmp_path, "age_diagnostic")["unite"] == "années"
    assert [d.name for d in written.unused] == ["taille_cm"]
    assert written.draft.empty_rows == 1
    kept = _rows(tmp_path / UNUSED_NAME)
    assert [(r["variable"], r["description"]) for r in kept] == [("taille_cm", "Taille")]


def test_a_workbook_of_several_sheets_gives_each_table_its_own(tmp_path: Path) -> None:
    release = make_demo_project(tmp_path).release
    book = tmp_path / "dico.xlsx"
    with xlsxwriter.Workbook(book) as workbook:
        notes = workbook.add_worksheet("Notes")
        notes.write_row(0, 0, ["Version", "Auteur"])
        notes.write_row(1, 0, ["3", "Équipe data"])
        sheet = workbook.add_worksheet("cohorte_melanome")
        sheet.write_row(0, 0, ["Nom de la variable", "Description", "Description (EN)"])
        sheet.write_row(1, 0, ["stade_pronostique", "Stade AJCC", "AJCC stage"])

    written = write_dictionary(release, tmp_path, book)

    assert _entry(tmp_path, "stade_pronostique")["description_en"] == "AJCC stage"
    english = tmp_path / "publish/dictionnaire-des-variables.en.md"
    assert english in written.files
    assert "AJCC stage" in english.read_text(encoding="utf-8")


def test_bad_dictionary_files_are_refused_naming_the_problem(tmp_path: Path) -> None:
    release = make_demo_project(tmp_path).release
    duplicated = tmp_path / "dico.csv"
    duplicated.write_text(
        "variable,description\nsexe,Sexe\nage_diagnostic,Âge\nsexe,Genre\n", encoding="utf-8"
    )
    no_columns = tmp_path / "autre.csv"
    no_columns.write_text("a,b\n1,2\n", encoding="utf-8")

    with pytest.raises(DictionaryFileError) as refused:
        write_dictionary(release, tmp_path, duplicated)
    assert refused.value.params["first"] == "2" and refused.value.params["second"] == "4"
    with pytest.raises(DictionaryFileError) as refused:
        write_dictionary(release, tmp_path, no_columns)
    assert refused.value.key == "dictionary.file.no_columns"
    assert not (tmp_path / DICTIONARY).exists()  # nothing half-written


def test_markup_typed_in_a_description_is_shown_as_text(tmp_path: Path) -> None:
    release = make_demo_project(tmp_path).release
    pasted = tmp_path / "dico.csv"
    pasted.write_text(
        'variable,description\nsexe,"<script>alert(1)</script> | **gras** [lien](x)"\n',
        encoding="utf-8",
    )

    write_dictionary(release, tmp_path, pasted)

    page = (tmp_path / "publish/dictionnaire-des-variables.md").read_text(encoding="utf-8")
    line = next(x for x in page.splitlines() if x.startswith("| `sexe`"))
    assert "&lt;script&gt;" in line and "<script>" not in line
    assert "\\*\\*gras\\*\\*" in line and "\\[lien\\]" in line
    assert line.count(" | ") == 6  # the pipe typed does not add a column


def test_a_renamed_table_keeps_its_descriptions(tmp_path: Path) -> None:
    release = make_demo_project(tmp_path).release
    pasted = tmp_path / "dico.csv"
    pasted.write_text(
        "table,variable,description\ncohorte_melanome.csv,sexe,Sexe déclaré\n", encoding="utf-8"
    )
    write_dictionary(release, tmp_path, pasted)
    renamed = tmp_path / "donnees" / "cohorte_v2.csv"
    (tmp_path / TABLE).rename(renamed)
    release = _with_published(tmp_path, release, ["donnees/cohorte_v2.csv"])

    written = write_dictionary(release, tmp_path)

    assert _entry(tmp_path, "sexe")["table"] == "donnees/cohorte_v2.csv"
    assert _entry(tmp_path, "sexe")["description"] == "Sexe déclaré"
    assert written.unused == ()


def test_the_generalisations_of_the_anonymity_step_are_written(tmp_path: Path) -> None:
    release = make_demo_project(tmp_path).release
    copy = tmp_path / "publish" / "cohorte_melanome.csv"
    copy.parent.mkdir()
    rules = [
        ColumnRule("age_diagnostic", Coarsening.AGE_10),
        ColumnRule("date_diagnostic", Coarsening.YEAR),
        ColumnRule("site_primaire", Coarsening.GROUP_RARE, 11),
    ]
    generalise(pl.scan_csv(tmp_path / TABLE, infer_schema=False), rules).sink_csv(copy)
    outputs = {
        "choices": {TABLE: {"quasi_identifiers": [], "rules": [r.to_state() for r in rules]}},
        "replacements": [
            {
                "source": TABLE,
                "path": "publish/cohorte_melanome.csv",
                "size": copy.stat().st_size,
                "source_size": (tmp_path / TABLE).stat().st_size,
            }
        ],
    }
    release = workflow.commit_step(release, StepId.ANONYMITY, outputs, ALICE, NOW)
    release = _with_published(tmp_path, release, [TABLE])

    write_dictionary(release, tmp_path)

    age = _entry(tmp_path, "age_diagnostic")
    assert age["table"] == "publish/cohorte_melanome.csv"
    assert age["generalisation"] == "âge en tranches de 10 ans" and age["type"] == "string"
    assert _entry(tmp_path, "date_diagnostic")["generalisation"] == "date réduite à l'année"
    site = _entry(tmp_path, "site_primaire")["generalisation"]
    assert site == "valeurs vues moins de 11 fois regroupées dans « autres »"
    schema = tmp_path / "publish/schemas/cohorte_melanome.schema.json"
    assert _validate(tmp_path, "publish/cohorte_melanome.csv", schema) == []


def test_the_headless_command_writes_and_explains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_demo_project(tmp_path)
    bad = tmp_path / "dico.csv"
    bad.write_text("a,b\n", encoding="utf-8")

    assert main(["dictionary", str(tmp_path), "--lang", "fr"]) == 0
    out = capsys.readouterr().out
    assert "dictionnaire-des-variables.csv" in out and "12 à décrire" in out

    assert main(["dictionary", str(tmp_path), "--from", str(bad), "--lang", "fr"]) == 1
    captured = capsys.readouterr()
    assert "n'a pas de colonne reconnue" in captured.err + captured.out
    assert "Traceback" not in captured.err + captured.out
