"""Conformant copies: what changes (encoding, delimiter, line endings, dates, decimals), what does
not (every other value, the original file), and what a cancel or a refusal leaves (nothing)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.convert import Converted, convert, output_stem
from hdh_wizard.inspect.csv_profile import INFER_ROWS
from hdh_wizard.inspect.inspection import InventoryEntry, inspect_file
from hdh_wizard.inspect.progress import Cancelled, Progress
from hdh_wizard.inspect.report import FileReport, Verdict


def _entry(path: Path) -> InventoryEntry:
    info = path.stat()
    return InventoryEntry(path, path.name, info.st_size, info.st_mtime_ns)


def _inspect(path: Path) -> FileReport:
    return inspect_file(_entry(path))


def _convert(path: Path, publish: Path, progress: Progress | None = None) -> list[Converted]:
    report = _inspect(path)
    assert report.verdict is Verdict.FIXABLE, report.problems
    return convert(_entry(path), report, publish, progress)


def _everything_in(folder: Path) -> list[str]:
    """Every file and folder left, hidden ones (`.x.part-…`, `.transcode-…`) included."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def _assert_conform_with_rows(written: Converted, rows: int) -> None:
    recheck = _inspect(written.output)
    assert recheck.verdict is Verdict.CONFORM, recheck.problems
    assert recheck.table is not None and recheck.table.rows == rows
    assert written.rows == rows


# --- delimited text -------------------------------------------------------------------------


def test_windows_1252_semicolon_crlf_copy_is_utf8_comma_lf_iso_dates_and_dots(
    tmp_path: Path,
) -> None:
    source = tmp_path / "séjours.csv"
    original = (
        "nom;date_entree;poids;ville\r\n"
        "André;24/09/2018;12,5;Orléans\r\n"
        "Hélène;01/02/2019;3,25;Sète\r\n"
        "Zoé;13/12/2020;70;Besançon\r\n"
    ).encode("cp1252")
    source.write_bytes(original)
    publish = tmp_path / "publish"

    (written,) = _convert(source, publish)

    assert written.output == publish / "séjours.csv"
    assert written.source == "séjours.csv"
    assert (
        written.output.read_bytes()
        == (
            "nom,date_entree,poids,ville\n"
            "André,2018-09-24,12.5,Orléans\n"
            "Hélène,2019-02-01,3.25,Sète\n"
            "Zoé,2020-12-13,70,Besançon\n"
        ).encode()
    )
    assert source.read_bytes() == original
    _assert_conform_with_rows(written, 3)
    assert _everything_in(publish) == ["séjours.csv"]


def test_values_that_are_not_dates_or_decimals_are_kept_as_they_were(tmp_path: Path) -> None:
    # The first INFER_ROWS rows decide the types; odd values come after them.
    rows = "".join(f"{1 + i % 28:02d}/{1 + i % 12:02d}/2019;{i},5\n" for i in range(INFER_ROWS))
    odd = "inconnu;NC\n31/02/2019;1 234,5\n;\n"
    source = tmp_path / "dates.csv"
    source.write_text(f"date;cout\n{rows}{odd}", encoding="utf-8")

    (written,) = _convert(source, tmp_path / "publish")

    lines = written.output.read_text(encoding="utf-8").splitlines()
    assert lines[1] == "2019-01-01,0.5"
    assert lines[-3:] == ["inconnu,NC", '31/02/2019,"1 234,5"', ","]
    _assert_conform_with_rows(written, INFER_ROWS + 3)


def test_ambiguous_dates_are_copied_unchanged(tmp_path: Path) -> None:
    source = tmp_path / "ambigu.csv"
    source.write_text("id;d\n1;01/02/2020\n2;12/11/2019\n", encoding="utf-8")
    (written,) = _convert(source, tmp_path / "publish")
    assert written.output.read_text(encoding="utf-8") == "id,d\n1,01/02/2020\n2,12/11/2019\n"


def test_bom_is_not_in_the_copy(tmp_path: Path) -> None:
    source = tmp_path / "bom.csv"
    source.write_bytes(b"\xef\xbb\xbfid,nom\n1,Ana\n")
    (written,) = _convert(source, tmp_path / "publish")
    assert written.output.read_bytes() == b"id,nom\n1,Ana\n"
    _assert_conform_with_rows(written, 1)


