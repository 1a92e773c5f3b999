"""Linkability: what in the published columns eases matching these records with other sources.

A column is named with its reason: it behaves as a persistent identifier (almost every value
distinct: a patient or stay number, stable across extracts), it holds exact dates (a day, matched
against a hospital stay or a registry), or it holds fine geography (postal or commune codes, by
their values; coordinates, by name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import polars as pl

from hdh_wizard.inspect.risk.identifiers import Finding, IdRule, fold

NEAR_UNIQUE = 0.9  # share of distinct values above which a column acts as an identifier
MIN_VALUES = 20  # below, every column of a tiny table would look unique
EXACT_DATES = 0.9  # share of day-precision dates for a date column to count as exact
_DAY_DATE = r"^\s*(\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}|\d{4}/\d{2}/\d{2}|\d{2}-\d{2}-\d{4})"
_FINE_GEOGRAPHY_WORDS = ("latitude", "longitude", "lat", "lon", "lng", "geoloc", "coordonnees")


class LinkReason(StrEnum):
    PERSISTENT_ID = "persistent_id"
    EXACT_DATE = "exact_date"
    FINE_GEOGRAPHY = "fine_geography"


@dataclass(frozen=True)
class ColumnFacts:
    name: str
    values: int  # non-empty values
    distinct: int  # approximate beyond a few thousand (HyperLogLog)
    day_dates: int  # values that are dates to the day

    @property
    def distinct_share(self) -> float:
        return self.distinct / self.values if self.values else 0.0


@dataclass(frozen=True)
class Link:
    column: str
    reason: LinkReason
    share: float  # distinct share for identifiers, date share for dates, 1.0 otherwise


def column_facts(frame: pl.LazyFrame, columns: Sequence[str] | None = None) -> list[ColumnFacts]:
    """One streaming pass: non-empty values, distinct values, day-precision dates per column."""
    all_names = frame.collect_schema().names()
    names = list(columns) if columns is not None else all_names
    if not names:
        return []
    exprs: list[pl.Expr] = []
    for i, name in enumerate(names):
        text = pl.nth(all_names.index(name)).cast(pl.String)
        filled = text.is_not_null() & (text.str.strip_chars() != "")
        exprs += [
            filled.sum().alias(f"v{i}"),
            text.approx_n_unique().alias(f"d{i}"),
            text.str.contains(_DAY_DATE).sum().alias(f"t{i}"),
        ]
    row = frame.select(exprs).collect(engine="streaming").row(0)
    facts = []
    for i, name in enumerate(names):
        values, distinct, dates = row[3 * i], row[3 * i + 1], row[3 * i + 2]
        # approx_n_unique counts the null value too.
        facts.append(ColumnFacts(name, values or 0, min(distinct or 0, values or 0), dates or 0))
    return facts


def find_links(facts: Sequence[ColumnFacts], findings: Sequence[Finding]) -> list[Link]:
    geography = {f.column for f in findings if f.rule in (IdRule.POSTAL_CODE, IdRule.COMMUNE_CODE)}
    links: list[Link] = []
    for fact in facts:
        if fact.values >= MIN_VALUES and fact.distinct_share >= NEAR_UNIQUE:
            links.append(Link(fact.name, LinkReason.PERSISTENT_ID, fact.distinct_share))
        if fact.values and fact.day_dates / fact.values >= EXACT_DATES:
            links.append(Link(fact.name, LinkReason.EXACT_DATE, fact.day_dates / fact.values))
        if fact.name in geography or _fine_geography_name(fact.name):
            links.append(Link(fact.name, LinkReason.FINE_GEOGRAPHY, 1.0))
    return links


def _fine_geography_name(name: str) -> bool:
    """GPS coordinates, named as such (their values are plain decimals)."""
    return any(word in _FINE_GEOGRAPHY_WORDS for word in fold(name).split())
