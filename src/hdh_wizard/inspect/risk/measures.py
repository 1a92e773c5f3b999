"""Singling out and inference, measured on the whole table: equivalence classes and l-diversity.

An equivalence class is the set of records sharing the same values of the quasi-identifiers:
what an attacker who knows those facts about a person can narrow them down to. The records are
never held in memory: each class is keyed by a 64-bit hash of its quasi-identifier values and
only its size (and, per sensitive attribute, how many distinct values it holds) is kept, in one
streaming pass per sensitive attribute. Two different classes sharing a hash is possible in
principle (about one chance in 10^7 for 20 million classes) and would only merge them.

Empty values are a value like any other: an attacker sees that a field is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.risk.tables import column

DEFAULT_THRESHOLD = 5
STRICT_THRESHOLD = 11  # the stricter convention of some health authorities
MAX_THRESHOLD = 1_000
_SEED = 0x4844482D  # any fixed seed: hashes are compared within one query only
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
    """Distinct l-diversity of one sensitive attribute within the classes."""

    column: str
    smallest_l: int  # 0 when there are no records
    classes_l1: int  # classes where everyone shares the same value
    records_l1: int  # their records: the value is deduced for each of them


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
        return any(d.records_l1 for d in self.diversity)


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
) -> RiskMeasures:
    """k-anonymity, prosecutor risk and l-diversity of `frame` for these columns.

    One streaming pass per sensitive attribute (one in all without any): memory depends on the
    number of classes, not on the file's size. Raises polars errors on unreadable data, and
    `Cancelled` between passes (a pass itself cannot be interrupted).
    """
    if quasi:
        key = pl.struct([column(frame, c).cast(pl.String) for c in quasi]).hash(_SEED)
        key = key.alias("__class")
    else:  # every quasi-identifier dropped: all records form one class
        key = pl.lit(0, dtype=pl.UInt64).alias("__class")
    attributes: list[str | None] = [*sensitive] or [None]
    summary: pl.DataFrame | None = None
    diversity: list[Diversity] = []
    for attribute in attributes:
        if progress is not None:
            progress.check()
            progress.current = attribute or ""
        aggregates = [pl.len().alias("n")]
        if attribute is not None:
            # Distinct hashes rather than distinct strings: 8 bytes per value kept per class.
            value = column(frame, attribute).cast(pl.String).hash(_SEED)
            aggregates.append(value.n_unique().alias("l"))
        classes = frame.group_by(key).agg(aggregates)
        stats = _class_stats(threshold) if summary is None else []
        if attribute is not None:
            stats += _diversity_stats()
        result = classes.filter(pl.col("n") > 0).select(stats).collect(engine="streaming")
        if summary is None:
            summary = result
        if attribute is not None:
            row = result.row(0, named=True)
            diversity.append(
                Diversity(attribute, row["l_min"] or 0, row["l1_classes"], row["l1_records"] or 0)
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


def _diversity_stats() -> list[pl.Expr]:
    n, l_ = pl.col("n"), pl.col("l")
    return [
        l_.min().alias("l_min"),
        (l_ == 1).sum().alias("l1_classes"),
        n.filter(l_ == 1).sum().alias("l1_records"),
    ]
