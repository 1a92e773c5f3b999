"""The anonymity step as a partner goes through it again: a measured step opens without reading
its files again, a long scan says how far it is and stops with its screen, a table that describes
no person can be declared so, messages go with their cause, and focus stays where it was."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, DataTable, Input, Static

from hdh_wizard import project as projects
from hdh_wizard.core.steps import StepId
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.risk.analysis import Criterion
from hdh_wizard.inspect.risk.identifiers import Role
from hdh_wizard.ui.app import HdhWizardApp
from hdh_wizard.ui.steps import anonymity
from hdh_wizard.ui.steps.anonymity import AnonymityStepScreen

from .tui_helpers import ALICE, NOW, make_app, make_demo_project, until

SIZE = (140, 60)
COHORT = "donnees/cohorte_melanome.csv"
MAPPING = "donnees/lames_stades.csv"
REASON = "Correspondance lame vers stade : aucune ligne ne concerne une personne."


def _text(screen: AnonymityStepScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def _rows(screen: AnonymityStepScreen) -> list[list[str]]:
    table = screen.query_one("#risk-measures", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def _opened(app: HdhWizardApp, pilot: Pilot[None]) -> AnonymityStepScreen:
    app.open_step(StepId.ANONYMITY)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, AnonymityStepScreen)
    return screen


def _count_scans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = anonymity.scan_sources

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(anonymity, "scan_sources", counted)
    return calls


def _mapping_project(folder: Path) -> None:
    data = folder / "donnees"
    data.mkdir(parents=True)
    table = data / "lames_stades.csv"
    table.write_text(
        "id_lame,stade_pronostique\n"
        + "".join(f"d6ly8nf{i},{s}\n" for i, s in enumerate(["I", "II", "III", "IV", "II", "I"])),
        "utf-8",
    )
    projects.create_project(folder, "Lames", ALICE, [table], NOW)


async def test_a_measured_step_opens_again_without_scanning_until_a_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_demo_project(tmp_path)
    calls = _count_scans(monkeypatch)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _opened(app, pilot)
        await until(pilot, lambda: COHORT in screen.risks and not screen.working)
        first, rows = screen.risks[COHORT], _rows(screen)
    assert len(calls) == 1
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _opened(app, pilot)
        # The first frame already holds the figures: nothing was read.
        assert not screen.working
        assert screen.risks[COHORT] == first
        assert _rows(screen) == rows
        assert "Mesures reprises" in _text(screen, "#risk-status")
        assert len(calls) == 1
        screen.query_one("#risk-rescan", Button).press()  # "Mesurer à nouveau"
        await until(pilot, lambda: len(calls) == 2 and not screen.working)
        assert screen.risks[COHORT].original == first.original
    table = tmp_path / COHORT
    lines = table.read_text("utf-8").splitlines(keepends=True)
    table.write_text("".join([*lines, lines[-1]]), "utf-8")  # one more record
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _opened(app, pilot)
        await until(pilot, lambda: COHORT in screen.risks and not screen.working)
        assert len(calls) == 3
        assert screen.risks[COHORT].original.records == first.original.records + 1


def _slow_scan(
    monkeypatch: pytest.MonkeyPatch, steps: int, stopped: threading.Event, done: list[int]
) -> None:
    """A scan that reads its bytes slowly, and notes where it stopped."""
    real = anonymity.scan_sources

    def slow(sources: Any, progress: Progress, choose: Any = None) -> Any:
        try:
            for step in range(steps):
                time.sleep(0.05)
                progress.current = COHORT
                progress.advance(progress.total_bytes // (steps * 2))
                done.append(step)
            return real(sources, progress, choose)
        finally:
            stopped.set()

    monkeypatch.setattr(anonymity, "scan_sources", slow)


async def test_a_long_scan_shows_the_share_read_and_updates_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_demo_project(tmp_path)
    stopped, done = threading.Event(), []
    _slow_scan(monkeypatch, 60, stopped, done)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _opened(app, pilot)
        await until(pilot, lambda: "%" in _text(screen, "#risk-current"))
        first = _text(screen, "#risk-current")
        assert COHORT in first and "lus sur" in first
        await until(pilot, lambda: _text(screen, "#risk-current") != first)
        assert "%" in _text(screen, "#risk-current")
        await until(pilot, lambda: "reste environ" in _text(screen, "#risk-current"))
        await until(pilot, lambda: COHORT in screen.risks and not screen.working)


async def test_closing_the_screen_stops_its_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_demo_project(tmp_path)
    stopped, done = threading.Event(), []
    _slow_scan(monkeypatch, 2_000, stopped, done)  # 100 s if it were left to run
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _opened(app, pilot)
        await until(pilot, lambda: len(done) > 3)
        app.pop_screen()
        closed = time.monotonic()
        await until(pilot, stopped.is_set, seconds=5)
        assert time.monotonic() - closed < 2
        assert len(done) < 100
        assert not screen.is_attached


async def test_a_table_that_describes_no_person_is_declared_so_with_its_reason(
    tmp_path: Path,
) -> None:
    _mapping_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _opened(app, pilot)
        await until(pilot, lambda: bool(screen.refs) and not screen.working)
        # No column could be a quasi-identifier: the measure waits for a decision.
        assert MAPPING not in screen.risks
        assert "Aucun quasi-identifiant" in _text(screen, "#risk-status")
        await pilot.click("#risk-no-person")
        await pilot.pause()
        assert "Indiquez pourquoi" in _text(screen, "#risk-no-person-status")
        assert MAPPING not in screen.risks
        screen.query_one("#risk-no-person-reason", Input).focus()
        await pilot.press(*REASON)
        await until(
            pilot,
            lambda: (
                MAPPING in screen.risks
                and screen.risks[MAPPING].choice.no_person == REASON
                and not screen.working
            ),
        )
        risk = screen.risks[MAPPING]
        assert all(risk.excluded(c) for c in Criterion)
        # The message about the missing quasi-identifier went with its cause.
        assert "Aucun quasi-identifiant" not in _text(screen, "#risk-status")
        assert "Déclarée sans personne" in _text(screen, "#risk-no-person-status")
        assert REASON in _text(screen, "#criterion-singling_out")
        assert "exclue" in _text(screen, "#criterion-inference")
        assert screen.query_one("#risk-no-person", Checkbox).value
        await pilot.press("ctrl+d")
        await pilot.pause()
    state = projects.read_project(tmp_path).record(StepId.ANONYMITY).outputs
    assert state["choices"][MAPPING]["no_person"] == REASON


async def test_the_missing_quasi_identifier_message_goes_once_one_is_chosen_and_measured(
    tmp_path: Path,
) -> None:
    _mapping_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _opened(app, pilot)
        await until(pilot, lambda: bool(screen.refs) and not screen.working)
        assert "Aucun quasi-identifiant" in _text(screen, "#risk-status")
        table = screen.query_one("#risk-columns", DataTable)
        table.move_cursor(row=table.get_row_index("stade_pronostique"))
        await pilot.pause()
        screen.query_one(f"#role-{Role.QUASI.value}", Button).press()
        await until(pilot, lambda: MAPPING in screen.risks and not screen.working)
        assert screen.risks[MAPPING].choice.quasi == ("stade_pronostique",)
        assert "Aucun quasi-identifiant" not in _text(screen, "#risk-status")


async def test_writing_the_copy_keeps_focus_on_its_button_and_says_the_result_beside_it(
    tmp_path: Path,
) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _opened(app, pilot)
        await until(pilot, lambda: COHORT in screen.risks and not screen.working)
        export = screen.query_one("#risk-export", Button)
        export.focus()
        await pilot.pause()
        form = screen.query_one("#step-form")
        scrolled = form.scroll_y
        await pilot.press("enter")
        await until(pilot, lambda: COHORT in screen.replacements and not screen.working)
        await pilot.pause()
        assert app.focused is export
        assert abs(form.scroll_y - scrolled) <= 2
        result = _text(screen, "#risk-action-result")
        assert "publish/donnees_cohorte_melanome" in result
        # An edit withdraws the copy: the line that announced it goes too.
        table = screen.query_one("#risk-columns", DataTable)
        table.move_cursor(row=table.get_row_index("sexe"))
        await pilot.pause()
        screen.query_one(f"#role-{Role.OTHER.value}", Button).press()
        await pilot.pause()
        assert COHORT not in screen.replacements
        assert _text(screen, "#risk-action-result") == ""


async def test_cleaning_the_slides_keeps_focus_on_its_button_and_says_the_result_beside_it(
    tmp_path: Path,
) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _opened(app, pilot)
        await until(pilot, lambda: bool(screen.images) and not screen.working)
        clean = screen.query_one("#risk-clean-images", Button)
        clean.focus()
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: screen.replacements and not screen.working)
        await pilot.pause()
        assert app.focused is clean and clean.display
        (copy,) = screen.replacements.values()
        assert copy.display in _text(screen, "#risk-clean-result")
        assert _text(screen, "#risk-action-result") == ""


async def test_the_missing_quasi_identifier_message_speaks_of_the_screen_not_the_command(
    tmp_path: Path,
) -> None:
    _mapping_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _opened(app, pilot)
        await until(pilot, lambda: bool(screen.refs) and not screen.working)
        status = _text(screen, "#risk-status")
        assert "Aucun quasi-identifiant" in status
        assert "--qi" not in status and "Cette table ne décrit aucune personne" in status
