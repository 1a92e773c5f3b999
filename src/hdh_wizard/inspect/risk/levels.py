"""The built-in hierarchies of the automatic search, made of the wizard's own rules.

Each level of a built-in hierarchy is one `generalise.Coarsening` (ages in bands of 5, 10 then
20 years, dates to the month, the quarter then the year, codes to the département then the
région, and at the top the column removed), and its labels are computed by `generalise`
itself on the column's distinct values. So every solution the search finds is a list of
`--rule` options that gives, replayed, exactly the classes the search measured, and the wizard
can write the copy. The kind of a column is decided
from its name and its values, with `hierarchies.read_date` and `hierarchies.departement_of`.

A hierarchy given as an ARX CSV file (`--hierarchy col=file.csv`) replaces the built-in one; its
levels have no rule of the wizard, so such a solution is applied with ARX or the partner's tool.

`applied_loss` gives ARX's Loss of the rules actually applied, with the same hierarchies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import polars as pl

from hdh_wizard.inspect.risk.generalise import Coarsening, ColumnRule, generalise
from hdh_wizard.inspect.risk.hierarchies import (
    SUPPRESSED,
    Hierarchy,
    departement_of,
    read_date,
)
from hdh_wizard.inspect.risk.search import aggregate_loss, normalise_loss
from hdh_wizard.inspect.risk.tables import column

_SAMPLE = 2_000  # distinct values read to decide a column's kind
_READABLE = 0.5  # share of the non-empty sampled values a kind must read
_AGE_NAME = re.compile(r"(^|[^a-z])(age|âge)([^a-z]|$)", re.IGNORECASE)


class Kind(StrEnum):
    AGE = "age"
    DATE = "date"
    GEOGRAPHY = "geography"
    CATEGORICAL = "categorical"


# The rule of each level above the values (level 0); the top level removes the column.
CHAINS: dict[Kind, tuple[Coarsening, ...]] = {
    Kind.AGE: (Coarsening.AGE_5, Coarsening.AGE_10, Coarsening.AGE_20, Coarsening.DROP),
    Kind.DATE: (Coarsening.MONTH, Coarsening.QUARTER, Coarsening.YEAR, Coarsening.DROP),
    Kind.GEOGRAPHY: (Coarsening.DEPARTEMENT, Coarsening.REGION, Coarsening.DROP),
    Kind.CATEGORICAL: (Coarsening.DROP,),
}
# Names that say a column of département codes is geography (a département code alone looks
# like any two-digit number).
_PLACE_NAME = re.compile(
    r"(^|[^a-z])(dep|dept|departement|département|region|région|commune|insee|cp|postal)"
    r"([^a-z]|$)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Levels:
    """A quasi-identifier's hierarchy, and the rule of each of its levels (None: the values as
    they are; an empty tuple of rules: a hierarchy from a file, with no rule of the wizard)."""

    column: str
    hierarchy: Hierarchy
    kind: Kind | None  # None: from a file
    rules: tuple[Coarsening | None, ...]
    source: str = ""  # the file of a hierarchy read from one

    def rule(self, level: int) -> ColumnRule | None:
        """The `--rule` that gives this level; None at level 0. Raises KeyError for a file's."""
        if self.kind is None:
            raise KeyError(level)
        coarsening = self.rules[level]
        return None if coarsening is None else ColumnRule(self.column, coarsening)


def column_kind(name: str, values: Sequence[str]) -> Kind:
    """What a column holds, from its name and a sample of its distinct values."""
    sample = [v for v in values[:_SAMPLE] if v.strip()]
    if not sample:
        return Kind.CATEGORICAL

    def share(read: int) -> float:
        return read / len(sample)

    if share(sum(read_date(v) is not None for v in sample)) >= _READABLE:
        return Kind.DATE
    if _AGE_NAME.search(name) and share(sum(_is_age(v) for v in sample)) >= _READABLE:
        return Kind.AGE
    codes = [v for v in sample if departement_of(v) is not None]
    place = _PLACE_NAME.search(name) or any(departement_of(v) != v.strip() for v in codes)
    if share(len(codes)) >= _READABLE and place:
        return Kind.GEOGRAPHY  # commune or postal codes, or département codes named as such
    return Kind.CATEGORICAL


