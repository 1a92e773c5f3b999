"""Singling out and inference, measured on the whole table: equivalence classes and l-diversity.

An equivalence class is the set of records sharing the same values of the quasi-identifiers:
what an attacker who knows those facts about a person can narrow them down to. The records are
never held in memory: the classes are grouped on the quasi-identifier values themselves (exact
keys: a hash collision could merge two classes and hide a small one) and only each class's size
is kept, and per sensitive attribute its count of each value, in one streaming pass per
sensitive attribute.

Empty values are a value like any other: an attacker sees that a field is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.risk.tables import column

# The default for open data: at most 1/11 ≈ 0.09 chance to re-identify a record, the maximum
# probability EMA Policy 0070's guidance cites (hdh_wizard.inspect.risk.verdicts has the sources).
DEFAULT_THRESHOLD = 11
LOWEST_USUAL_THRESHOLD = 5  # allowed, with a justification the report shows
STRICT_THRESHOLD = DEFAULT_THRESHOLD  # kept for the report's wording of the two conventions
MAX_THRESHOLD = 1_000
# Inference: a class where one sensitive value reaches this share tells it for its records.
DEFAULT_CONFIDENCE = 0.9
# Class-size buckets for the report's bar chart: (smallest, largest) sizes, None = no limit.
SIZE_BUCKETS: tuple[tuple[int, int | None], ...] = (
    (1, 1),
    (2, 2),
    (3, 4),
    (5, 10),
    (11, 20),
    (21, 50),
    (51, 100),
    (101, None),
)


@dataclass(frozen=True)
class Diversity:
    """How well one sensitive attribute is hidden within the classes."""

    column: str
    smallest_l: int  # distinct l-diversity; 0 when there are no records
    classes_l1: int  # classes where everyone shares the same value
    records_l1: int  # their records: the value is deduced for each of them
    smallest_entropy_l: float = 0.0  # entropy l-diversity: exp(entropy), smallest over classes
    largest_share: float = 0.0  # the largest share one value takes in a class
    confidence: float = DEFAULT_CONFIDENCE
    classes_dominated: int = 0  # classes where one value reaches `confidence`
    records_dominated: int = 0  # their records: the value is inferred with that confidence

    @property
    def inferable(self) -> bool:
        return self.records_dominated > 0 or self.records_l1 > 0


@dataclass(frozen=True)
class RiskMeasures:
    records: int
    quasi_identifiers: tuple[str, ...]
    threshold: int
    classes: int
    k: int  # size of the smallest class (0 when there are no records)
    small_classes: int  # classes smaller than the threshold
    records_in_small: int
    unique_records: int  # records alone in their class
    size_histogram: tuple[int, ...]  # records per SIZE_BUCKETS entry
    diversity: tuple[Diversity, ...]

    @property
    def share_in_small(self) -> float:
        return self.records_in_small / self.records if self.records else 0.0

    @property
    def share_unique(self) -> float:
        return self.unique_records / self.records if self.records else 0.0

    @property
    def average_risk(self) -> float:
        """Mean prosecutor risk: each record's 1 / class size, averaged = classes / records."""
        return self.classes / self.records if self.records else 0.0

    @property
    def max_risk(self) -> float:
        return 1 / self.k if self.k else 0.0

    @property
    def singles_out(self) -> bool:
        return self.records_in_small > 0

    @property
    def infers(self) -> bool:
        return any(d.inferable for d in self.diversity)


