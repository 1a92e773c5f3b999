"""Bad input: every case gives a clear finding, never a traceback, and nothing written half-way."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import polars as pl
import pytest

from hdh_wizard.cli.main import main
from hdh_wizard.inspect import inspection
from hdh_wizard.inspect.convert import convert
from hdh_wizard.inspect.inspection import InventoryEntry, inspect_file, inventory
from hdh_wizard.inspect.kinds import FileKind
from hdh_wizard.inspect.progress import Cancelled, Progress
from hdh_wizard.inspect.report import FileReport, Verdict


def _entry(path: Path) -> InventoryEntry:
    info = path.stat()
    return InventoryEntry(path, path.name, info.st_size, info.st_mtime_ns)


def _check(path: Path) -> FileReport:
    return inspect_file(_entry(path))


def _codes(report: FileReport) -> set[str]:
    return {p.code for p in report.problems}


def test_empty_file_is_reported_empty(tmp_path: Path) -> None:
    path = tmp_path / "vide.csv"
    path.write_bytes(b"")
    report = _check(path)
    assert report.kind is FileKind.EMPTY
    assert "empty_file" in _codes(report)
    assert report.verdict is Verdict.NOT_FIXABLE


def test_header_only_file_has_no_data(tmp_path: Path) -> None:
    path = tmp_path / "entete.csv"
    path.write_text("a,b,c\n")
    report = _check(path)
    assert "header_only" in _codes(report)
    assert report.verdict is Verdict.NOT_FIXABLE


def test_binary_file_named_csv_is_told_by_its_content(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(bytes(range(256)) * 64)
    report = _check(path)
    assert report.kind is FileKind.BINARY
    assert "unknown_binary" in _codes(report)


def test_truncated_xlsx_is_reported_unreadable(tmp_path: Path) -> None:
    whole = tmp_path / "classeur.xlsx"
    pl.DataFrame({"a": list(range(2000)), "b": ["x"] * 2000}).write_excel(whole)
    data = whole.read_bytes()
    cut = tmp_path / "tronque.xlsx"
    cut.write_bytes(data[: len(data) // 2])
    report = _check(cut)
    assert report.kind is FileKind.XLSX
    assert "spreadsheet_unreadable" in _codes(report)


def test_nul_byte_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"a,b\n1,2\n3,4\n5,\x006\n")
    report = _check(path)
    (problem,) = [p for p in report.problems if p.code == "nul_bytes"]
    assert problem.lines == (4,)
    assert report.verdict is Verdict.NOT_FIXABLE


def test_mixed_line_endings_are_fixable(tmp_path: Path) -> None:
    path = tmp_path / "mixte.csv"
    path.write_bytes(b"a,b\r\n1,2\n3,4\r\n")
    report = _check(path)
    (problem,) = [p for p in report.problems if p.code == "line_endings"]
    assert problem.params["ending"] == "mixed"
    assert report.verdict is Verdict.FIXABLE


def test_ten_thousand_columns_are_all_profiled(tmp_path: Path) -> None:
    path = tmp_path / "large.csv"
    names = ",".join(f"c{i}" for i in range(10_000))
    row = ",".join(str(i) for i in range(10_000))
    path.write_text(f"{names}\n{row}\n{row}\n")
    report = _check(path)
    assert report.table is not None
    assert len(report.table.columns) == 10_000
    assert report.verdict is Verdict.CONFORM


def test_a_single_50_mb_line_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ligne.csv"
    path.write_bytes(b'id,texte\n1,"' + b"x" * 50_000_000 + b'"\n')
    report = _check(path)
    assert report.table is not None
    assert report.table.rows == 1


def test_file_removed_before_it_is_scanned_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "parti.csv"
    path.write_text("a\n1\n")
    entry = _entry(path)
    path.unlink()
    report = inspect_file(entry)
    assert "file_vanished" in _codes(report)


def test_file_unreadable_while_scanned_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "verrou.csv"
    path.write_text("a\n1\n")

    def refuse(*_args: object, **_kwargs: object) -> object:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(inspection, "check_delimited", refuse)
    report = _check(path)
    assert "file_unreadable" in _codes(report)


def test_path_with_spaces_and_accents_is_checked_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "données patients"
    folder.mkdir()
    path = folder / "séjours 2023.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["check", str(folder), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    (only,) = document["files"]
    assert only["path"].endswith("séjours 2023.csv")
    assert only["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert document["route"] == "direct"


def test_tiff_whose_ifd_offset_points_past_the_end_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "lame.tif"
    path.write_bytes(b"II*\x00" + (10_000_000).to_bytes(4, "little") + b"\x00" * 64)
    report = _check(path)
    assert report.kind is FileKind.TIFF
    assert report.verdict is Verdict.NOT_FIXABLE


def test_ragged_rows_name_physical_lines_after_a_quoted_newline(tmp_path: Path) -> None:
    path = tmp_path / "inegal.csv"
    path.write_text('a,b,c\n"deux\nlignes",2,3\n4,5\n6,7,8,9\n')
    report = _check(path)
    (problem,) = [p for p in report.problems if p.code == "ragged_rows"]
    assert problem.lines == (4, 5)
    assert problem.total == 2


def test_cli_exit_codes_follow_the_verdicts(tmp_path: Path) -> None:
    good = tmp_path / "bon.csv"
    good.write_text("a,b\n1,2\n")
    fixable = tmp_path / "pointvirgule.csv"
    fixable.write_text("a;b\n1;2\n")
    assert main(["check", str(good)]) == 0
    assert main(["check", str(fixable)]) == 1
    with pytest.raises(SystemExit) as usage:
        main(["check"])
    assert usage.value.code == 2


def test_conversion_writes_a_conformant_copy_and_keeps_the_original(tmp_path: Path) -> None:
    source = tmp_path / "sejours.csv"
    data = "nom;date;poids\r\nAé;24/09/2018;1,5\r\nB;01/02/2019;2,25\r\n".encode("cp1252")
    source.write_bytes(data)
    report = _check(source)
    assert report.verdict is Verdict.FIXABLE
    (written,) = convert(_entry(source), report, tmp_path / "publish")
    assert source.read_bytes() == data
    assert written.output.read_text(encoding="utf-8") == (
        "nom,date,poids\nAé,2018-09-24,1.5\nB,2019-02-01,2.25\n"
    )
    assert _check(written.output).verdict is Verdict.CONFORM
    assert written.rows == 2


def test_cancelled_conversion_leaves_no_file(tmp_path: Path) -> None:
    source = tmp_path / "a.csv"
    source.write_text("a;b\n1;2\n")
    report = _check(source)
    progress = Progress()
    progress.cancel()
    publish = tmp_path / "publish"
    with pytest.raises(Cancelled):
        convert(_entry(source), report, publish, progress)
    assert not any(publish.iterdir())


def test_workbook_sheets_become_one_csv_each(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "classeur.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for name in ("Patients", "Séjours"):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, ["id", "valeur"])
        sheet.write_row(1, 0, [1, 2.5])
    book.close()
    report = _check(path)
    assert report.verdict is Verdict.FIXABLE
    written = convert(_entry(path), report, tmp_path / "publish")
    assert sorted(w.output.name for w in written) == [
        "classeur-Patients.csv",
        "classeur-Séjours.csv",
    ]


def test_symlink_out_of_the_project_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "ailleurs.csv"
    outside.write_text("a\n1\n")
    project = tmp_path / "projet"
    (project / "donnees").mkdir(parents=True)
    (project / "donnees" / "lien.csv").symlink_to(outside)
    (project / "donnees" / "vrai.csv").write_text("a\n1\n")
    entries, skipped = inventory([project / "donnees"], project)
    assert [e.display for e in entries] == ["donnees/vrai.csv"]
    assert [s.reason for s in skipped] == ["link_outside"]
    entries, _ = inventory([project / "donnees"], project, follow_links=True)
    assert len(entries) == 2
    assert os.path.exists(entries[0].path)


def test_check_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    import subprocess
    import sys

    for i in range(200):
        (tmp_path / f"f{i}.csv").write_text("a;b\n1;2\n")
    command = [sys.executable, "-m", "hdh_wizard.cli.main", "check", str(tmp_path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()  # what `| head -1` does
        errors = process.stderr.read().decode()
        process.wait(timeout=120)
    assert "crash" not in errors and "interne" not in errors
    assert process.returncode == 1


def test_date_column_with_a_few_unknown_values_is_still_converted(tmp_path: Path) -> None:
    rows = [f"{i},{i % 28 + 1:02d}/0{i % 9 + 1}/2019" for i in range(100)]
    rows[5] = "5,inconnu"
    source = tmp_path / "dates.csv"
    source.write_text("id,date\n" + "\n".join(rows) + "\n")
    report = _check(source)
    assert {"dates_day_first", "values_not_matching_type"} <= _codes(report)
    (written,) = convert(_entry(source), report, tmp_path / "publish")
    lines = written.output.read_text().splitlines()
    assert lines[1] == "0,2019-01-01"
    assert lines[6] == "5,inconnu"  # kept as it was
