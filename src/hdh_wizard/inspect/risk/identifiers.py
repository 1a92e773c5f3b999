"""Identifying columns of a health table, by name and by content over the whole file.

Names are compared once folded (`fold`): lower case, no accents, camelCase and letter/digit
boundaries split, every run of other characters one space. A rule matches whole tokens in
sequence, so "nom" finds "Nom_Patient" but not "nombre_sejours", "tel" finds "tel_domicile" but
not "hotel". Generic words (nom, name, adresse, téléphone, e-mail) do not count when the name
says they belong to a place or a thing ("nom_etablissement", "drug_name").

Content rules run as one lazy polars query per batch of at most 2 000 expressions, collected
with the streaming engine: the file is read in chunks, memory stays flat whatever its size.
Then one small query per finding fetches a few matching values, masked before they leave here.
A column whose first values all have a plain shape (small numbers, short words, dates, digits)
skips the rules that cannot match it, and is read again with every rule if a later value does
not have that shape; the NIR's key is checked only where NIR-shaped values were found.
Other dtypes than text are cast to text: integers for NIRs and codes, dates for birth dates.

When a content rule fires (`matches` and `values` count values over the whole file; "values" are
non-null, non-blank and not a usual missing-value marker such as NA or NULL):

- NIR, phone, e-mail, IPv4: one matching value is enough, since one leaked number is one person.
  NIR and IPv4 must be the whole value; a phone number is the whole value (separators allowed
  only between the pairs of digits) or sits inside text with one separator throughout and no
  digit, letter, dash, slash or decimal point around it (so that dates, postal codes and longer
  ids are not phones); an e-mail address counts wherever it sits in the value. One 15-digit
  number in 97 has a valid NIR key by chance, so valid NIRs must also be half of the values
  shaped like a NIR: a column of other long numbers is not reported for its chance matches.
- Birth date: only in a column whose name speaks of birth (naissance, ddn, dob, birth…), from one
  day-precision date. Any event date is a plausible birth date, so a content-only rule would flag
  every admission date; event dates are quasi-identifiers, proposed as such by `propose_role`.
- Postal and commune codes: ordinary 5-digit numbers otherwise, so a share is required: 90 % of
  the values when the name hints a place, 99 % without a hint and then only if some value has a
  leading zero or a Corsican 2A/2B (plain numbers have neither). The two overlap: a 2A/2B value
  makes it commune codes (postal codes have no letters), then the name decides (commune, insee,
  cog… against code postal, cp, zip…), postal codes by default.
- Free text: text whose values are on average longer than 25 characters, half of them long
  (25 characters or more) with words separated by spaces, and mostly (half or more) distinct.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import polars as pl

from hdh_wizard.inspect.risk.masking import mask
from hdh_wizard.inspect.risk.measures import count_distinct
from hdh_wizard.inspect.risk.nir import SPACED_SHAPE as NIR_SPACED_SHAPE
from hdh_wizard.inspect.risk.nir import nir_compact_expr, nir_valid_expr


class Role(StrEnum):
    DIRECT = "direct"  # identifies a person directly: must be removed before opening
    QUASI = "quasi"  # quasi-identifier: combined with others, may single out
    SENSITIVE = "sensitive"  # what must not be inferable (diagnosis, stage, outcome…)
    OTHER = "other"


class IdRule(StrEnum):
    NAME = "name"  # the column name says it is a direct identifier
    NIR = "nir"  # NIRs with a valid key
    PHONE = "phone"  # French phone numbers
    EMAIL = "email"
    IPV4 = "ipv4"
    BIRTH_DATE = "birth_date"  # day-precision dates in a column named for birth
    POSTAL_CODE = "postal_code"  # 5-digit French postal codes
    COMMUNE_CODE = "commune_code"  # INSEE commune codes (2A/2B for Corsica)
    FREE_TEXT = "free_text"  # long varied text: names may hide in it


@dataclass(frozen=True)
class Finding:
    column: str
    rule: IdRule
    matches: int  # values matching the rule over the whole file (for NAME: all values)
    values: int  # non-null, non-blank values of the column
    examples: tuple[str, ...]  # up to 3 matching values, masked


# --- thresholds ---------------------------------------------------------------------------------

MIN_MATCHES = 1  # NIR, phone, e-mail, IPv4, birth date: one value is one person
NIR_KEY_SHARE = 0.5  # valid keys among NIR-shaped values (chance gives 1 in 97)
GEO_SHARE_HINTED = 0.90  # postal/commune codes in a column whose name hints a place
GEO_SHARE_UNHINTED = 0.99  # without a hint (and a leading zero or 2A/2B somewhere)
FREE_TEXT_CHARS = 25  # mean length above which text is "long", and length of a long value
FREE_TEXT_SHARE = 0.5  # share of values that are long with spaces
FREE_TEXT_DISTINCT = 0.5  # distinct values / values (counted exactly when the estimate is close)
# polars' streaming estimate of distinct values was measured 5 to 15 % off: between these shares
# of FREE_TEXT_DISTINCT, the estimate could fall either side of it and the values are counted.
ESTIMATE_DOUBT = (0.7, 1.5)
EXAMPLES = 3
EXAMPLE_ROWS = 50  # matching rows read for examples: the first 3 distinct shapes among them
EXPRESSIONS_PER_PASS = 2_000  # polars plans a query of tens of thousands of expressions slowly
MISSING = ("NA", "na", "N/A", "n/a", "NULL", "null", "NaN", "nan", "None", ".", "-", "?")

# --- content patterns (Rust regex, as polars runs them; [0-9] rather than \d, which is Unicode) --

_SEP = r"[ \u00a0\u202f.\-]"
# 0X XX XX XX XX, +33 X XX XX XX XX, +33 (0)X…, 0033 X…: separators only between the pairs, so
# that a decimal such as 0.612345678 is not a phone number.
PHONE = rf"^(?:0|(?:\+|00)33{_SEP}?(?:\(0\){_SEP}?)?)[1-9](?:{_SEP}?[0-9]{{2}}){{4}}$"
# Inside text ("rappeler au 06 12 34 56 78 demain"): one separator throughout (a date and a time,
# "01.02.2020 12:30", mixes them), and nothing that continues a number on either side: no digit,
# letter, dash, slash or decimal point, so a longer id, a reference or a decimal is not a phone.
_PHONE_IN_TEXT = "|".join(
    rf"(?:0|(?:\+|00)33{sep}(?:\(0\){sep})?)[1-9](?:{sep}[0-9]{{2}}){{4}}"
    for sep in ("", " ", r"\.", "-", "\u00a0", "\u202f")
)
PHONE_IN_TEXT = (
    rf"(?:^,?|[^0-9A-Za-z+\-./_,]|[^0-9],)(?:{_PHONE_IN_TEXT})"
    r"(?:$|[^0-9A-Za-z\-/_.,]|[.,](?:$|[^0-9]))"
)
EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IPV4 = rf"^(?:{_OCTET}\.){{3}}{_OCTET}$"
_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:1[89]|20)[0-9]{2}"
FULL_DATE = (
    rf"^{_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])(?:$|[T ])"  # ISO, time allowed
    rf"|^{_DAY}[/.\-]{_MONTH}[/.\-](?:{_YEAR}|[0-9]{{2}})(?:$|[T ])"  # day first
    rf"|^{_MONTH}/{_DAY}/{_YEAR}(?:$| )"  # month first
    r"|^(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])$"  # compact AAAAMMJJ
)
POSTAL = r"^(?:0[1-9]|[1-8][0-9]|9[0-7])[0-9]{3}$|^98[0-8][0-9]{2}$"  # 01000-98899
COMMUNE = (
    r"^(?:0[1-9]|1[0-9]|2[1-9ABab]|[3-8][0-9]|9[0-5])[0-9]{3}$"  # metropolitan départements
    r"|^97[1-8][0-9]{2}$|^98[4-9][0-9]{2}$"  # overseas
)
CORSICA = r"^2[ABab][0-9]{3}$"
LEADING_ZERO = r"^0[0-9]{4}$"
SPACED = r"\S\s+\S"

# Plain shapes in which no content rule can match (a test checks it for each shape and rule): a
# number of at most 9 digits (phones and NIRs have more, codes are exactly 5 digits), a short
# word, a date. A column whose first values all have one of them is scanned with one regex, the
# shape's, instead of a dozen; a single later value of another shape sends the column to a second
# reading with every rule (`_recount_off_shape`), so nothing is missed.
NUMBER_SHAPE = r"^[+-]?[0-9]{1,4}$|^[+-]?[0-9]{1,7}[.,][0-9]{1,2}$"
WORD_SHAPE = r"^[A-Za-z]{1,8}$"
DATE_SHAPE = r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$|^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
PLAIN_SHAPES = (NUMBER_SHAPE, WORD_SHAPE, DATE_SHAPE)
# Digits only, of any length: phones, NIRs and codes can be such, the text rules cannot (a phone
# inside text is then the whole value, as PHONE reads it). For a column of distinct numbers (an
# id that grows past 4 digits further on) rather than NUMBER_SHAPE, which would need a recount.
DIGITS_SHAPE = r"^[0-9]+$"
DIGITS_RULES = ("nir_shape", IdRule.POSTAL_CODE, IdRule.COMMUNE_CODE, "leading_zero")
SHAPE_SAMPLE_ROWS = 1_000
DISTINCT_SAMPLE = 0.5  # share of distinct first values above which digits are taken for an id


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- names --------------------------------------------------------------------------------------

# Words that make a generic rule (nom, name, adresse…) about a place or a thing, not a person.
NOT_A_PERSON = _words(
    "etablissement etab hopital service structure unite pole site centre labo laboratoire "
    "commune ville departement region pays voie molecule medicament produit specialite "
    "variable fichier protocole essai examen acte test hospital facility ward unit department "
    "center lab laboratory city country state drug product file trial study exam"
)

# (label, guarded by NOT_A_PERSON, token sequences); the first matching entry names the rule.
_DIRECT_NAMES: tuple[tuple[str, bool, tuple[str, ...]], ...] = (
    (
        "date_naissance",
        False,
        (
            "date de naissance",
            "date naissance",
            "date nais",
            "date de nais",
            "datenaissance",
            "datenais",
            "ddn",
            "dob",
            "birth date",
            "birthdate",
            "birthday",
            "date of birth",
            "dateofbirth",
        ),
    ),
    ("ip", False, ("adresse ip", "adresseip", "ip address", "ipaddress", "ip", "ipv 4", "ipv 6")),
    (
        "nir",
        False,
        (
            "nir",
            "nirpp",
            "secu",
            "numsecu",
            "securite sociale",
            "social security",
            "ssn",
            "nss",
        ),
    ),
    ("matricule", False, ("matricule",)),
    ("ins", False, ("ins", "identifiant national de sante", "identifiant national sante")),
    ("ipp", False, ("ipp",)),
    ("nip", False, ("nip",)),
    (
        "dossier",
        False,
        (
            "num dossier",
            "numero dossier",
            "numero de dossier",
            "num de dossier",
            "n dossier",
            "no dossier",
            "nr dossier",
            "id dossier",
            "numdossier",
            "nda",
        ),
    ),
    ("mrn", False, ("mrn", "medical record", "record number")),
    ("prenom", False, ("prenom", "prenoms", "prenompatient")),
    (
        "nom",
        True,
        ("nom", "noms", "nompatient", "nomusage", "nomnaissance", "nomfamille", "nommarital"),
    ),
    (
        "name",
        True,
        (
            "name",
            "names",
            "firstname",
            "lastname",
            "surname",
            "givenname",
            "fullname",
            "forename",
            "maidenname",
            "middlename",
        ),
    ),
    ("adresse", True, ("adresse", "adresses", "address", "addresses", "rue", "street")),
    (
        "telephone",
        True,
        (
            "telephone",
            "tel",
            "phone",
            "phones",
            "phonenumber",
            "mobile",
            "portable",
            "cellphone",
            "gsm",
            "fax",
        ),
    ),
    ("email", True, ("email", "emails", "e mail", "mail", "courriel")),
)

BIRTH_HINTS = (
    "naissance",
    "nais",
    "datenaissance",
    "datenais",
    "ddn",
    "dob",
    "birth",
    "birthdate",
    "birthday",
    "dateofbirth",
)
POSTAL_HINTS = ("code postal", "codepostal", "postal", "cp", "zip", "zipcode", "postcode")
COMMUNE_HINTS = ("commune", "insee", "cog", "code geo", "codegeo", "code geographique", "depcom")
PLACE_HINTS = ("ville", "city", "town", "residence", "domicile", "localite", "lieu")
FREE_TEXT_HINTS = (
    "commentaire",
    "commentaires",
    "comment",
    "comments",
    "remarque",
    "remarques",
    "observation",
    "observations",
    "note",
    "notes",
    "texte",
    "text",
    "texte libre",
    "free text",
    "precision",
    "precisions",
    "description",
)

_TIME_HINTS = ("age", "annee", "year", "mois", "month", "duree", "delai", "dms", "los")
_QUASI_HINTS = (
    "sexe",
    "sex",
    "genre",
    "gender",
    "departement",
    "dept",
    "dep",
    "region",
    "ville",
    "city",
    "residence",
    "code geographique",
    "etablissement",
    "etab",
    "finess",
    "hopital",
    "hospital",
    "profession",
    "occupation",
    "csp",
    "pcs",
    *POSTAL_HINTS,
    *COMMUNE_HINTS,
)
_SENSITIVE_HINTS = (
    "diagnostic",
    "diagnostics",
    "diag",
    "diagnosis",
    "cim",
    "icd",
    "pathologie",
    "pathology",
    "stade",
    "stage",
    "grade",
    "deces",
    "death",
    "outcome",
    "rechute",
    "relapse",
    "recidive",
    "traitement",
    "treatment",
    "survie",
    "survival",
)

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def fold(name: str) -> str:
    """The name as rules read it: "Date_De_Naissance" and "dateNaissance" are "date de naissance".

    Lower case, accents removed, camelCase and letter/digit boundaries split, every run of
    characters other than letters and digits (_ - . space ' ° …) one space, trimmed.
    """
    text = unicodedata.normalize("NFKD", name.translate(_LIGATURES))
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = _LETTER_DIGIT.sub(" ", _CAMEL.sub(" ", text).lower())
    return " ".join(_NOT_WORD.sub(" ", text).split())


def _tokens(name: str) -> tuple[str, ...]:
    return tuple(fold(name).split())


def _has(tokens: tuple[str, ...], phrases: Sequence[str]) -> bool:
    """Whether one of the phrases appears in the tokens, as whole consecutive tokens."""
    for phrase in phrases:
        words = tuple(phrase.split())
        size = len(words)
        if any(tokens[i : i + size] == words for i in range(len(tokens) - size + 1)):
            return True
    return False


def direct_identifier_name(name: str) -> str | None:
    tokens = _tokens(name)
    about_a_thing = not NOT_A_PERSON.isdisjoint(tokens)
    for label, guarded, phrases in _DIRECT_NAMES:
        if guarded and about_a_thing:
            continue
        if _has(tokens, phrases):
            return label
    return None


def _birth_hinted(tokens: tuple[str, ...]) -> bool:
    return _has(tokens, BIRTH_HINTS)


def looks_identifying(name: str) -> bool:
    """Whether the examples of this column must be masked: direct identifiers by name, and the
    columns that often hold a person's birth date, place, or free text."""
    if direct_identifier_name(name) is not None:
        return True
    tokens = _tokens(name)
    return _birth_hinted(tokens) or any(
        _has(tokens, hints) for hints in (POSTAL_HINTS, COMMUNE_HINTS, PLACE_HINTS, FREE_TEXT_HINTS)
    )


def propose_role(name: str) -> Role:
    """The role a column probably plays, from its name: a proposal the partner confirms."""
    if direct_identifier_name(name) is not None:
        return Role.DIRECT
    tokens = _tokens(name)
    # A delay until an outcome ("delai_rechute_mois", "duree_survie") is the outcome itself,
    # measured; a length of stay ("duree_sejour") stays a quasi-identifier below.
    if _has(tokens, ("delai", "duree", "delay")) and _has(tokens, _SENSITIVE_HINTS):
        return Role.SENSITIVE
    # Dates and ages of a sensitive event ("date_deces", "age_diagnostic") are quasi-identifiers:
    # known to others, they help single the person out.
    if any(token.startswith(("date", "annee")) for token in tokens) or _has(tokens, _TIME_HINTS):
        return Role.QUASI
    if _has(tokens, _SENSITIVE_HINTS):
        return Role.SENSITIVE
    if _has(tokens, _QUASI_HINTS):
        return Role.QUASI
    return Role.OTHER


# --- content ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    """One column's content rules, as polars expressions.

    The query has stages: `prepared` turns the column into the values the rules read (trimmed
    text, missing-value markers as null), `matchers` and `aggregates` then read those. Polars'
    streaming engine would otherwise recompute the shared parts for each rule (it did: four times
    slower). The NIR's key is checked in a second query (`derived`, `nir_matcher`), only on the
    columns where the first found NIR-shaped values: removing separators and computing a modulus
    on every value of every column was most of the scan's time.
    """

    index: int
    name: str
    dtype: pl.DataType
    # A shape every value is expected to have: with one of PLAIN_SHAPES, the content rules (none
    # can match it) are replaced by a count of the values that do not have it; with DIGITS_SHAPE,
    # only the number rules run, beside that count. None: every rule.
    shape: str | None = None

    @property
    def tokens(self) -> tuple[str, ...]:
        return _tokens(self.name)

    @property
    def text(self) -> bool:
        return self.dtype == pl.String or isinstance(self.dtype, pl.Categorical | pl.Enum)

    @property
    def integer(self) -> bool:
        return self.dtype.is_integer()

    @property
    def temporal(self) -> bool:
        return self.dtype.is_temporal()

    @property
    def value_name(self) -> str:
        return f"{self.index}"

    @property
    def compact_name(self) -> str:
        return f"{self.index}:compact"

    def trimmed(self) -> dict[str, pl.Expr]:
        """Stage zero: the frame's own column as text, trimmed. A stage of its own: in one
        expression with `prepared`, the streaming engine trimmed each value three times."""
        if self.dtype.is_nested() or self.dtype in (pl.Binary, pl.Object):
            return {}  # no text form: only the name is read
        column = pl.nth(self.index)  # not pl.col: a column named "*" or "^…$" is a pattern there
        if self.dtype != pl.String:
            column = column.cast(pl.String)
        return {f"{self.index}:trimmed": column.str.strip_chars()}

    def prepared(self) -> dict[str, pl.Expr]:
        """Stage one: the values the rules read (blanks and missing-value markers null)."""
        if not self.trimmed():
            return {}
        return {self.value_name: present(pl.col(f"{self.index}:trimmed"))}

    @property
    def may_hold_nir(self) -> bool:
        return self.text or self.integer

    def derived(self) -> dict[str, pl.Expr]:
        """For the NIR's key check: the value without separators, computed once per row."""
        if self.may_hold_nir:
            return {self.compact_name: nir_compact_expr(pl.col(self.value_name))}
        return {}

    def nir_matcher(self) -> pl.Expr:
        """True where a value is a NIR with a valid key; reads `derived`."""
        return nir_valid_expr(pl.col(self.compact_name), compact=True)

    def matchers(self) -> dict[str, pl.Expr]:
        """Stage two, per row: True where a value matches. Keys are rules, or helper counts."""
        value = pl.col(self.value_name)
        found: dict[str, pl.Expr] = {}  # decimals and booleans hold none of these
        if (self.text or self.temporal) and _birth_hinted(self.tokens):
            found[IdRule.BIRTH_DATE] = value.str.contains(FULL_DATE)
        if self.shape is not None and self.shape != DIGITS_SHAPE:
            found["off_shape"] = ~value.str.contains(self.shape)
            return found
        if self.may_hold_nir:
            found["nir_shape"] = value.str.contains(NIR_SPACED_SHAPE)
            # Integers lost their leading zero: 1000 is the postal code 01000.
            code = value.str.zfill(5) if self.integer else value
            found[IdRule.POSTAL_CODE] = code.str.contains(POSTAL)
            found[IdRule.COMMUNE_CODE] = code.str.contains(COMMUNE)
            found["corsica"] = value.str.contains(CORSICA)
            found["leading_zero"] = value.str.contains(LEADING_ZERO)
        if self.text:
            found[IdRule.PHONE] = value.str.contains(PHONE) | value.str.contains(PHONE_IN_TEXT)
            found[IdRule.EMAIL] = value.str.contains(EMAIL)
            found[IdRule.IPV4] = value.str.contains(IPV4)
            found[IdRule.FREE_TEXT] = (value.str.len_chars() >= FREE_TEXT_CHARS) & (
                value.str.contains(SPACED)
            )
        if self.shape == DIGITS_SHAPE:
            found = {k: e for k, e in found.items() if k in DIGITS_RULES or k == IdRule.BIRTH_DATE}
            found[IdRule.PHONE] = value.str.contains(PHONE)
            found["off_shape"] = ~value.str.contains(DIGITS_SHAPE)
        return found

    def example_matchers(self) -> dict[str, pl.Expr]:
        """Every rule's matcher, the NIR's key check included (it reads `derived`)."""
        found = replace(self, shape=None).matchers()
        if self.may_hold_nir:
            found[IdRule.NIR] = self.nir_matcher()
        return found

    def aggregates(self, extra: Extra | None = None) -> dict[str, pl.Expr]:
        """Stage two, over the whole column: one number per key; `extra`'s keys start with "+"."""
        if not self.prepared():
            return {}
        value = pl.col(self.value_name)
        exprs = {"values": value.count(), "nulls": value.null_count()}
        matchers = self.matchers()
        exprs.update({key: match.sum() for key, match in matchers.items()})
        if IdRule.FREE_TEXT in matchers:  # what the free-text rule reads besides its matches
            exprs["mean_chars"] = value.str.len_chars().mean()
            # Not value.drop_nulls(): a filter inside the select makes polars hold the column.
            exprs["distinct"] = value.approx_n_unique()
        if extra is not None:
            exprs.update({f"+{key}": e for key, e in extra(value, self.shape).items()})
        return exprs

    def decide(self, counts: dict[str, Any]) -> list[tuple[IdRule, int]]:
        """The content rules that fire, with their match counts."""
        values = int(counts.get("values") or 0)
        if not values:
            return []

        def count(key: str) -> int:
            return int(counts.get(key) or 0)

        fired = [
            (rule, count(rule))
            for rule in (IdRule.PHONE, IdRule.EMAIL, IdRule.IPV4, IdRule.BIRTH_DATE)
            if rule in counts and count(rule) >= MIN_MATCHES
        ]
        # One random 15-digit number in 97 has a valid key: valid NIRs must be most of the
        # NIR-shaped values, or they are chance (a column of other long numbers).
        nirs = count(IdRule.NIR)
        if nirs >= MIN_MATCHES and nirs >= NIR_KEY_SHARE * count("nir_shape"):
            fired.append((IdRule.NIR, nirs))
        geo = self._geo(values, count)
        if geo is not None:
            fired.append(geo)
        long_text = _long_text(counts)
        if long_text is not None and _distinct(counts) >= FREE_TEXT_DISTINCT * values:
            fired.append((IdRule.FREE_TEXT, long_text))
        return fired

    def distinct_in_doubt(self, counts: dict[str, Any]) -> bool:
        """Whether the free-text rule would turn on the distinct values alone, and their estimate
        is too close to its bound to decide."""
        if _long_text(counts) is None:
            return False
        values = int(counts.get("values") or 0)
        low, high = (FREE_TEXT_DISTINCT * values * share for share in ESTIMATE_DOUBT)
        return low <= _distinct(counts) < high

    def _geo(self, values: int, count: Callable[[str], int]) -> tuple[IdRule, int] | None:
        if IdRule.POSTAL_CODE not in self.matchers():
            return None
        tokens = self.tokens
        corsica = count("corsica") > 0
        hinted = any(_has(tokens, h) for h in (POSTAL_HINTS, COMMUNE_HINTS, PLACE_HINTS))
        if not hinted and not corsica and count("leading_zero") == 0:
            return None  # five digits and nothing else: ordinary numbers as much as codes
        share = GEO_SHARE_HINTED if hinted else GEO_SHARE_UNHINTED
        commune_first = corsica or (_has(tokens, COMMUNE_HINTS) and not _has(tokens, POSTAL_HINTS))
        order = (IdRule.COMMUNE_CODE, IdRule.POSTAL_CODE)
        for rule in order if commune_first else reversed(order):
            if count(rule) >= math.ceil(share * values):
                return rule, count(rule)
        return None


def _long_text(counts: dict[str, Any]) -> int | None:
    """The long values with words of a column that is long text (the free-text rule but for its
    distinct values), else None."""
    values = int(counts.get("values") or 0)
    if IdRule.FREE_TEXT not in counts or not values:
        return None
    long_text = int(counts.get(IdRule.FREE_TEXT) or 0)
    if float(counts.get("mean_chars") or 0) <= FREE_TEXT_CHARS:
        return None
    return long_text if long_text >= FREE_TEXT_SHARE * values else None


def _distinct(counts: dict[str, Any]) -> int:
    """The distinct non-null values: the estimate (or count) counts null as one value."""
    return int(counts.get("distinct") or 0) - (1 if counts.get("nulls") else 0)


def present(trimmed: pl.Expr) -> pl.Expr:
    """A trimmed value as the rules read it: null when blank or a missing-value marker (NA…)."""
    return pl.when((trimmed.str.len_bytes() > 0) & ~trimmed.is_in(MISSING)).then(trimmed)


# Aggregates a caller adds to the identifier scan's single pass, over a column's prepared values;
# the shape (one of PLAIN_SHAPES or DIGITS_SHAPE) every value then has, or None.
Extra = Callable[[pl.Expr, str | None], dict[str, pl.Expr]]


def find_identifiers(frame: pl.LazyFrame, columns: Sequence[str] | None = None) -> list[Finding]:
    """Every finding on the frame's columns (or the named ones), by name and by content.

    The content is read in one streaming pass (or one per batch of expressions), then a few
    matching rows per finding for the masked examples. Sorted by column order, then rule.
    Raises ValueError when a named column is not in the frame.
    """
    return scan_columns(frame, columns)[0]


def scan_columns(
    frame: pl.LazyFrame, columns: Sequence[str] | None = None, extra: Extra | None = None
) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
    """`find_identifiers`, and for each column the values of `extra`'s aggregates (over its
    prepared values: trimmed, blanks and missing-value markers null) and the counts of
    its non-empty and empty values (keys "values", "nulls"), computed in the same pass. A column
    with no text form has none."""
    schema = frame.collect_schema()
    names = schema.names()
    if columns is not None:
        unknown = [name for name in columns if name not in schema]
        if unknown:
            raise ValueError(f"unknown columns: {', '.join(unknown)}")
    wanted = set(names if columns is None else columns)
    plans = _with_shapes(
        frame, [_Column(i, name, schema[name]) for i, name in enumerate(names) if name in wanted]
    )
    counts = _count(frame, plans, extra)
    plans = _recount_off_shape(frame, plans, counts, extra)
    _count_nirs(frame, [p for p in plans if _nir_shaped(counts, p)], counts)
    _count_text_distinct(
        frame, [p for p in plans if p.distinct_in_doubt(counts.get(p.index, {}))], counts
    )
    found: list[tuple[_Column, IdRule, int, pl.Expr | None]] = []
    for plan in plans:
        mine = counts.get(plan.index, {})
        if direct_identifier_name(plan.name) is not None:
            found.append((plan, IdRule.NAME, int(mine.get("values") or 0), None))
        matchers = plan.example_matchers()
        found.extend((plan, rule, n, matchers[rule]) for rule, n in plan.decide(mine))
    examples = _examples(frame, [(plan, match) for plan, _, _, match in found])
    rank = {rule: position for position, rule in enumerate(IdRule)}
    findings = [
        (plan.index, Finding(plan.name, rule, n, _values(counts, plan), shown))
        for (plan, rule, n, _), shown in zip(found, examples, strict=True)
    ]
    findings.sort(key=lambda item: (item[0], rank[item[1].rule]))
    extras = {
        plan.name: {
            "values": _values(counts, plan),
            "nulls": int(counts.get(plan.index, {}).get("nulls") or 0),
            **{k[1:]: v for k, v in counts.get(plan.index, {}).items() if k.startswith("+")},
        }
        for plan in plans
        if plan.index in counts
    }
    return [finding for _, finding in findings], extras


def _values(counts: dict[int, dict[str, Any]], plan: _Column) -> int:
    return int(counts.get(plan.index, {}).get("values") or 0)


def _with_shapes(frame: pl.LazyFrame, plans: list[_Column]) -> list[_Column]:
    """Each text column with the plain shape all its first values have, if any."""
    texts = [p for p in plans if p.text and p.prepared()]
    if not texts:
        return plans
    first = _prepare(frame, texts, derived=False).head(SHAPE_SAMPLE_ROWS).collect()
    shaped = {}
    for plan in texts:
        values = first[plan.value_name].drop_nulls()
        shapes = PLAIN_SHAPES if len(values) else ()
        if len(values) and values.n_unique() > DISTINCT_SAMPLE * len(values):
            shapes = (DIGITS_SHAPE, *shapes)
        for shape in shapes:
            if values.str.contains(shape).all():
                shaped[plan.index] = replace(plan, shape=shape)
                break
    return [shaped.get(p.index, p) for p in plans]


def _recount_off_shape(
    frame: pl.LazyFrame,
    plans: list[_Column],
    counts: dict[int, dict[str, Any]],
    extra: Extra | None,
) -> list[_Column]:
    """Columns with a value of another shape than their first ones, counted again with every
    rule (one more reading of those columns only)."""
    off = [p for p in plans if p.shape is not None and counts.get(p.index, {}).get("off_shape")]
    if not off:
        return plans
    full = {p.index: replace(p, shape=None) for p in off}
    counts.update(_count(frame, list(full.values()), extra))
    return [full.get(p.index, p) for p in plans]


def _count_text_distinct(
    frame: pl.LazyFrame, plans: Sequence[_Column], counts: dict[int, dict[str, Any]]
) -> None:
    """The distinct values of these columns counted exactly (one more reading of them only), in
    place of the estimate, for the free-text rule to decide on."""
    if not plans:
        return
    prepared = _prepare(frame, plans, derived=False)
    exact = count_distinct(prepared, {p.value_name: pl.col(p.value_name) for p in plans})
    for plan in plans:
        mine = counts[plan.index]
        mine["distinct"] = exact[plan.value_name] + (1 if mine.get("nulls") else 0)


def _nir_shaped(counts: dict[int, dict[str, Any]], plan: _Column) -> bool:
    return int(counts.get(plan.index, {}).get("nir_shape") or 0) >= MIN_MATCHES


def _count(
    frame: pl.LazyFrame, plans: Sequence[_Column], extra: Extra | None = None
) -> dict[int, dict[str, Any]]:
    """The aggregates of every column, one streaming pass per batch of columns."""
    batches: list[list[_Column]] = [[]]
    size = 0
    for plan in plans:
        n = len(plan.aggregates(extra))
        if not n:
            continue
        # One query per batch: polars plans a query of tens of thousands of expressions (a
        # 10 000-column export) very slowly, while one pass suffices for usual tables.
        if size + n > EXPRESSIONS_PER_PASS and batches[-1]:
            batches.append([])
            size = 0
        batches[-1].append(plan)
        size += n
    counts: dict[int, dict[str, Any]] = {}
    for batch in batches:
        if not batch:
            continue
        query = _prepare(frame, batch, derived=False).select(
            e.alias(f"{plan.index}/{key}")
            for plan in batch
            for key, e in plan.aggregates(extra).items()
        )
        row = query.collect(engine="streaming").row(0, named=True)
        for name, value in row.items():
            position, key = name.split("/", 1)
            counts.setdefault(int(position), {})[key] = value
    return counts


def _count_nirs(
    frame: pl.LazyFrame, plans: Sequence[_Column], counts: dict[int, dict[str, Any]]
) -> None:
    """Valid NIR keys, counted in one more pass over only the columns holding NIR shapes."""
    if not plans:
        return
    query = _prepare(frame, plans).select(
        plan.nir_matcher().sum().alias(f"{plan.index}") for plan in plans
    )
    row = query.collect(engine="streaming").row(0, named=True)
    for plan in plans:
        counts.setdefault(plan.index, {})[IdRule.NIR] = row[f"{plan.index}"]


def _prepare(
    frame: pl.LazyFrame, plans: Sequence[_Column], *, derived: bool = True
) -> pl.LazyFrame:
    """The frame reduced to the prepared values of these columns (and, for the NIR's key check,
    their compact form)."""
    trimmed = [e.alias(k) for plan in plans for k, e in plan.trimmed().items()]
    values = [e.alias(k) for plan in plans for k, e in plan.prepared().items()]
    prepared = frame.select(trimmed).select(values)
    if not derived:
        return prepared
    return prepared.with_columns(e.alias(k) for plan in plans for k, e in plan.derived().items())


def _examples(
    frame: pl.LazyFrame, wanted: Sequence[tuple[_Column, pl.Expr | None]]
) -> list[tuple[str, ...]]:
    """Up to EXAMPLES distinct masked shapes per finding; a name finding shows any value.

    One small query per finding, one after the other (run together, each holds its own read
    buffers: memory grows with the number of findings): the streaming `head` stops reading once
    it has its rows, so only a finding with rare matches reads far into the file.
    """
    queries: list[pl.LazyFrame | None] = []
    for plan, match in wanted:
        if not plan.prepared():
            queries.append(None)  # a name finding on values that have no text form
            continue
        prepared = _prepare(frame, [plan])
        value = pl.col(plan.value_name)
        keep = value.is_not_null() if match is None else match
        queries.append(
            prepared.select(value.alias("value"), keep.fill_null(False).alias("keep"))
            .filter(pl.col("keep"))
            .head(EXAMPLE_ROWS)
        )
    shown = []
    for query in queries:
        shapes: list[str] = []
        rows = [] if query is None else query.collect(engine="streaming")["value"].to_list()
        for raw in rows:
            shape = mask(str(raw))
            if shape not in shapes:
                shapes.append(shape)
        shown.append(tuple(shapes[:EXAMPLES]))
    return shown
