"""`hdh-wizard dictionary [DIR] [--from FILE]`: the data dictionary and Table Schemas, headless."""

from __future__ import annotations

from pathlib import Path

from hdh_wizard.errors import ProjectError
from hdh_wizard.flows.dictionary import UNUSED_NAME, write_dictionary
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.present.presenters import printable
from hdh_wizard.project import has_project, read_project


def run_dictionary(cat: Catalogue, folder: Path, pasted: Path | None) -> int:
    if not has_project(folder):
        raise ProjectError("error.no_project", folder=str(folder))
    release = read_project(folder)
    written = write_dictionary(release, folder, pasted)
    for path in written.draft.missing:
        print(cat.t("dictionary.missing", path=printable(path)))
    for file in written.files:
        print(cat.t("dictionary.written", path=printable(str(file))))
    variables = written.variables
    described = sum(1 for v in variables if v.description)
    print(
        cat.t(
            "dictionary.summary",
            tables=len({v.table for v in variables}),
            variables=len(variables),
            described=described,
            missing=len(variables) - described,
        )
    )
    if written.draft.empty_rows:
        print(cat.t("dictionary.empty_rows", count=written.draft.empty_rows))
    if written.unused:
        names = ", ".join(
            printable(f"{d.table} › {d.name}" if d.table else d.name) for d in written.unused
        )
        print(cat.t("dictionary.unused", path=UNUSED_NAME, names=names))
    return 0
