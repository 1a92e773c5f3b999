"""The check's cheaper computations give what the straightforward ones give.

The byte scan counts with numpy what `bytes.count` counts; the exact distinct counts, made
through category ids so that several stream in one query, equal `n_unique`; the day-first test
(one match per part) decides as the extraction of each part did; the recapture guess is near the
column's distinct values when the sample is a random draw and gives up on a sorted column.
"""

from __future__ import annotations

import math
import random
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from hdh_wizard.inspect import byte_scan
from hdh_wizard.inspect.byte_scan import ByteCounts, scan_bytes
from hdh_wizard.inspect.csv_check import check_delimited
from hdh_wizard.inspect.csv_profile import _recapture_guess
from hdh_wizard.inspect.report import ColumnType
from hdh_wizard.inspect.tables import count_distinct, exact_distinct


def _counted_plainly(data: bytes, delimiter: bytes | None, chunk_size: int) -> ByteCounts:
    """The counts as `bytes.count` gives them, chunk after chunk (line endings are told apart
    per chunk: LF-only lines in a chunk before the first one holding a CR make them mixed)."""
    counts = ByteCounts(size=len(data), ascii_only=data.isascii())
    previous_cr = False
    for start in range(0, len(data), chunk_size):
        chunk = data[start : start + chunk_size]
        counts.delimiters += chunk.count(delimiter) if delimiter is not None else 0
        counts.nul += chunk.count(b"\x00")
        if counts.cr or b"\r" in chunk:
            counts.cr += chunk.count(b"\r")
            counts.crlf += chunk.count(b"\r\n") + (previous_cr and chunk.startswith(b"\n"))
            counts.lf += chunk.count(b"\n")
        elif b"\n" in chunk:
            counts.lf_before_cr = True
        previous_cr = chunk.endswith(b"\r")
    return counts


@pytest.mark.parametrize("seed", range(40))
def test_byte_counts_across_chunks_are_those_of_bytes_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    chunk_size = rng.choice([7, 64, 97])
    monkeypatch.setattr(byte_scan, "CHUNK", chunk_size)
    data = bytes(rng.choice(b"ab,;\r\n\x00\xe9") for _ in range(rng.randint(0, 3000)))
    path = tmp_path / "octets.csv"
    path.write_bytes(data)
    for delimiter in (b",", b";", None):
        counts = scan_bytes(path, delimiter)
        expected = _counted_plainly(data, delimiter, chunk_size)
        assert counts.size == expected.size
        assert counts.delimiters == expected.delimiters
        assert (counts.nul, counts.ascii_only) == (expected.nul, expected.ascii_only)
        assert (counts.cr, counts.crlf, counts.lf) == (expected.cr, expected.crlf, expected.lf)
        assert counts.lf_before_cr == expected.lf_before_cr
        assert counts.line_ending == expected.line_ending


def test_exact_distinct_counts_of_every_type_equal_n_unique(tmp_path: Path) -> None:
    rng = random.Random(7)
    rows = 30_000
    frame = pl.DataFrame(
        {
            "text": [rng.choice([None, *(f"v{i}" for i in range(900))]) for _ in range(rows)],
            "integer": [rng.choice([None, *range(-50, 4_000)]) for _ in range(rows)],
            "decimal": [
                rng.choice([None, 0.0, -0.0, math.nan, *(i / 8 for i in range(700))])
                for _ in range(rows)
            ],
            "day": [date(2020, 1, 1 + rng.randrange(31)) for _ in range(rows)],
            "flag": [rng.choice([True, False, None]) for _ in range(rows)],
            "category": pl.Series(
                [rng.choice([None, "x", "y", "z"]) for _ in range(rows)], dtype=pl.Categorical
            ),
            "amount": pl.Series(
                [rng.choice([None, 1, 150, -3]) for _ in range(rows)], dtype=pl.Decimal(10, 2)
            ),
            "empty": pl.Series([None] * rows, dtype=pl.String),
        }
    )
    path = tmp_path / "valeurs.parquet"
    frame.write_parquet(path, row_group_size=1_000)
    scanned = pl.scan_parquet(path)
    schema = scanned.collect_schema()
    counts = scanned.select(
        exact_distinct(pl.col(name), dtype).alias(name) for name, dtype in schema.items()
    ).collect(engine="streaming")
    for name in frame.columns:
        assert counts[name][0] == frame[name].drop_nulls().n_unique(), name


# Odd values: a part in another script's digits, leading zeros or signs, spaces, a lone part.
ODD_DATES = [
    "15/03/2020",
    " 15/03/2020",
    "5/13/2020",
    "٣/13/2020",
    "1٢/13/2020",
    "13/1٣/2020",
    "013/03/2020",
    "+13/03/2020",
    "13/+13/2020",
    "5/ 13/2020",
    "5/13",
    "20/5/2020",
    "٢٠/03/2020",
    "12/12/2020",
]


def _decided_by_extraction(values: list[str]) -> ColumnType:
    """The rule as it was: each part extracted with its own regex, read as a number."""
    series = pl.Series(values)
    first = series.str.extract(r"^(\d{1,2})/", 1).cast(pl.Int32, strict=False).max()
    second = series.str.extract(r"^\d{1,2}/(\d{1,2})/", 1).cast(pl.Int32, strict=False).max()
    if isinstance(second, int) and second > 12:
        return ColumnType.TEXT
    if isinstance(first, int) and first > 12:
        return ColumnType.DATE_DAY_FIRST
    return ColumnType.DATE_AMBIGUOUS


@pytest.mark.parametrize("odd", ODD_DATES)
def test_day_first_or_month_first_is_decided_as_the_extraction_decided(
    tmp_path: Path, odd: str
) -> None:
    values = [f"{1 + i % 12:02d}/{1 + i % 12:02d}/2021" for i in range(300)] + [odd]
    path = tmp_path / "dates.csv"
    path.write_text("quand\n" + "".join(f'"{v}"\n' for v in values), encoding="utf-8")
    table = check_delimited(path).table
    assert table is not None
    (column,) = table.columns
    assert column.type is _decided_by_extraction(values)


def test_recapture_guess_is_near_the_distinct_values_of_a_random_column() -> None:
    rng = random.Random(3)
    sample = pl.Series([rng.randrange(200_000) for _ in range(10_000)])
    guess = _recapture_guess(sample)
    assert guess is not None
    assert 130_000 < guess < 300_000


def test_recapture_guess_gives_up_on_a_sorted_column() -> None:
    rng = random.Random(4)
    sample = pl.Series(sorted(rng.randrange(10**9) for _ in range(10_000)))
    assert _recapture_guess(sample) is None


@pytest.mark.parametrize("together", [True, False])
def test_exact_distinct_counts_of_a_later_pass_equal_n_unique(
    tmp_path: Path, together: bool
) -> None:
    """`count_distinct` counts one column with a group-by, several with category ids."""
    rng = random.Random(11)
    frame = pl.DataFrame(
        {
            "decimal": [rng.choice([None, 0.0, -0.0, math.nan, 2.5, 1 / 3]) for _ in range(5_000)],
            "text": [rng.choice([None, "a", "b", "é"]) for _ in range(5_000)],
        }
    )
    path = tmp_path / "valeurs.parquet"
    frame.write_parquet(path, row_group_size=500)
    batches = [["decimal", "text"]] if together else [["decimal"], ["text"]]
    for names in batches:
        counts = count_distinct(pl.scan_parquet(path), {name: 10 for name in names})
        assert counts == {name: frame[name].drop_nulls().n_unique() for name in names}
