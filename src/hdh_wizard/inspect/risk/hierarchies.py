"""Generalisation hierarchies: for each quasi-identifier, what every value becomes at each level.

The automatic search (`search.py`) explores combinations of levels, one per quasi-identifier, as
ARX does. A hierarchy is therefore a table, not a rule: row i is a value seen in the data (level 0)
followed by what it becomes at levels 1, 2, … up to the top level, where it is removed ("*").
The information-loss measure needs that table too: ARX's Loss weighs a generalised value by the
share of the domain (the hierarchy's rows) it covers.

Built-in hierarchies are made from the values the data holds (ages, dates, commune codes, any
categorical value); others come from a CSV file in ARX's format (`value;level1;level2;…`). Values a
built-in rule cannot read (an age "NA", a date in another format) stay as they are up to the
top level, as `generalise.py` does, so a partner sees them rather than losing them silently.

A CSV file is checked before use, since a faulty hierarchy silently breaks the search's pruning
(it relies on each value having one parent per level): every fault raises `HdhWizardError` with
one of the keys below.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from hdh_wizard.errors import HdhWizardError

SUPPRESSED = "*"  # the top level of every built-in hierarchy: the value removed
MAX_EXAMPLES = 5  # values quoted in an error message

# Catalogue keys of the errors raised here (messages in i18n/messages).
ERROR_EMPTY = "risk.hierarchy.error.empty"  # file
ERROR_UNREADABLE = "risk.hierarchy.error.unreadable"  # file, detail
ERROR_MISSING_VALUE = "risk.hierarchy.error.missing_value"  # file, line, level
ERROR_DEPTH = "risk.hierarchy.error.depth"  # file, line, found, expected
ERROR_DUPLICATE = "risk.hierarchy.error.duplicate"  # file, value, line, first
ERROR_CYCLE = "risk.hierarchy.error.cycle"  # file, line, value
ERROR_TWO_PARENTS = "risk.hierarchy.error.two_parents"  # file, level, value, parents
ERROR_VALUES_MISSING = "risk.hierarchy.error.values_missing"  # column, file, count, examples


@dataclass(frozen=True)
class Hierarchy:
    """One quasi-identifier's generalisations: `levels[l][i]` is what `values[i]` becomes at level
    l; `levels[0]` is `values` itself. The values are the domain ARX's Loss measure divides by."""

    name: str
    levels: tuple[tuple[str, ...], ...]

    @property
    def values(self) -> tuple[str, ...]:
        return self.levels[0]

    @property
    def height(self) -> int:
        """The number of levels, 0 (the values) included."""
        return len(self.levels)

    def generalise(self, value: str, level: int) -> str:
        return self.levels[level][self.values.index(value)]

    def check_covers(self, values: Iterable[str], column: str, source: str = "") -> None:
        """Every value of the data has a row: otherwise `ERROR_VALUES_MISSING`, naming a few."""
        known = set(self.values)
        absent = sorted({v for v in values if v not in known})
        if absent:
            raise HdhWizardError(
                ERROR_VALUES_MISSING,
                column=column,
                file=source or self.name,
                count=len(absent),
                examples=", ".join(repr(v) for v in absent[:MAX_EXAMPLES]),
            )


HierarchyBuilder = Callable[[Sequence[str]], Hierarchy]
"""Makes a hierarchy for the distinct values a column holds (the built-in kinds)."""


def _from_rows(name: str, rows: Sequence[Sequence[str]]) -> Hierarchy:
    return Hierarchy(
        name, tuple(tuple(row[level] for row in rows) for level in range(len(rows[0])))
    )


def _distinct(values: Iterable[str]) -> list[str]:
    return sorted(set(values))


# --- Built-in hierarchies ------------------------------------------------------------------------

AGE_BANDS = (5, 10, 20)  # years per band at levels 1, 2, 3 (level 0: the age as written)


def age_band(age: int, width: int) -> str:
    """ARX's interval label: "[20, 25[" holds 20 to 24 (closed at the left, open at the right)."""
    low = age // width * width
    return f"[{low}, {low + width}["


