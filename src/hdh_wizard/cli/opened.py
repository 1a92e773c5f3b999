"""A project opened by a headless command: found, locked, reconciled with its files (what
changed since is said first), the person running the command recorded, the lock released at
the end whatever happens."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.release import Person
from hdh_wizard.errors import ProjectError
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.present.presenters import resume_lines
from hdh_wizard.project import Project


@contextmanager
def opened_project(cat: Catalogue, folder: Path, actor: Person | None = None) -> Iterator[Project]:
    """`actor`: who runs the command, recorded as the release's actor (None: whoever last
    worked on it). Raises `ProjectError` without a project, `ProjectLockedError` when held."""
    if not projects.has_project(folder):
        raise ProjectError("error.no_project", folder=str(folder))
    lock = projects.acquire_lock(folder)
    try:
        project, report = projects.open_project(folder, None, datetime.now(UTC))
        for line in resume_lines(cat, report):  # files changed since: say which, first
            print(line, file=sys.stderr)
        if actor is not None:
            project.release = workflow.set_actor(project.release, actor)
        yield project
    finally:
        lock.release()
