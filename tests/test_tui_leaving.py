"""Leaving a screen never throws typed work away silently, and quitting never runs on in the dark.

Typed work on a step asks: save the draft, discard the changes, or stay (Escape stays); an
untouched form leaves at once. The same on quitting, and on the new project form (discard or
stay). Who is at the keyboard is asked on resume when both roles worked on the project.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import keyring.backends.fail
import pytest
from textual import events
from textual.errors import NoWidget
from textual.pilot import Pilot
from textual.widgets import Button, Input

import hdh_wizard.ui.steps.interoperability as interoperability
from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Environment, Role, StepStatus
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.datagouv.session import PortalSession
from hdh_wizard.services.secrets import SecretStore
from hdh_wizard.ui.app import HdhWizardApp
from hdh_wizard.ui.cancelling import JobCancelled, cancellable, stop_if_cancelled
from hdh_wizard.ui.screens.dialogs import LeaveDialog
from hdh_wizard.ui.screens.home import HomeScreen
from hdh_wizard.ui.screens.identity import IdentityDialog
from hdh_wizard.ui.screens.new_project import NewProjectScreen
from hdh_wizard.ui.steps.base import StepScreen

from .tui_helpers import ALICE, NOW, STAFF, make_app, make_demo_project, until

ROOT = Path(__file__).resolve().parent.parent
NOWHERE = "http://127.0.0.1:9"  # a closed port: the portal's lists fail at once, offline


def offline_portal() -> PortalSession:
    backend = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]
    return PortalSession(SecretStore(environ={}, backend=backend))


def make_offline_project(folder: Path) -> None:
    """The demo project, aimed at a portal that does not answer (the deposit's form only)."""
    project = make_demo_project(folder)
    release = workflow.set_target(
        project.release, Environment.CUSTOM, ALICE, NOW, url=NOWHERE, confirmed=True
    )
    projects.save(project, release)


async def open_step(app: HdhWizardApp, pilot: Pilot[None], step: StepId) -> StepScreen:
    app.open_step(step)
    await until(pilot, lambda: isinstance(app.screen, StepScreen))
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, StepScreen)
    return screen


async def type_into(pilot: Pilot[None], field: Input, text: str) -> None:
    field.focus()
    await pilot.pause()
    await pilot.press(*text)


async def answer(app: HdhWizardApp, pilot: Pilot[None], button: str) -> None:
    await until(pilot, lambda: isinstance(app.screen, LeaveDialog))
    dialog = app.screen
    dialog.query_one(f"#{button}", Button).press()
    await pilot.pause()


def field(screen: Any, field_id: str) -> Input:
    return screen.query_one(f"#{field_id}", Input)  # type: ignore[no-any-return]


# --- step screens ------------------------------------------------------------------------------


