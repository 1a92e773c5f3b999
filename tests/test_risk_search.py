"""The automatic anonymity search, its hierarchies and the population models, on data made here."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.progress import Cancelled, Progress
from hdh_wizard.inspect.risk import hierarchies as hz
from hdh_wizard.inspect.risk import population as pop
from hdh_wizard.inspect.risk import search as sr

# Two small hierarchies, four values each: x → pair → removed; y → removed.
X = hz.parse_hierarchy("a;ab;*\nb;ab;*\nc;cd;*\nd;cd;*\n", "x")
Y = hz.parse_hierarchy("p;*\nq;*\nr;*\ns;*\n", "y")
Z = hz.parse_hierarchy("1;1-2;1-4;*\n2;1-2;1-4;*\n3;3-4;1-4;*\n4;3-4;1-4;*\n", "z")


def frame_of(rows: Sequence[Sequence[str]], names: Sequence[str]) -> pl.LazyFrame:
    return pl.DataFrame(
        {name: [row[i] for row in rows] for i, name in enumerate(names)},
        schema=dict.fromkeys(names, pl.String),
    ).lazy()


def reference(
    rows: Sequence[Sequence[str]],
    hierarchies: Sequence[hz.Hierarchy],
    node: Sequence[int],
    rules: sr.Rules,
    sensitive: Sequence[str] = (),
) -> tuple[bool, float, int]:
    """A node measured the plain way: (meets the rules, ARX's Loss, suppressed records)."""
    keys = [
        tuple(h.generalise(v, level) for h, v, level in zip(hierarchies, row, node, strict=False))
        for row in rows
    ]
    sizes = Counter(keys)
    failing = {key for key, size in sizes.items() if size < rules.k}
    if sensitive:
        values: dict[tuple[str, ...], Counter[str]] = {}
        for key, value in zip(keys, sensitive, strict=True):
            values.setdefault(key, Counter())[value] += 1
        for key, counter in values.items():
            if (
                len(counter) < rules.l_diversity
                or max(counter.values()) > rules.max_share * sizes[key]
            ):
                failing.add(key)
    suppressed = sum(sizes[key] for key in failing)
    n = len(rows)
    per_column = []
    for d, h in enumerate(hierarchies):
        total = 0.0
        for key, row in zip(keys, rows, strict=True):
            if key in failing:
                total += 1
            else:
                label = h.generalise(row[d], node[d])
                total += h.levels[node[d]].count(label) / len(h.values)
        low = n / len(h.values)
        per_column.append(max((total - low) / (n - low), 0.0))
    loss = math.prod((1 + v) ** (1 / len(per_column)) for v in per_column) - 1
    return suppressed <= math.floor(rules.suppression * n), loss, suppressed


def brute_force(
    rows: Sequence[Sequence[str]],
    hierarchies: Sequence[hz.Hierarchy],
    rules: sr.Rules,
    sensitive: Sequence[str] = (),
) -> float | None:
    best: float | None = None
    for node in itertools.product(*(range(h.height) for h in hierarchies)):
        meets, loss, _ = reference(rows, hierarchies, node, rules, sensitive)
        if meets and (best is None or loss < best - 1e-12):
            best = loss
    return best


# --- ARX's Loss, by hand -------------------------------------------------------------------------


def test_loss_of_one_column_generalised_to_pairs_is_a_third() -> None:
    # 4 records a, b, c, d → ab, ab, cd, cd: each covers 2 of 4 values, sum 2; from 1 (as is) to 4.
    rows = [["a", "p"], ["b", "p"], ["c", "p"], ["d", "p"]]
    result = sr.search(frame_of(rows, ["x", "y"]), {"x": X, "y": Y}, sr.Rules(k=2))
    best = result.best
    assert best is not None and best.levels == (1, 0)
    assert best.loss_per_column == pytest.approx((1 / 3, 0.0))
    assert best.loss == pytest.approx(math.sqrt(4 / 3) - 1)
    assert (best.classes, best.smallest, best.suppressed) == (2, 2, 0)


def test_suppressed_records_weigh_as_if_removed() -> None:
    # k = 2 with one record of five allowed out: d is suppressed, counting 1 in each column.
    rows = [["a", "p"], ["a", "p"], ["b", "p"], ["b", "p"], ["d", "p"]]
    result = sr.search(frame_of(rows, ["x", "y"]), {"x": X, "y": Y}, sr.Rules(k=2, suppression=0.2))
    best = result.best
    assert best is not None and best.levels == (0, 0) and best.suppressed == 1
    # x: 4 × 1/4 + 1 = 2, from 5/4 to 5 → 0.2; y: 4 × 1/4 + 1 = 2 → 0.2.
    assert best.loss_per_column == pytest.approx((0.2, 0.2))
    assert best.loss == pytest.approx(0.2)


def test_aggregate_is_arx_geometric_mean() -> None:
    assert sr.aggregate_loss([0.0, 1.0]) == pytest.approx(math.sqrt(2) - 1)
    assert sr.aggregate_loss([1.0, 1.0, 1.0]) == pytest.approx(1.0)
    assert sr.normalise_loss(0.5, 2, 4) == pytest.approx(0.0)  # as is: records / domain


# --- The optimum equals a brute-force search -----------------------------------------------------

rows_strategy = st.lists(
    st.tuples(st.sampled_from("abcd"), st.sampled_from("pqrs"), st.sampled_from("1234")),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=rows_strategy,
    k=st.integers(2, 5),
    suppression=st.sampled_from([0.0, 0.05, 0.2, 0.5]),
)
def test_search_optimum_equals_brute_force_over_every_node(
    rows: list[tuple[str, str, str]], k: int, suppression: float
) -> None:
    hierarchies = [X, Y, Z]
    rules = sr.Rules(k=k, suppression=suppression)
    expected = brute_force(rows, hierarchies, rules)
    result = sr.search(frame_of(rows, ["x", "y", "z"]), {"x": X, "y": Y, "z": Z}, rules)
    assert result.optimal
    if expected is None:
        assert result.best is None and result.closest is not None
    else:
        assert result.best is not None
        assert result.best.loss == pytest.approx(expected, abs=1e-9)
        meets, loss, suppressed = reference(rows, hierarchies, result.best.levels, rules)
        assert meets and loss == pytest.approx(result.best.loss, abs=1e-9)
        assert suppressed == result.best.suppressed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=rows_strategy,
    labels=st.lists(st.sampled_from("uvw"), min_size=40, max_size=40),
    k=st.integers(2, 4),
    suppression=st.sampled_from([0.0, 0.1, 0.3]),
    l_diversity=st.integers(1, 2),
    max_share=st.sampled_from([1.0, 0.8, 0.6]),
)
def test_monotonic_pruning_never_drops_the_optimum_even_with_inference_rules(
    rows: list[tuple[str, str, str]],
    labels: list[str],
    k: int,
    suppression: float,
    l_diversity: int,
    max_share: float,
) -> None:
    # The share bound is not monotone once records may be suppressed: no pruning may rely on it.
    sensitive = labels[: len(rows)]
    hierarchies = [X, Y, Z]
    rules = sr.Rules(k, suppression, l_diversity, max_share)
    expected = brute_force(rows, hierarchies, rules, sensitive)
    data = [(*row, s) for row, s in zip(rows, sensitive, strict=True)]
    frame = frame_of(data, ["x", "y", "z", "diagnosis"])
    result = sr.search(frame, {"x": X, "y": Y, "z": Z}, rules, sensitive=["diagnosis"])
    assert result.optimal
    if expected is None:
        assert result.best is None
    else:
        assert result.best is not None
        assert result.best.loss == pytest.approx(expected, abs=1e-9)


