"""`hdh-wizard dossier [DIR]`: the release dossier kept for HDH, written headless."""

from __future__ import annotations

from pathlib import Path

from hdh_wizard.errors import ProjectError
from hdh_wizard.flows.dossier import write_dossier
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.present.presenters import printable
from hdh_wizard.project import has_project, read_project


def run_dossier(cat: Catalogue, folder: Path) -> int:
    if not has_project(folder):
        raise ProjectError("error.no_project", folder=str(folder))
    release = read_project(folder)
    for path in write_dossier(release, folder, cat):
        print(cat.t("dossier.written", path=printable(str(path))))
    return 0
