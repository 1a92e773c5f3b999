"""What a file is (told by content, not name), which files are listed, and files that go away.

`inventory` walks what the partner chose; `inspect_file` never raises for a bad file: a file that
vanishes or cannot be read is itself a finding.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import os
import random
import zipfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import tifffile
from PIL import Image

from hdh_wizard.inspect import csv_check, inspection
from hdh_wizard.inspect.byte_scan import scan_bytes
from hdh_wizard.inspect.inspection import InventoryEntry, inspect_file, inventory
from hdh_wizard.inspect.kinds import FileKind, sniff_kind
from hdh_wizard.inspect.report import FileReport, Problem, Severity, Verdict


def _entry(path: Path) -> InventoryEntry:
    info = path.stat()
    return InventoryEntry(path, path.name, info.st_size, info.st_mtime_ns)


def _inspect(path: Path) -> FileReport:
    return inspect_file(_entry(path))


def _problem(report: FileReport, code: str) -> Problem:
    found = [p for p in report.problems if p.code == code]
    assert len(found) == 1, f"expected one {code!r}, got {[p.code for p in report.problems]}"
    return found[0]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


def _touch(path: Path, text: str = "a\n1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _xlsx_bytes(tmp_path: Path) -> bytes:
    """A real workbook when xlsxwriter is there, else the two parts that make a ZIP an XLSX."""
    path = tmp_path / "source.xlsx"
    if importlib.util.find_spec("xlsxwriter") is not None:
        pl.DataFrame({"id": list(range(3000)), "nom": ["Élodie"] * 3000}).write_excel(path)
    else:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", "<Types/>" + " " * 4000)
            archive.writestr("xl/workbook.xml", "<workbook/>" + " " * 4000)
    data = path.read_bytes()
    path.unlink()
    return data


# --- bad inputs -----------------------------------------------------------------------------


def test_binary_file_named_csv_is_told_by_its_content(tmp_path: Path) -> None:
    rng = random.Random(42)
    data = bytes(rng.choice((0, 0, 0, 0, rng.randrange(256))) for _ in range(20_000))
    assert data.count(0) > 10_000
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    before = _snapshot(tmp_path)
    report = _inspect(path)
    assert report.kind is FileKind.BINARY
    assert _problem(report, "unknown_binary").severity is Severity.BLOCKING
    assert report.verdict is Verdict.NOT_FIXABLE
    assert report.table is None
    assert _snapshot(tmp_path) == before


def test_truncated_xlsx_is_reported_unreadable(tmp_path: Path) -> None:
    data = _xlsx_bytes(tmp_path)
    path = tmp_path / "tronque.xlsx"
    path.write_bytes(data[: len(data) // 2])
    before = _snapshot(tmp_path)
    report = _inspect(path)
    assert report.kind is FileKind.XLSX
    problem = _problem(report, "spreadsheet_unreadable")
    assert problem.severity is Severity.BLOCKING
    assert problem.params["detail"]
    assert report.verdict is Verdict.NOT_FIXABLE
    assert _snapshot(tmp_path) == before


def test_file_deleted_between_inventory_and_inspection_has_vanished(tmp_path: Path) -> None:
    path = _touch(tmp_path / "parti.csv")
    (entry,), _ = inventory([tmp_path], tmp_path)
    path.unlink()
    report = inspect_file(entry)
    assert _problem(report, "file_vanished").severity is Severity.BLOCKING
    assert report.verdict is Verdict.NOT_FIXABLE
    assert report.sha256 == ""
    assert report.path == "parti.csv"
    assert list(tmp_path.iterdir()) == []


def test_file_vanishing_while_its_bytes_are_read_has_vanished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _touch(tmp_path / "parti.csv", "a,b\n1,2\n")
    original = scan_bytes  # the function csv_check calls, in its own thread

    def delete_then_scan(target: Path, *args: object, **kwargs: object) -> object:
        target.unlink()
        return original(target, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(csv_check, "scan_bytes", delete_then_scan)
    report = _inspect(path)
    assert [p.code for p in report.problems] == ["file_vanished"]


def test_file_not_found_raised_by_the_table_check_becomes_file_vanished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _touch(tmp_path / "parti.csv")

    def gone(*_args: object, **_kwargs: object) -> object:
        raise FileNotFoundError(2, "No such file or directory", str(path))

    monkeypatch.setattr(inspection, "check_delimited", gone)
    report = _inspect(path)
    problem = _problem(report, "file_vanished")
    assert problem.params["detail"] == "No such file or directory"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_file_without_read_permission_is_reported_unreadable(tmp_path: Path) -> None:
    path = _touch(tmp_path / "verrou.csv")
    path.chmod(0)
    try:
        (entry,), _ = inventory([tmp_path], tmp_path)
        report = inspect_file(entry)
    finally:
        path.chmod(0o644)
    assert _problem(report, "file_unreadable").severity is Severity.BLOCKING
    assert report.verdict is Verdict.NOT_FIXABLE


@pytest.mark.parametrize("where", ["sniff_kind", "check_delimited"])
def test_permission_error_while_reading_is_reported_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    path = _touch(tmp_path / "verrou.csv")

    def refuse(*_args: object, **_kwargs: object) -> object:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(inspection, where, refuse)
    report = _inspect(path)
    problem = _problem(report, "file_unreadable")
    assert problem.params["detail"] == "Permission denied"
    assert report.verdict is Verdict.NOT_FIXABLE


def test_permission_error_while_hashing_a_non_text_file_is_reported_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(b"%PDF-1.4\n%%EOF\n")

    def refuse(*_args: object, **_kwargs: object) -> object:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(inspection, "sha256_of", refuse)
    assert [p.code for p in _inspect(path).problems] == ["file_unreadable"]


# --- kinds by content -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"II*\x00\x08\x00\x00\x00", FileKind.TIFF),
        (b"MM\x00*\x00\x00\x00\x08", FileKind.TIFF),
        (b"II+\x00\x08\x00\x00\x00", FileKind.BIGTIFF),
        (b"MM\x00+\x00\x08\x00\x00", FileKind.BIGTIFF),
        (b"\x89PNG\r\n\x1a\n", FileKind.PNG),
        (b"\xff\xd8\xff\xe0", FileKind.JPEG),
        (b"PAR1", FileKind.PARQUET),
        (b"%PDF-1.7\n", FileKind.PDF),
        (b"\x1f\x8b\x08\x00", FileKind.GZIP),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", FileKind.XLS),
        (b"\x00" * 128 + b"DICM", FileKind.DICOM),
        (b"id,nom\n1,Ana\n", FileKind.TEXT),
    ],
    ids=lambda v: v.value if isinstance(v, FileKind) else None,
)
def test_kind_is_told_by_the_first_bytes_whatever_the_name(
    tmp_path: Path, head: bytes, kind: FileKind
) -> None:
    path = tmp_path / "fichier.csv"
    path.write_bytes(head + b"\x00" * 64 if kind is not FileKind.TEXT else head)
    assert sniff_kind(path) is kind


def test_real_tiff_named_jpg_is_a_tiff(tmp_path: Path) -> None:
    path = tmp_path / "scan.jpg"
    tifffile.imwrite(path, np.zeros((16, 16), dtype=np.uint8), byteorder="<")
    assert path.read_bytes()[:4] == b"II*\x00"
    report = _inspect(path)
    assert report.kind is FileKind.TIFF
    assert report.image is not None
    assert (report.image.width, report.image.height) == (16, 16)


def test_real_bigtiff_named_tif_is_a_bigtiff(tmp_path: Path) -> None:
    path = tmp_path / "lame.tif"
    tifffile.imwrite(path, np.zeros((8, 8), dtype=np.uint16), bigtiff=True, byteorder="<")
    assert path.read_bytes()[:4] == b"II+\x00"
    report = _inspect(path)
    assert report.kind is FileKind.BIGTIFF
    assert report.image is not None and report.image.bigtiff


def test_real_png_named_tiff_is_a_png(tmp_path: Path) -> None:
    path = tmp_path / "photo.tiff"
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    report = _inspect(path)
    assert report.kind is FileKind.PNG
    assert report.image is not None
    assert (report.image.width, report.image.height) == (4, 3)


def test_parquet_named_dat_is_a_table_to_convert(tmp_path: Path) -> None:
    path = tmp_path / "export.dat"
    pl.DataFrame({"id": [1, 2, 3], "nom": ["a", "b", None]}).write_parquet(path)
    report = _inspect(path)
    assert report.kind is FileKind.PARQUET
    assert report.table is not None
    assert report.table.rows == 3
    assert [c.name for c in report.table.columns] == ["id", "nom"]
    assert report.table.columns[1].nulls == 1
    assert _problem(report, "not_csv").params == {"format": "PARQUET", "sheets": 1}
    assert report.verdict is Verdict.FIXABLE


def test_xlsx_named_bin_is_a_workbook(tmp_path: Path) -> None:
    pytest.importorskip("xlsxwriter")
    path = tmp_path / "classeur.bin"
    pl.DataFrame({"id": [1, 2], "nom": ["Élodie", "Karim"]}).write_excel(path)
    report = _inspect(path)
    assert report.kind is FileKind.XLSX
    assert report.table is not None and report.table.rows == 2
    assert _problem(report, "not_csv").params["format"] == "XLSX"
    assert report.verdict is Verdict.FIXABLE


def test_pdf_named_csv_is_documentation(tmp_path: Path) -> None:
    path = tmp_path / "dictionnaire.csv"
    path.write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    report = _inspect(path)
    assert report.kind is FileKind.PDF
    assert _problem(report, "pdf_document").severity is Severity.INFO


def test_gzip_named_csv_is_an_archive_to_unpack(tmp_path: Path) -> None:
    path = tmp_path / "sejours.csv"
    path.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    report = _inspect(path)
    assert report.kind is FileKind.GZIP
    problem = _problem(report, "archive")
    assert (problem.params, problem.severity) == ({"kind": "gzip"}, Severity.BLOCKING)


def test_dicom_preamble_named_png_is_dicom(tmp_path: Path) -> None:
    path = tmp_path / "coupe.png"
    path.write_bytes(b"\x00" * 128 + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00" + b"\x00" * 64)
    report = _inspect(path)
    assert report.kind is FileKind.DICOM
    assert report.verdict is Verdict.NOT_FIXABLE


def test_plain_zip_is_an_archive_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "lot.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("donnees/a.csv", "a\n1\n")
    report = _inspect(path)
    assert report.kind is FileKind.ZIP
    assert _problem(report, "archive").params == {"kind": "zip"}


def test_a_stray_nul_does_not_make_a_csv_binary(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 1000 + b"3,\x004\n")
    assert sniff_kind(path) is FileKind.TEXT


# --- inventory ------------------------------------------------------------------------------


def test_folders_are_walked_recursively_and_listed_sorted(tmp_path: Path) -> None:
    root = tmp_path / "projet"
    for relative in ("b/2.csv", "a/z/1.csv", "a/2.csv", "a/10.csv", "a/z/y/0.csv"):
        _touch(root / relative)
    entries, skipped = inventory([root / "b", root / "a"], root)
    assert [e.display for e in entries] == [
        "a/10.csv",
        "a/2.csv",
        "a/z/1.csv",
        "a/z/y/0.csv",
        "b/2.csv",
    ]
    assert skipped == []
    first = entries[0]
    assert first.path == root / "a" / "10.csv"
    assert first.path.is_absolute()
    assert first.size == (root / "a" / "10.csv").stat().st_size
    assert first.mtime_ns == (root / "a" / "10.csv").stat().st_mtime_ns


def test_the_wizard_s_own_folders_are_not_listed(tmp_path: Path) -> None:
    for relative in ("donnees/a.csv", "publish/a.csv", ".hdh-wizard/x.yaml", ".git/HEAD"):
        _touch(tmp_path / relative)
    entries, _ = inventory([tmp_path], tmp_path)
    assert [e.display for e in entries] == ["donnees/a.csv"]


def test_a_file_chosen_twice_is_listed_once(tmp_path: Path) -> None:
    path = _touch(tmp_path / "donnees" / "a.csv")
    entries, _ = inventory([tmp_path / "donnees", path, tmp_path], tmp_path)
    assert [e.display for e in entries] == ["donnees/a.csv"]


def test_a_missing_path_is_skipped_as_missing(tmp_path: Path) -> None:
    entries, skipped = inventory([tmp_path / "absent.csv"], tmp_path)
    assert entries == []
    assert [(s.display, s.reason) for s in skipped] == [("absent.csv", "missing")]


def test_symlink_pointing_outside_the_root_is_skipped_unless_links_are_followed(
    tmp_path: Path,
) -> None:
    outside = _touch(tmp_path / "ailleurs" / "secret.csv")
    root = tmp_path / "projet"
    _touch(root / "donnees" / "vrai.csv")
    (root / "donnees" / "lien.csv").symlink_to(outside)

    entries, skipped = inventory([root / "donnees"], root)
    assert [e.display for e in entries] == ["donnees/vrai.csv"]
    assert [(s.display, s.reason) for s in skipped] == [("donnees/lien.csv", "link_outside")]

    entries, skipped = inventory([root / "donnees"], root, follow_links=True)
    assert [e.display for e in entries] == ["donnees/lien.csv", "donnees/vrai.csv"]
    assert skipped == []
    assert entries[0].size == outside.stat().st_size
    assert inspect_file(entries[0]).verdict is Verdict.CONFORM


def test_symlink_inside_the_root_is_kept(tmp_path: Path) -> None:
    root = tmp_path / "projet"
    target = _touch(root / "archives" / "2023.csv")
    (root / "donnees").mkdir()
    (root / "donnees" / "dernier.csv").symlink_to(target)
    entries, skipped = inventory([root / "donnees"], root)
    assert [e.display for e in entries] == ["donnees/dernier.csv"]
    assert skipped == []


def test_symlinked_folder_outside_the_root_is_reported_and_followed_on_request(
    tmp_path: Path,
) -> None:
    _touch(tmp_path / "ailleurs" / "x.csv")
    root = tmp_path / "projet"
    _touch(root / "donnees" / "vrai.csv")
    (root / "donnees" / "lot").symlink_to(tmp_path / "ailleurs", target_is_directory=True)
    _, skipped = inventory([root / "donnees"], root)
    assert [(s.display, s.reason) for s in skipped] == [("donnees/lot", "link_outside")]
    entries, _ = inventory([root / "donnees"], root, follow_links=True)
    assert [e.display for e in entries] == ["donnees/lot/x.csv", "donnees/vrai.csv"]


def test_a_skipped_file_chosen_twice_is_reported_once(tmp_path: Path) -> None:
    outside = _touch(tmp_path / "ailleurs.csv")
    root = tmp_path / "projet"
    (root / "donnees").mkdir(parents=True)
    (root / "donnees" / "lien.csv").symlink_to(outside)
    _, skipped = inventory([root / "donnees", root], root)
    assert [s.display for s in skipped] == ["donnees/lien.csv"]