def test_solutions_come_least_loss_first() -> None:
    rows = [[x, y, z] for x in "abcd" for y in "pq" for z in "12"] * 2
    result = sr.search(frame_of(rows, ["x", "y", "z"]), {"x": X, "y": Y, "z": Z}, sr.Rules(k=4))
    losses = [s.loss for s in result.solutions]
    assert losses == sorted(losses) and len(losses) >= 2
    assert all(s.smallest >= 4 and s.suppressed == 0 for s in result.solutions)


# --- Rules the caller gives ----------------------------------------------------------------------


def test_suppression_budget_of_zero_is_accepted() -> None:
    assert sr.check_rules(5, 0).suppression == 0.0
    assert sr.check_suppression(0.01) == 0.01


@pytest.mark.parametrize("value", [1, 1.0, 1.5, -0.1, "0.01", "beaucoup", True, math.nan])
def test_suppression_budget_of_everything_or_text_is_refused(value: object) -> None:
    with pytest.raises(HdhWizardError) as caught:
        sr.check_rules(5, value)
    assert caught.value.key == sr.ERROR_SUPPRESSION


def test_other_rule_values_are_refused() -> None:
    with pytest.raises(HdhWizardError) as caught:
        sr.check_rules(5, 0, max_share=0)
    assert caught.value.key == sr.ERROR_MAX_SHARE
    with pytest.raises(HdhWizardError) as caught:
        sr.check_rules(5, 0, l_diversity=0)
    assert caught.value.key == sr.ERROR_DIVERSITY
    with pytest.raises(HdhWizardError) as caught:
        sr.check_rules(1)
    assert caught.value.key == "risk.error.threshold"


# --- Bounds, cancelling, no solution -------------------------------------------------------------


