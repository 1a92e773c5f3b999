"""The demo project's synthetic data: realistic enough to exercise every step, and reproducible."""

from __future__ import annotations

import csv
import filecmp
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import tifffile

from hdh_wizard.demo.generate import (
    COLUMNS,
    FIXED_MTIME,
    RARE_DEPARTEMENT,
    ROW_COUNT,
    STAGES,
    create_demo_data,
)
from hdh_wizard.inspect.fingerprint import describe_file


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    folder = tmp_path_factory.mktemp("demo")
    return folder, create_demo_data(folder)


def read_rows(table: Path) -> list[dict[str, str]]:
    with table.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        return list(reader)


@pytest.fixture(scope="module")
def rows(demo: tuple[Path, list[Path]]) -> list[dict[str, str]]:
    return read_rows(demo[1][0])


def test_files_created(demo: tuple[Path, list[Path]]) -> None:
    folder, paths = demo
    data = folder / "donnees"
    assert paths == [data / "cohorte_melanome.csv", data / "lames"]
    assert paths[0].is_file()
    assert paths[1].is_dir()
    assert len(list(paths[1].glob("*.tif"))) == 3
    readme = (data / "LISEZMOI.txt").read_text(encoding="utf-8")
    assert "synthétiques" in readme
    assert "aucun\npatient réel" in readme or "aucun patient réel" in readme


def test_csv_is_plain_utf8(demo: tuple[Path, list[Path]]) -> None:
    raw = demo[1][0].read_bytes()
    raw.decode("utf-8")
    assert not raw.startswith(b"\xef\xbb\xbf")  # no BOM
    assert raw.startswith(b"id_patient,")  # no comment line before the header
    assert b"\r" not in raw


def test_csv_columns_and_rows(rows: list[dict[str, str]]) -> None:
    assert len(rows) == ROW_COUNT
    assert len({r["id_patient"] for r in rows}) == ROW_COUNT
    assert len({r["id_lame"] for r in rows}) == ROW_COUNT
    for row in rows:
        assert row["id_patient"].startswith("VM-") and len(row["id_patient"]) == 9
        assert row["sexe"] in {"F", "M"}
        assert 18 <= int(row["age_diagnostic"]) <= 95
        assert date(2012, 1, 1) <= date.fromisoformat(row["date_diagnostic"]) <= date(2016, 12, 31)
        assert float(row["breslow_mm"]) > 0
        assert row["ulceration"] in {"oui", "non"}
        assert row["rechute"] in {"0", "1"}


def test_all_four_stages_with_a_realistic_distribution(rows: list[dict[str, str]]) -> None:
    stages = Counter(r["stade_pronostique"] for r in rows)
    assert set(stages) == set(STAGES)
    # Most melanomas are found at stage I; stage IV at diagnosis is rare but present.
    assert stages["I"] > stages["II"] > stages["IV"]
    assert stages["III"] > stages["IV"] >= 5


def test_relapse_delay_empty_iff_no_relapse(rows: list[dict[str, str]]) -> None:
    for row in rows:
        if row["rechute"] == "1":
            assert int(row["delai_rechute_mois"]) >= 1
        else:
            assert row["delai_rechute_mois"] == ""
    relapse_rate = {
        stage: sum(r["rechute"] == "1" for r in rows if r["stade_pronostique"] == stage)
        / sum(r["stade_pronostique"] == stage for r in rows)
        for stage in STAGES
    }
    # The later the stage, the likelier a relapse: the signal the data challenge is about.
    assert relapse_rate["I"] < relapse_rate["II"] < relapse_rate["III"]


def test_deliberate_flaws_are_there(rows: list[dict[str, str]]) -> None:
    departements = Counter(r["departement"] for r in rows)
    assert departements[RARE_DEPARTEMENT] == 1  # someone to single out
    assert "06" in departements  # leading zero kept
    assert {"2A", "2B"} <= set(departements)


def test_slides_match_the_table_and_read_back(
    demo: tuple[Path, list[Path]], rows: list[dict[str, str]]
) -> None:
    slides = sorted(demo[1][1].glob("*.tif"))
    by_slide = {r["id_lame"]: r for r in rows}
    assert {s.stem for s in slides} <= set(by_slide)
    assert len({by_slide[s.stem]["stade_pronostique"] for s in slides}) == 3
    labelled = 0
    for slide in slides:
        with tifffile.TiffFile(slide) as tif:
            # No pyramid; one slide also holds the photo of its glass label, as scanners write.
            assert len(tif.pages) in (1, 2)
            labelled += len(tif.pages) == 2
            page = tif.pages.first
            assert page.is_tiled
            assert (page.tilelength, page.tilewidth) == (256, 256)
            assert page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
            assert "DateTime" not in page.tags
            image = page.asarray()
        assert image.shape == (384, 512, 3)
        assert image.dtype.name == "uint8"
        # Pinkish tissue on white glass: red dominates green on average, and it is not flat.
        assert image[..., 0].mean() > image[..., 1].mean()
        assert image.std() > 10
    assert labelled == 1


def test_fixed_mtimes(demo: tuple[Path, list[Path]]) -> None:
    data = demo[0] / "donnees"
    stamp = int(FIXED_MTIME.timestamp()) * 1_000_000_000
    for path in [data, *data.rglob("*")]:
        assert path.stat().st_mtime_ns == stamp, path


def test_deterministic(tmp_path: Path) -> None:
    first = create_demo_data(tmp_path / "one")
    second = create_demo_data(tmp_path / "two")
    comparison = filecmp.dircmp(tmp_path / "one", tmp_path / "two")
    assert not comparison.diff_files and not comparison.left_only and not comparison.right_only
    for a, b in zip(
        sorted((tmp_path / "one").rglob("*")), sorted((tmp_path / "two").rglob("*")), strict=True
    ):
        assert a.relative_to(tmp_path / "one") == b.relative_to(tmp_path / "two")
        if a.is_file():
            assert a.read_bytes() == b.read_bytes(), a
    # So the files as the state file records them are the same too.
    assert [describe_file(p, tmp_path / "one") for p in first] == [
        describe_file(p, tmp_path / "two") for p in second
    ]


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    default = create_demo_data(tmp_path / "one")
    other = create_demo_data(tmp_path / "two", seed=7)
    assert default[0].read_bytes() != other[0].read_bytes()
    assert set(Counter(r["stade_pronostique"] for r in read_rows(other[0]))) == set(STAGES)
