"""`hdh-wizard check` and `hdh-wizard convert`: exit codes, the JSON report, the text report in
French by default, and the copies written."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from hdh_wizard.cli.main import main
from hdh_wizard.phases import ENV, read_phases

pytestmark = pytest.mark.usefixtures("french_cli_in_tmp_path")


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _json_check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["check", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


# --- exit codes -----------------------------------------------------------------------------


def test_check_exits_0_on_a_conformant_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path / "bon.csv", b"id,nom\n1,Ana\n")
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "bon.csv" in out
    assert "✓ conforme" in out


def test_check_exits_1_on_a_fixable_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "pointvirgule.csv", b"id;nom\n1;Ana\n")
    assert main(["check", str(path)]) == 1


def test_check_exits_1_on_a_file_to_fix_by_hand(tmp_path: Path) -> None:
    path = _write(tmp_path / "inegal.csv", b"a,b,c\n1,2\n")
    assert main(["check", str(path)]) == 1


def test_check_exits_1_when_a_path_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "absent.csv"]) == 1
    assert "Ignoré : absent.csv (introuvable)" in capsys.readouterr().out


def test_check_without_a_path_is_a_usage_error_with_exit_code_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["check"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "usage :" in err
    assert "hdh-wizard check" in err


# --- JSON -----------------------------------------------------------------------------------


def test_check_json_has_the_verdict_sha256_and_route(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = "nom;ville\r\nAndré;Sète\r\n".encode("cp1252")
    path = _write(tmp_path / "windows.csv", data)
    code, document = _json_check(capsys, str(path))
    assert code == 1
    (only,) = document["files"]
    assert only["path"] == "windows.csv"
    assert only["verdict"] == "fixable"
    assert only["kind"] == "text"
    assert only["sha256"] == hashlib.sha256(data).hexdigest()
    assert only["size"] == len(data)
    assert {p["code"] for p in only["problems"]} >= {"encoding_not_utf8", "delimiter"}
    assert only["table"]["dialect"]["encoding"] == "cp1252"
    assert only["table"]["columns"][0]["name"] == "nom"
    assert document["route"] == "direct"
    assert document["total_bytes"] == len(data)
    assert document["skipped"] == []


def test_check_json_lists_line_numbers_and_skipped_links(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = _write(tmp_path.parent / f"{tmp_path.name}-ailleurs.csv", b"a\n1\n")
    _write(tmp_path / "donnees" / "inegal.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n")
    (tmp_path / "donnees" / "lien.csv").symlink_to(outside)
    code, document = _json_check(capsys, "donnees")
    assert code == 1
    (only,) = document["files"]
    (ragged,) = only["problems"]
    assert (ragged["code"], ragged["lines"], ragged["total"]) == ("ragged_rows", [3, 4], 2)
    assert document["skipped"] == [{"path": "donnees/lien.csv", "reason": "link_outside"}]

    code, document = _json_check(capsys, "donnees", "--follow-links")
    assert [f["path"] for f in document["files"]] == ["donnees/inegal.csv", "donnees/lien.csv"]
    assert document["skipped"] == []


def test_bad_inputs_give_a_clear_problem_each_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "lot"
    _write(folder / "vide.csv", b"")
    _write(folder / "entete.csv", b"a,b\n")
    _write(folder / "binaire.csv", bytes(range(256)) * 40 + b"\x00" * 4000)
    _write(folder / "nul.csv", b"a,b\n1,2\n3,\x004\n")
    with zipfile.ZipFile(folder / "entier.xlsx", "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>" * 300)
        archive.writestr("xl/workbook.xml", "<workbook/>" * 300)
    whole = (folder / "entier.xlsx").read_bytes()
    (folder / "entier.xlsx").unlink()
    _write(folder / "tronque.xlsx", whole[: len(whole) // 2])
    before = _snapshot(tmp_path)

    code, document = _json_check(capsys, "lot")

    assert code == 1
    codes = {f["path"]: [p["code"] for p in f["problems"]] for f in document["files"]}
    assert codes == {
        "lot/binaire.csv": ["unknown_binary"],
        "lot/entete.csv": ["header_only"],
        "lot/nul.csv": ["nul_bytes"],
        "lot/tronque.xlsx": ["spreadsheet_unreadable"],
        "lot/vide.csv": ["empty_file"],
    }
    assert {f["verdict"] for f in document["files"]} == {"not_fixable"}
    nul = next(f for f in document["files"] if f["path"] == "lot/nul.csv")
    assert nul["problems"][0]["lines"] == [3]
    assert _snapshot(tmp_path) == before


# --- text report ----------------------------------------------------------------------------


def test_path_with_spaces_and_accents_is_inspected_and_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "données patients" / "séjours 2023.csv", b"id,nom\n1,Zo\xc3\xa9\n")
    assert main(["check", "données patients"]) == 0
    out = capsys.readouterr().out
    assert "données patients/séjours 2023.csv · text" in out
    assert "1 ligne " in out


def test_text_report_is_french_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "a.csv", b"id;date\r\n1;24/09/2018\r\n2;4,5\r\n3\r\n")
    main(["check", "a.csv"])
    out = capsys.readouterr().out
    assert "Séparateur « ; » au lieu de la virgule" in out
    assert "Fins de ligne CRLF" in out
    assert "lignes 4" in out  # the short row, by its physical line
    assert "à corriger par vous" in out
    assert "Volume total" in out
    assert "SHA-256 : " in out


def test_lang_en_gives_the_report_in_english(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "a.csv", b"id;nom\r\n1;Ana\r\n")
    assert main(["check", "--lang", "en", "a.csv"]) == 1
    out = capsys.readouterr().out
    assert 'Delimiter ";" instead of a comma' in out
    assert "CRLF line endings" in out
    assert "to convert" in out
    assert "Séparateur" not in out


# --- convert --------------------------------------------------------------------------------


def test_convert_writes_the_conformant_copy_to_the_given_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = "nom;poids;date\r\nAndré;12,5;24/09/2018\r\n".encode("cp1252")
    source = _write(tmp_path / "données" / "séjours 2023.csv", data)
    assert main(["convert", str(source), "--to", str(tmp_path / "copies")]) == 0
    copy = tmp_path / "copies" / "données_séjours_2023.csv"
    assert copy.read_text(encoding="utf-8") == "nom,poids,date\nAndré,12.5,2018-09-24\n"
    assert source.read_bytes() == data
    assert f"Écrit : {copy}" in capsys.readouterr().out
    assert main(["check", str(copy)]) == 0


def test_convert_of_a_file_to_fix_by_hand_exits_1_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "inegal.csv", b"a;b;c\n1;2\n")
    assert main(["convert", "inegal.csv", "--to", "copies"]) == 1
    assert not (tmp_path / "copies").exists() or not any((tmp_path / "copies").iterdir())
    assert "inegal.csv" in capsys.readouterr().err


def test_convert_with_nothing_to_convert_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "bon.csv", b"a,b\n1,2\n")
    assert main(["convert", "bon.csv"]) == 0
    assert "Rien à convertir." in capsys.readouterr().out
    assert not (tmp_path / "publish").exists()


# --- where the time goes --------------------------------------------------------------------


def test_check_writes_its_phases_when_asked_and_nothing_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The benchmarks read the breakdown of `check` from the file HDH_WIZARD_PHASES names."""
    path = _write(tmp_path / "donnees" / "bon.csv", b"id,nom\n1,Ana\n2,Eve\n")
    phases_file = tmp_path / "phases.jsonl"
    monkeypatch.delenv(ENV, raising=False)
    assert main(["check", "--json", str(path)]) == 0
    assert not phases_file.exists()
    monkeypatch.setenv(ENV, str(phases_file))
    assert main(["check", "--json", str(path)]) == 0
    phases = read_phases(phases_file)
    assert {"check.inventory", "check.sniff", "check.profile.pass", "check.inspect"} <= set(phases)
    assert "check.profile.exact_distinct" in phases  # timed even when it has nothing to count
    assert phases["check.inspect"]["cpu"] >= phases["check.profile.pass"]["cpu"]
