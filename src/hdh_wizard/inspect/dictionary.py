"""The data dictionary's facts, read from the files to publish: types, empty shares, ranges,
the values of columns that have few, and the generalisations the anonymity step applied.

Every figure comes from the same profile as the interoperability step (`inspect_file`), so the
dictionary and the checks never disagree; identifying columns are masked as everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from hdh_wizard.core.data_dictionary import ENUM_MAX, FieldType, Variable
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.inspect.inspection import InventoryEntry, inspect_file
from hdh_wizard.inspect.kinds import FileKind
from hdh_wizard.inspect.report import ColumnProfile, ColumnType, Dialect, FileReport
from hdh_wizard.inspect.risk.identifiers import looks_identifying
from hdh_wizard.inspect.risk.linkability import persistent_identifier_name

_TYPES = {
    ColumnType.INTEGER: (FieldType.INTEGER, None, False),
    ColumnType.DECIMAL: (FieldType.NUMBER, None, False),
    ColumnType.DECIMAL_COMMA: (FieldType.NUMBER, None, True),
    ColumnType.DATE_ISO: (FieldType.DATE, None, False),
    ColumnType.DATE_DAY_FIRST: (FieldType.DATE, "%d/%m/%Y", False),
    ColumnType.DATETIME: (FieldType.DATETIME, "any", False),
    ColumnType.BOOLEAN: (FieldType.BOOLEAN, None, False),
}
TABLE_KINDS = (FileKind.TEXT, FileKind.XLSX, FileKind.XLS, FileKind.ODS, FileKind.PARQUET)


@dataclass(frozen=True)
class Applied:
    """A generalisation the anonymity step applied to a column of a published table."""

    coarsening: str
    min_count: int = 0


@dataclass(frozen=True)
class TableFacts:
    """One published table, read: its report and the dictionary entries of its columns."""

    report: FileReport
    variables: tuple[Variable, ...]

    @property
    def is_csv(self) -> bool:
        return self.report.kind is FileKind.TEXT and self.report.table is not None


def applied_rules(release: Release) -> dict[str, dict[str, Applied]]:
    """{published copy: {column: rule}} from the finished anonymity step's outputs."""
    outputs = release.record(StepId.ANONYMITY).outputs
    choices = outputs.get("choices")
    replacements = outputs.get("replacements")
    if not isinstance(choices, dict) or not isinstance(replacements, list):
        return {}
    applied: dict[str, dict[str, Applied]] = {}
    for item in replacements:
        if not isinstance(item, dict):
            continue
        choice = choices.get(str(item.get("source", "")))
        rules = choice.get("rules") if isinstance(choice, dict) else None
        columns: dict[str, Applied] = {}
        for rule in rules if isinstance(rules, list) else []:
            if isinstance(rule, dict) and "column" in rule and "rule" in rule:
                count = rule.get("min_count", 0)
                columns[str(rule["column"])] = Applied(
                    str(rule["rule"]), count if isinstance(count, int) else 0
                )
        applied[str(item.get("path", ""))] = columns
    return applied


def read_table_facts(
    entry: InventoryEntry,
    applied: Mapping[str, Applied],
    identifying: Callable[[str], bool] = looks_identifying,
) -> TableFacts | None:
    """The dictionary entries of one published file; None when it holds no table."""
    rekeyed = {name for name, rule in applied.items() if rule.coarsening == "rekey"}

    def masked(name: str) -> bool:
        # A persistent identifier's range tells nothing and shows real codes; a re-keyed one
        # holds random codes: neither is listed.
        return identifying(name) or persistent_identifier_name(name) or name in rekeyed

    report = inspect_file(entry, identifying=masked)
    if report.table is None or report.kind not in TABLE_KINDS:
        return None
    table = report.table
    listed = [
        i
        for i, c in enumerate(table.columns)
        if not c.masked and c.distinct_exact and 0 < c.distinct <= ENUM_MAX
    ]
    values: dict[int, tuple[str, ...]] = {}
    if report.kind is FileKind.TEXT and table.dialect is not None and listed:
        values = _few_values(entry.path, table.dialect, listed)
    variables = tuple(
        _variable(entry.display, column, table.rows, values.get(i, ()), applied.get(column.name))
        for i, column in enumerate(table.columns)
    )
    return TableFacts(report, variables)


def _variable(
    table: str,
    column: ColumnProfile,
    rows: int,
    values: tuple[str, ...],
    applied: Applied | None,
) -> Variable:
    plain: tuple[FieldType, str | None, bool] = (FieldType.STRING, None, False)
    field_type, date_format, decimal_comma = _TYPES.get(column.type, plain)
    if column.unparsed:  # values that do not fit the type: a data user's tool would reject them
        field_type, date_format, decimal_comma = plain
    return Variable(
        table=table,
        name=column.name,
        field_type=field_type,
        date_format=date_format,
        decimal_comma=decimal_comma,
        values=() if column.masked else values,
        minimum=None if column.masked else column.minimum,
        maximum=None if column.masked else column.maximum,
        empty_share=column.nulls / rows if rows else 0.0,
        generalisation=applied.coarsening if applied else None,
        min_count=applied.min_count if applied else 0,
        masked=column.masked,
    )


def _few_values(path: Path, dialect: Dialect, columns: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """The distinct values of the columns that have few, as written, in one streaming pass.
    Only UTF-8 files are read here (the interoperability step converts the others); for any
    other the values are left out rather than guessed."""
    if dialect.encoding != "utf-8" or len(dialect.delimiter) != 1:
        return {}
    try:
        frame = pl.scan_csv(
            path,
            separator=dialect.delimiter,
            quote_char=dialect.quote or None,
            has_header=dialect.header,
            infer_schema=False,
            truncate_ragged_lines=True,
        )
        result = frame.select(
            [pl.nth(i).drop_nulls().unique().sort().implode().alias(str(i)) for i in columns]
        ).collect(engine="streaming")
    except (pl.exceptions.PolarsError, OSError):
        return {}
    found: dict[int, tuple[str, ...]] = {}
    for i in columns:
        items: list[Any] = result[str(i)][0].to_list()
        if len(items) <= ENUM_MAX:
            found[i] = tuple(str(v) for v in items)
    return found
