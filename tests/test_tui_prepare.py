"""The prepare_data step screen (route 2): pick a table and a column, see the counts, split, draw a
seeded sample, group the slides, commit; a malformed table names its line; reopening shows it."""

from __future__ import annotations

import csv
import hashlib
import io
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, DataTable, Input, Select, Static

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Route, StepStatus
from hdh_wizard.core.hosting_records import PreparedKind, prepared_files
from hdh_wizard.core.preparation import preparation_of
from hdh_wizard.core.steps import StepId
from hdh_wizard.inspect import preparation as prep
from hdh_wizard.inspect.sample import sample_table
from hdh_wizard.ui.app import HdhWizardApp
from hdh_wizard.ui.steps.prepare_data import PrepareDataStepScreen
from tests.prepare_helpers import SLIDE_ID, STAGE, TABLE, hosted_project
from tests.tui_helpers import ALICE, NOW, make_app, make_demo_project, until

SIZE = (140, 60)
BROKEN = "donnees/casse.csv"
BROKEN_CONTENT = b"id,stade\n1,I\n2,II\n3,II,en trop\n4,III\n"


async def _open(app: HdhWizardApp, pilot: Pilot[None]) -> PrepareDataStepScreen:
    app.open_step(StepId.PREPARE_DATA)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, PrepareDataStepScreen)
    await until(pilot, lambda: bool(screen.choices.tables) and not screen.working)
    await until(pilot, lambda: _options(screen, "#prep-column") > 0)
    return screen


def _options(screen: PrepareDataStepScreen, selector: str) -> int:
    return len(screen.query_one(selector, Select)._options) - 1  # the prompt is an option too


def _counted(screen: PrepareDataStepScreen) -> bool:
    return screen.query_one("#prep-values", DataTable).row_count > 0 and not screen.working


async def _choose_column(pilot: Pilot[None], screen: PrepareDataStepScreen, index: int) -> None:
    """Pick the split column, and wait for its values to be counted."""
    screen.query_one("#prep-column", Select).value = index
    await pilot.pause()
    table = screen.query_one("#prep-table", Select).value
    await until(pilot, lambda: (table, index) in screen.counts and not screen.working)