def twenty_columns(
    count: int = 20, rows: int = 60
) -> tuple[pl.LazyFrame, dict[str, hz.HierarchyBuilder]]:
    chance = random.Random(14)
    data = {f"q{i}": [str(chance.randrange(3)) for _ in range(rows)] for i in range(count)}
    return pl.DataFrame(data).lazy(), {f"q{i}": hz.categorical_hierarchy for i in range(count)}


def test_twenty_quasi_identifiers_lattice_is_bounded_and_says_so() -> None:
    frame, builders = twenty_columns()
    result = sr.search(frame, builders, sr.Rules(k=5), max_nodes=25)
    assert result.lattice_size == 2**20
    assert result.evaluated <= 25
    assert result.bounded and not result.optimal


def test_more_than_twenty_quasi_identifiers_are_refused() -> None:
    frame, builders = twenty_columns(21)
    with pytest.raises(HdhWizardError) as caught:
        sr.search(frame, builders, sr.Rules(k=5))
    assert caught.value.key == sr.ERROR_TOO_MANY_QUASI


def test_cancel_stops_between_nodes_and_leaves_nothing_half_done() -> None:
    frame, builders = twenty_columns(6)
    progress = Progress()
    seen: list[int] = []

    def step(done: int, _limit: int) -> None:
        seen.append(done)
        if done == 3:
            progress.cancel()

    with pytest.raises(Cancelled):
        sr.search(frame, builders, sr.Rules(k=5), check=progress.check, progress=step)
    assert seen == [1, 2, 3]
    # A new search starts afresh and finishes: nothing was kept from the cancelled one.
    whole = sr.search(frame, builders, sr.Rules(k=5))
    assert whole.optimal and whole.best is not None


def test_no_node_meeting_the_rules_returns_the_closest() -> None:
    rows = [["a", "p"], ["b", "q"], ["c", "r"]]
    result = sr.search(frame_of(rows, ["x", "y"]), {"x": X, "y": Y}, sr.Rules(k=5))
    assert result.best is None and result.solutions == ()
    assert result.closest is not None and not result.closest.meets_rules
    assert result.closest.suppressed == 3


def test_closest_is_the_least_violating_node() -> None:
    # k = 3: the top node holds all 4 records but the sensitive value is the same for 3 of 4.
    rows = [["a", "p", "u"], ["b", "q", "u"], ["c", "r", "u"], ["d", "s", "v"]]
    frame = frame_of(rows, ["x", "y", "s"])
    rules = sr.Rules(k=3, max_share=0.5)
    result = sr.search(frame, {"x": X, "y": Y}, rules, sensitive=["s"])
    assert result.best is None and result.closest is not None
    assert result.closest.suppressed == min(
        reference([r[:2] for r in rows], [X, Y], node, rules, [r[2] for r in rows])[2]
        for node in itertools.product(range(3), range(2))
    )


# --- Hierarchies ---------------------------------------------------------------------------------


def test_builtin_age_hierarchy_uses_arx_interval_labels() -> None:
    h = hz.age_hierarchy(["23", "7.5", "NA"])
    assert h.generalise("23", 1) == "[20, 25["
    assert h.generalise("23", 2) == "[20, 30["
    assert h.generalise("23", 3) == "[20, 40["
    assert h.generalise("7.5", 1) == "[5, 10["
    assert h.generalise("NA", 3) == "NA" and h.generalise("NA", 4) == "*"


def test_builtin_date_hierarchy_reads_iso_french_and_compact_dates() -> None:
    h = hz.date_hierarchy(["2024-03-09", "09/03/2024", "20241231", "mars"])
    assert [h.generalise("09/03/2024", level) for level in range(5)] == [
        "09/03/2024",
        "2024-03",
        "2024-T1",
        "2024",
        "*",
    ]
    assert h.generalise("20241231", 2) == "2024-T4"
    assert h.generalise("mars", 3) == "mars"


def test_builtin_geography_goes_commune_departement_region() -> None:
    h = hz.geography_hierarchy(["75056", "2A004", "97411", "13055"])
    assert [h.generalise("2A004", level) for level in range(4)] == ["2A004", "2A", "94 Corse", "*"]
    assert h.generalise("97411", 1) == "974" and h.generalise("97411", 2) == "04 La Réunion"
    assert h.generalise("13055", 2) == "93 Provence-Alpes-Côte d'Azur"


