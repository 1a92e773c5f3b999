"""Singling out and inference measured on tables whose classes are known by construction, and
checked against an independent implementation (pycanon) on random tables."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
from pathlib import Path

import polars as pl
import pytest

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.risk import measures
from hdh_wizard.inspect.risk.measures import (
    SIZE_BUCKETS,
    check_columns,
    check_threshold,
    measure_risk,
)
from hdh_wizard.inspect.risk.tables import open_tables


def classes_table(sizes: list[int], sensitive_values: list[int]) -> pl.LazyFrame:
    """One class per size: class i has `sizes[i]` records with `sensitive_values[i]` distinct
    diagnoses (cycled)."""
    rows: dict[str, list[str]] = {"age": [], "sexe": [], "diag": []}
    for i, (size, distinct) in enumerate(zip(sizes, sensitive_values, strict=True)):
        for j in range(size):
            rows["age"].append(str(30 + i))
            rows["sexe"].append("F" if i % 2 else "M")
            rows["diag"].append(f"C{j % distinct}")
    return pl.DataFrame(rows).lazy()


def test_classes_sizes_known_by_construction_give_k_and_the_small_classes() -> None:
    frame = classes_table([1, 2, 3, 5, 11], [1, 2, 1, 3, 4])
    m = measure_risk(frame, ["age", "sexe"], ["diag"], threshold=5)
    assert m.records == 22
    assert m.classes == 5
    assert m.k == 1
    assert m.small_classes == 3
    assert m.records_in_small == 1 + 2 + 3
    assert m.unique_records == 1
    assert m.average_risk == pytest.approx(5 / 22)
    assert m.max_risk == 1.0
    assert m.share_in_small == pytest.approx(6 / 22)
    # Buckets: 1 | 2 | 3-4 | 5-10 | 11-20 …
    assert m.size_histogram[:5] == (1, 2, 3, 5, 11)
    assert sum(m.size_histogram) == m.records
    assert len(m.size_histogram) == len(SIZE_BUCKETS)


def test_l_diversity_counts_the_records_whose_diagnosis_is_deduced() -> None:
    frame = classes_table([1, 2, 3, 5, 11], [1, 2, 1, 3, 4])
    (diversity,) = measure_risk(frame, ["age", "sexe"], ["diag"]).diversity
    assert diversity.column == "diag"
    assert diversity.smallest_l == 1
    assert diversity.classes_l1 == 2  # the unique record, and the class of 3 sharing one value
    assert diversity.records_l1 == 1 + 3


def test_the_stricter_threshold_of_11_counts_more_small_classes() -> None:
    frame = classes_table([1, 2, 3, 5, 11], [1, 1, 1, 1, 1])
    assert measure_risk(frame, ["age"], threshold=5).records_in_small == 6
    assert measure_risk(frame, ["age"], threshold=11).records_in_small == 11


def test_a_table_where_every_class_is_large_enough_does_not_single_out() -> None:
    frame = classes_table([5, 6, 7], [2, 2, 3])
    m = measure_risk(frame, ["age", "sexe"], ["diag"], threshold=5)
    assert (m.k, m.records_in_small, m.unique_records) == (5, 0, 0)
    assert not m.singles_out
    assert not m.infers
    assert m.diversity[0].smallest_l == 2


def test_each_sensitive_attribute_has_its_own_l() -> None:
    frame = classes_table([4, 4], [2, 4]).with_columns(stade=pl.lit("II"))
    m = measure_risk(frame, ["age"], ["diag", "stade"])
    by_column = {d.column: d for d in m.diversity}
    assert by_column["diag"].smallest_l == 2
    assert by_column["stade"].smallest_l == 1
    assert by_column["stade"].records_l1 == 8


def test_empty_values_form_their_own_class() -> None:
    frame = pl.DataFrame({"age": ["30", None, None, "30"], "d": ["a", "b", "c", "d"]}).lazy()
    m = measure_risk(frame, ["age"], ["d"])
    assert (m.classes, m.k) == (2, 2)


def test_a_column_entirely_empty_makes_one_class() -> None:
    frame = pl.DataFrame(
        {"vide": [None] * 6, "d": list("aabbcc")}, schema={"vide": pl.String, "d": pl.String}
    ).lazy()
    m = measure_risk(frame, ["vide"], ["d"])
    assert (m.classes, m.k, m.diversity[0].smallest_l) == (1, 6, 3)


def test_a_file_with_one_row_is_one_unique_record() -> None:
    m = measure_risk(pl.DataFrame({"age": ["40"], "d": ["x"]}).lazy(), ["age"], ["d"])
    assert (m.records, m.k, m.unique_records, m.max_risk) == (1, 1, 1, 1.0)
    assert m.diversity[0].records_l1 == 1


def test_an_empty_table_has_no_class() -> None:
    m = measure_risk(pl.DataFrame({"age": []}, schema={"age": pl.String}).lazy(), ["age"])
    assert (m.records, m.classes, m.k, m.average_risk, m.max_risk) == (0, 0, 0, 0.0, 0.0)


def test_all_quasi_identifiers_removed_leaves_a_single_class() -> None:
    m = measure_risk(classes_table([2, 3], [1, 1]), [], ["diag"])
    assert (m.classes, m.k) == (1, 5)


@pytest.mark.parametrize("value", ["0", "1", "abc", "", "2.5", "-5", "100000"])
def test_a_threshold_that_is_not_a_count_of_at_least_two_is_refused(value: str) -> None:
    with pytest.raises(HdhWizardError) as caught:
        check_threshold(value)
    assert caught.value.key == "risk.error.threshold"


def test_thresholds_5_and_11_are_accepted() -> None:
    assert check_threshold("5") == 5
    assert check_threshold(" 11 ") == 11


def test_a_quasi_identifier_that_does_not_exist_is_named_with_the_columns_available() -> None:
    with pytest.raises(HdhWizardError) as caught:
        check_columns(["age", "sexe"], ["age", "ville"], [], "t.csv")
    assert caught.value.key == "risk.error.unknown_columns"
    assert caught.value.params["columns"] == "ville"
    assert caught.value.params["available"] == "age, sexe"


def test_no_quasi_identifier_or_a_column_in_both_lists_is_refused() -> None:
    with pytest.raises(HdhWizardError, match="no_quasi"):
        check_columns(["age"], [], [], "t.csv")
    with pytest.raises(HdhWizardError, match="both_roles"):
        check_columns(["age"], ["age"], ["age"], "t.csv")


# --- against pycanon -----------------------------------------------------------------------
# pycanon pins its own numpy, so it lives in `.venv-pycanon` (scripts/setup.sh --dev) and is
# called once with every case: it reads each table and prints k and l per column.

PYCANON = Path(__file__).resolve().parent.parent / ".venv-pycanon" / "bin" / "python"
PYCANON_SCRIPT = """
import json, sys
import pandas as pd
from pycanon import anonymity
results = []
for case in json.loads(sys.stdin.read()):
    table = pd.read_csv(case["path"], dtype=str, keep_default_na=False)
    quasi, sensitive = case["quasi"], case["sensitive"]
    results.append({
        "k": int(anonymity.k_anonymity(table, quasi)),
        "l": {s: int(anonymity.l_diversity(table, quasi, [s])) for s in sensitive},
    })
