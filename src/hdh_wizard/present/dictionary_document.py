"""The data dictionary as its files: a CSV a spreadsheet opens (and the wizard reads back) and a
Markdown page for people, in French, and in English when English descriptions were written.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from hdh_wizard.core.data_dictionary import Variable, table_schema, tables_of
from hdh_wizard.i18n.catalogue import Catalogue, Lang
from hdh_wizard.i18n.formatting import format_percent

# The CSV's headers: stable, French, read back by `inspect.dictionary_file` (keep them in step).
CSV_HEADERS = (
    "table",
    "variable",
    "type",
    "format",
    "unite",
    "description",
    "description_en",
    "valeurs",
    "minimum",
    "maximum",
    "part_vide",
    "generalisation",
)
VALUES_JOINER = " | "


def dictionary_csv(cat: Catalogue, variables: Sequence[Variable]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADERS)
    for v in variables:
        writer.writerow(
            [
                v.table,
                v.name,
                v.field_type.value,
                v.date_format or "",
                v.unit,
                v.description,
                v.description_en,
                values_text(cat, v),
                v.minimum or "",
                v.maximum or "",
                f"{v.empty_share:.4f}",
                generalisation_text(cat, v),
            ]
        )
    return out.getvalue()


def dictionary_markdown(cat: Catalogue, variables: Sequence[Variable], title: str) -> str:
    """The page in `cat`'s language; English descriptions in the English one, French otherwise."""
    english = cat.lang is Lang.EN
    lines = [f"# {_cell(cat.t('dictionary.md.title', title=title))}", ""]
    lines += [cat.t("dictionary.md.intro"), ""]
    headers = [cat.t(f"dictionary.md.column.{c}") for c in _MD_COLUMNS]
    for table, items in tables_of(variables).items():
        lines += [f"## {_cell(table)}", ""]
        lines.append("| " + " | ".join(headers) + " |")
        lines.append("|" + "---|" * len(headers))
        for v in items:
            text = (v.description_en or v.description) if english else v.description
            cells = [
                cat.t(f"dictionary.type.{v.field_type.value}"),
                text or cat.t("dictionary.md.no_description"),
                v.unit,
                values_text(cat, v),
                format_percent(v.empty_share, cat.lang),
                generalisation_text(cat, v),
            ]
            name = f"`{_code(v.name)}`"
            lines.append("| " + " | ".join([name, *(_cell(c) for c in cells)]) + " |")
        lines.append("")
    return "\n".join(lines)


_MD_COLUMNS = ("name", "type", "description", "unit", "values", "empty", "generalisation")


def schema_json(variables: Sequence[Variable], title: str) -> str:
    return json.dumps(table_schema(variables, title), ensure_ascii=False, indent=2) + "\n"


def generalisation_text(cat: Catalogue, variable: Variable) -> str:
    rule = variable.generalisation
    if not rule or not cat.has(f"dictionary.rule.{rule}"):
        return ""
    return cat.t(f"dictionary.rule.{rule}", n=variable.min_count)


def values_text(cat: Catalogue, variable: Variable) -> str:
    if variable.masked:
        return cat.t("dictionary.values.masked")
    if variable.values:
        return VALUES_JOINER.join(variable.values)
    if variable.minimum is not None and variable.maximum is not None:
        return cat.t("dictionary.values.range", low=variable.minimum, high=variable.maximum)
    return ""


def _cell(text: str) -> str:
    """Text the partner typed, shown as text: no Markdown, no HTML, no broken table."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "\\`*_[]|#":
        escaped = escaped.replace(char, "\\" + char)
    return " ".join(escaped.split())


def _code(name: str) -> str:
    return name.replace("`", "'").replace("|", "\\|")
