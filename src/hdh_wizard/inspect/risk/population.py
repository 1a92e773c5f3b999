"""How many people of the whole population are unique on the quasi-identifiers, from the sample.

A record alone in its class within the released table (a sample unique) is not necessarily alone
in the population it was drawn from: what matters to a re-identification is population
uniqueness. The population is never seen, so it is estimated from the sample's class-size
frequencies (how many classes hold 1 record, 2 records…) and the population's size, with the
models ARX offers (its `RiskModelPopulationUniqueness`), so a partner can compare our figures
with ARX's:

- Pitman: the sample follows a Pitman–Yor sampling formula whose two parameters (θ, α) are fitted
  by maximum likelihood; the expected number of population uniques is then
  Γ(θ+1) / Γ(θ+α) · N^α.
- Zayatz: the share of sample uniques that are population uniques, from hypergeometric draws,
  applied to the sample uniques and scaled by the sampling fraction.

Only the class-size histogram is needed: one streaming pass (`class_size_histogram`) over a
table of any size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.risk.tables import column

ERROR_POPULATION = "risk.population.error.size"  # value, records
_ACCURACY = 1e-9
_ITERATIONS = 300


@dataclass(frozen=True)
class PopulationUniqueness:
    records: int
    population: int
    classes: int
    sample_uniques: int  # records alone in their class in the sample
    pitman: float  # estimated share of the population that is unique (NaN: no estimate)
    zayatz: float

    @property
    def sample_unique_share(self) -> float:
        return self.sample_uniques / self.records if self.records else 0.0

    @property
    def sampling_fraction(self) -> float:
        return self.records / self.population

    @property
    def dankar(self) -> float:
        """Dankar et al.'s choice as ARX makes it without SNB: Pitman for samples up to 10 % of
        the population (Zayatz when Pitman fails), Zayatz above."""
        if self.sampling_fraction <= 0.1 and math.isfinite(self.pitman):
            return self.pitman
        return self.zayatz


def class_size_histogram(frame: pl.LazyFrame, quasi: Sequence[str]) -> dict[int, int]:
    """Classes per size: {1: classes of one record, 2: …}, in one streaming pass."""
    keys = [column(frame, name).cast(pl.String).fill_null("") for name in quasi]
    sizes = frame.group_by(keys).agg(pl.len().alias("n")).select("n")
    counted = sizes.group_by("n").agg(pl.len().alias("c")).collect(engine="streaming")
    return dict(
        zip(counted.get_column("n").to_list(), counted.get_column("c").to_list(), strict=True)
    )


def population_uniqueness(histogram: Mapping[int, int], population: int) -> PopulationUniqueness:
    """Pitman's and Zayatz's estimates of the share of the population that is unique.

    `histogram` maps a class size to its number of classes; `population` is the size of the
    population the records were drawn from (at least the number of records)."""
    records = sum(size * count for size, count in histogram.items())
    if isinstance(population, bool) or not isinstance(population, int) or population < records:
        raise HdhWizardError(ERROR_POPULATION, value=str(population), records=records)
    uniques = histogram.get(1, 0)
    classes = sum(histogram.values())
    if uniques == 0 or records == 0:
        return PopulationUniqueness(records, population, classes, uniques, 0.0, 0.0)
    return PopulationUniqueness(
        records,
        population,
        classes,
        uniques,
        pitman_uniques(histogram, population) / population,
        zayatz_uniques(histogram, population) / population,
    )


# --- Zayatz --------------------------------------------------------------------------------------


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _hypergeometric_one(population: int, successes: int, draws: int) -> float:
    """P(X = 1) for X ~ Hypergeometric(population, successes, draws)."""
    if successes < 1 or draws < 1 or population - successes < draws - 1:
        return 0.0
    log_p = (
        math.log(successes)
        + _log_choose(population - successes, draws - 1)
        - _log_choose(population, draws)
    )
    return math.exp(log_p)


def zayatz_uniques(histogram: Mapping[int, int], population: int) -> float:
    """Zayatz's estimate of the number of population uniques (as ARX's ModelZayatz computes it:
    each class size weighs the chance of drawing exactly one record from it)."""
    records = sum(size * count for size, count in histogram.items())
    classes = sum(histogram.values())
    uniques = histogram.get(1, 0)
    weighted = sum(
        count / classes * _hypergeometric_one(population, size, records)
        for size, count in histogram.items()
    )
    if weighted == 0:
        return math.nan
    conditional = uniques / classes * _hypergeometric_one(population, 1, records) / weighted
    return uniques * conditional / (records / population)


# --- Pitman --------------------------------------------------------------------------------------


def digamma(x: float) -> float:
    """ψ(x) for x > 0: recurrence up to 10, then the asymptotic series."""
    result = 0.0
    while x < 10:
        result -= 1 / x
        x += 1
    f = 1 / (x * x)
    series = f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))))
    return result + math.log(x) - 0.5 / x - series


def trigamma(x: float) -> float:
    """ψ'(x) for x > 0: recurrence up to 10, then the asymptotic series."""
    result = 0.0
    while x < 10:
        result += 1 / (x * x)
        x += 1
    f = 1 / (x * x)
    series = 1 / x + f / 2 + f / x * (1 / 6 - f * (1 / 30 - f * (1 / 42 - f / 30)))
    return result + series


