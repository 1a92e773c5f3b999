"""Issue 13, "reading every text file right": UTF-16 exports, UTF-8 with a stray byte, DOS code
page 850 and uncertain encodings, exact distinct counts, ragged files, documentation beside the
data, and `convert` on a missing path. Each test reproduces the reported failure first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from hdh_wizard.cli.check import run_convert
from hdh_wizard.cli.main import main
from hdh_wizard.demo.generate import create_demo_data
from hdh_wizard.i18n.catalogue import Catalogue, Lang, load_catalogue
from hdh_wizard.inspect.convert import convert
from hdh_wizard.inspect.csv_dialect import guess_encoding, guess_legacy
from hdh_wizard.inspect.inspection import InventoryEntry, inspect_file
from hdh_wizard.inspect.kinds import FileKind, sniff_kind
from hdh_wizard.inspect.report import FileReport, Problem, Verdict
from hdh_wizard.present.inspect_presenters import column_text, problem_text

ROWS = "nom_service\tville\tage\r\n" + "".join(f"Cardiologie\tÉvry\t{i}\r\n" for i in range(40))


def _entry(path: Path) -> InventoryEntry:
    info = path.stat()
    return InventoryEntry(path, path.name, info.st_size, info.st_mtime_ns)


def _inspect(path: Path) -> FileReport:
    return inspect_file(_entry(path))


def _problem(report: FileReport, code: str) -> Problem:
    found = [p for p in report.problems if p.code == code]
    assert len(found) == 1, [p.code for p in report.problems]
    return found[0]


def _cat() -> Catalogue:
    return load_catalogue(Lang.FR)


# --- 1. UTF-16 with a byte order mark (Excel "Texte Unicode") ------------------------------------


@pytest.mark.parametrize(
    ("codec", "bom", "name"),
    [("utf-16-le", b"\xff\xfe", "UTF-16 LE"), ("utf-16-be", b"\xfe\xff", "UTF-16 BE")],
)
def test_utf16_text_export_is_a_table_named_by_its_encoding_and_converted_to_utf8(
    tmp_path: Path, codec: str, bom: bytes, name: str
) -> None:
    source = tmp_path / "export.txt"
    source.write_bytes(bom + ROWS.encode(codec))
    assert sniff_kind(source) is FileKind.TEXT
    report = _inspect(source)
    assert report.verdict is Verdict.FIXABLE, report.problems
    assert _problem(report, "encoding_not_utf8").params["encoding"] == name
    assert report.table is not None and report.table.rows == 40
    assert [c.name for c in report.table.columns] == ["nom_service", "ville", "age"]
    assert report.size == source.stat().st_size
    (written,) = convert(_entry(source), report, tmp_path / "publish")
    text = written.output.read_text(encoding="utf-8")
    assert text.startswith("nom_service,ville,age\nCardiologie,Évry,0\n")
    assert written.rows == 40


def test_binary_starting_like_a_utf16_mark_stays_binary(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\xff\xfe" + bytes(range(32)) * 200)
    assert sniff_kind(path) is FileKind.BINARY


# --- 2. UTF-8 with one stray Windows-1252 byte in the sniffed head -------------------------------


def test_utf8_with_a_stray_byte_early_keeps_every_valid_accent(tmp_path: Path) -> None:
    lines = ["id,ville"] + [f"{i},Évry" for i in range(30)]
    data = "\n".join(lines[:11]).encode() + b"\n99,Caf\xe9\n" + "\n".join(lines[11:]).encode()
    source = tmp_path / "mixte.csv"
    source.write_bytes(data + b"\n")
    report = _inspect(source)
    assert "encoding_not_utf8" not in {p.code for p in report.problems}
    problem = _problem(report, "invalid_utf8")
    assert problem.lines == (12,)
    assert problem.params["offsets"] == str(data.index(b"\xe9"))
    (written,) = convert(_entry(source), report, tmp_path / "publish")
    text = written.output.read_text(encoding="utf-8")
    assert "Ã" not in text
    assert text.count("Évry") == 30 and "Café" in text


def test_a_legacy_file_is_not_taken_for_utf8_with_stray_bytes() -> None:
    assert guess_encoding("nom;ville\r\nAndré;Orléans\r\n".encode("cp1252")) == ("cp1252", False)
    assert guess_encoding("a,b\nÉvry,".encode() + b"caf\xe9\n")[0] == "utf-8+cp1252"


# --- 3. DOS code page 850, and uncertain guesses -------------------------------------------------


def test_dos_850_is_recognised_and_converted_without_mojibake(tmp_path: Path) -> None:
    text = "id;ville;diagnostic\r\n" + "".join(f"{i};Évry;Mélanome été\r\n" for i in range(30))
    source = tmp_path / "dos.csv"
    source.write_bytes(text.encode("cp850"))
    report = _inspect(source)
    assert _problem(report, "encoding_not_utf8").params["encoding"] == "DOS 850 (CP850)"
    (written,) = convert(_entry(source), report, tmp_path / "publish")
    assert written.output.read_text(encoding="utf-8").count("Mélanome été") == 30


def test_windows_1252_is_still_certain() -> None:
    guess = guess_legacy("nom;ville\r\nAndré;Orléans;Hélène\r\n".encode("cp1252"))
    assert (guess.encoding, guess.uncertain) == ("cp1252", False)


def test_an_uncertain_encoding_shows_the_accented_words_as_each_candidate_reads_them(
    tmp_path: Path,
) -> None:
    # 0x85 is "…" in Windows-1252 and "à" in DOS 850: both read as French.
    source = tmp_path / "incertain.csv"
    source.write_bytes(b"id;diagnostic;nom\r\n1;Voil\x85;Marie\x85\r\n2;Voil\x85;Marie\x85\r\n")
    report = _inspect(source)
    problem = _problem(report, "encoding_uncertain")
    readings = {r["encoding"]: r["words"] for r in problem.params["readings"]}
    assert readings["cp1252"] == ["Voil…"]
    assert readings["cp850"] == ["Voilà"]
    assert all("Marie" not in word for words in readings.values() for word in words)  # "nom"
    text = problem_text(_cat(), problem)
    assert "cp850 « Voilà »" in text and "--encoding" in text
    # The explicit choice converts it right; the default conversion keeps the guess.
    (chosen,) = convert(_entry(source), report, tmp_path / "a", encoding="cp850")
    assert "Voilà" in chosen.output.read_text(encoding="utf-8")
    (guessed,) = convert(_entry(source), report, tmp_path / "b")
    assert "Voil…" in guessed.output.read_text(encoding="utf-8")


def test_check_json_carries_the_uncertain_readings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "incertain.csv").write_bytes(b"id;diagnostic\r\n1;Voil\x85\r\n2;Voil\x85\r\n")
    main(["--lang", "fr", "check", "--json", "incertain.csv"])
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    (problem,) = [p for p in document["files"][0]["problems"] if p["code"] == "encoding_uncertain"]
    assert {r["encoding"] for r in problem["params"]["readings"]} >= {"cp1252", "cp850"}


def test_run_convert_takes_an_explicit_encoding_and_refuses_an_unknown_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "incertain.csv").write_bytes(b"id;diagnostic\r\n1;Voil\x85\r\n")
    cat = _cat()
    out = tmp_path / "publish"
    assert run_convert(cat, [Path("incertain.csv")], out, follow_links=False) == 0
    assert "--encoding cp850" in capsys.readouterr().err
    code = run_convert(cat, [Path("incertain.csv")], out, follow_links=False, encoding="cp850")
    assert code == 0
    assert "Voilà" in (out / "incertain.csv").read_text(encoding="utf-8")
    code = run_convert(cat, [Path("incertain.csv")], out, follow_links=False, encoding="klingon")
    assert code == 2
    assert "klingon" in capsys.readouterr().err


# --- 4. distinct counts: exact up to the bound, never above the values ---------------------------


def test_distinct_counts_are_exact_and_never_above_the_rows(tmp_path: Path) -> None:
    source = tmp_path / "ids.csv"
    source.write_text("id,v\n" + "".join(f"{i},{i * 7}\n" for i in range(20_000)))
    report = _inspect(source)
    assert report.table is not None
    for column in report.table.columns:
        assert (column.distinct, column.distinct_exact) == (20_000, True)
    assert "≈" not in column_text(_cat(), report.table.columns[0])


def test_parquet_distinct_counts_are_exact(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pl.DataFrame({"id": list(range(300)), "x": [None, *range(299)]}).write_parquet(path)
    report = _inspect(path)
    assert report.table is not None
    distinct = {c.name: (c.distinct, c.distinct_exact) for c in report.table.columns}
    assert distinct == {"id": (300, True), "x": (299, True)}


def test_an_estimate_above_the_bound_is_clamped_to_the_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hdh_wizard.inspect.tables as tables

    monkeypatch.setattr(tables, "DISTINCT_EXACT_MAX", 10)
    path = tmp_path / "t.parquet"
    pl.DataFrame({"id": list(range(300))}).write_parquet(path)
    report = _inspect(path)
    assert report.table is not None
    (column,) = report.table.columns
    assert not column.distinct_exact and column.distinct <= 300
    assert column_text(_cat(), column).count("≈") == 1


# --- 5. a ragged file still has its row count ----------------------------------------------------


def test_a_file_with_a_long_row_has_a_table_with_its_row_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    lines = ["a,b,c"] + [f"{i},x,y" for i in range(100)]
    lines[51] = "50,x,y,z"
    (tmp_path / "ragged.csv").write_text("\n".join(lines) + "\n")
    code = main(["--lang", "fr", "check", "--json", "ragged.csv"])
    document = json.loads(capsys.readouterr().out)
    (report,) = document["files"]
    assert code == 1
    assert report["table"] is not None and report["table"]["rows"] == 100
    (ragged,) = [p for p in report["problems"] if p["code"] == "ragged_rows"]
    assert ragged["lines"] == [52]


# --- 7. documentation beside the data ------------------------------------------------------------


def test_the_demo_data_folder_checks_without_failing_on_its_readme(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    create_demo_data(tmp_path)
    monkeypatch.chdir(tmp_path)
    code = main(["--lang", "fr", "check", "--json", "donnees"])
    document = json.loads(capsys.readouterr().out)
    kinds = {f["path"].rsplit("/", 1)[-1]: f for f in document["files"]}
    readme = kinds["LISEZMOI.txt"]
    assert readme["kind"] == "documentation" and readme["verdict"] == "conform"
    assert code == 0


@pytest.mark.parametrize("name", ["README", "readme_fr.txt", "Lisez-moi.txt", "notes.md"])
def test_documentation_is_told_by_its_name(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("a,b\n1,2\n")
    assert sniff_kind(path) is FileKind.DOCUMENTATION


def test_prose_is_documentation_and_a_table_named_txt_is_not(tmp_path: Path) -> None:
    prose = tmp_path / "notes.txt"
    prose.write_text(
        "Notes sur la cohorte\n\nLes patients ont été inclus entre 2012 et 2016, dans trois "
        "centres.\nLes dates sont exactes, les âges en années révolues.\n\nContact : l'équipe.\n"
    )
    assert sniff_kind(prose) is FileKind.DOCUMENTATION
    table = tmp_path / "export.txt"
    table.write_text("id\tvaleur du jour\n1\tune valeur assez longue ici\n\n2\tencore une\n")
    assert sniff_kind(table) is FileKind.TEXT
    named = tmp_path / "README.csv"
    named.write_text("a,b\n1,2\n")
    assert sniff_kind(named) is FileKind.TEXT


# --- 8. convert on a missing path ----------------------------------------------------------------


def test_convert_names_a_missing_path_and_fails_like_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["--lang", "fr", "convert", "absent.csv", "--to", "out"])
    captured = capsys.readouterr()
    assert code == 1
    assert "absent.csv" in captured.err and "introuvable" in captured.err
    assert "Rien à convertir" not in captured.out
    assert main(["--lang", "fr", "check", "absent.csv"]) == 1
