"""Shared set-up for the TUI tests: a demo project at a fixed time, opened in the app, and the
one way to wait for what the screen's workers do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static

from hdh_wizard import project as projects
from hdh_wizard.core.enums import Role
from hdh_wizard.core.release import Person
from hdh_wizard.demo.generate import create_demo_data
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.datagouv.session import PortalSession
from hdh_wizard.ui.app import HdhWizardApp
from hdh_wizard.ui.widgets.checks import ChecksPanel

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
ALICE = Person("Alice Martin", Role.PARTNER)
STAFF = Person("Hugo Bernard", Role.HDH_STAFF)


def make_demo_project(folder: Path) -> projects.Project:
    paths = create_demo_data(folder)
    return projects.create_project(folder, "Cohorte test", ALICE, paths, NOW)


def make_app(
    folder: Path, lang: Lang = Lang.FR, portal: PortalSession | None = None
) -> HdhWizardApp:
    return HdhWizardApp(folder, load_catalogue(lang), clock=lambda: NOW, portal=portal)


async def until(
    pilot: Pilot[Any], condition: Callable[[], object], seconds: float = 60.0, *, every: float = 0.1
) -> None:
    """Let the app run, `every` seconds at a time, until `condition()` holds: workers talk to real
    servers and threads, so wait for what they do, not a fixed time. After `seconds` of pauses
    (counted as paused, so never less in wall time), fail naming the condition."""
    waited = 0.0
    while not condition():
        if waited > seconds:
            raise AssertionError(
                f"timed out after {seconds:g} s waiting for {_described(condition)}"
            )
        await pilot.pause(every)
        waited += every


def _described(condition: Callable[[], object]) -> str:
    """The condition's name and where it was written: `<lambda> (test_tui_share.py:197)`."""
    name = getattr(condition, "__qualname__", None) or repr(condition)
    code = getattr(condition, "__code__", None)
    if code is None:
        return name
    return f"{name} ({Path(code.co_filename).name}:{code.co_firstlineno})"


def status_text(screen: Any) -> str:
    """A data.gouv.fr step's status line."""
    return str(screen.query_one("#portal-status", Static).render())


def checks_text(screen: Any) -> str:
    return str(screen.query_one(ChecksPanel).render())