def age_hierarchy(values: Sequence[str], name: str = "age") -> Hierarchy:
    """age (1 year, as written) → 5 → 10 → 20 years → removed. Ages read as numbers from 0 to
    150 (a decimal age falls in its year's band); any other value is kept up to the top level."""
    rows: list[list[str]] = []
    for value in _distinct(values):
        number = _number(value)
        if number is None or not 0 <= number < 151:
            rows.append([value] * (len(AGE_BANDS) + 1) + [SUPPRESSED])
            continue
        age = math.floor(number)
        rows.append([value, *(age_band(age, w) for w in AGE_BANDS), SUPPRESSED])
    return _from_rows(name, rows or [["", SUPPRESSED]])


def _number(text: str) -> float | None:
    try:
        number = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d", "%Y/%m/%d", "%d-%m-%Y", "%d.%m.%Y")
_DATE_SHAPE = re.compile(r"^(\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|\d{8})$")


def read_date(text: str) -> date | None:
    """ISO (2024-03-09), French (09/03/2024) or compact (20240309) dates, a datetime's date part;
    four-digit years only ("09/03/14" is not read: its century is a guess)."""
    head = text.strip().split("T")[0].split(" ")[0]
    if not _DATE_SHAPE.match(head):
        return None
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(head, pattern).date()
        except ValueError:
            continue
    return None


def date_hierarchy(values: Sequence[str], name: str = "date") -> Hierarchy:
    """day → month (2024-03) → quarter (2024-T1) → year (2024) → removed."""
    rows: list[list[str]] = []
    for value in _distinct(values):
        day = read_date(value)
        if day is None:
            rows.append([value] * 4 + [SUPPRESSED])
            continue
        quarter = (day.month - 1) // 3 + 1
        month, year = f"{day.year:04d}-{day.month:02d}", f"{day.year:04d}"
        rows.append([value, month, f"{year}-T{quarter}", year, SUPPRESSED])
    return _from_rows(name, rows or [["", SUPPRESSED]])


# Régions since 2016, by INSEE code, with their départements (overseas ones are their own région).
REGIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "11": ("Île-de-France", ("75", "77", "78", "91", "92", "93", "94", "95")),
    "24": ("Centre-Val de Loire", ("18", "28", "36", "37", "41", "45")),
    "27": ("Bourgogne-Franche-Comté", ("21", "25", "39", "58", "70", "71", "89", "90")),
    "28": ("Normandie", ("14", "27", "50", "61", "76")),
    "32": ("Hauts-de-France", ("02", "59", "60", "62", "80")),
    "44": ("Grand Est", ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88")),
    "52": ("Pays de la Loire", ("44", "49", "53", "72", "85")),
    "53": ("Bretagne", ("22", "29", "35", "56")),
    "75": (
        "Nouvelle-Aquitaine",
        ("16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"),
    ),
    "76": (
        "Occitanie",
        ("09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"),
    ),
    "84": (
        "Auvergne-Rhône-Alpes",
        ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"),
    ),
    "93": ("Provence-Alpes-Côte d'Azur", ("04", "05", "06", "13", "83", "84")),
    "94": ("Corse", ("2A", "2B")),
    "01": ("Guadeloupe", ("971",)),
    "02": ("Martinique", ("972",)),
    "03": ("Guyane", ("973",)),
    "04": ("La Réunion", ("974",)),
    "06": ("Mayotte", ("976",)),
}
REGION_OF: dict[str, str] = {
    departement: f"{code} {label}"
    for code, (label, departements) in REGIONS.items()
    for departement in departements
}
_COMMUNE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_DEPARTEMENT = re.compile(r"^(\d{2}|2[AB]|9[78]\d)$")


