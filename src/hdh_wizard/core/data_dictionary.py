"""The data dictionary: one entry per published column, and its Table Schema.

What the wizard knows of a column (its type once read, its empty share, its range or every value
when they are few, the generalisation the anonymity step applied) and what only the partner knows
(its meaning, its unit). The Table Schema is the Frictionless Data standard that data.gouv.fr's
schema tools read (https://specs.frictionlessdata.io/table-schema/).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

ENUM_MAX = 20  # a column with this many distinct values or fewer lists them all
DICTIONARY_NAME = "dictionnaire-des-variables"
SCHEMA_FOLDER = "schemas"
SCHEMA_SUFFIX = ".schema.json"


class FieldType(StrEnum):
    """Table Schema's types, the ones a profiled column can have."""

    INTEGER = "integer"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    STRING = "string"


@dataclass(frozen=True)
class Variable:
    """One published column: what the profile found and what the partner wrote."""

    table: str  # the published file's name in the release ("publish/patients.csv")
    name: str
    field_type: FieldType
    date_format: str | None = None  # strptime pattern when not ISO ("%d/%m/%Y")
    decimal_comma: bool = False
    values: tuple[str, ...] = ()  # every value, as written, when few and not identifying
    minimum: str | None = None
    maximum: str | None = None
    empty_share: float = 0.0
    generalisation: str | None = None  # the anonymity rule's code (`Coarsening`), if any
    min_count: int = 0  # the rule's threshold, for the rare-value rules
    masked: bool = False  # identifying: neither values nor range are written
    description: str = ""
    description_en: str = ""
    unit: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.table, self.name)


@dataclass(frozen=True)
class Description:
    """What the partner wrote for a column; `table` empty: for this column in every table."""

    name: str
    description: str = ""
    description_en: str = ""
    unit: str = ""
    table: str = ""


def with_descriptions(
    variables: Sequence[Variable], descriptions: Iterable[Description]
) -> tuple[tuple[Variable, ...], tuple[Description, ...]]:
    """(variables with the descriptions that fit them, descriptions that fit no column).

    A description for a named table wins over one given for the column in every table; an
    empty text never erases one already written."""
    general: dict[str, Description] = {}
    specific: dict[tuple[str, str], Description] = {}
    for item in descriptions:
        if item.table:
            specific[(_table_key(item.table), item.name)] = item
        else:
            general[item.name] = item
    used: set[int] = set()
    result = []
    for variable in variables:
        found = specific.get((_table_key(variable.table), variable.name)) or general.get(
            variable.name
        )
        if found is None:
            result.append(variable)
            continue
        used.add(id(found))
        result.append(
            replace(
                variable,
                description=found.description or variable.description,
                description_en=found.description_en or variable.description_en,
                unit=found.unit or variable.unit,
            )
        )
    unused = tuple(d for d in [*specific.values(), *general.values()] if id(d) not in used)
    return tuple(result), unused


def _table_key(table: str) -> str:
    """Tables are matched by file name without folder or extension: a dictionary written for
    `patients.csv` fits `publish/patients.csv`."""
    return PurePosixPath(table).stem.casefold()


def table_schema(variables: Sequence[Variable], title: str = "") -> dict[str, Any]:
    """The Table Schema of one CSV table (its variables, in column order)."""
    schema: dict[str, Any] = {
        "fields": [_field(v) for v in variables],
        "missingValues": [""],
    }
    if title:
        schema = {"title": title, **schema}
    return schema


def _field(variable: Variable) -> dict[str, Any]:
    field: dict[str, Any] = {"name": variable.name, "type": variable.field_type.value}
    if variable.date_format:
        field["format"] = variable.date_format
    if variable.decimal_comma:
        field["decimalChar"] = ","
    if variable.description:
        field["description"] = variable.description
    constraints: dict[str, Any] = {}
    if variable.empty_share == 0:
        constraints["required"] = True
    if not variable.masked:
        typed = [_typed(variable, v) for v in variable.values]
        if typed and all(v is not None for v in typed) and variable.field_type in _ENUM_TYPES:
            constraints["enum"] = typed
        elif variable.field_type in (FieldType.INTEGER, FieldType.NUMBER):
            low, high = _typed(variable, variable.minimum), _typed(variable, variable.maximum)
            if low is not None:
                constraints["minimum"] = low
            if high is not None:
                constraints["maximum"] = high
    if constraints:
        field["constraints"] = constraints
    return field


_ENUM_TYPES = (FieldType.INTEGER, FieldType.NUMBER, FieldType.STRING)


def _typed(variable: Variable, value: str | None) -> str | int | float | None:
    """A value as the schema's JSON holds it for the field's type; None when it does not read."""
    if value is None:
        return None
    try:
        if variable.field_type is FieldType.INTEGER:
            return int(value)
        if variable.field_type is FieldType.NUMBER:
            return float(value.replace(",", ".") if variable.decimal_comma else value)
    except ValueError:
        return None
    return value if variable.field_type is FieldType.STRING else None


def schema_file_name(table: str) -> str:
    """`publish/données/patients.csv` → `données-patients.schema.json`: one name per table."""
    path = PurePosixPath(table)
    parts = [p for p in path.parent.parts if p not in ("publish", ".", "/")]
    return "-".join([*parts, path.stem]) + SCHEMA_SUFFIX


def tables_of(variables: Iterable[Variable]) -> Mapping[str, tuple[Variable, ...]]:
    """The variables grouped by table, tables and columns in their order."""
    grouped: dict[str, list[Variable]] = {}
    for variable in variables:
        grouped.setdefault(variable.table, []).append(variable)
    return {table: tuple(items) for table, items in grouped.items()}