def _pitman_step(
    theta: float, alpha: float, histogram: Mapping[int, int], classes: int, records: int
) -> tuple[float, float, float, float, float]:
    """The log-likelihood's gradient (gt, ga) and Hessian (htt, hta, haa) at (θ, α)."""
    s = theta / alpha
    u = classes
    d_u = digamma(s + u) - digamma(s + 1)  # Σ_{i<u} 1/(s+i)
    t_u = trigamma(s + 1) - trigamma(s + u)  # Σ_{i<u} 1/(s+i)²
    sum_1 = d_u / alpha  # Σ 1/(θ+iα)
    sum_i = (u - 1) / alpha - s * d_u / alpha  # Σ i/(θ+iα)
    sum_11 = t_u / alpha**2  # Σ 1/(θ+iα)²
    sum_i1 = (d_u - s * t_u) / alpha**2  # Σ i/(θ+iα)²
    sum_ii = ((u - 1) - 2 * s * d_u + s * s * t_u) / alpha**2  # Σ i²/(θ+iα)²
    d_n = digamma(theta + records) - digamma(theta + 1)
    t_n = trigamma(theta + 1) - trigamma(theta + records)
    psi, psi1 = digamma(1 - alpha), trigamma(1 - alpha)
    classes_1 = classes_2 = 0.0
    for size, count in histogram.items():
        if size > 1:
            classes_1 += count * (digamma(size - alpha) - psi)  # Σ_{m<size} 1/(m-α)
            classes_2 += count * (psi1 - trigamma(size - alpha))  # Σ_{m<size} 1/(m-α)²
    return (
        sum_1 - d_n,
        sum_i - classes_1,
        -sum_11 + t_n,
        -sum_i1,
        -sum_ii - classes_2,
    )


def fit_pitman(histogram: Mapping[int, int]) -> tuple[float, float] | None:
    """Pitman's (θ, α) by maximum likelihood: Newton–Raphson from the moment-based starting
    point ARX uses; None when it does not converge to θ ≥ 0, 0 < α < 1."""
    records = sum(size * count for size, count in histogram.items())
    classes = sum(histogram.values())
    c1 = float(histogram.get(1, 0))
    c2 = float(histogram.get(2, 0)) or 1.0
    n, u = float(records), float(classes)
    c = c1 * (c1 - 1) / c2
    denominator = 2 * c1 * u + c1 * c - n * c
    if denominator == 0:
        return None
    theta = (n * u * c - c1 * (n - 1) * (2 * u + c)) / denominator
    alpha = (theta * (c1 - n) + (n - 1) * c1) / (n * u)
    for _ in range(_ITERATIONS):
        if not (theta >= 0 and 0 < alpha < 1):
            return None
        gt, ga, htt, hta, haa = _pitman_step(theta, alpha, histogram, classes, records)
        if abs(gt) < _ACCURACY and abs(ga) < _ACCURACY:
            return theta, alpha
        determinant = htt * haa - hta * hta
        if determinant == 0 or not math.isfinite(determinant):
            return None
        theta -= (haa * gt - hta * ga) / determinant
        alpha -= (htt * ga - hta * gt) / determinant
    return None


def pitman_uniques(histogram: Mapping[int, int], population: int) -> float:
    """Pitman's estimate of the number of population uniques, Γ(θ+1) / Γ(θ+α) · N^α; NaN when
    the fit fails or the estimate falls outside 0..N (ARX's rule)."""
    fitted = fit_pitman(histogram)
    if fitted is None:
        return math.nan
    theta, alpha = fitted
    try:
        estimate = math.exp(math.lgamma(theta + 1) - math.lgamma(theta + alpha)) * population**alpha
    except (OverflowError, ValueError):
        return math.nan
    return estimate if 0 <= estimate <= population else math.nan