def departement_of(code: str) -> str | None:
    """The département of an INSEE commune code (or a département code itself): two characters,
    2A/2B for Corsica, three for overseas (97x, 98x)."""
    text = code.strip().upper()
    if _DEPARTEMENT.match(text):
        return text
    if not _COMMUNE.match(text):
        return None
    return text[:3] if text.startswith(("97", "98")) else text[:2]


def geography_hierarchy(values: Sequence[str], name: str = "commune") -> Hierarchy:
    """commune (INSEE code) → département → région (2016 régions) → removed. A département with
    no région (overseas collectivities) stays itself at the région level; unreadable codes stay
    as they are up to the top."""
    rows: list[list[str]] = []
    for value in _distinct(values):
        departement = departement_of(value)
        if departement is None:
            rows.append([value, value, value, SUPPRESSED])
        else:
            rows.append([value, departement, REGION_OF.get(departement, departement), SUPPRESSED])
    return _from_rows(name, rows or [["", SUPPRESSED]])


def categorical_hierarchy(values: Sequence[str], name: str = "") -> Hierarchy:
    """value → removed: the only generalisation of a value with no order or structure."""
    rows = [[value, SUPPRESSED] for value in _distinct(values)]
    return _from_rows(name, rows or [["", SUPPRESSED]])


# --- Hierarchies from ARX's CSV format -----------------------------------------------------------


def read_hierarchy_csv(path: Path, name: str = "") -> Hierarchy:
    """A hierarchy file as ARX writes it: one row per value, `value;level1;level2;…` (a comma
    separator is accepted too). Raises `HdhWizardError` on an unreadable or inconsistent file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise HdhWizardError(ERROR_UNREADABLE, file=path.name, detail=str(error)[:200]) from error
    return parse_hierarchy(text, name or path.stem, source=path.name)


def parse_hierarchy(text: str, name: str, source: str = "") -> Hierarchy:
    """The text of a hierarchy file: see `read_hierarchy_csv`."""
    source = source or name
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise HdhWizardError(ERROR_EMPTY, file=source)
    delimiter = ";" if ";" in lines[0] or "," not in lines[0] else ","
    rows: list[tuple[int, list[str]]] = []
    for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        if row and any(cell.strip() for cell in row):
            rows.append((number, [cell.strip() for cell in row]))
    expected = len(rows[0][1])
    first_line: dict[str, int] = {}
    for number, row in rows:
        if len(row) != expected:
            raise HdhWizardError(
                ERROR_DEPTH, file=source, line=number, found=len(row), expected=expected
            )
        for level, cell in enumerate(row):
            if not cell:
                raise HdhWizardError(ERROR_MISSING_VALUE, file=source, line=number, level=level)
        _check_no_cycle(row, number, source)
        if row[0] in first_line:
            raise HdhWizardError(
                ERROR_DUPLICATE, file=source, value=row[0], line=number, first=first_line[row[0]]
            )
        first_line[row[0]] = number
    table = [row for _, row in rows]
    _check_one_parent(table, source)
    return _from_rows(name, table)


def _check_no_cycle(row: Sequence[str], line: int, source: str) -> None:
    """A value may stay itself over several levels, but not come back after becoming another:
    "a;b;a" would put a below itself."""
    seen: set[str] = set()
    previous = None
    for cell in row:
        if cell != previous and cell in seen:
            raise HdhWizardError(ERROR_CYCLE, file=source, line=line, value=cell)
        seen.add(cell)
        previous = cell


def _check_one_parent(rows: Sequence[Sequence[str]], source: str) -> None:
    """Each generalised value has one parent at the next level: otherwise generalising is not a
    function of the coarser value, and the search's monotonicity does not hold."""
    for level in range(1, len(rows[0]) - 1):
        parents: dict[str, set[str]] = {}
        for row in rows:
            parents.setdefault(row[level], set()).add(row[level + 1])
        for value, found in parents.items():
            if len(found) > 1:
                raise HdhWizardError(
                    ERROR_TWO_PARENTS,
                    file=source,
                    level=level,
                    value=value,
                    parents=", ".join(sorted(found)[:MAX_EXAMPLES]),
                )