async def test_escape_on_an_untouched_contract_leaves_at_once(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await open_step(app, pilot, StepId.CONTRACT)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_escape_on_the_untouched_volume_step_leaves_at_once(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await open_step(app, pilot, StepId.VOLUME)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_escape_after_the_inspection_run_on_opening_leaves_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_demo_project(tmp_path)
    go = threading.Event()
    real = interoperability.inspect_all

    def held_inspection(*args: Any, **kwargs: Any) -> Any:
        go.wait(30)  # finishes once the screen is shown, as on a big base
        return real(*args, **kwargs)

    monkeypatch.setattr(interoperability, "inspect_all", held_inspection)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await open_step(app, pilot, StepId.INTEROPERABILITY)
        go.set()
        await until(pilot, lambda: bool(getattr(screen, "reports", None)))
        await pilot.press("escape")  # the screen computed it; nothing the user typed
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_typed_contract_asks_on_escape_and_the_draft_saved_comes_back(
    tmp_path: Path,
) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await open_step(app, pilot, StepId.CONTRACT)
        await type_into(pilot, field(screen, "reference"), "HDH-OD-7")
        await pilot.press("escape")
        await answer(app, pilot, "save")
        assert isinstance(app.screen, HomeScreen)
    saved = projects.read_project(tmp_path).record(StepId.CONTRACT)
    assert saved.status is StepStatus.IN_PROGRESS
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await open_step(app, pilot, StepId.CONTRACT)
        assert field(screen, "reference").value == "HDH-OD-7"
        await pilot.press("escape")  # reopened as saved: nothing to ask
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_discarding_the_typed_contract_drops_it(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await open_step(app, pilot, StepId.CONTRACT)
        await type_into(pilot, field(screen, "reference"), "HDH-OD-7")
        screen.query_one("#back", Button).press()  # the "Retour" button asks the same
        await answer(app, pilot, "discard")
        assert isinstance(app.screen, HomeScreen)
        screen = await open_step(app, pilot, StepId.CONTRACT)
        assert field(screen, "reference").value == ""
    assert projects.read_project(tmp_path).record(StepId.CONTRACT).status is StepStatus.TODO


async def test_staying_keeps_the_screen_and_what_was_typed(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await open_step(app, pilot, StepId.CONTRACT)
        await type_into(pilot, field(screen, "reference"), "HDH-OD-7")
        await pilot.press("escape")
        await answer(app, pilot, "stay")
        assert app.screen is screen
        assert field(screen, "reference").value == "HDH-OD-7"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, LeaveDialog))
        await pilot.press("escape")  # Escape in the question: stay
        await pilot.pause()
        assert app.screen is screen
        assert field(screen, "reference").value == "HDH-OD-7"


async def test_the_question_shows_its_three_answers_at_80x24(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_step(app, pilot, StepId.CONTRACT)
        await type_into(pilot, field(screen, "reference"), "HDH-OD-7")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, LeaveDialog))
        answers = list(app.screen.query(Button))
        assert [str(b.label) for b in answers] == [
            "Enregistrer le brouillon",
            "Abandonner les modifications",
            "Rester",
        ]
        await until(pilot, lambda: set(answers) <= _widgets_in_view(app))


async def test_a_draft_saved_then_changed_again_asks_again(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await open_step(app, pilot, StepId.CONTRACT)
        await type_into(pilot, field(screen, "reference"), "A")
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("escape")  # just saved: leaves
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        screen = await open_step(app, pilot, StepId.CONTRACT)
        await type_into(pilot, field(screen, "reference"), "B")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, LeaveDialog))


async def test_typed_documentation_of_the_deposit_asks_and_its_draft_comes_back(
    tmp_path: Path,
) -> None:
    make_offline_project(tmp_path)
    app = make_app(tmp_path, portal=offline_portal())
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await open_step(app, pilot, StepId.DEPOSIT)
        await pilot.press("escape")  # the template filled in, nothing typed: leaves at once
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        screen = await open_step(app, pilot, StepId.DEPOSIT)
        acronym = field(screen, "doc-acronym")
        await type_into(pilot, acronym, "VISIOMEL")
        await pilot.press("escape")
        await answer(app, pilot, "save")
        assert isinstance(app.screen, HomeScreen)
        screen = await open_step(app, pilot, StepId.DEPOSIT)
        assert field(screen, "doc-acronym").value == "VISIOMEL"
    record = projects.read_project(tmp_path).record(StepId.DEPOSIT)
    assert record.status is StepStatus.IN_PROGRESS


async def test_quitting_with_typed_work_asks_and_saves_the_draft(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await open_step(app, pilot, StepId.CONTRACT)
        await type_into(pilot, field(screen, "reference"), "HDH-Q")
        await pilot.press("ctrl+q")
        await answer(app, pilot, "stay")
        assert app.screen is screen and app.is_running
        await pilot.press("ctrl+q")
        await answer(app, pilot, "save")
        await until(pilot, lambda: not app.is_running, seconds=5)
    saved = projects.read_project(tmp_path).record(StepId.CONTRACT)
    assert saved.outputs["reference"] == "HDH-Q"


async def test_quitting_from_an_untouched_step_does_not_ask(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await open_step(app, pilot, StepId.CONTRACT)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running, seconds=5)


# --- the new project form ----------------------------------------------------------------------


async def test_new_project_form_untouched_leaves_at_once(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, NewProjectScreen))
        await pilot.press("escape")
        await until(pilot, lambda: not app.is_running, seconds=5)


