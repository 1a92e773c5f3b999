"""Singling out and inference, measured on the whole table: equivalence classes and l-diversity.

An equivalence class is the set of records sharing the same values of the quasi-identifiers:
what an attacker who knows those facts about a person can narrow them down to. The records are
never held in memory: each class is keyed by a 64-bit hash of its quasi-identifier values and
only its size is kept, and per sensitive attribute its count of each value (keyed by a hash of
the value too), in one streaming pass per sensitive attribute. Grouping on the values
themselves would hold every class's text: 5.4 GB for a 2 GB file of 16 million near-unique
records, against about 1 GB with hashes.

The hashes' bound, stated and tested (tests/test_risk_measures.py): two different classes share
a key with probability at most n(n−1)/2^65 for n classes — 7·10^-6 for 16 million classes,
10^-5 for 20 million. A collision would merge two classes, and could hide a small one: the
figure is small enough for a verdict to rest on, and it is printed in the report's method.

Empty values are a value like any other: an attacker sees that a field is empty.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

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
# The classes are counted from the hashes' file in partitions of about this many records: the
# memory a partition's grouping takes (with its hash tables, two sensitive attributes and the
# guard) stays well under 1 GiB: the whole `risk` peaks at 585 MiB on a 2 GB file of 16.5 million
# classes, 646 MiB at 8 GB (docs/performance.md); 4 million a partition went over 1 GiB.
PARTITION_ROWS = 2_500_000
SMALLEST_KEPT = 50  # small classes whose keys are kept for the report (it shows the first ones)
# Inference: a class where one sensitive value reaches this share tells it for its records.
DEFAULT_CONFIDENCE = 0.9
_SEED = 0x4844482D  # any fixed seed: hashes are compared within one query only


def collision_bound(classes: int) -> float:
    """The probability that two of `classes` different classes share a 64-bit key."""
    return classes * (classes - 1) / 2.0**65


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
    # Keys (hashes) of up to SMALLEST_KEPT smallest classes under the threshold, smallest first:
    # the report fetches their values (`classes_of_keys`) without grouping the whole table again.
    smallest: tuple[int, ...] = ()

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
    available: Sequence[str],
    quasi: Sequence[str],
    sensitive: Sequence[str],
    table: str,
    *,
    no_quasi_allowed: bool = False,
) -> None:
    """The chosen columns exist, the QI list is not empty (unless the partner declared that the
    table describes no person: `no_quasi_allowed`), no column is in both lists."""
    missing = [c for c in (*quasi, *sensitive) if c not in available]
    if missing:
        raise HdhWizardError(
            "risk.error.unknown_columns",
            table=table,
            columns=", ".join(missing),
            available=", ".join(available),
        )
    if not quasi and not no_quasi_allowed:
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

    ONE streaming pass over the file writes each record's class key and sensitive values as
    64-bit hashes to a temporary file (8 bytes a column a record); the classes are then counted
    from that file, in partitions of at most `PARTITION_ROWS` records' worth of classes (a class
    lies whole in one partition). Memory stays flat whatever the file's size or its number of
    classes. Raises polars errors on unreadable data, and `Cancelled` between partitions.
    """
    return measure_with_guard(frame, quasi, sensitive, threshold, (), progress, confidence).classes


class Measured(NamedTuple):
    classes: RiskMeasures
    guard: RiskMeasures | None  # the guard columns' classes; None without any
    distinct: dict[str, int]  # distinct non-null values of each `distinct` expression


def measure_with_guard(
    frame: pl.LazyFrame,
    quasi: Sequence[str],
    sensitive: Sequence[str],
    threshold: int,
    guard: Sequence[str],
    progress: Progress | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
    distinct: Mapping[str, pl.Expr] | None = None,
) -> Measured:
    """`measure_risk`, and in the same reading of the file the classes of the `guard` columns
    (their records counted as the quasi-identifiers' are, from a second hash per record written
    beside the class key) and the exact distinct values of the `distinct` expressions (as
    `count_distinct` counts them)."""
    key = class_key(frame, quasi)
    values = [
        column(frame, a).cast(pl.String).hash(_SEED).alias(f"__v{i}")
        for i, a in enumerate(sensitive)
    ]
    if guard:
        row = pl.struct([column(frame, c).cast(pl.String) for c in guard]).hash(_SEED)
        values.append(row.alias("__guard"))
    values += _hashed_values(distinct or {})
    if progress is not None:
        progress.check()
    with tempfile.TemporaryDirectory(prefix="hdh-wizard-classes-") as scratch:
        hashes = Path(scratch) / "classes.parquet"
        _sink(frame.select(key.alias("__class"), *values), hashes)
        measured = _measure_hashes(
            hashes, "__class", quasi, sensitive, threshold, progress, confidence
        )
        guarded = (
            _measure_hashes(hashes, "__guard", guard, (), threshold, progress, confidence)
            if guard
            else None
        )
        counted = _count_hashes(hashes, list(distinct or {}))
    return Measured(measured, guarded, counted)


