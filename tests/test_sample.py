"""The random sample of a big table: reproducible from its seed, stratified in proportion."""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect import sample as sample_module
from hdh_wizard.inspect.progress import Cancelled, Progress
from hdh_wizard.inspect.sample import (
    allocate,
    row_numbers,
    sample_name,
    sample_table,
    select_rows,
)

STAGES = ["I"] * 500 + ["II"] * 300 + ["III"] * 150 + ["IV"] * 47 + ["rare"] * 3


def splitmix64(seed: int, position: int) -> int:
    """The documented rule, written from SplitMix64's definition (plain Python integers)."""
    z = (seed + position * 0x9E3779B97F4A7C15) & (2**64 - 1)
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & (2**64 - 1)
    return z ^ (z >> 31)


def expected_draw(seed: int, strata: list[str], targets: dict[str, int]) -> list[int]:
    """Row numbers drawn by the rule: in each stratum, the smallest SplitMix64 numbers."""
    drawn: list[int] = []
    for value, count in targets.items():
        rows = [r for r, s in enumerate(strata) if s == value]
        drawn += sorted(rows, key=lambda r: splitmix64(seed, r + 1))[:count]
    return sorted(drawn)


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))[1:]


@pytest.fixture
def cohort(tmp_path: Path) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "stade", "commentaire"])
    for n, stage in enumerate(STAGES):
        writer.writerow([n, stage, f"suivi n°{n}, «RAS»" if n % 7 else 'dit "stable"\nrevu'])
    path = tmp_path / "cohorte.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_the_same_seed_gives_a_byte_identical_sample(cohort: Path, tmp_path: Path) -> None:
    first = sample_table(cohort, tmp_path / "a.csv", size=100, seed=2024)
    second = sample_table(cohort, tmp_path / "b.csv", size=100, seed=2024)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert first.sha256 == second.sha256
    other = sample_table(cohort, tmp_path / "c.csv", size=100, seed=2025)
    assert (tmp_path / "c.csv").read_bytes() != (tmp_path / "a.csv").read_bytes()
    assert other.rows == 100


def test_the_sample_follows_the_documented_rule(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    result = sample_table(cohort, out, size=37, seed=7)
    ids = [int(row[0]) for row in read_rows(out)]
    assert ids == expected_draw(7, ["all"] * len(STAGES), {"all": 37})
    assert result.rows == 37 and result.source_rows == len(STAGES)
    assert result.seed == 7 and result.size == 37 and result.fraction is None
    data = out.read_bytes()
    assert result.file_size == len(data) and result.sha256 == hashlib.sha256(data).hexdigest()


def test_the_stratified_sample_is_proportional_and_follows_the_rule(
    cohort: Path, tmp_path: Path
) -> None:
    out = tmp_path / "s.csv"
    result = sample_table(cohort, out, size=100, seed=11, stratify_column_index=1)
    assert [(s.value, s.rows, s.sampled) for s in result.strata] == [
        ("I", 500, 50),
        ("II", 300, 30),
        ("III", 150, 15),
        ("IV", 47, 4),  # 4.7 by proportion: the largest remainder gets the row left
        ("rare", 3, 1),  # 0.3: at least one row per stratum
    ]
    assert result.stratify_column == "stade"
    rows = read_rows(out)
    assert Counter(row[1] for row in rows) == {"I": 50, "II": 30, "III": 15, "IV": 4, "rare": 1}
    targets = {s.value: s.sampled for s in result.strata if s.value is not None}
    assert [int(row[0]) for row in rows] == expected_draw(11, STAGES, targets)


def test_a_fraction_is_rounded_to_the_nearest_row(cohort: Path, tmp_path: Path) -> None:
    assert sample_table(cohort, tmp_path / "a.csv", fraction=0.0125, seed=1).rows == 13  # 12.5
    assert sample_table(cohort, tmp_path / "b.csv", fraction=0.0001, seed=1).rows == 1  # 0.1
    assert sample_table(cohort, tmp_path / "c.csv", fraction=1.0, seed=1).rows == len(STAGES)


def test_a_size_beyond_the_table_gives_the_whole_table_in_its_order(
    cohort: Path, tmp_path: Path
) -> None:
    result = sample_table(cohort, tmp_path / "s.csv", size=10_000, seed=3)
    assert result.rows == len(STAGES)
    assert read_rows(tmp_path / "s.csv") == read_rows(cohort)


def test_empty_values_make_a_stratum_of_their_own(tmp_path: Path) -> None:
    source = tmp_path / "t.csv"
    lines = [f"{n},{'' if n % 4 == 0 else '  ' if n % 4 == 1 else 'X'}" for n in range(40)]
    source.write_text("id,v\n" + "\n".join(lines) + "\n", encoding="utf-8")
    result = sample_table(source, tmp_path / "s.csv", size=10, seed=5, stratify_column_index=1)
    assert [(s.value, s.rows, s.sampled) for s in result.strata] == [(None, 20, 5), ("X", 20, 5)]


def test_the_draw_is_the_same_whatever_the_chunk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    codes = np.array([i % 3 for i in range(1000)], dtype=np.uint16)
    whole = select_rows(99, codes, 1000, [10, 200, 1])
    monkeypatch.setattr(sample_module, "CHUNK_ROWS", 7)
    assert np.array_equal(select_rows(99, codes, 1000, [10, 200, 1]), whole)
    strata = [str(c) for c in codes]
    assert whole.tolist() == expected_draw(99, strata, {"0": 10, "1": 200, "2": 1})


def test_row_numbers_are_splitmix64s_outputs() -> None:
    numbers = row_numbers(123456789, 0, 5)
    assert [int(n) for n in numbers] == [splitmix64(123456789, p) for p in range(1, 6)]
    # The reference value of SplitMix64 seeded with 0 (its first output).
    assert int(row_numbers(0, 0, 1)[0]) == 0xE220A8397B1DCDAF


def test_the_sample_name_sits_beside_the_parts() -> None:
    assert sample_name(Path("publish/séjours 2016.csv")) == "sejours_2016__echantillon.csv"


# --- allocation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("populations", "wanted", "expected"),
    [
        ([500, 300, 150, 47, 3], 100, [50, 30, 15, 4, 1]),
        ([100, 1, 1, 50], 4, [1, 1, 1, 1]),
        ([100, 1, 1, 50], 2, [1, 0, 0, 1]),  # fewer rows than strata: proportional only
        ([3, 3, 3], 2, [1, 1, 0]),  # ties: the first in order
        ([10, 0, 5], 15, [10, 0, 5]),
        ([10, 5], 100, [10, 5]),
    ],
)
def test_allocation_by_largest_remainders(
    populations: list[int], wanted: int, expected: list[int]
) -> None:
    assert allocate(populations, wanted) == expected