async def test_new_project_form_typed_asks_discard_or_stay(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, NewProjectScreen))
        screen = app.screen
        await type_into(pilot, field(screen, "project-name"), "Cohorte")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, LeaveDialog))
        assert not app.screen.query("#save")  # no draft to keep before the project exists
        await answer(app, pilot, "stay")
        assert app.screen is screen
        assert field(screen, "project-name").value == "Cohorte"
        await pilot.press("escape")
        await answer(app, pilot, "discard")
        await until(pilot, lambda: not app.is_running, seconds=5)
    assert not projects.has_project(tmp_path)


# --- fields and keys ---------------------------------------------------------------------------


async def test_tabbing_into_a_filled_field_then_typing_appends(tmp_path: Path) -> None:
    make_offline_project(tmp_path)
    app = make_app(tmp_path, portal=offline_portal())
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await open_step(app, pilot, StepId.DEPOSIT)
        acronym = field(screen, "doc-acronym")
        acronym.value = "VISIOMEL-DEMO"
        field(screen, "doc-title").focus()
        await pilot.pause()
        await pilot.press("tab")  # from the title into the filled acronym
        await until(pilot, lambda: acronym.has_focus)
        await pilot.press(*"-2016")
        await pilot.pause()
        assert acronym.value == "VISIOMEL-DEMO-2016"


def _burst(app: HdhWizardApp, keys: list[str]) -> None:
    """Hand every key to the app at once, as a terminal does for a fast typist (or a paste):
    none waits for the previous one to be handled (Pilot's `press` does)."""
    driver = app._driver
    assert driver is not None
    for key in keys:
        name = {"-": "minus", "/": "slash", " ": "space"}.get(key, key)
        event = events.Key(name, key if len(key) == 1 else None)
        event.set_sender(app)
        driver.send_message(event)


async def test_a_fast_burst_of_text_tab_text_lands_where_aimed(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    busy = threading.Event()

    def load() -> None:  # a worker's share of the interpreter, as during a scan
        while not busy.is_set():
            sum(range(10_000))

    async with app.run_test(size=(120, 34)) as pilot:
        screen = await open_step(app, pilot, StepId.CONTRACT)
        field(screen, "reference").focus()
        await pilot.pause()
        loader = threading.Thread(target=load, daemon=True)
        loader.start()
        try:
            _burst(app, [*"HDH-1", "tab", *"15/01/2024", "tab", *"Claire", "tab", *"Jean"])
            await until(pilot, lambda: field(screen, "hdh_signatory").value == "Jean", seconds=10)
        finally:
            busy.set()
        assert field(screen, "reference").value == "HDH-1"
        assert field(screen, "signed_on").value == "15/01/2024"
        assert field(screen, "partner_signatory").value == "Claire"
        assert field(screen, "hdh_signatory").value == "Jean"


async def test_at_80x24_the_guide_is_folded_and_f1_opens_it(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_step(app, pilot, StepId.CONTRACT)
        guide = screen.query_one("#step-help")
        first = field(screen, "reference")
        assert first.has_focus and first in _widgets_in_view(app)
        assert guide not in _widgets_in_view(app)
        await pilot.press("f1")
        await until(pilot, lambda: guide in _widgets_in_view(app))
        assert first in _widgets_in_view(app)  # the form still shows below it
        await pilot.press("f1")
        await until(pilot, lambda: guide not in _widgets_in_view(app))


async def test_a_wide_screen_keeps_the_guide_open(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_step(app, pilot, StepId.CONTRACT)
        guide = screen.query_one("#step-help")
        assert guide in _widgets_in_view(app)
        await pilot.press("f1")
        await until(pilot, lambda: guide not in _widgets_in_view(app))


def _widgets_in_view(app: HdhWizardApp) -> set[Any]:
    """What the terminal shows, cell by cell (every widget drawn somewhere on it)."""
    width, height = app.size
    found: set[Any] = set()
    for y in range(height):
        for x in range(0, width, 2):
            try:
                widget, _ = app.screen.get_widget_at(x, y)
            except NoWidget:
                continue
            found.update([widget, *widget.ancestors])
    return found


# --- who is at the keyboard on resume ----------------------------------------------------------


def _staff_session_then(folder: Path) -> None:
    """The partner made the project; an HDH staff member worked on it last."""
    project = make_demo_project(folder)
    release = workflow.set_actor(project.release, STAFF)
    release = workflow.save_draft(release, StepId.CONTRACT, {"reference": "X"}, STAFF, NOW)
    projects.save(project, release)


async def test_resume_after_a_staff_session_asks_who_is_at_the_keyboard(tmp_path: Path) -> None:
    _staff_session_then(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 34)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, IdentityDialog))
        dialog = app.screen
        assert field(dialog, "actor-name").value == STAFF.name  # the last one, pre-filled
        assert ALICE.name in str(dialog.query_one("#other", Button).label)
        await pilot.press("tab", "enter")  # the partner, one key away
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.actor == ALICE
    assert projects.read_project(tmp_path).actor == ALICE


async def test_resume_keeps_the_last_actor_on_enter(tmp_path: Path) -> None:
    _staff_session_then(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 34)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, IdentityDialog))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.actor.role is Role.HDH_STAFF


