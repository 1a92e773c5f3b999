"""The report's classes at risk: the smallest classes under the threshold, with their values,
fetched by the keys the measure kept (the table is never grouped again whole)."""

from __future__ import annotations

import random

import polars as pl
import pytest

from hdh_wizard.inspect.risk import measures
from hdh_wizard.inspect.risk.analysis import Choice, assess, scan_table
from hdh_wizard.inspect.risk.generalise import Coarsening, ColumnRule, generalise
from hdh_wizard.inspect.risk.report import describe_table
from hdh_wizard.inspect.risk.tables import Table


def _stays(rows: int = 3_000) -> Table:
    rng = random.Random(20261205)
    ages = [str(int(rng.triangular(18, 95, 60))) for _ in range(rows)]
    sexes = [rng.choice("FM") for _ in range(rows)]
    units = [f"U{int(rng.paretovariate(1.2)) % 40:02d}" for _ in range(rows)]
    outcome = [f"D{rng.randrange(5)}" for _ in range(rows)]
    frame = pl.DataFrame({"age": ages, "sexe": sexes, "unite": units, "issue": outcome})
    return Table("sejours.csv", frame.lazy())


def _brute_force(table: Table, quasi: list[str], threshold: int) -> pl.DataFrame:
    return (
        table.frame.group_by(quasi)
        .agg(pl.len().alias("n"))
        .filter(pl.col("n") < threshold)
        .sort(["n", *quasi])
        .collect()
    )


@pytest.mark.parametrize("partition_rows", [measures.PARTITION_ROWS, 700])
def test_the_classes_at_risk_are_the_smallest_under_the_threshold(
    partition_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(measures, "PARTITION_ROWS", partition_rows)  # 700: five partitions
    table = _stays()
    quasi = ["age", "sexe", "unite"]
    choice = Choice(tuple(quasi), ("issue",), threshold=5)
    risk = assess(table, scan_table(table), choice)
    details = describe_table(table, risk, shown=6)
    expected = _brute_force(table, quasi, 5)
    assert expected.height > 6  # more small classes than shown
    assert details.classes_at_risk_total == expected.height == risk.final.small_classes
    assert [c.size for c in details.classes_at_risk] == expected["n"].head(6).to_list()
    smallest = expected.filter(pl.col("n") == expected["n"].min())
    if smallest.height >= 6:  # ties: any six of the smallest, in the order of their values
        shown = {c.key for c in details.classes_at_risk}
        assert shown <= {tuple(r) for r in smallest.select(quasi).iter_rows()}
        assert [c.key for c in details.classes_at_risk] == sorted(shown)
    else:
        assert [c.key for c in details.classes_at_risk][: smallest.height] == [
            tuple(r) for r in smallest.select(quasi).iter_rows()
        ]


def test_the_classes_at_risk_after_the_rules_have_the_published_values() -> None:
    table = _stays()
    rules = (ColumnRule("age", Coarsening.AGE_10),)
    choice = Choice(("age", "sexe", "unite"), ("issue",), threshold=40, rules=rules)
    risk = assess(table, scan_table(table), choice)
    details = describe_table(table, risk, shown=3)
    published = Table("publiee", generalise(table.frame, rules))
    expected = _brute_force(published, ["age", "sexe", "unite"], 40)
    assert risk.published is not None
    assert details.classes_at_risk_total == expected.height == risk.published.small_classes
    assert [c.size for c in details.classes_at_risk] == expected["n"].head(3).to_list()
    published_keys = {tuple(r) for r in expected.select("age", "sexe", "unite").iter_rows()}
    assert {c.key for c in details.classes_at_risk} <= published_keys  # ages as bands


def test_no_class_under_the_threshold_lists_none() -> None:
    table = _stays()
    risk = assess(table, scan_table(table), Choice(("sexe",), threshold=5))
    details = describe_table(table, risk)
    assert (details.classes_at_risk_total, details.classes_at_risk) == (0, ())