def test_quoted_values_with_delimiters_newlines_and_quotes_survive(tmp_path: Path) -> None:
    source = tmp_path / "libelles.csv"
    source.write_text(
        'code;libelle\nC43;"Mélanome, tronc"\nZ48;"Surveillance ""courte""\nsuite"\n',
        encoding="utf-8",
    )
    (written,) = _convert(source, tmp_path / "publish")
    copy = pl.read_csv(written.output)
    assert copy["libelle"].to_list() == ["Mélanome, tronc", 'Surveillance "courte"\nsuite']
    _assert_conform_with_rows(written, 2)


def test_numbers_are_copied_as_text_not_reformatted(tmp_path: Path) -> None:
    source = tmp_path / "nombres.csv"
    source.write_text("finess;cout;code\n010000001;1.50;007\n", encoding="utf-8")
    (written,) = _convert(source, tmp_path / "publish")
    assert written.output.read_text(encoding="utf-8") == "finess,cout,code\n010000001,1.50,007\n"


def test_output_name_is_flat_and_safe() -> None:
    assert output_stem("données patients/séjours 2023.csv") == "données_patients_séjours_2023"
    assert output_stem("/srv/lot 1/export.v2.xlsx") == "srv_lot_1_export.v2"


def test_stray_windows_1252_byte_in_a_utf8_file_does_not_garble_the_other_accents(
    tmp_path: Path,
) -> None:
    head = "id,nom\n" + "".join(f"{i},Hélène\n" for i in range(20_000))  # > the sniffed head
    source = tmp_path / "mixte.csv"
    source.write_bytes(head.encode("utf-8") + "99999,André\n".encode("cp1252"))
    report = _inspect(source)
    if report.verdict is not Verdict.FIXABLE:
        return  # refusing to convert is a fine answer too
    (written,) = convert(_entry(source), report, tmp_path / "publish")
    text = written.output.read_text(encoding="utf-8")
    assert "HÃ©" not in text
    assert text.count("Hélène") == 20_000


def test_a_copy_that_loses_rows_is_refused_and_removed(tmp_path: Path) -> None:
    source = tmp_path / "a.csv"
    source.write_text("a;b\n1;2\n3;4\n", encoding="utf-8")
    report = _inspect(source)
    assert report.table is not None
    lying = replace(report, table=replace(report.table, rows=3))
    publish = tmp_path / "publish"
    with pytest.raises(HdhWizardError) as error:
        convert(_entry(source), lying, publish)
    assert error.value.key == "inspect.error.rows_differ"
    assert error.value.params["written"] == 2
    assert _everything_in(publish) == []


# --- Parquet and workbooks ------------------------------------------------------------------


def test_parquet_becomes_a_csv(tmp_path: Path) -> None:
    source = tmp_path / "export.dat"
    pl.DataFrame(
        {"id": [1, 2, None], "nom": ["Élodie", "a, b", None], "cout": [1.5, 2.0, None]}
    ).write_parquet(source)
    original = source.read_bytes()
    publish = tmp_path / "publish"

    (written,) = _convert(source, publish)

    assert written.output == publish / "export.csv"
    assert written.output.read_text(encoding="utf-8") == (
        'id,nom,cout\n1,Élodie,1.5\n2,"a, b",2.0\n,,\n'
    )
    assert source.read_bytes() == original
    _assert_conform_with_rows(written, 3)
    assert _everything_in(publish) == ["export.csv"]


def test_workbook_with_two_sheets_becomes_two_csvs_named_after_the_sheets(
    tmp_path: Path,
) -> None:
    xlsxwriter = pytest.importorskip("xlsxwriter")
    source = tmp_path / "classeur.xlsx"
    with xlsxwriter.Workbook(str(source)) as book:
        pl.DataFrame({"id": [1, 2, 3], "nom": ["Élodie", "Karim", "x, y"]}).write_excel(
            book, worksheet="Patients"
        )
        book.add_worksheet("Vide")
        pl.DataFrame({"id": [1], "cout": [12.5]}).write_excel(book, worksheet="Séjours 2023")
    original = source.read_bytes()
    publish = tmp_path / "publish"

    written = _convert(source, publish)

    assert [w.output.name for w in written] == [
        "classeur-Patients.csv",
        "classeur-Séjours_2023.csv",
    ]
    assert written[0].output.read_text(encoding="utf-8") == (
        'id,nom\n1,Élodie\n2,Karim\n3,"x, y"\n'
    )
    assert written[1].output.read_text(encoding="utf-8") == "id,cout\n1,12.5\n"
    assert [w.rows for w in written] == [3, 1]
    for copy, rows in zip(written, (3, 1), strict=True):
        _assert_conform_with_rows(copy, rows)
    assert source.read_bytes() == original
    assert _everything_in(publish) == ["classeur-Patients.csv", "classeur-Séjours_2023.csv"]