async def test_resume_by_the_only_role_that_worked_does_not_ask(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 34)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.pause(0.3)
        assert isinstance(app.screen, HomeScreen)


async def test_resume_with_the_identity_given_does_not_ask(tmp_path: Path) -> None:
    _staff_session_then(tmp_path)
    app = HdhWizardApp(tmp_path, load_catalogue(Lang.FR), actor=ALICE, clock=lambda: NOW)
    async with app.run_test(size=(100, 34)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.pause(0.3)
        assert isinstance(app.screen, HomeScreen)
        assert app.actor == ALICE


# --- quitting while a job runs -----------------------------------------------------------------


def _quit_during_a_stubborn_job(where: str, tmp_path: Path) -> tuple[float, Path]:
    """Run the real command (tests/quit_driver.py) with a job that ignores cancellation; the
    seconds from the quit key to the process's end, and the project folder."""
    project = tmp_path / "projet"
    project.mkdir()
    make_demo_project(project)
    stamp = tmp_path / "quit-pressed"
    env = {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "HDH_WIZARD_LANG": "fr",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    result = subprocess.run(
        [sys.executable, "-m", "tests.quit_driver", where, str(project), str(stamp)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    ended = time.time()
    assert result.returncode == 0, result.stderr
    return ended - float(stamp.read_text(encoding="utf-8")), project


@pytest.mark.slow
@pytest.mark.parametrize("where", ["home", "step"])
def test_quitting_ends_within_seconds_while_a_job_ignores_cancellation(
    where: str, tmp_path: Path
) -> None:
    took, project = _quit_during_a_stubborn_job(where, tmp_path)
    assert took < 4, f"the process ran on {took:.1f} s after the quit key"
    assert not _lock_held(project)
    assert not list(project.glob("*.tmp")), "a temporary state file was left behind"
    projects.read_project(project)  # the state is whole


def _lock_held(project: Path) -> bool:
    """Another opening succeeds: the lock was released."""
    try:
        lock = projects.acquire_lock(project)
    except HdhWizardError:
        return True
    lock.release()
    return False


async def test_a_job_with_a_cancellable_progress_stops_once_its_screen_closes(
    tmp_path: Path,
) -> None:
    """The cooperative cancel point other screens use (hdh_wizard.ui.cancelling)."""
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    seen: list[int] = []
    outcome: list[str] = []

    def job() -> None:
        progress = cancellable(seen.append)
        try:
            for step in range(3000):  # 30 s unless stopped
                progress(step)
                time.sleep(0.01)
        except JobCancelled:
            outcome.append("stopped")
            return
        outcome.append("ran to the end")

    async with app.run_test(size=(120, 34)) as pilot:
        screen = await open_step(app, pilot, StepId.CONTRACT)
        screen.run_worker(job, thread=True)
        await until(pilot, lambda: len(seen) > 3)
        await pilot.press("escape")  # leaving the step cancels its workers
        await until(pilot, lambda: outcome, seconds=5)
        assert outcome == ["stopped"]
        assert len(seen) < 3000
    stop_if_cancelled()  # outside a worker (the headless command): never cancelled
