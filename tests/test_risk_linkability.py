"""Linkability facts: distinct values estimated in the scan's pass, counted exactly when close."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl
import pytest

from hdh_wizard.inspect.risk import linkability
from hdh_wizard.inspect.risk.analysis import Choice, assess, scan_table
from hdh_wizard.inspect.risk.generalise import Coarsening, ColumnRule
from hdh_wizard.inspect.risk.linkability import (
    NEAR_UNIQUE,
    LinkReason,
    column_facts,
    content_and_facts,
    find_links,
)
from hdh_wizard.inspect.risk.tables import Table


def _frame(columns: dict[str, list[str | None]]) -> pl.LazyFrame:
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String)).lazy()


def _exact(values: list[str | None]) -> int:
    kept = {v.strip() for v in values if v is not None and v.strip() not in ("", "NA")}
    return len(kept)


def test_a_small_table_counts_its_distinct_values_exactly() -> None:
    values = [f"S{i % 91:03d}" for i in range(100)] + ["NA", "", None]
    (fact,) = column_facts(_frame({"sejour": values}))
    assert (fact.values, fact.distinct) == (100, 91)  # NA, blank and null are no values


@pytest.mark.parametrize("distinct", [178_000, 180_000, 182_000])
def test_a_share_close_to_the_near_unique_bound_is_counted_exactly(distinct: int) -> None:
    """200 000 values around 90 % distinct: the estimate could fall either side, so the exact
    count decides (a near-unique column links records, and a wrong side would hide that)."""
    rows = 200_000
    values = [f"N{i % distinct:07d}" for i in range(rows)]
    (fact,) = column_facts(_frame({"numero": values}))
    assert fact.distinct == distinct
    linked = any(x.reason is LinkReason.PERSISTENT_ID for x in find_links([fact], []))
    assert linked is (distinct / rows >= NEAR_UNIQUE)


def test_only_columns_that_could_be_near_unique_are_counted_exactly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The estimate sorts columns out (far below the bound); any that could reach it is counted
    exactly, so the estimate never decides a verdict."""
    counted: list[str] = []
    exact = linkability.count_distinct

    def spy(frame: pl.LazyFrame, values: Mapping[str, pl.Expr]) -> dict[str, int]:
        counted.extend(values)
        return exact(frame, values)

    monkeypatch.setattr(linkability, "count_distinct", spy)
    rows = 200_000
    index = pl.int_range(rows, eager=True)
    frame = pl.DataFrame(
        {
            "sejour": "S" + index.cast(pl.String).str.zfill(8),
            "sexe": pl.Series(["F", "M"] * (rows // 2)),
            "lot": "L" + (index % (rows // 5)).cast(pl.String),  # 20 %: far from 90 %
            "presque": "P" + (index % (rows * 9 // 10)).cast(pl.String),  # 90 %: the bound
        }
    ).lazy()
    _findings, facts = content_and_facts(frame)
    assert counted == ["sejour", "presque"]
    by_name = {f.name: f for f in facts}
    assert by_name["sejour"].distinct == rows
    assert by_name["presque"].distinct == rows * 9 // 10
    assert by_name["sexe"].distinct <= 3
    links = find_links(facts, [])
    assert [x.column for x in links if x.reason is LinkReason.PERSISTENT_ID] == [
        "sejour",
        "presque",
    ]


def test_the_facts_come_from_the_identifier_scan_pass() -> None:
    values = [f"0{i % 9 + 1} 23 45 67 {i % 90 + 10}" for i in range(50)]
    frame = _frame({"telephone_contact": values, "date_sortie": ["2024-03-01"] * 50})
    findings, facts = content_and_facts(frame)
    assert {f.column for f in findings} >= {"telephone_contact"}
    dates = {f.name: f.day_dates for f in facts}
    assert dates == {"telephone_contact": 0, "date_sortie": 50}
    assert facts[0].distinct == _exact(values)


def test_the_assessment_counts_the_candidates_in_the_measures_reading() -> None:
    """The scan leaves near-unique candidates estimated; the measure's own reading counts them,
    so a verdict never rests on the estimate, before or after the rules."""
    rows = 5_000
    index = pl.int_range(rows, eager=True)
    frame = pl.DataFrame(
        {
            "numero": "N" + (index % (rows * 9 // 10)).cast(pl.String),  # 90 %: the bound
            "age": (20 + index % 50).cast(pl.String),
            "sexe": pl.Series(["F", "M"] * (rows // 2)),
        }
    ).lazy()
    table = Table("t.csv", frame)
    scan = scan_table(table)
    for rules in ((), (ColumnRule("age", Coarsening.AGE_10),)):
        risk = assess(table, scan, Choice(("age", "sexe"), rules=rules))
        (link,) = [x for x in risk.links if x.column == "numero"]
        assert link.reason is LinkReason.PERSISTENT_ID
        assert link.share == pytest.approx(0.9)  # exactly 4 500 of 5 000
