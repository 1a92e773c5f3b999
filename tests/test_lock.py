"""One wizard per project: a second one is refused with the holder named; a crash frees it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hdh_wizard.core.lock import LOCK_FILE_NAME, ProjectLock
from hdh_wizard.errors import ProjectError, ProjectLockedError
from hdh_wizard.i18n.catalogue import Lang, load_catalogue

HOLDER = r"""
import sys
from pathlib import Path
from hdh_wizard.core.lock import ProjectLock

lock = ProjectLock(Path(sys.argv[1]), command="hdh-wizard /projets/melanome")
lock.acquire()
print("locked", flush=True)
sys.stdin.read()  # hold until the test closes our stdin (or kills us)
lock.release()
"""

TRY_LOCK = r"""
import sys
from pathlib import Path
from hdh_wizard.core.lock import ProjectLock
from hdh_wizard.errors import ProjectLockedError

try:
    with ProjectLock(Path(sys.argv[1])):
        print("acquired")
except ProjectLockedError as error:
    print("refused", error.params["pid"])
"""


@contextmanager
def holder_process(folder: Path) -> Iterator[subprocess.Popen[str]]:
    """Another wizard holding the project's lock until the block ends."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    try:
        assert child.stdout.readline() == "locked\n"
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()


def try_lock_in_another_process(folder: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", TRY_LOCK, str(folder)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def test_second_wizard_is_refused_with_a_message_naming_the_holder(tmp_path: Path) -> None:
    with holder_process(tmp_path) as holder, pytest.raises(ProjectLockedError) as caught:
        ProjectLock(tmp_path).acquire()

    params = caught.value.params
    assert params["pid"] == holder.pid
    assert params["command"] == "hdh-wizard /projets/melanome"
    assert params["user"] and params["host"] and params["since"]
    for lang in Lang:
        message = caught.value.message(load_catalogue(lang))
        assert str(holder.pid) in message
        assert "hdh-wizard /projets/melanome" in message


def test_lock_is_free_again_after_the_holder_is_killed(tmp_path: Path) -> None:
    with holder_process(tmp_path) as holder:
        os.kill(holder.pid, signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
        holder.wait()

        with ProjectLock(tmp_path) as lock:
            assert lock.held


def test_lock_is_released_when_the_with_block_ends(tmp_path: Path) -> None:
    with ProjectLock(tmp_path):
        assert try_lock_in_another_process(tmp_path) == f"refused {os.getpid()}"

    assert try_lock_in_another_process(tmp_path) == "acquired"


def test_lock_is_released_when_the_with_block_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), ProjectLock(tmp_path):
        raise RuntimeError("boom")

    assert try_lock_in_another_process(tmp_path) == "acquired"


def test_acquire_and_release_by_hand(tmp_path: Path) -> None:
    lock = ProjectLock(tmp_path)
    lock.acquire()
    assert lock.held
    lock.release()
    lock.release()  # twice is harmless

    assert not lock.held
    assert try_lock_in_another_process(tmp_path) == "acquired"


def test_holder_writes_who_it_is_into_the_lock_file(tmp_path: Path) -> None:
    with ProjectLock(tmp_path, command="hdh-wizard status"):
        info = json.loads((tmp_path / LOCK_FILE_NAME).read_text(encoding="utf-8"))

    assert info["pid"] == os.getpid()
    assert info["command"] == "hdh-wizard status"
    assert set(info) == {"pid", "command", "user", "host", "since"}
    assert info["since"].endswith("+00:00")


def test_refused_contender_does_not_erase_the_holders_info(tmp_path: Path) -> None:
    with holder_process(tmp_path) as holder:
        for _ in range(2):
            with pytest.raises(ProjectLockedError) as caught:
                ProjectLock(tmp_path).acquire()
            assert caught.value.params["pid"] == holder.pid


def test_lock_file_is_emptied_on_release_but_kept(tmp_path: Path) -> None:
    with ProjectLock(tmp_path):
        pass

    assert (tmp_path / LOCK_FILE_NAME).read_bytes() == b""


def test_second_lock_in_the_same_process_is_refused_too(tmp_path: Path) -> None:
    with ProjectLock(tmp_path), pytest.raises(ProjectLockedError) as caught:
        ProjectLock(tmp_path).acquire()

    assert caught.value.params["pid"] == os.getpid()


def test_holder_without_info_is_reported_with_question_marks(tmp_path: Path) -> None:
    fcntl = pytest.importorskip("fcntl")
    with open(tmp_path / LOCK_FILE_NAME, "wb") as silent_holder:
        fcntl.flock(silent_holder.fileno(), fcntl.LOCK_EX)  # locks but never says who it is

        with pytest.raises(ProjectLockedError) as caught:
            ProjectLock(tmp_path).acquire()

    assert caught.value.params == dict.fromkeys(("pid", "command", "user", "host", "since"), "?")


def test_lock_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectError) as caught:
        ProjectLock(tmp_path / "absent").acquire()

    assert caught.value.key == "state.lock_failed"
    assert "absent" in caught.value.message(load_catalogue(Lang.FR))
