"""Set-up shared by the tests of "prepare the data" (route 2): the demo project with its formats,
anonymity and volume done, and its table's published description."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.inspect.fingerprint import describe_file
from hdh_wizard.inspect.preparation import Published, choices
from tests.tui_helpers import ALICE, NOW, make_demo_project

BIG = 5_000_000_000
TABLE = "donnees/cohorte_melanome.csv"
STAGE = 8  # stade_pronostique
SLIDE_ID = 11  # id_lame


def hosted_project(folder: Path, extra: dict[str, bytes] | None = None) -> Release:
    """The demo project brought to "prepare the data" on route 2: formats and anonymity done
    (the demo table, the slides, and `extra` tables published as they are), volume over 1 Go."""
    project = make_demo_project(folder)
    publish = [TABLE, "donnees/lames"]
    for name, content in (extra or {}).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        publish.append(name)
    entries = []
    for stored in publish:
        described = describe_file(folder / stored, folder)
        entries.append({"path": stored, "kind": "csv", "size": described.size, "sha256": ""})
    release = project.release
    release = workflow.commit_step(
        release, StepId.INTEROPERABILITY, {"publish": entries}, ALICE, NOW
    )
    release = workflow.commit_step(release, StepId.ANONYMITY, {}, ALICE, NOW)
    release = workflow.record_volume(release, BIG, ALICE, NOW)
    release = workflow.commit_step(release, StepId.VOLUME, {}, ALICE, NOW)
    projects.save(project, release)
    return release


def table_of(release: Release, folder: Path, stored: str = TABLE) -> Published:
    return next(t for t in choices(release, folder).tables if t.stored == stored)


def rows_of(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
