"""Crash safety: a wizard killed at any moment while saving leaves a complete state file."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hdh_wizard.core.release import Release
from hdh_wizard.core.state_file import (
    STATE_FILE_NAME,
    backup_path,
    load_release,
    remove_leftover_temp_files,
    save_release,
)
from hdh_wizard.core.steps import StepId

# The releases saved, as source shared by this test and the child process: release `n` has a
# size that grows with `n` (and starts over), so kills land in files of many sizes.
BUILDER = r"""
from datetime import UTC, datetime, timedelta
from hdh_wizard.core.enums import Role, StepStatus
from hdh_wizard.core.release import AuditAction, AuditEntry, Person, Release, StepRecord
from hdh_wizard.core.steps import StepId

WHO = Person("Élodie Martin", Role.PARTNER)
T0 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


def build(n):
    entries = n % 300 + 1
    audit = tuple(
        AuditEntry(T0 + timedelta(seconds=i), WHO, AuditAction.DRAFT_SAVED, StepId.CONTRACT,
                   f"révision {i} " + "é" * (i % 40))
        for i in range(entries)
    )
    outputs = {"n": n, "entries": entries, "notes": "ligne\n" * (n % 500)}
    return Release(
        name=f"sauvegarde n°{n}",
        created_at=T0,
        actor=WHO,
        steps={StepId.CONTRACT: StepRecord(StepStatus.IN_PROGRESS, outputs)},
        audit=audit,
    )
"""

CHILD = (
    BUILDER
    + r"""
import sys
from pathlib import Path
from hdh_wizard.core.state_file import save_release

path, n = Path(sys.argv[1]), int(sys.argv[2])
print("ready", flush=True)
while True:
    save_release(build(n), path)
    n += 1
"""
)

KILLS = 40
TIME_BUDGET = 30.0  # seconds: stop killing early on a slow machine rather than time out


def builder() -> Callable[[int], Release]:
    namespace: dict[str, object] = {}
    exec(BUILDER, namespace)
    build = namespace["build"]
    assert callable(build)
    return build


def start_saving(path: Path, first: int) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(first)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    return child


def saved_number(release: Release) -> int:
    number = release.record(StepId.CONTRACT).outputs["n"]
    assert isinstance(number, int)
    return number


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_state_survives_kill_during_save(tmp_path: Path) -> None:
    build = builder()
    path = tmp_path / STATE_FILE_NAME
    save_release(build(0), path)
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    last = 0
    deadline = time.monotonic() + TIME_BUDGET
    kills = 0

    while kills < KILLS and time.monotonic() < deadline:
        child = start_saving(path, last + 1)
        time.sleep(rng.uniform(0.0, 0.2))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        kills += 1

        loaded = load_release(path)  # never raises: the old or the new file is there, whole
        number = saved_number(loaded)
        assert loaded == build(number), f"incomplete release #{number} (seed {seed})"
        assert number >= last, f"went back from #{last} to #{number} (seed {seed})"
        if backup_path(path).exists():
            backup = load_release(backup_path(path))
            assert backup == build(saved_number(backup)), f"broken backup (seed {seed})"
        last = number

    assert kills >= 10, "too few kills within the time budget"
    assert last > kills, f"the child hardly saved anything (seed {seed})"
    # Kills in the middle of a save leave temporary files; the next wizard can sweep them.
    remove_leftover_temp_files(path)
    assert {p.name for p in tmp_path.iterdir()} == {path.name, backup_path(path).name}
