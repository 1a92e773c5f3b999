"""Linkability: what in the published columns eases matching these records with other sources.

A column is named with its reason: it is a persistent identifier (by its name — id_patient, IPP,
NDA, numéro d'inclusion… — or because almost every value is distinct: a patient or stay number,
stable across extracts, is what links a record to the same person elsewhere; a stable pseudonym
in open data is pseudonymisation, not anonymisation), it holds exact dates (a day, matched
against a hospital stay or a registry), or it holds fine geography (postal or commune codes, by
their values; coordinates, by name).

The facts are computed in the identifier scan's own pass (`content_and_facts`), over the same
prepared values ("values" are non-blank and not a missing-value marker such as NA). Distinct
values are first estimated there (polars' `approx_n_unique`: its streaming estimate was seen 5 to
15 % off, so it only sorts columns out); every column whose estimate reaches `CANDIDATE_SHARE` —
half the near-unique bound — is then counted exactly (`measures.count_distinct`, or within the
measure's own reading: `measures.measure_with_guard`; partitioned, flat memory whatever the
number of values), and only exact counts decide a link. An exact distinct count in the scan's
own pass would hold every value's hash in memory (4 GB for a 2 GB file). Hashes are 64-bit: two
values sharing one would lower a count by one, with a probability under n²/2^65 (about 10^-5 for
20 million distinct values). A column far below the bound keeps its estimate: it is shown only
when its name makes it a persistent identifier (its share then says how many codes it holds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import polars as pl

from hdh_wizard.inspect.risk.identifiers import (
    DATE_SHAPE,
    NUMBER_SHAPE,
    WORD_SHAPE,
    Finding,
    IdRule,
    fold,
    present,
    scan_columns,
)
from hdh_wizard.inspect.risk.measures import count_distinct
from hdh_wizard.inspect.risk.tables import column

NEAR_UNIQUE = 0.9  # share of distinct values above which a column acts as an identifier
MIN_VALUES = 20  # below, every column of a tiny table would look unique
EXACT_DATES = 0.9  # share of day-precision dates for a date column to count as exact
CANDIDATE_SHARE = 0.45  # estimated distinct share from which a column is counted exactly
_STAGED = "__hdh_wizard_distinct_"  # columns added to count distinct values (never a file's)
# Dates to the day in every form the identifier rules read: ISO, day first with a 4- or 2-digit
# year (JJ/MM/AAAA, JJ/MM/AA, JJ-MM-AAAA, JJ.MM.AAAA), AAAA/MM/JJ and compact AAAAMMJJ.
_DAY_DATE = (
    r"^\s*(?:\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}"
    r"|\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})(?:$|[\sT])"
    r"|(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s*$)"
)
# Column names of persistent identifiers: a word that is an identifier on its own, or a number
# word beside what it numbers.
_ID_WORDS = frozenset(
    {"id", "ids", "identifiant", "identifier", "ipp", "nda", "nip", "uuid", "guid", "pseudonyme"}
)
_NUMBER_WORDS = frozenset({"num", "numero", "no", "n", "code", "cle", "key", "number"})
_NUMBERED_WORDS = frozenset(
    {
        "patient",
        "patiente",
        "dossier",
        "inclusion",
        "sejour",
        "sujet",
        "subject",
        "individu",
        "personne",
        "participant",
        "admission",
        "venue",
        "lame",
        "prelevement",
        "echantillon",
        "sample",
    }
)
_FINE_GEOGRAPHY_WORDS = ("latitude", "longitude", "lat", "lon", "lng", "geoloc", "coordonnees")


class LinkReason(StrEnum):
    PERSISTENT_ID = "persistent_id"
    EXACT_DATE = "exact_date"
    FINE_GEOGRAPHY = "fine_geography"


def persistent_identifier_name(name: str) -> bool:
    """Whether a column's name says it holds a persistent identifier (id_patient, IPP, NDA,
    num_dossier, numero_inclusion, identifiant…)."""
    tokens = set(fold(name).split())
    return bool(tokens & _ID_WORDS) or bool(tokens & _NUMBER_WORDS and tokens & _NUMBERED_WORDS)


@dataclass(frozen=True)
class ColumnFacts:
    name: str
    values: int  # non-empty values
    distinct: int  # exact (see the module's note on hashes)
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
    """Non-empty values, distinct values and day-precision dates per column: one streaming pass,
    and one more over the columns that could be near-unique, counted exactly."""
    return content_and_facts(frame, columns)[1]


def content_and_facts(
    frame: pl.LazyFrame, columns: Sequence[str] | None = None, *, exact: bool = True
) -> tuple[list[Finding], list[ColumnFacts]]:
    """What identifies in the columns (`find_identifiers`) and their facts, read in one pass.

    With `exact=False`, the distinct values of the `candidates` are left estimated: the caller
    counts them in a reading it makes anyway (`distinct_values`, then `with_exact`)."""
    findings, counts = scan_columns(frame, columns, _fact_aggregates)
    names = frame.collect_schema().names() if columns is None else list(columns)
    facts = [_facts(name, counts.get(name, {})) for name in names]
    if exact:
        facts = with_exact(facts, count_distinct(*distinct_values(frame, candidates(facts))))
    return findings, facts


def candidates(facts: Sequence[ColumnFacts]) -> list[str]:
    """The columns whose estimate could reach the near-unique bound: to be counted exactly."""
    return [f.name for f in facts if f.values >= MIN_VALUES and f.distinct_share >= CANDIDATE_SHARE]


def distinct_values(
    frame: pl.LazyFrame, names: Sequence[str]
) -> tuple[pl.LazyFrame, dict[str, pl.Expr]]:
    """The frame with these columns' values as the facts count them (trimmed; blanks and
    missing-value markers null), added after its own columns, and their expressions by name:
    for `measures.count_distinct` or `measure_with_guard`."""
    # Trimmed in a stage of its own: in one expression, polars would trim each value thrice.
    staged = frame.with_columns(
        column(frame, name).cast(pl.String).str.strip_chars().alias(f"{_STAGED}{i}")
        for i, name in enumerate(names)
    )
    return staged, {name: present(pl.col(f"{_STAGED}{i}")) for i, name in enumerate(names)}


def with_exact(facts: Sequence[ColumnFacts], distinct: Mapping[str, int]) -> list[ColumnFacts]:
    return [
        replace(f, distinct=min(distinct[f.name], f.values)) if f.name in distinct else f
        for f in facts
    ]


def _fact_aggregates(value: pl.Expr, shape: str | None) -> dict[str, pl.Expr]:
    if shape == DATE_SHAPE:  # each value is a date to the day (a test checks the shapes)
        day_dates = value.count()
    elif shape in (NUMBER_SHAPE, WORD_SHAPE):  # none is
        day_dates = pl.lit(0, pl.UInt32)
    else:
        day_dates = value.str.contains(_DAY_DATE).sum()
    return {
        "estimate": value.approx_n_unique(),  # null counts as one value
        "day_dates": day_dates,
    }


def _facts(name: str, counts: dict[str, Any]) -> ColumnFacts:
    """The facts with the distinct values estimated (`with_exact` replaces the candidates')."""
    values = int(counts.get("values") or 0)
    distinct = int(counts.get("estimate") or 0) - (1 if counts.get("nulls") else 0)
    day_dates = int(counts.get("day_dates") or 0)
    return ColumnFacts(name, values, max(0, min(distinct, values)), day_dates)


def find_links(facts: Sequence[ColumnFacts], findings: Sequence[Finding]) -> list[Link]:
    geography = {f.column for f in findings if f.rule in (IdRule.POSTAL_CODE, IdRule.COMMUNE_CODE)}
    links: list[Link] = []
    for fact in facts:
        named = persistent_identifier_name(fact.name) and fact.values > 0
        if named or (fact.values >= MIN_VALUES and fact.distinct_share >= NEAR_UNIQUE):
            links.append(Link(fact.name, LinkReason.PERSISTENT_ID, fact.distinct_share))
        if fact.values and fact.day_dates / fact.values >= EXACT_DATES:
            links.append(Link(fact.name, LinkReason.EXACT_DATE, fact.day_dates / fact.values))
        if fact.name in geography or _fine_geography_name(fact.name):
            links.append(Link(fact.name, LinkReason.FINE_GEOGRAPHY, 1.0))
    return links


def _fine_geography_name(name: str) -> bool:
    """GPS coordinates, named as such (their values are plain decimals)."""
    return any(word in _FINE_GEOGRAPHY_WORDS for word in fold(name).split())