def _sink(hashes: pl.LazyFrame, path: Path) -> None:
    """The hashes to a temporary file, uncompressed (random bits do not compress). Parquet, not
    Arrow IPC: polars maps an IPC file into memory, and reading it for each partition made the
    process's memory grow with the file (1.6 GB for an 8 GB table); Parquet is read in buffers."""
    hashes.sink_parquet(path, compression="uncompressed", statistics=False)


def _measure_hashes(
    hashes: Path,
    key: str,
    quasi: Sequence[str],
    sensitive: Sequence[str],
    threshold: int,
    progress: Progress | None,
    confidence: float,
) -> RiskMeasures:
    """The classes of `key` in the hashes' file, counted in partitions."""
    columns = [pl.col(key).alias("__class"), *(pl.col(f"__v{i}") for i in range(len(sensitive)))]
    summary: list[pl.DataFrame] = []
    smallest: list[pl.DataFrame] = []
    found: list[list[pl.DataFrame]] = [[] for _ in sensitive]
    for rows in _partitions(hashes, columns, progress):
        sizes = rows.group_by("__class").agg(pl.len().alias("n")).collect(engine="streaming")
        summary.append(sizes.select(_class_stats(threshold)))
        # Not a sort: near-unique data has millions of small classes in a partition.
        small = sizes.filter(pl.col("n") < threshold).bottom_k(SMALLEST_KEPT, by=["n", "__class"])
        smallest.append(small)
        for i, attribute in enumerate(sensitive):
            if progress is not None:
                progress.check()
                progress.current = attribute
            found[i].append(_classes_of(rows, f"__v{i}", confidence))
    totals = _combine(pl.concat(summary), _CLASS_TOTALS)
    diversity = [
        _diversity(attribute, _combine(pl.concat(parts), _DIVERSITY_TOTALS), confidence)
        for attribute, parts in zip(sensitive, found, strict=True)
    ]
    return RiskMeasures(
        records=totals["records"] or 0,
        quasi_identifiers=tuple(quasi),
        threshold=threshold,
        classes=totals["classes"] or 0,
        k=totals["k"] or 0,
        small_classes=totals["small_classes"] or 0,
        records_in_small=totals["records_in_small"] or 0,
        unique_records=totals["unique_records"] or 0,
        size_histogram=tuple(totals[f"bucket_{i}"] or 0 for i in range(len(SIZE_BUCKETS))),
        diversity=tuple(diversity),
        smallest=tuple(
            pl.concat(smallest).sort(["n", "__class"]).head(SMALLEST_KEPT)["__class"].to_list()
        ),
    )


def count_distinct(frame: pl.LazyFrame, values: Mapping[str, pl.Expr]) -> dict[str, int]:
    """Distinct non-null values of each expression, exactly (on 64-bit hashes), in ONE reading
    of the file: the hashes are written to a temporary file, then each column's are counted in
    partitions by hash (a value lies whole in one), so memory stays flat however many there are.
    """
    if not values:
        return {}
    with tempfile.TemporaryDirectory(prefix="hdh-wizard-distinct-") as scratch:
        hashes = Path(scratch) / "values.parquet"
        _sink(frame.select(_hashed_values(values)), hashes)
        return _count_hashes(hashes, list(values))


def _hashed_values(values: Mapping[str, pl.Expr]) -> list[pl.Expr]:
    return [
        pl.when(e.is_not_null()).then(e.hash(_SEED)).alias(f"__d{i}")
        for i, e in enumerate(values.values())
    ]


def _count_hashes(hashes: Path, names: Sequence[str]) -> dict[str, int]:
    """The distinct hashes of each `__d<i>` column of the file, counted in partitions (nulls,
    the values left out, are in none)."""
    found: dict[str, int] = {}
    for i, name in enumerate(names):
        counts = [
            rows.select(pl.col("__class").drop_nulls().n_unique()).collect().item()
            for rows in _partitions(hashes, [pl.col(f"__d{i}").alias("__class")], None)
        ]
        found[name] = int(sum(counts))
    return found


def class_key(frame: pl.LazyFrame, quasi: Sequence[str]) -> pl.Expr:
    """A record's class: the 64-bit hash of its quasi-identifiers' values (as text)."""
    if not quasi:  # every quasi-identifier dropped: all records form one class
        return pl.lit(0, dtype=pl.UInt64)
    return pl.struct([column(frame, c).cast(pl.String) for c in quasi]).hash(_SEED)