def _text(screen: PrepareDataStepScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def _cells(screen: PrepareDataStepScreen, selector: str) -> list[list[str]]:
    table = screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def _press(pilot: Pilot[None], screen: PrepareDataStepScreen, button: str) -> None:
    screen.query_one(button, Button).press()
    await pilot.pause()
    await until(pilot, lambda: not screen.working)


def _stages(folder: Path) -> Counter[str]:
    text = (folder / TABLE).read_text(encoding="utf-8")
    return Counter(row["stade_pronostique"] for row in csv.DictReader(io.StringIO(text)))


async def test_split_and_sample_then_commit_records_checked_files(tmp_path: Path) -> None:
    hosted_project(tmp_path)
    stages = _stages(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        assert screen.query_one("#prep-table", Select).value == TABLE
        assert "1 table CSV" in _text(screen, "#prep-intro")
        await _choose_column(pilot, screen, STAGE)
        values = {row[0]: row[1] for row in _cells(screen, "#prep-values")}
        assert values == {stage: str(count) for stage, count in stages.items()}
        assert "4 fichiers" in _text(screen, "#prep-values-summary")
        two_rarest = sorted(stages.values())[1]
        screen.query_one("#prep-threshold", Input).value = str(two_rarest + 1)
        await pilot.pause()
        assert "3 fichiers" in _text(screen, "#prep-values-summary")  # the two rarest: autres
        destinations = [row[2] for row in _cells(screen, "#prep-values")]
        assert destinations.count("cohorte_melanome__autres.csv") == 2
        assert "cohorte_melanome__I.csv" in destinations
        screen.query_one("#prep-threshold", Input).value = ""
        await pilot.pause()

        await _press(pilot, screen, "#prep-split")
        written = _cells(screen, "#prep-parts")
        assert len(written) == 4
        assert all(row[0].startswith("publish/cohorte_melanome__") for row in written)
        assert "800 écrites pour 800" in _text(screen, "#prep-split-result")

        screen.query_one("#prep-size", Input).value = "40"
        screen.query_one("#prep-seed", Input).value = "2026"
        screen.query_one("#prep-stratify", Checkbox).value = True
        await _press(pilot, screen, "#prep-sample")
        result = _text(screen, "#prep-sample-result")
        assert (
            "regarder en premier" in result
            and "publish/cohorte_melanome__echantillon.csv" in result
        )
        assert "graine 2026" in result
        # Each run is kept at once: the state and publish/ never part ways.
        kept = preparation_of(projects.read_project(tmp_path))
        assert len(kept.files) == 5
        assert projects.read_project(tmp_path).record(StepId.PREPARE_DATA).status is (
            StepStatus.IN_PROGRESS
        )
        await pilot.press("ctrl+s")
        await pilot.pause()

    release = projects.read_project(tmp_path)
    assert release.record(StepId.PREPARE_DATA).status is StepStatus.DONE
    files = prepared_files(release)
    parts = [f for f in files if f.kind is PreparedKind.PART]
    assert {f.value: f.rows for f in parts} == dict(stages)
    for file in files:
        content = (tmp_path / file.path).read_bytes()
        assert hashlib.sha256(content).hexdigest() == file.sha256 and len(content) == file.size
    (sample,) = [f for f in files if f.kind is PreparedKind.SAMPLE]
    settings = preparation_of(release).table(TABLE).sample
    assert settings is not None and settings.seed == 2026 and settings.size == 40
    # The recorded seed draws the same sample again, outside the wizard.
    again = sample_table(
        tmp_path / TABLE,
        tmp_path / "again.csv",
        size=40,
        seed=settings.seed,
        stratify_column_index=STAGE,
    )
    assert again.sha256 == sample.sha256 and again.rows == sample.rows == 40


async def test_reopening_shows_what_was_done(tmp_path: Path) -> None:
    hosted_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        await _choose_column(pilot, screen, STAGE)
        screen.query_one("#prep-threshold", Input).value = "5"
        await _press(pilot, screen, "#prep-split")
        screen.query_one("#prep-fraction", Input).value = "10 %"
        screen.query_one("#prep-seed", Input).value = "77"
        await _press(pilot, screen, "#prep-sample")
        before = _cells(screen, "#prep-parts")
        await pilot.press("ctrl+s")
        await pilot.pause()

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        await until(pilot, lambda: screen.query_one("#prep-column", Select).value == STAGE)
        assert _cells(screen, "#prep-parts") == before
        assert screen.query_one("#prep-threshold", Input).value == "5"
        assert screen.query_one("#prep-seed", Input).value == "77"
        assert screen.query_one("#prep-fraction", Input).value == "0.1"
        assert "graine 77" in _text(screen, "#prep-sample-result")
        assert "80 lignes tirées sur 800" in _text(screen, "#prep-sample-result")


async def test_a_malformed_table_shows_the_line_to_fix(tmp_path: Path) -> None:
    hosted_project(tmp_path, {BROKEN: BROKEN_CONTENT})
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        screen.query_one("#prep-table", Select).value = BROKEN
        await until(pilot, lambda: _options(screen, "#prep-column") == 2)
        await _choose_column(pilot, screen, 1)
        await _press(pilot, screen, "#prep-split")
        message = _text(screen, "#prep-error")
        assert "« casse.csv » est mal formé à la ligne 4 : 3 champs au lieu de 2" in message
        screen.query_one("#prep-size", Input).value = "2"
        await _press(pilot, screen, "#prep-sample")
        assert "ligne 4" in _text(screen, "#prep-error")
        assert "echantillon" not in _text(screen, "#prep-sample-result")
    publish = tmp_path / "publish"
    assert not publish.exists() or not list(publish.iterdir())


async def test_slides_are_grouped_by_stage_from_the_cohort_table(tmp_path: Path) -> None:
    hosted_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        assert screen.query_one("#prep-folder", Select).value == "donnees/lames"
        screen.query_one("#prep-mapping", Select).value = TABLE
        await until(pilot, lambda: _options(screen, "#prep-value-column") > 0)
        screen.query_one("#prep-file-column", Select).value = SLIDE_ID
        screen.query_one("#prep-value-column", Select).value = STAGE
        await _press(pilot, screen, "#prep-split-files")
        result = _text(screen, "#prep-folder-result")
        assert "3 fichiers rangés" in result
        assert "publish/lames__stade_pronostique" in result
        assert "797 fichiers nommés dans la table mais introuvables" in result
        await pilot.press("ctrl+s")
        await pilot.pause()
    files = prepared_files(projects.read_project(tmp_path))
    assert files and all(f.kind is PreparedKind.FOLDER for f in files)
    assert sum(f.size for f in files) == sum(
        p.stat().st_size for p in (tmp_path / "donnees" / "lames").iterdir()
    )


async def test_cancel_stops_the_split_and_keeps_the_previous_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hosted_project(tmp_path)
    started = threading.Event()

    def endless_split(*args: Any, **_: Any) -> Any:
        progress = args[-1]
        started.set()
        while True:  # a very big table: only the cancel ends it
            progress.check()
            time.sleep(0.01)

    monkeypatch.setattr(prep, "split_into_publish", endless_split)  # (run by flows.prepare)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        await _choose_column(pilot, screen, STAGE)
        screen.query_one("#prep-split", Button).press()
        await until(pilot, started.is_set)
        assert screen.working and screen.query_one("#prep-work").display
        await pilot.press("escape")  # leaving now would leave the work running unseen
        assert app.screen is screen
        screen.query_one("#prep-cancel", Button).press()
        await until(pilot, lambda: not screen.working)
        assert not screen.query_one("#prep-work").display
        assert screen.preparation.files == ()
    publish = tmp_path / "publish"
    assert not publish.exists() or not list(publish.iterdir())


async def test_splitting_again_after_commit_reopens_the_step_with_the_new_files(
    tmp_path: Path,
) -> None:
    hosted_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        await _choose_column(pilot, screen, STAGE)
        await _press(pilot, screen, "#prep-split")
        await pilot.press("ctrl+s")
        await pilot.pause()
        screen = await _open(app, pilot)
        await until(pilot, lambda: _counted(screen))
        await _choose_column(pilot, screen, 1)
        await _press(pilot, screen, "#prep-split")
        assert "a été rouverte" in _text(screen, "#prep-all")
        # The state follows publish/ at once: open again, listing the new files.
        reopened = projects.read_project(tmp_path).record(StepId.PREPARE_DATA)
        assert reopened.status is StepStatus.IN_PROGRESS
        await pilot.press("ctrl+s")
        await pilot.pause()
    files = prepared_files(projects.read_project(tmp_path))
    assert {f.value for f in files} == {"F", "M"}
    assert all((tmp_path / f.path).exists() for f in files)
    assert not (tmp_path / "publish" / "cohorte_melanome__I.csv").exists()


async def test_before_anonymity_the_tables_can_be_browsed_but_not_split(tmp_path: Path) -> None:
    project = make_demo_project(tmp_path)
    projects.save(project, workflow.preview_route(project.release, Route.HOSTED, ALICE, NOW))
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        assert "Terminez d'abord" in _text(screen, "#prep-intro")
        await _choose_column(pilot, screen, STAGE)
        assert screen.query_one("#prep-values", DataTable).row_count == 4
        assert screen.query_one("#prep-split", Button).disabled
        assert screen.query_one("#prep-sample", Button).disabled
    assert not (tmp_path / "publish").exists()


async def test_an_empty_seed_is_drawn_at_random_shown_and_recorded(tmp_path: Path) -> None:
    hosted_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        seed_field = screen.query_one("#prep-seed", Input)
        assert seed_field.value == ""  # "au hasard"
        screen.query_one("#prep-size", Input).value = "25"
        await _press(pilot, screen, "#prep-sample")
        shown = seed_field.value
        assert shown.isdigit()
        assert f"graine {shown}" in _text(screen, "#prep-sample-result")
    settings = preparation_of(projects.read_project(tmp_path)).table(TABLE).sample
    assert settings is not None and settings.seed == int(shown) and settings.rows == 25
    assert settings.stratify_column is None
