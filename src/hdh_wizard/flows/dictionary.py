"""The data dictionary and the Table Schemas, written or refreshed in `publish/`.

The published tables are read (`inspect.dictionary`); the descriptions already written are
read back from the dictionary's own CSV, then those of a file the partner pastes (which win,
never erasing a text with an empty one). A description that fits no published column any more
(a table renamed, a column dropped) is first tried by column name alone, and otherwise kept in
the project's own folder, never silently lost.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path, PurePosixPath

from hdh_wizard.core.data_dictionary import (
    DICTIONARY_NAME,
    SCHEMA_FOLDER,
    SCHEMA_SUFFIX,
    Description,
    Variable,
    schema_file_name,
    tables_of,
    with_descriptions,
)
from hdh_wizard.core.release import Release
from hdh_wizard.core.safe_files import write_atomically
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.inspect.convert import PUBLISH_FOLDER
from hdh_wizard.inspect.deposit_files import deposit_files, dictionary_documents
from hdh_wizard.inspect.dictionary import TableFacts, applied_rules, read_table_facts
from hdh_wizard.inspect.dictionary_file import DictionaryFileError, read_dictionary_file
from hdh_wizard.inspect.fingerprint import resolve_stored_path
from hdh_wizard.inspect.inspection import InventoryEntry
from hdh_wizard.present.dictionary_document import (
    dictionary_csv,
    dictionary_markdown,
    schema_json,
)

UNUSED_NAME = ".hdh-wizard/descriptions-sans-colonne.csv"  # kept, not published
# The files whose change makes the dictionary out of date (judged by name, nothing is read).
TABLE_SUFFIXES = frozenset({".csv", ".tsv", ".tab", ".psv", ".xlsx", ".xls", ".ods", ".parquet"})


@dataclass(frozen=True)
class Draft:
    """The dictionary being written: the tables read, their variables with every description
    known so far, and the descriptions that fit no column (kept aside when written)."""

    tables: tuple[TableFacts, ...]
    variables: tuple[Variable, ...]
    unused: tuple[Description, ...] = ()
    missing: tuple[str, ...] = ()  # published files not found on disk
    empty_rows: int = 0  # rows of the last pasted file without any text

    def described(self, key: tuple[str, str], text: str, english: str, unit: str) -> Draft:
        """The draft with one column's description as typed (an empty text erases here: the
        partner cleared the field on purpose)."""
        variables = tuple(
            replace(v, description=text, description_en=english, unit=unit) if v.key == key else v
            for v in self.variables
        )
        return replace(self, variables=variables)


@dataclass(frozen=True)
class Written:
    """What a run wrote, and what the partner should know about it."""

    files: tuple[Path, ...]
    draft: Draft

    @property
    def variables(self) -> tuple[Variable, ...]:
        return self.draft.variables

    @property
    def unused(self) -> tuple[Description, ...]:
        return self.draft.unused


def dictionary_path(folder: Path) -> Path:
    return folder / PUBLISH_FOLDER / f"{DICTIONARY_NAME}.csv"


class DictionaryState(StrEnum):
    NOT_NEEDED = "not_needed"  # no table among the files to publish (slides only)
    MISSING = "missing"
    STALE = "stale"  # a table changed (or came) since it was written
    CURRENT = "current"


# A deposit may go: the dictionary describes the tables as they are (or there is none to write).
DICTIONARY_READY = frozenset({DictionaryState.NOT_NEEDED, DictionaryState.CURRENT})


def dictionary_state(release: Release, folder: Path) -> DictionaryState:
    """Whether the dictionary in `publish/` describes the tables to publish as they are now,
    judged from the files' dates (nothing is read): quick enough for a screen's checks."""
    files, _missing = deposit_files(release, folder)
    tables = [f for f in files if PurePosixPath(f.path).suffix.lower() in TABLE_SUFFIXES]
    if not tables:
        return DictionaryState.NOT_NEEDED
    try:
        written = dictionary_path(folder).stat().st_mtime_ns
    except OSError:
        return DictionaryState.MISSING
    schemas = dictionary_documents(folder, tables)
    csv_tables = [t for t in tables if PurePosixPath(t.path).suffix.lower() == ".csv"]
    if len([d for d in schemas if d.path.endswith(SCHEMA_SUFFIX)]) < len(csv_tables):
        return DictionaryState.STALE
    if any(t.mtime_ns > written for t in tables):
        return DictionaryState.STALE
    return DictionaryState.CURRENT


def refresh_dictionary(release: Release, folder: Path) -> Written | None:
    """Write the dictionary again unless it is current (descriptions kept); None when there is
    no table to describe. As the headless deposit runs it before listing what it sends."""
    if dictionary_state(release, folder) in DICTIONARY_READY:
        return None
    return write_dictionary(release, folder)


def read_draft(release: Release, folder: Path) -> Draft:
    """The published tables read, with the descriptions written before. Raises
    `HdhWizardError` when there is no table to describe."""
    tables, missing = _tables(release, folder)
    if not tables:
        raise HdhWizardError("dictionary.no_tables", folder=str(folder))
    variables = tuple(v for t in tables for v in t.variables)
    variables, unused = with_descriptions(variables, _previous(folder))
    variables, unused = _by_name_alone(variables, unused)
    return Draft(tuple(tables), variables, unused, missing)


def paste(draft: Draft, pasted: Path) -> Draft:
    """The draft with the descriptions of the partner's own dictionary file (they win over the
    ones written before, an empty cell never erasing one). Raises `DictionaryFileError`."""
    found = read_dictionary_file(pasted)
    variables, unused = with_descriptions(draft.variables, found.descriptions)
    return replace(
        draft, variables=variables, unused=(*draft.unused, *unused), empty_rows=found.empty
    )


def write_draft(release: Release, folder: Path, draft: Draft, title: str = "") -> Written:
    """Write the dictionary, its pages and one Table Schema per CSV, each atomically."""
    files = _write(
        folder, release, list(draft.tables), draft.variables, draft.unused, title or release.name
    )
    return Written(files, draft)


def write_dictionary(
    release: Release, folder: Path, pasted: Path | None = None, title: str = ""
) -> Written:
    """Read, paste, write: the headless command. Raises `HdhWizardError` (no table, a bad pasted
    file, a disk that refuses); a bad pasted file is refused before anything is written."""
    draft = read_draft(release, folder)
    if pasted is not None:
        draft = paste(draft, pasted)
    return write_draft(release, folder, draft, title)


def _previous(folder: Path) -> tuple[Description, ...]:
    """The descriptions in the dictionary written before, and in those kept aside."""
    found: list[Description] = []
    for path in (dictionary_path(folder), folder / UNUSED_NAME):
        if path.is_file():
            try:
                found.extend(read_dictionary_file(path).descriptions)
            except DictionaryFileError:
                continue  # edited into something unreadable: the pasted file or typing redo it
    return tuple(found)


def _tables(release: Release, folder: Path) -> tuple[list[TableFacts], tuple[str, ...]]:
    applied = applied_rules(release)
    files, missing = deposit_files(release, folder)
    tables = []
    for item in files:
        if PurePosixPath(item.path).name.startswith(DICTIONARY_NAME):
            continue  # the dictionary itself, when publish/ is a declared folder
        path = resolve_stored_path(item.path, folder)
        entry = InventoryEntry(path, item.path, item.size, item.mtime_ns)
        facts = read_table_facts(entry, applied.get(item.path, {}))
        if facts is not None:
            tables.append(facts)
    return tables, tuple(missing)


def _by_name_alone(
    variables: tuple[Variable, ...], unused: Sequence[Description]
) -> tuple[tuple[Variable, ...], tuple[Description, ...]]:
    """Descriptions of a table that is no longer published (renamed), given to the columns of
    the same name that have none yet."""
    if not unused:
        return variables, ()
    undescribed = [v for v in variables if not v.description]
    general = [replace(d, table="") for d in unused]
    filled, still = with_descriptions(undescribed, general)
    by_key = {v.key: v for v in filled}
    merged = tuple(by_key.get(v.key, v) if not v.description else v for v in variables)
    left = {(d.name, d.description) for d in still}
    return merged, tuple(d for d in unused if (d.name, d.description) in left)


def _write(
    folder: Path,
    release: Release,
    tables: list[TableFacts],
    variables: tuple[Variable, ...],
    unused: tuple[Description, ...],
    title: str,
) -> tuple[Path, ...]:
    fr, en = load_catalogue(Lang.FR), load_catalogue(Lang.EN)
    publish = folder / PUBLISH_FOLDER
    documents: list[tuple[Path, str]] = [
        (dictionary_path(folder), dictionary_csv(fr, variables)),
        (publish / f"{DICTIONARY_NAME}.md", dictionary_markdown(fr, variables, title)),
    ]
    if any(v.description_en for v in variables):
        documents.append(
            (publish / f"{DICTIONARY_NAME}.en.md", dictionary_markdown(en, variables, title))
        )
    grouped = tables_of(variables)
    for table in tables:
        if table.is_csv:
            name = table.report.path
            documents.append(
                (publish / SCHEMA_FOLDER / schema_file_name(name), schema_json(grouped[name], name))
            )
    documents.append((folder / UNUSED_NAME, _unused_csv(unused)))
    try:
        for path, text in documents:
            if path.name == Path(UNUSED_NAME).name and not unused:
                path.unlink(missing_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, text.encode("utf-8"), project=folder)
    except OSError as error:
        raise HdhWizardError(
            "prepare.error.disk", path=str(error.filename or "—"), detail=error.strerror or ""
        ) from None
    return tuple(p for p, _ in documents if p.name != Path(UNUSED_NAME).name or unused)


def _unused_csv(unused: Sequence[Description]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["table", "variable", "description", "description_en", "unite"])
    for d in unused:
        writer.writerow([d.table, d.name, d.description, d.description_en, d.unit])
    return out.getvalue()
