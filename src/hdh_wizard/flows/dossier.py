"""The release dossier, written (or refreshed) in the project's `rapport/` folder.

`write_dossier(release, folder)` is called after each commit of a step, and by
`hdh-wizard dossier`. It writes `rapport/dossier-ouverture.md` and `.html`, each atomically
(`core.safe_files`); a file whose content did not change is left untouched. As a last guard, any
secret the environment holds (the API key, the storage secret) is masked in what is written,
should one ever have reached the state by hand.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from hdh_wizard import __version__
from hdh_wizard import project as projects
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.release import Release
from hdh_wizard.core.safe_files import write_atomically
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Catalogue, Lang, load_catalogue
from hdh_wizard.present.dossier import DOSSIER_STEM, render_html, render_markdown
from hdh_wizard.present.dossier_facts import REPORT_FOLDER
from hdh_wizard.project import Project
from hdh_wizard.redact import redact
from hdh_wizard.services.secrets import ENV_VARS


def save_release(
    project: Project,
    release: Release,
    cat: Catalogue | None = None,
    on_dossier_error: Callable[[HdhWizardError], None] = lambda _error: None,
) -> Project:
    """Save the state (raises what `project.save` raises); a step committed, skipped or
    reopened then refreshes the dossier. The dossier is a copy: failing to write it never
    undoes the save, it is only said (`on_dossier_error`)."""
    before = project.release
    saved = projects.save(project, release)
    if step_statuses(before) != step_statuses(saved.release):
        try:
            write_dossier(saved.release, project.folder, cat)
        except HdhWizardError as error:
            on_dossier_error(error)
    return saved


def step_statuses(release: Release) -> dict[StepId, StepStatus]:
    """What a change must alter for the dossier to be written again: a step's status."""
    return {step_id: record.status for step_id, record in release.steps.items()}


def dossier_paths(folder: Path) -> tuple[Path, Path]:
    """The HTML and Markdown dossiers of the project in `folder`."""
    base = folder / REPORT_FOLDER / DOSSIER_STEM
    return base.with_suffix(".html"), base.with_suffix(".md")


def write_dossier(release: Release, folder: Path, cat: Catalogue | None = None) -> tuple[Path, ...]:
    """Write both dossiers (French unless `cat` says otherwise); returns their paths.

    Raises `HdhWizardError` when the disk refuses (the previous files are then as they were),
    `LinkedPathError` when a symbolic link stands where a file would be written."""
    cat = cat or load_catalogue(Lang.FR)
    secrets = [os.environ.get(name, "") for name in ENV_VARS.values()]
    html_path, md_path = dossier_paths(folder)
    contents = {
        html_path: redact(render_html(release, cat, __version__), secrets),
        md_path: redact(render_markdown(release, cat, __version__), secrets),
    }
    try:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        for path, text in contents.items():
            data = text.encode("utf-8")
            if _holds(path, data):
                continue  # nothing changed: the file (and its date) stays as it is
            write_atomically(path, data, project=folder)
    except OSError as error:
        raise HdhWizardError(
            "dossier.error.write",
            folder=str(html_path.parent),
            detail=error.strerror or str(error),
        ) from error
    return tuple(contents)


def _holds(path: Path, data: bytes) -> bool:
    try:
        return not path.is_symlink() and path.is_file() and path.read_bytes() == data
    except OSError:
        return False
