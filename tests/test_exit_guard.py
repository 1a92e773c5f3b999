"""Quitting waits for the writes that go together (prepared files, then the state listing them),
and for nothing else."""

from __future__ import annotations

import threading
import time

from hdh_wizard.cli.tui import wait_for_unfinished
from hdh_wizard.core.exit_guard import finish_before_exit, unfinished


def test_the_command_ends_only_once_files_and_state_are_both_written() -> None:
    inside, release = threading.Event(), threading.Event()

    def install_then_record() -> None:
        with finish_before_exit():
            inside.set()
            release.wait(5)
            time.sleep(0.3)  # the state being saved

    worker = threading.Thread(target=install_then_record, daemon=True)
    worker.start()
    inside.wait(5)
    assert unfinished()
    release.set()
    start = time.monotonic()
    wait_for_unfinished()  # what the command does before ending the process
    assert time.monotonic() - start >= 0.25
    assert not unfinished() and not worker.is_alive()


def test_nested_sections_count_once_per_exit() -> None:
    with finish_before_exit():
        with finish_before_exit():
            assert unfinished()
        assert unfinished()
    assert not unfinished()
