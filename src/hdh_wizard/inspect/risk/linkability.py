"""Linkability: what in the published columns eases matching these records with other sources.

A column is named with its reason: it is a persistent identifier (by its name — id_patient, IPP,
NDA, numéro d'inclusion… — or because almost every value is distinct: a patient or stay number,
stable across extracts, is what links a record to the same person elsewhere; a stable pseudonym
in open data is pseudonymisation, not anonymisation), it holds exact dates (a day, matched
against a hospital stay or a registry), or it holds fine geography (postal or commune codes, by
their values; coordinates, by name).

Distinct values are counted exactly (on 64-bit hashes of the values: two values sharing a hash
would lower a count by one, with a probability under n²/2^65 — about 10^-5 for 20 million
distinct values — which cannot move a share across a rule's bound by more than one value).
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
_SEED = 0x4844482D
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
            text.filter(filled).hash(_SEED).n_unique().alias(f"d{i}"),
            text.str.contains(_DAY_DATE).sum().alias(f"t{i}"),
        ]
    row = frame.select(exprs).collect(engine="streaming").row(0)
    facts = []
    for i, name in enumerate(names):
        values, distinct, dates = row[3 * i], row[3 * i + 1], row[3 * i + 2]
        facts.append(ColumnFacts(name, values or 0, min(distinct or 0, values or 0), dates or 0))
    return facts


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