def check_threshold(value: object) -> int:
    """A class-size threshold from the user: a whole number from 2 to MAX_THRESHOLD."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise HdhWizardError("risk.error.threshold", value=str(value)) from None
    if not 2 <= number <= MAX_THRESHOLD:
        raise HdhWizardError("risk.error.threshold", value=str(value))
    return number


def check_columns(
    available: Sequence[str], quasi: Sequence[str], sensitive: Sequence[str], table: str
) -> None:
    """The chosen columns exist, the QI list is not empty, no column is in both lists."""
    missing = [c for c in (*quasi, *sensitive) if c not in available]
    if missing:
        raise HdhWizardError(
            "risk.error.unknown_columns",
            table=table,
            columns=", ".join(missing),
            available=", ".join(available),
        )
    if not quasi:
        raise HdhWizardError("risk.error.no_quasi_identifiers", table=table)
    both = sorted(set(quasi) & set(sensitive))
    if both:
        raise HdhWizardError("risk.error.both_roles", columns=", ".join(both))


def measure_risk(
    frame: pl.LazyFrame,
    quasi: Sequence[str],
    sensitive: Sequence[str] = (),
    threshold: int = DEFAULT_THRESHOLD,
    progress: Progress | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> RiskMeasures:
    """k-anonymity, prosecutor risk and l-diversity of `frame` for these columns.

    One streaming pass per sensitive attribute (one in all without any): memory depends on the
    number of classes (and of their distinct sensitive values), not on the file's size. Raises
    polars errors on unreadable data, and `Cancelled` between passes.
    """
    # Every quasi-identifier dropped: all records form one class.
    keys = [column(frame, c).cast(pl.String).alias(f"__q{i}") for i, c in enumerate(quasi)]
    keys = keys or [pl.lit(0, dtype=pl.UInt8).alias("__q")]
    key_names = [k.meta.output_name() for k in keys]
    attributes: list[str | None] = [*sensitive] or [None]
    summary: pl.DataFrame | None = None
    diversity: list[Diversity] = []
    for attribute in attributes:
        if progress is not None:
            progress.check()
            progress.current = attribute or ""
        if attribute is None:
            classes = frame.group_by(keys).agg(pl.len().alias("n"))
        else:
            value = column(frame, attribute).cast(pl.String).alias("__value")
            # Each class's count of each value, then per class: its size, its number of distinct
            # values, the largest count, and the entropy of the values' shares.
            counts = frame.group_by([*keys, value]).agg(pl.len().alias("c"))
            share = pl.col("c") / pl.col("c").sum()
            classes = counts.group_by(key_names).agg(
                pl.col("c").sum().alias("n"),
                pl.len().alias("l"),
                pl.col("c").max().alias("top"),
                (-(share * share.log()).sum()).exp().alias("entropy_l"),
            )
        stats = _class_stats(threshold) if summary is None else []
        if attribute is not None:
            stats += _diversity_stats(confidence)
        result = classes.filter(pl.col("n") > 0).select(stats).collect(engine="streaming")
        if summary is None:
            summary = result
        if attribute is not None:
            row = result.row(0, named=True)
            diversity.append(
                Diversity(
                    attribute,
                    row["l_min"] or 0,
                    row["l1_classes"],
                    row["l1_records"] or 0,
                    smallest_entropy_l=row["entropy_l_min"] or 0.0,
                    largest_share=row["largest_share"] or 0.0,
                    confidence=confidence,
                    classes_dominated=row["dominated_classes"],
                    records_dominated=row["dominated_records"] or 0,
                )
            )
    assert summary is not None
    row = summary.row(0, named=True)
    return RiskMeasures(
        records=row["records"] or 0,
        quasi_identifiers=tuple(quasi),
        threshold=threshold,
        classes=row["classes"],
        k=row["k"] or 0,
        small_classes=row["small_classes"],
        records_in_small=row["records_in_small"] or 0,
        unique_records=row["unique_records"] or 0,
        size_histogram=tuple(row[f"bucket_{i}"] or 0 for i in range(len(SIZE_BUCKETS))),
        diversity=tuple(diversity),
    )


def _class_stats(threshold: int) -> list[pl.Expr]:
    n = pl.col("n")
    stats = [
        n.sum().alias("records"),
        pl.len().alias("classes"),
        n.min().alias("k"),
        (n < threshold).sum().alias("small_classes"),
        n.filter(n < threshold).sum().alias("records_in_small"),
        n.filter(n == 1).sum().alias("unique_records"),
    ]
    for i, (low, high) in enumerate(SIZE_BUCKETS):
        inside = n >= low if high is None else n.is_between(low, high)
        stats.append(n.filter(inside).sum().alias(f"bucket_{i}"))
    return stats


def _diversity_stats(confidence: float) -> list[pl.Expr]:
    n, l_, top = pl.col("n"), pl.col("l"), pl.col("top")
    # A class of one record is dominated too: its only value has a share of 1.
    dominated = top >= (n * confidence)
    return [
        l_.min().alias("l_min"),
        (l_ == 1).sum().alias("l1_classes"),
        n.filter(l_ == 1).sum().alias("l1_records"),
        pl.col("entropy_l").min().alias("entropy_l_min"),
        (top / n).max().alias("largest_share"),
        dominated.sum().alias("dominated_classes"),
        n.filter(dominated).sum().alias("dominated_records"),
    ]
