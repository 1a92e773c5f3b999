"""Descriptions pasted from a dictionary the partner already has (CSV or workbook).

Columns are recognised by their header, in French or English ("variable", "libellé",
"description", "unité", "table"…), in any sheet of a workbook; a CSV may be in UTF-8 or
Windows-1252, with `,`, `;` or tabs. Descriptions are matched to the published columns by name
(and by table when the file says which).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from hdh_wizard.core.data_dictionary import Description
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.csv_dialect import best_delimiter, guess_encoding
from hdh_wizard.inspect.kinds import FileKind, sniff_kind
from hdh_wizard.inspect.tables import TableReadError, read_sheets
from hdh_wizard.inspect.transcode import python_codec

_HEADERS = {
    "name": ("variable", "variables", "colonne", "column", "nom", "name", "champ", "field",
             "nom de la variable", "nom variable", "variable name", "code"),
    "description": ("description", "description fr", "libelle", "label", "definition",
                    "signification", "description (fr)"),
    "description_en": ("description en", "description (en)", "english description",
                       "description anglaise", "label en", "libelle en"),
    "unit": ("unite", "unit", "units", "unites", "unite de mesure"),
    "table": ("table", "fichier", "file", "tableau", "jeu", "source"),
}  # fmt: skip
MAX_BYTES = 20 * 1024 * 1024  # a dictionary, not a table: refuse what cannot be one


class DictionaryFileError(HdhWizardError):
    """A dictionary file that cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class PastedDictionary:
    descriptions: tuple[Description, ...]
    empty: int  # rows naming a column without any description: left as they were


def read_dictionary_file(path: Path) -> PastedDictionary:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise DictionaryFileError("dictionary.file.too_big", path=str(path))
        kind = sniff_kind(path)
        if kind in (FileKind.XLSX, FileKind.XLS, FileKind.ODS):
            sheets = _sheets(path)
        elif kind is FileKind.TEXT:
            sheets = {"": _csv_rows(path)}
        else:
            raise DictionaryFileError("dictionary.file.kind", path=str(path))
    except OSError as error:
        raise DictionaryFileError(
            "dictionary.file.unreadable", path=str(path), reason=error.strerror or str(error)
        ) from None
    return _descriptions(path, sheets)


def _sheets(path: Path) -> dict[str, list[list[str]]]:
    try:
        frames = read_sheets(path)
    except TableReadError as error:
        raise DictionaryFileError(
            "dictionary.file.unreadable", path=str(path), reason=str(error)
        ) from None
    sheets = {}
    for name, frame in frames.items():
        header = [str(c) for c in frame.columns]
        body = [["" if v is None else str(v) for v in row] for row in frame.iter_rows()]
        sheets[name] = [header, *body]
    return sheets


def _csv_rows(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    encoding, bom = guess_encoding(data)
    codec, errors = python_codec(encoding)
    text = data[3 if bom and encoding == "utf-8" else 0 :].decode(codec, errors=errors)
    text = text.lstrip("\ufeff")
    if not text.strip():
        return []
    delimiter = best_delimiter(text[:65536])
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:  # a field over the csv module's limit, a NUL byte…
        raise DictionaryFileError(
            "dictionary.file.unreadable", path=str(path), reason=str(error)
        ) from None


def _descriptions(path: Path, sheets: dict[str, list[list[str]]]) -> PastedDictionary:
    found: list[Description] = []
    seen: dict[tuple[str, str], tuple[str, int, Description]] = {}
    empty = 0
    usable = False
    for sheet, rows in sheets.items():
        if not rows:
            continue
        columns = _columns(rows[0])
        if "name" not in columns or not (
            {"description", "description_en", "unit"} & columns.keys()
        ):
            continue  # a sheet of something else (notes, codes): not a dictionary
        usable = True
        for number, row in enumerate(rows[1:], start=2):
            cell = _Cell(row, columns)
            name = cell("name")
            if not name:
                continue
            item = Description(
                name=name,
                description=cell("description"),
                description_en=cell("description_en"),
                unit=cell("unit"),
                table=cell("table") or sheet_table(sheet),
            )
            if not (item.description or item.description_en or item.unit):
                empty += 1
                continue
            where = (sheet, number)
            key = (item.table.casefold(), name)
            if key in seen and seen[key][2] != item:
                first_sheet, first_line, _ = seen[key]
                raise DictionaryFileError(
                    "dictionary.file.duplicate",
                    path=str(path),
                    name=name,
                    first=_place(first_sheet, first_line),
                    second=_place(*where),
                )
            if key not in seen:
                seen[key] = (sheet, number, item)
                found.append(item)
    if not usable:
        raise DictionaryFileError("dictionary.file.no_columns", path=str(path))
    return PastedDictionary(tuple(found), empty)


def sheet_table(sheet: str) -> str:
    """A sheet named like a table (`patients`) holds that table's columns; the workbook's
    default names say nothing."""
    plain = _plain(sheet)
    if not plain or plain.startswith(("sheet", "feuil", "feuille", "dictionnaire", "dictionary")):
        return ""
    return sheet


def _place(sheet: str, line: int) -> str:
    return f"{sheet} : {line}" if sheet else str(line)


def _columns(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        plain = _plain(title)
        for role, names in _HEADERS.items():
            if plain in names and role not in columns:
                columns[role] = index
    return columns


class _Cell:
    """One row's cells by role ("name", "description"…), each on one line."""

    def __init__(self, row: list[str], columns: dict[str, int]) -> None:
        self._row, self._columns = row, columns

    def __call__(self, role: str) -> str:
        index = self._columns.get(role)
        if index is None or index >= len(self._row):
            return ""
        return " ".join(str(self._row[index]).split())  # one line: it goes into CSV and Markdown


def _plain(text: str) -> str:
    """Lower case, no accents, no punctuation but spaces: how headers are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(kept.split())
