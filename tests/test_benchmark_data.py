"""The benchmarks' generated health CSV: two shapes, the same bytes for the same arguments.

`benchmarks/make_health_csv.py` writes the files every speed figure is measured on; its `wide`
shape exists so that tuning to the `stays` file shows. These tests write small files the way the
benchmarks do and read them with the check, as a partner's file would be read.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import polars as pl

from hdh_wizard.inspect.inspection import InventoryEntry, inspect_file

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "make_health_csv.py"
# The columns `benchmarks/command_speed.py` gives `hdh-wizard risk`, in both shapes.
RISK_COLUMNS = {"age", "sexe", "finess", "date_entree", "duree_sejour", "code_cim10", "deces"}


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_health_csv", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _checked(path: Path) -> tuple[str, set[tuple[str, str]], dict[str, str]]:
    info = path.stat()
    report = inspect_file(InventoryEntry(path, path.name, info.st_size, info.st_mtime_ns))
    problems = {(p.code, str(p.params.get("column"))) for p in report.problems}
    assert report.table is not None
    types = {c.name: c.type.value for c in report.table.columns}
    return report.verdict.value, problems, types


def test_the_same_arguments_write_the_same_bytes_in_both_shapes(tmp_path: Path) -> None:
    generator = _generator()
    for shape in ("stays", "wide"):
        first, second = tmp_path / f"{shape}-1.csv", tmp_path / f"{shape}-2.csv"
        generator.write(first, 1e6, shape)
        generator.write(second, 1e6, shape)
        assert first.read_bytes() == second.read_bytes()


def test_the_default_shape_keeps_its_twelve_columns(tmp_path: Path) -> None:
    path = tmp_path / "stays.csv"
    _generator().write(path, 1e6, "stays")
    header = path.read_text("utf-8").partition("\n")[0].split(",")
    assert header == [
        "id_patient",
        "id_sejour",
        "date_entree",
        "date_sortie",
        "age",
        "sexe",
        "code_cim10",
        "libelle",
        "duree_sejour",
        "cout",
        "finess",
        "deces",
    ]


def test_the_wide_shape_is_cut_to_the_size_asked(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    written, rows = _generator().write(path, 3e6, "wide")
    assert written == path.stat().st_size
    assert 3e6 <= written < 3.1e6
    assert rows == pl.read_csv(path, infer_schema=False).height


def test_the_wide_shape_holds_what_makes_a_real_extract_slow(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    _generator().write(path, 2e6, "wide")
    frame = pl.read_csv(path, infer_schema=False)
    assert 25 <= frame.width <= 30
    assert set(frame.columns) >= RISK_COLUMNS
    # Free text with many distinct sentences, some holding the delimiter (so quoted).
    comments = frame["commentaire"].drop_nulls()
    assert comments.n_unique() > 0.9 * len(comments)
    assert comments.str.contains(",").all()
    # High-cardinality codes: 9-digit FINESS, INSEE communes with Corsica's letters.
    assert frame["finess"].str.len_chars().eq(9).all()
    assert frame["finess"].n_unique() > 1_000
    assert frame["commune_insee"].str.contains(r"^2[AB]\d{3}$").any()
    assert frame["commune_insee"].n_unique() > 3_000
    # Columns mostly empty.
    assert frame["allergie"].null_count() > 0.9 * frame.height
    assert frame["medecin_rpps"].null_count() > 0.5 * frame.height
    text = path.read_text("utf-8")
    assert '"Patiente' in text or '"Patient' in text


def test_the_check_reads_french_decimals_and_day_first_dates_in_the_wide_shape(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wide.csv"
    _generator().write(path, 1e6, "wide")
    verdict, problems, types = _checked(path)
    assert verdict == "fixable"
    assert {
        ("decimal_comma", "creatinine"),
        ("decimal_comma", "hemoglobine"),
        ("dates_day_first", "date_naissance"),
        ("dates_day_first", "date_entree"),
    } <= problems
    assert types["commune_insee"] == "text"
    assert types["poids_kg"] == "decimal"