def classes_of_keys(frame: pl.LazyFrame, quasi: Sequence[str], keys: Sequence[int]) -> pl.DataFrame:
    """The values (columns k0, k1…) and size (n) of the classes with these keys: one streaming
    pass that keeps only their records, so memory holds these classes, never the table's."""
    values = [column(frame, c).cast(pl.String).alias(f"k{i}") for i, c in enumerate(quasi)]
    wanted = pl.Series(list(keys), dtype=pl.UInt64)
    return (
        frame.select(class_key(frame, quasi).alias("__class"), *values)
        .filter(pl.col("__class").is_in(wanted.implode()))
        .group_by([f"k{i}" for i in range(len(quasi))])
        .agg(pl.len().alias("n"))
        .collect(engine="streaming")
    )


def _partitions(
    hashes: Path, columns: Sequence[pl.Expr], progress: Progress | None
) -> Iterator[pl.LazyFrame]:
    """The hashes' rows (these columns, the first named `__class`) in partitions by class, each
    a class's records whole, of about PARTITION_ROWS records: split once into files of their
    own, so that each partition reads only its rows (filtering the whole file for each made the
    count quadratic: 26 readings of 65 million rows at 8 GB)."""
    records = pl.scan_parquet(hashes).select(pl.len()).collect().item()
    partitions = max(1, -(-records // PARTITION_ROWS))
    selected = pl.scan_parquet(hashes).select(columns)
    if partitions == 1:
        if progress is not None:
            progress.check()
        yield selected
        return
    folder = hashes.parent / "partitions"
    shutil.rmtree(folder, ignore_errors=True)
    part = (pl.col("__class") % partitions).alias("__part")
    selected.sink_parquet(
        pl.PartitionBy(folder, key=part, include_key=False),
        compression="uncompressed",
        statistics=False,
    )
    try:
        for number in range(partitions):
            if progress is not None:
                progress.check()
            files = sorted((folder / f"__part={number}").glob("*.parquet"))
            if files:  # no class fell in this partition
                yield pl.scan_parquet(files)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _classes_of(rows: pl.LazyFrame, value: str, confidence: float) -> pl.DataFrame:
    """Each class's count of each value, then per class: its size, its number of distinct
    values, the largest count, and the entropy of the values' shares; then their summary.

    The entropy −Σ (c/n) ln(c/n) is computed as ln n − (Σ c ln c) / n, from two plain sums:
    an expression over each group's own total would be evaluated group by group (slow)."""
    counts = rows.group_by(["__class", value]).agg(pl.len().alias("c"))
    c = pl.col("c").cast(pl.Float64)
    classes = counts.group_by("__class").agg(
        pl.col("c").sum().alias("n"),
        pl.len().alias("l"),
        pl.col("c").max().alias("top"),
        (c * c.log()).sum().alias("c_log_c"),
    )
    n = pl.col("n").cast(pl.Float64)
    entropy = (n.log() - pl.col("c_log_c") / n).exp().alias("entropy_l")
    return (
        classes.with_columns(entropy)
        .select(_diversity_stats(confidence))
        .collect(engine="streaming")
    )


def _combine(parts: pl.DataFrame, how: dict[str, str]) -> dict[str, Any]:
    """The partitions' summaries as one: sums, smallest and largest, column by column."""
    exprs = [getattr(pl.col(name), op)().alias(name) for name, op in how.items()]
    return parts.select(exprs).row(0, named=True)


def _diversity(attribute: str, row: dict[str, Any], confidence: float) -> Diversity:
    return Diversity(
        attribute,
        row["l_min"] or 0,
        row["l1_classes"] or 0,
        row["l1_records"] or 0,
        smallest_entropy_l=row["entropy_l_min"] or 0.0,
        largest_share=row["largest_share"] or 0.0,
        confidence=confidence,
        classes_dominated=row["dominated_classes"] or 0,
        records_dominated=row["dominated_records"] or 0,
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


_CLASS_TOTALS = {
    "records": "sum",
    "classes": "sum",
    "k": "min",
    "small_classes": "sum",
    "records_in_small": "sum",
    "unique_records": "sum",
    **{f"bucket_{i}": "sum" for i in range(len(SIZE_BUCKETS))},
}
_DIVERSITY_TOTALS = {
    "l_min": "min",
    "l1_classes": "sum",
    "l1_records": "sum",
    "entropy_l_min": "min",
    "largest_share": "max",
    "dominated_classes": "sum",
    "dominated_records": "sum",
}


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
