"""The transformed copy of a table, written to `publish/` for the release (originals untouched).

Written under a temporary name and renamed once complete and re-checked: the copy must be a
conformant CSV holding exactly the records measured.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.byte_scan import sha256_of
from hdh_wizard.inspect.convert import atomic_output, output_stem, verify_csv
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.risk.analysis import Choice
from hdh_wizard.inspect.risk.generalise import generalise
from hdh_wizard.inspect.risk.rekey import ReleaseKey
from hdh_wizard.inspect.risk.tables import Table

SUFFIX = "_anonymise"


@dataclass(frozen=True)
class Exported:
    source: str  # the table's name
    output: Path
    rows: int
    size: int
    sha256: str


def export_name(table: str) -> str:
    """`donnees/cohorte.csv` → `donnees_cohorte_anonymise.csv`; a workbook's sheet
    `suivi.xlsx › Patients` → `suivi-Patients_anonymise.csv`."""
    file, _, sheet = table.removeprefix("publish/").partition(" › ")
    stem = output_stem(file)
    if sheet:
        stem = f"{stem}-{output_stem(sheet + '.x')}"
    return f"{stem}{SUFFIX}.csv"


def _free_name(target: Path, taken: Collection[Path]) -> Path:
    candidate, number = target, 1
    while candidate in taken:
        number += 1
        candidate = target.with_name(f"{target.stem}-{number}{target.suffix}")
    return candidate


def export_table(
    table: Table,
    choice: Choice,
    publish: Path,
    records: int,
    progress: Progress | None = None,
    taken: Collection[Path] = (),
    key: ReleaseKey | None = None,
) -> Exported:
    """Write the table with the choice's rules applied. Raises HdhWizardError, Cancelled.

    `taken` are the copies of the release's other tables: two names that flatten alike
    ("a b.csv", "a_b.csv") get "-2", "-3"… rather than one copy replacing the other. `key`
    re-keys the choice's `rekey` columns (required when there are any)."""
    if choice.rekeyed and key is None:
        raise ValueError("a re-keyed copy needs the release's key")
    if set(table.columns) <= choice.dropped:
        raise HdhWizardError("risk.error.nothing_left", table=table.name)
    target = _free_name(publish / export_name(table.name), taken)
    if progress is not None:
        progress.current = table.name
        progress.check()
    try:
        publish.mkdir(parents=True, exist_ok=True)
        with atomic_output(target) as temporary:
            generalise(table.frame, choice.rules, key).sink_csv(
                temporary, separator=",", quote_char='"', line_terminator="\n"
            )
            if progress is not None:
                progress.check()
            rows = verify_csv(temporary, records, table.name)
        size, sha256 = sha256_of(target)
    except OSError as error:
        detail = error.strerror or type(error).__name__
        raise HdhWizardError(
            "risk.error.export_write", folder=str(publish), detail=detail
        ) from error
    return Exported(table.name, target, rows, size, sha256)
