"""Runs `hdh-wizard DIR` in a child process with a step's job that will not stop, then quits.

Used by tests/test_tui_leaving.py: the child is the real command (`cli.main.main`) with Textual
headless and driven by an autopilot. The interoperability step's inspection is replaced by one
that reads for a minute and never looks at its cancel signal (a long read between two cancel
points); the autopilot opens the step, waits for the job to run, leaves the step with Escape (or
not, with `WHERE=step`), then quits, and writes the time it pressed the key to QUIT_STAMP.

Usage: python -m tests.quit_driver WHERE DIR QUIT_STAMP   (WHERE: home or step)
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

import hdh_wizard.cli.tui as tui
import hdh_wizard.ui.steps.interoperability as interoperability
from hdh_wizard.cli.main import main
from hdh_wizard.core.steps import StepId
from hdh_wizard.ui.app import HdhWizardApp
from hdh_wizard.ui.screens.home import HomeScreen

STARTED = threading.Event()


def _stubborn_inspection(*args: Any, **kwargs: Any) -> Any:
    STARTED.set()
    for _ in range(600):  # a minute, in small steps that ignore any cancellation
        time.sleep(0.1)
    return []


def main_for(where: str, folder: str, stamp: Path) -> int:
    interoperability.inspect_all = _stubborn_inspection  # type: ignore[assignment]

    async def autopilot(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, HdhWizardApp)
        while not isinstance(app.screen, HomeScreen):  # the project opened
            await pilot.pause(0.05)
        app.open_step(StepId.INTEROPERABILITY)
        while not STARTED.is_set():
            await pilot.pause(0.05)
        if where == "home":
            await pilot.press("escape")  # leaving the step with its job running
            await pilot.pause(0.2)
            key = "q"
        else:
            key = "ctrl+q"
        stamp.write_text(repr(time.time()), encoding="utf-8")
        await pilot.press(key)

    run = HdhWizardApp.run

    def headless_run(self: HdhWizardApp, **kwargs: Any) -> Any:
        return run(self, headless=True, size=(120, 40), auto_pilot=autopilot)

    HdhWizardApp.run = headless_run  # type: ignore[method-assign]
    tui.has_terminal = lambda: True  # the autopilot stands in for the terminal
    return main([folder])


if __name__ == "__main__":
    sys.exit(main_for(sys.argv[1], sys.argv[2], Path(sys.argv[3])))