print(json.dumps(results))
"""
QUASI_SETS = (["age"], ["age", "sexe"], ["sexe", "dep"], ["age", "sexe", "dep"])


def random_table(seed: int, rows: int) -> pl.DataFrame:
    rng = random.Random(seed)
    return pl.DataFrame(
        {
            "age": [str(rng.randint(20, 30)) for _ in range(rows)],
            "sexe": [rng.choice("FM") for _ in range(rows)],
            "dep": [rng.choice(["75", "92", "2A", "48"]) for _ in range(rows)],
            "diag": [rng.choice(["C43", "C44", "D03", "C50"]) for _ in range(rows)],
            "stade": [rng.choice(["I", "II", "III"]) for _ in range(rows)],
        }
    )


def test_k_and_l_agree_with_pycanon_on_random_tables(tmp_path: Path) -> None:
    if not PYCANON.exists():
        if os.environ.get("CI"):
            pytest.fail("pycanon's environment is missing: scripts/setup.sh --dev")
        pytest.skip("pycanon not installed (scripts/setup.sh --dev)")
    cases, ours = [], []
    for seed in range(12):
        table = random_table(seed, rows=40 + seed * 37)
        path = tmp_path / f"table{seed}.csv"
        table.write_csv(path)
        for quasi in QUASI_SETS:
            cases.append({"path": str(path), "quasi": quasi, "sensitive": ["diag", "stade"]})
            with open_tables(path, path.name) as (opened,):
                ours.append(measure_risk(opened.frame, quasi, ["diag", "stade"]))
    result = subprocess.run(
        [str(PYCANON), "-c", PYCANON_SCRIPT],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = json.loads(result.stdout)
    assert len(theirs) == len(ours) == 48
    for case, mine, other in zip(cases, ours, theirs, strict=True):
        assert mine.k == other["k"], case
        assert {d.column: d.smallest_l for d in mine.diversity} == other["l"], case


# --- through files -------------------------------------------------------------------------


def test_measures_read_a_semicolon_cp1252_csv_with_a_blank_line(tmp_path: Path) -> None:
    path = tmp_path / "cohorte.csv"
    text = "âge;sexe;diagnostic\r\n30;F;Mélanome\r\n30;F;Mélanome\r\n\r\n41;M;Carcinome\r\n"
    path.write_bytes(text.encode("cp1252"))
    with open_tables(path, "cohorte.csv") as (table,):
        assert table.columns == ["âge", "sexe", "diagnostic"]
        m = measure_risk(table.frame, ["âge", "sexe"], ["diagnostic"])
    assert (m.records, m.classes, m.k) == (3, 2, 1)
    assert m.diversity[0].records_l1 == 3


def test_ten_million_distinct_values_in_a_quasi_identifier_measure_as_all_unique(
    tmp_path: Path,
) -> None:
    path = tmp_path / "grand.csv"
    rows = 10_000_000
    pl.DataFrame(
        {"id": pl.int_range(rows, eager=True), "sexe": ["F", "M"] * (rows // 2)}
    ).write_csv(path)
    with open_tables(path, "grand.csv") as (table,):
        m = measure_risk(table.frame, ["id", "sexe"])
    assert (m.records, m.classes, m.k, m.unique_records) == (rows, rows, 1, rows)
    assert m.share_unique == 1.0


def test_entropy_l_is_the_exponential_of_the_values_entropy_in_the_worst_class() -> None:
    frame = pl.DataFrame(
        {"age": ["40"] * 4 + ["50"] * 4, "diag": ["a", "a", "b", "b", "a", "a", "a", "b"]}
    ).lazy()
    (d,) = measure_risk(frame, ["age"], ["diag"], threshold=2).diversity
    worst = math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))  # 1.7548…
    assert d.smallest_entropy_l == pytest.approx(worst)
    assert d.largest_share == 0.75 and d.smallest_l == 2


def test_the_classes_counted_in_partitions_are_the_same_as_in_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(11)
    rows = [(str(rng.randrange(30)), rng.choice("FM"), rng.choice("xyz")) for _ in range(3000)]
    frame = pl.DataFrame(rows, schema=["age", "sexe", "diag"], orient="row").lazy()
    whole = measure_risk(frame, ["age", "sexe"], ["diag"])
    monkeypatch.setattr(measures, "PARTITION_ROWS", 500)  # six partitions
    assert measure_risk(frame, ["age", "sexe"], ["diag"]) == whole


def test_the_hash_collision_bound_is_stated_and_small() -> None:
    """Classes are keyed by 64-bit hashes: two classes merge with probability ≤ n(n−1)/2^65."""
    assert measures.collision_bound(20_000_000) < 1.1e-5
    assert measures.collision_bound(1_000_000) < 3e-8
    assert "2^65" in (measures.__doc__ or "")


@pytest.mark.parametrize("partition_rows", [measures.PARTITION_ROWS, 400])
def test_distinct_values_are_counted_exactly_in_one_reading_whatever_the_partitions(
    partition_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(measures, "PARTITION_ROWS", partition_rows)  # 400: five partitions
    rows = 2_000
    frame = pl.DataFrame(
        {
            "sejour": [f"S{i}" for i in range(rows)],
            "unite": [f"U{i % 37}" if i % 9 else None for i in range(rows)],
        }
    ).lazy()
    found = measures.count_distinct(frame, {"sejour": pl.col("sejour"), "unite": pl.col("unite")})
    assert found == {"sejour": rows, "unite": 37}  # null is no value
    assert measures.count_distinct(frame, {}) == {}