@given(
    populations=st.lists(st.integers(0, 10_000), min_size=1, max_size=12),
    wanted=st.integers(1, 20_000),
)
def test_allocation_adds_up_and_stays_within_each_stratum(
    populations: list[int], wanted: int
) -> None:
    shares = allocate(populations, wanted)
    total = sum(populations)
    assert sum(shares) == min(wanted, total)
    assert all(0 <= s <= p for s, p in zip(shares, populations, strict=True))
    non_empty = [h for h, p in enumerate(populations) if p]
    if min(wanted, total) >= len(non_empty):
        assert all(shares[h] >= 1 for h in non_empty)
    for share, population in zip(shares, populations, strict=True):
        if total and share > 1:
            assert share <= min(wanted, total) * population / total + 1


# --- what goes wrong --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({}, "prepare.error.size_or_fraction"),
        ({"size": 5, "fraction": 0.1}, "prepare.error.size_or_fraction"),
        ({"size": 0}, "prepare.error.sample_size"),
        ({"size": True}, "prepare.error.sample_size"),
        ({"fraction": 0.0}, "prepare.error.sample_fraction"),
        ({"fraction": 1.5}, "prepare.error.sample_fraction"),
        ({"size": 5, "seed": -1}, "prepare.error.seed"),
        ({"size": 5, "seed": 2**64}, "prepare.error.seed"),
        ({"size": 5, "stratify_column_index": 3}, "prepare.error.unknown_column"),
    ],
)
def test_a_bad_request_is_a_typed_error(
    cohort: Path, tmp_path: Path, options: dict[str, object], key: str
) -> None:
    options = {"seed": 1, **options}
    with pytest.raises(HdhWizardError) as caught:
        sample_table(cohort, tmp_path / "s.csv", **options)  # type: ignore[arg-type]
    assert caught.value.key == key
    assert not (tmp_path / "s.csv").exists()


def test_an_empty_table_is_a_typed_error(tmp_path: Path) -> None:
    source = tmp_path / "t.csv"
    source.write_text("id,v\n", encoding="utf-8")
    with pytest.raises(HdhWizardError) as caught:
        sample_table(source, tmp_path / "s.csv", size=3, seed=1)
    assert caught.value.key == "prepare.error.empty_table"


def test_a_ragged_line_is_named(tmp_path: Path) -> None:
    source = tmp_path / "t.csv"
    source.write_text("id,v\n1,a\n2,b,c\n", encoding="utf-8")
    with pytest.raises(HdhWizardError) as caught:
        sample_table(source, tmp_path / "s.csv", size=1, seed=1, stratify_column_index=1)
    assert (caught.value.key, caught.value.params["line"]) == ("prepare.error.ragged_row", 3)


def test_a_cancelled_sample_leaves_nothing(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "publish" / "s.csv"
    out.parent.mkdir()
    progress = Progress()

    def cancel_on_write(self: Progress, nbytes: int) -> None:
        self.cancel()
        self.check()

    progress.advance = cancel_on_write.__get__(progress)  # type: ignore[method-assign]
    with pytest.raises(Cancelled):
        sample_table(cohort, out, size=50, seed=1, progress=progress)
    assert list(out.parent.iterdir()) == []


def test_an_existing_sample_is_replaced_only_when_complete(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    out.write_text("ancien échantillon\n", encoding="utf-8")
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        sample_table(cohort, out, size=5, seed=1, progress=progress)
    assert out.read_text(encoding="utf-8") == "ancien échantillon\n"
    sample_table(cohort, out, size=5, seed=1)
    assert len(read_rows(out)) == 5