# --- cancel and refusal ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("utf8.csv", b"a;b\n1;2\n"),
        ("windows.csv", "nom;b\r\nAndré;2\r\n".encode("cp1252")),
    ],
)
def test_conversion_cancelled_before_it_starts_raises_and_leaves_no_file(
    tmp_path: Path, name: str, data: bytes
) -> None:
    source = tmp_path / name
    source.write_bytes(data)
    progress = Progress()
    progress.cancel()
    publish = tmp_path / "publish"
    with pytest.raises(Cancelled):
        _convert(source, publish, progress)
    assert _everything_in(publish) == []
    assert source.read_bytes() == data


class _CancelOnceWritten(Progress):
    """Cancels at the first check made while a `.part` output exists: mid-way through a copy."""

    def __init__(self, publish: Path) -> None:
        super().__init__()
        self.publish = publish
        self.saw_part = False

    def check(self) -> None:
        if self.publish.exists() and any(".part-" in p.name for p in self.publish.iterdir()):
            self.saw_part = True
            self.cancel()
        super().check()


def test_conversion_cancelled_after_the_copy_is_written_leaves_no_part_file(
    tmp_path: Path,
) -> None:
    source = tmp_path / "a.csv"
    source.write_text("a;b\n" + "1;2\n" * 1000, encoding="utf-8")
    publish = tmp_path / "publish"
    progress = _CancelOnceWritten(publish)
    with pytest.raises(Cancelled):
        _convert(source, publish, progress)
    assert progress.saw_part
    assert _everything_in(publish) == []


def test_cancelled_workbook_conversion_leaves_no_file(tmp_path: Path) -> None:
    pytest.importorskip("xlsxwriter")
    source = tmp_path / "classeur.xlsx"
    pl.DataFrame({"id": [1, 2]}).write_excel(source)
    progress = Progress()
    progress.cancel()
    publish = tmp_path / "publish"
    with pytest.raises(Cancelled):
        _convert(source, publish, progress)
    assert _everything_in(publish) == []


def test_cancelled_parquet_conversion_raises_and_leaves_no_file(tmp_path: Path) -> None:
    source = tmp_path / "export.parquet"
    pl.DataFrame({"id": [1, 2]}).write_parquet(source)
    progress = Progress()
    progress.cancel()
    publish = tmp_path / "publish"
    with pytest.raises(Cancelled):
        _convert(source, publish, progress)
    assert _everything_in(publish) == []


def test_not_fixable_file_is_refused_and_nothing_written(tmp_path: Path) -> None:
    source = tmp_path / "inegal.csv"
    source.write_text("a,b,c\n1,2\n3,4,5\n", encoding="utf-8")
    report = _inspect(source)
    assert report.verdict is Verdict.NOT_FIXABLE
    publish = tmp_path / "publish"
    with pytest.raises(HdhWizardError) as error:
        convert(_entry(source), report, publish)
    assert error.value.key == "inspect.error.not_fixable"
    assert error.value.params == {"file": "inegal.csv"}
    assert not publish.exists() or _everything_in(publish) == []


def test_conformant_file_is_not_converted(tmp_path: Path) -> None:
    source = tmp_path / "bon.csv"
    source.write_text("a,b\n1,2\n", encoding="utf-8")
    report = _inspect(source)
    assert report.verdict is Verdict.CONFORM
    with pytest.raises(HdhWizardError):
        convert(_entry(source), report, tmp_path / "publish")


def test_original_is_byte_for_byte_unchanged_after_conversion(tmp_path: Path) -> None:
    source = tmp_path / "a.csv"
    source.write_bytes(b"\xef\xbb\xbfa;b\r\n1;2,5\r\n")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    mtime = source.stat().st_mtime_ns
    _convert(source, tmp_path / "publish")
    assert hashlib.sha256(source.read_bytes()).hexdigest() == digest
    assert source.stat().st_mtime_ns == mtime
