"""Interoperability shows what will be published: the anonymity step's copies in place of the
originals, and never the values of the columns the anonymity step marked."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Select, Static

from hdh_wizard.core.steps import StepId
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.ui.app import HdhWizardApp
from hdh_wizard.ui.steps import interoperability
from hdh_wizard.ui.steps.anonymity import AnonymityStepScreen
from hdh_wizard.ui.steps.interoperability import InteroperabilityStepScreen

from .tui_helpers import make_app, make_demo_project, until

SIZE = (140, 60)
COHORT = "donnees/cohorte_melanome.csv"
COPY = "publish/donnees_cohorte_melanome_anonymise.csv"
EXACT_DATE = re.compile(r"\b(19|20)\d\d-\d\d-\d\d\b")


async def _anonymity_draft(tmp_path: Path, *, write_copy: bool) -> None:
    """The partner reduces the diagnosis date to its year (the proposed removals of the patient
    and slide codes stay), writes the copy or not, and saves the draft."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_step(StepId.ANONYMITY)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AnonymityStepScreen)
        await until(pilot, lambda: COHORT in screen.risks and not screen.working)
        table = screen.query_one("#risk-columns", DataTable)
        table.move_cursor(row=table.get_row_index("date_diagnostic"))
        await pilot.pause()
        screen.query_one("#risk-rule", Select).value = "year"
        await until(
            pilot,
            lambda: (
                COHORT in screen.risks
                and any(r.column == "date_diagnostic" for r in screen.risks[COHORT].choice.rules)
                and not screen.working
            ),
        )
        if write_copy:
            screen.query_one("#risk-export").press()
            await until(pilot, lambda: COHORT in screen.replacements and not screen.working)
        await pilot.press("ctrl+d")
        await pilot.pause()


async def _interoperability(app: HdhWizardApp, pilot: Pilot[None]) -> InteroperabilityStepScreen:
    app.open_step(StepId.INTEROPERABILITY)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, InteroperabilityStepScreen)
    await until(pilot, lambda: screen.reports and not screen.query_one("#interop-work").display)
    return screen


def _detail_of(screen: InteroperabilityStepScreen, path: str) -> str:
    index = [r.path for r in screen.reports].index(path)
    screen.query_one(DataTable).move_cursor(row=index)
    screen._show_detail(index)
    return str(screen.query_one("#file-detail", Static).render())


async def test_the_generalised_copy_is_inspected_in_place_of_the_original(
    tmp_path: Path,
) -> None:
    make_demo_project(tmp_path)
    await _anonymity_draft(tmp_path, write_copy=True)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _interoperability(app, pilot)
        assert screen.copies[COHORT].path == COPY
        table = screen.query_one(DataTable)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert any(COPY in name and COHORT in name for name in names)
        detail = _detail_of(screen, COHORT)
        assert COPY in detail
        assert "id_patient" not in detail  # removed from the copy
        assert not EXACT_DATE.search(detail)  # dates reduced to the year
        assert "VM-" not in detail


async def test_columns_the_anonymity_step_marked_show_only_their_shape(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    await _anonymity_draft(tmp_path, write_copy=False)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _interoperability(app, pilot)
        assert COHORT not in screen.copies  # no copy yet: the original is inspected
        detail = _detail_of(screen, COHORT)
        assert "id_patient" in detail and "date_diagnostic" in detail
        assert not re.search(r"VM-\d", detail)  # the patient code, marked as removed
        assert not EXACT_DATE.search(detail)  # the diagnosis date, generalised
        assert "XX-999999" in detail


async def test_closing_the_screen_stops_its_inspection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_demo_project(tmp_path)
    stopped, steps = threading.Event(), []

    def slow(entries: Any, progress: Progress, identifying: Any = None) -> Any:
        try:
            for step in range(2_000):  # 100 s if it were left to run
                time.sleep(0.05)
                progress.advance(1)
                steps.append(step)
            return []
        finally:
            stopped.set()

    monkeypatch.setattr(interoperability, "inspect_all", slow)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_step(StepId.INTEROPERABILITY)
        await until(pilot, lambda: len(steps) > 3)
        app.pop_screen()
        closed = time.monotonic()
        await until(pilot, stopped.is_set, seconds=5)
        assert time.monotonic() - closed < 2
        assert len(steps) < 100