def test_hierarchy_csv_in_arx_format_accepts_both_separators(tmp_path: Path) -> None:
    for text in ("a;ab;*\nb;ab;*\n", "a,ab,*\nb,ab,*\n"):
        path = tmp_path / "h.csv"
        path.write_text(text, encoding="utf-8")
        h = hz.read_hierarchy_csv(path, "x")
        assert h.values == ("a", "b") and h.height == 3


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", hz.ERROR_EMPTY),
        ("a;ab;*\nb;;*\n", hz.ERROR_MISSING_VALUE),
        ("a;ab;*\nb;*\n", hz.ERROR_DEPTH),
        ("a;ab;*\na;ab;*\n", hz.ERROR_DUPLICATE),
        ("a;b;a\nb;b;*\n", hz.ERROR_CYCLE),
        ("a;ab;X\nb;ab;Y\n", hz.ERROR_TWO_PARENTS),
    ],
)
def test_hierarchy_csv_faults_each_give_their_error(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "h.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HdhWizardError) as caught:
        hz.read_hierarchy_csv(path)
    assert caught.value.key == key


def test_values_of_the_data_absent_from_the_hierarchy_are_named_and_counted() -> None:
    rows = [["a", "p"], ["e", "p"], ["f", "q"]]
    with pytest.raises(HdhWizardError) as caught:
        sr.search(frame_of(rows, ["x", "y"]), {"x": X, "y": Y}, sr.Rules(k=2))
    assert caught.value.key == hz.ERROR_VALUES_MISSING
    assert caught.value.params["count"] == 2 and "'e'" in caught.value.params["examples"]


# --- Population models ---------------------------------------------------------------------------


def test_zayatz_on_a_hand_computed_case() -> None:
    # Two singletons and a pair, population 10: P(one of 1 drawn in 4 of 10) = 84/210 = 0.4,
    # P(one of 2) = 2·56/210; conditional uniqueness 0.6; 2 × 0.6 / 0.4 = 3 population uniques.
    assert pop.zayatz_uniques({1: 2, 2: 1}, 10) == pytest.approx(3.0)
    estimate = pop.population_uniqueness({1: 2, 2: 1}, 10)
    assert estimate.zayatz == pytest.approx(0.3)
    assert estimate.sample_uniques == 2 and estimate.sample_unique_share == pytest.approx(0.5)


def test_digamma_and_trigamma_match_known_values() -> None:
    euler = 0.5772156649015329
    assert pop.digamma(1) == pytest.approx(-euler, abs=1e-12)
    assert pop.digamma(0.5) == pytest.approx(-euler - 2 * math.log(2), abs=1e-12)
    assert pop.trigamma(1) == pytest.approx(math.pi**2 / 6, abs=1e-12)
    assert pop.trigamma(0.5) == pytest.approx(math.pi**2 / 2, abs=1e-12)


def test_pitman_fit_maximises_the_likelihood_written_out_term_by_term() -> None:
    histogram = {1: 300, 2: 40, 3: 10, 4: 3}
    fitted = pop.fit_pitman(histogram)
    assert fitted is not None
    theta, alpha = fitted
    n = sum(size * count for size, count in histogram.items())
    u = sum(histogram.values())
    # ∂L/∂θ and ∂L/∂α of the Pitman sampling formula, as plain sums.
    d_theta = sum(1 / (theta + i * alpha) for i in range(1, u)) - sum(
        1 / (theta + i) for i in range(1, n)
    )
    d_alpha = sum(i / (theta + i * alpha) for i in range(1, u)) - sum(
        count * sum(1 / (m - alpha) for m in range(1, size)) for size, count in histogram.items()
    )
    assert abs(d_theta) < 1e-7 and abs(d_alpha) < 1e-7
    expected = math.exp(math.lgamma(theta + 1) - math.lgamma(theta + alpha)) * 10_000**alpha
    assert pop.pitman_uniques(histogram, 10_000) == pytest.approx(expected)
    assert 0 < expected < 10_000


def test_population_smaller_than_the_sample_is_refused() -> None:
    with pytest.raises(HdhWizardError) as caught:
        pop.population_uniqueness({1: 5}, 4)
    assert caught.value.key == pop.ERROR_POPULATION


def test_no_sample_unique_means_no_population_unique() -> None:
    estimate = pop.population_uniqueness({2: 3}, 1000)
    assert estimate.pitman == 0.0 and estimate.zayatz == 0.0


def test_class_size_histogram_is_one_streaming_count() -> None:
    frame = frame_of([["a", "p"], ["a", "p"], ["b", "p"]], ["x", "y"])
    assert pop.class_size_histogram(frame, ["x", "y"]) == {1: 1, 2: 1}


def test_a_search_whose_classes_would_not_fit_is_refused_naming_the_widest_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sr, "MAX_COMBINATIONS", 50)
    frame = pl.DataFrame(
        {"date": [f"2020-01-{1 + i % 27:02d}" for i in range(400)], "sexe": ["F", "M"] * 200}
    ).lazy()
    with pytest.raises(HdhWizardError) as refused:
        sr.search(
            frame,
            {"date": hz.categorical_hierarchy, "sexe": hz.categorical_hierarchy},
            sr.Rules(k=5),
        )
    assert refused.value.key == "risk.search.error.too_many_combinations"
    assert refused.value.params["columns"].startswith("date (≈27)")