def _is_age(text: str) -> bool:
    try:
        number = float(text.strip().replace(",", "."))
    except ValueError:
        return False
    return 0 <= number < 150


def builtin_levels(name: str, values: Sequence[str], kind: Kind | None = None) -> Levels:
    """The hierarchy of a column from its distinct values, each level made by its rule."""
    distinct = sorted(set(values))
    kind = kind or column_kind(name, distinct)
    chain = CHAINS[kind]
    frame = pl.DataFrame({name: distinct}, schema={name: pl.String}).lazy()
    levels: list[tuple[str, ...]] = [tuple(distinct)]
    rules: list[Coarsening | None] = [None]
    for coarsening in chain:
        if coarsening is Coarsening.DROP:
            labels = (SUPPRESSED,) * len(distinct)
        else:
            out = generalise(frame, [ColumnRule(name, coarsening)]).collect()
            labels = tuple(v if v is not None else "" for v in out.get_column(name).to_list())
        if labels == levels[-1]:
            continue  # the rule changes nothing here (départements already): no level
        if not _one_parent(levels[-1], labels):
            continue  # an unread value equal to another's label: this level is left out
        levels.append(labels)
        rules.append(coarsening)
    return Levels(name, Hierarchy(name, tuple(levels)), kind, tuple(rules))


def file_levels(name: str, hierarchy: Hierarchy, source: str) -> Levels:
    return Levels(name, hierarchy, None, (), source)


def _one_parent(lower: Sequence[str], upper: Sequence[str]) -> bool:
    parent: dict[str, str] = {}
    return all(parent.setdefault(a, b) == b for a, b in zip(lower, upper, strict=True))


def applied_loss(
    frame: pl.LazyFrame, quasi: Sequence[str], rules: Sequence[ColumnRule]
) -> float | None:
    """ARX's Loss of the rules applied to the quasi-identifiers, with the built-in hierarchies
    (no record is suppressed by a rule). None when a quasi-identifier's rule is not a level of
    its built-in hierarchy (a rare-value rule): ARX's Loss needs a hierarchy."""
    by_column: Mapping[str, ColumnRule] = {r.column: r for r in rules}
    per_column: list[float] = []
    for name in quasi:
        if name not in by_column:
            # Level 0 is the values themselves (`Hierarchy.levels[0]`): each covers only itself,
            # a Loss of 0 (`normalise_loss`'s low end) known without reading the column.
            per_column.append(0.0)
            continue
        counts = (
            frame.group_by(column(frame, name).cast(pl.String).fill_null("").alias("v"))
            .agg(pl.len().alias("n"))
            .collect(engine="streaming")
        )
        values = counts.get_column("v").to_list()
        if not values:  # no records: nothing is lost
            per_column.append(0.0)
            continue
        levels = builtin_levels(name, values)
        rule = by_column.get(name)
        level = 0 if rule is None else _level_of(levels, rule)
        if level is None:
            return None
        labels = levels.hierarchy.levels[level]
        index = {v: i for i, v in enumerate(levels.hierarchy.values)}
        cover: dict[str, int] = {}
        for label in labels:
            cover[label] = cover.get(label, 0) + 1
        domain = len(levels.hierarchy.values)
        records = 0
        total = 0.0
        for value, n in zip(values, counts.get_column("n").to_list(), strict=True):
            records += n
            total += n * cover[labels[index[value]]] / domain
        per_column.append(normalise_loss(total, records, domain))
    return aggregate_loss(per_column)


def _level_of(levels: Levels, rule: ColumnRule) -> int | None:
    if rule.coarsening in levels.rules:
        return levels.rules.index(rule.coarsening)
    return None
