"""Runs `hdh-wizard DIR` in a child process with a crash forced at one kind of place.

Used by tests/test_crash_reports.py: the child is the real command (`cli.main.main`) with
Textual headless and driven by an autopilot, so its exit code, its output and its crash report
are what a user would get. Usage: python -m tests.crash_driver PLACE DIR
"""

from __future__ import annotations

import os
import sys
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

import hdh_wizard.cli.tui as tui
from hdh_wizard.cli.main import main
from hdh_wizard.core.steps import StepId
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.ui.app import HdhWizardApp
from hdh_wizard.ui.screens.home import HomeScreen
from hdh_wizard.ui.steps.account import AccountStepScreen

TYPED = os.environ["CRASH_TEST_TYPED_KEY"]  # typed on the Account step, in no store yet


def _raise_with_key(self: Any, *args: Any, **kwargs: Any) -> Any:
    key = TYPED  # a local holding the secret: Textual's traceback would show it
    raise RuntimeError(f"forced failure while checking {key!r} ({key})")


async def _type_key_and_verify(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, HdhWizardApp)
    await pilot.pause()
    app.open_step(StepId.ACCOUNT)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, AccountStepScreen)
    screen.query_one("#api-key", Input).value = TYPED
    screen.verify()
    for _ in range(200):
        await pilot.pause(0.05)


async def _open_account(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, HdhWizardApp)
    await pilot.pause()
    app.open_step(StepId.ACCOUNT)
    for _ in range(100):
        await pilot.pause(0.05)


async def _press(pilot: Pilot[None], *keys: str) -> None:
    await pilot.pause()
    await pilot.press(*keys)
    for _ in range(100):
        await pilot.pause(0.05)


def _environment_secret(*args: Any, **kwargs: Any) -> Any:
    secret = os.environ["HDH_WIZARD_API_KEY"]
    raise RuntimeError(f"forced failure holding {secret}")


def main_for(place: str, folder: str) -> int:
    autopilot: Any = lambda pilot: _press(pilot, "q")  # noqa: E731
    if place == "worker":  # an exception in a worker thread (the API client)
        DataGouvClient.me = _raise_with_key  # type: ignore[method-assign]
        autopilot = _type_key_and_verify
    elif place == "callback":  # an exception in a call_from_thread callback
        DataGouvClient.me = lambda self: object()  # type: ignore[method-assign,assignment]
        AccountStepScreen.verified = _raise_with_key  # type: ignore[method-assign]
        autopilot = _type_key_and_verify
    elif place == "compose":  # an exception while a screen is built
        AccountStepScreen.compose_form = _environment_secret  # type: ignore[method-assign]
        autopilot = _open_account
    elif place == "action":  # an exception in a key's action
        HomeScreen.action_help = _environment_secret  # type: ignore[method-assign]
        autopilot = lambda pilot: _press(pilot, "question_mark")  # noqa: E731
    elif place == "startup":  # an exception while the app starts
        HdhWizardApp.on_mount = _environment_secret  # type: ignore[method-assign]
    # place == "state": the test wrote a broken state file; quitting its screen is all.

    run = HdhWizardApp.run

    def headless_run(self: HdhWizardApp, **kwargs: Any) -> Any:
        return run(self, headless=True, size=(120, 40), auto_pilot=autopilot)

    HdhWizardApp.run = headless_run  # type: ignore[method-assign]
    tui.has_terminal = lambda: True  # the autopilot stands in for the terminal
    return main([folder])


if __name__ == "__main__":
    sys.exit(main_for(sys.argv[1], sys.argv[2]))
