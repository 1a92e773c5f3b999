"""The search against ARX itself, on ARX's own Adult benchmark: same optimum, same Loss.

The data is not shipped with hdh-wizard (it is ARX's): `data/adult.csv` (30 162 records) and
`data/adult_hierarchy_*.csv` from the public repository arx-deidentifier/arx. Point
`HDH_WIZARD_ARX_ADULT` at a folder holding them to run these tests; without it they are skipped
(the search's correctness is also checked on every run against a brute-force search, in
tests/test_risk_search.py).

Reference figures from ARX 3.9.2 on this kind of machine, quasi-identifiers sex, age, race,
marital-status, education, native-country, workclass, occupation with ARX's hierarchies, ARX's
default measure (`Metric.createLossMetric()`: Loss, gs-factor 0.5, geometric mean):
- k = 5, no suppression: levels 0,4,0,2,3,2,2,1, loss 0.59158, 30 classes, smallest 16;
- k = 5, at most 1 % of records suppressed: levels 0,3,0,1,3,1,1,2, 273 records suppressed,
  loss 0.35879, 147 classes.
Population uniqueness, population 317 238 626: over the 8 quasi-identifiers, 14 021 sample
uniques (46.49 %), Pitman 2.966 %, Zayatz 21.62 %; over sex, age, race, marital-status,
education: 3 187 (10.57 %), Pitman 0.0749 %, Zayatz 1.120 %.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from hdh_wizard.inspect.risk.hierarchies import read_hierarchy_csv
from hdh_wizard.inspect.risk.population import class_size_histogram, population_uniqueness
from hdh_wizard.inspect.risk.search import Rules, search

FOLDER = Path(os.environ.get("HDH_WIZARD_ARX_ADULT", "/nonexistent"))
QUASI = [
    "sex",
    "age",
    "race",
    "marital-status",
    "education",
    "native-country",
    "workclass",
    "occupation",
]
pytestmark = pytest.mark.skipif(
    not (FOLDER / "adult.csv").is_file(), reason="HDH_WIZARD_ARX_ADULT: ARX's Adult data not given"
)


def _adult() -> pl.LazyFrame:
    return pl.scan_csv(FOLDER / "adult.csv", separator=";", infer_schema=False)


@pytest.mark.parametrize(
    ("suppression", "levels", "loss", "classes", "suppressed"),
    [
        (0.0, (0, 4, 0, 2, 3, 2, 2, 1), 0.59158, 30, 0),
        (0.01, (0, 3, 0, 1, 3, 1, 1, 2), 0.35879, 147, 273),
    ],
)
def test_the_search_finds_arx_optimum_on_adult(
    suppression: float, levels: tuple[int, ...], loss: float, classes: int, suppressed: int
) -> None:
    hierarchies = {q: read_hierarchy_csv(FOLDER / f"adult_hierarchy_{q}.csv", q) for q in QUASI}
    result = search(_adult(), hierarchies, Rules(k=5, suppression=suppression), max_nodes=10_000)
    best = result.best
    assert best is not None and result.optimal
    assert best.loss <= loss + 5e-6  # no higher than ARX's, meeting the same rule
    assert (best.levels, best.classes, best.suppressed) == (levels, classes, suppressed)


@pytest.mark.parametrize(
    ("quasi", "uniques", "pitman", "zayatz"),
    [(QUASI, 14_021, 0.02966, 0.2162), (QUASI[:5], 3_187, 0.000749, 0.01120)],
)
def test_population_uniqueness_matches_arx_on_adult(
    quasi: list[str], uniques: int, pitman: float, zayatz: float
) -> None:
    view = population_uniqueness(class_size_histogram(_adult(), quasi), 317_238_626)
    assert view.sample_uniques == uniques
    assert view.pitman == pytest.approx(pitman, rel=2e-3)
    assert view.zayatz == pytest.approx(zayatz, rel=2e-3)
