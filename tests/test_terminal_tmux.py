"""The installed `hdh-wizard demo` command, run for real in tmux: typed into, screen read."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.tmux_helpers import COMMAND, tmux, wait_for

pytestmark = pytest.mark.slow


def _start_demo(session: str, home: Path, width: int, height: int) -> None:
    """`hdh-wizard demo` in a detached tmux window of that size, with `home` as its home."""
    env = f"env LANG=C.UTF-8 TERM=xterm-256color HOME={home}"
    command = f"cd {home} && {env} {COMMAND} demo; sleep 30"
    tmux("new-session", "-d", "-s", session, "-x", str(width), "-y", str(height), command)


def test_installed_demo_runs_in_a_real_terminal(tmp_path: Path, tmux_session: str) -> None:
    _start_demo(tmux_session, tmp_path, 100, 30)
    wait_for(tmux_session, "Anonymat des données")
    # A frame can be caught half painted (seen once: the list drawn, the header not yet).
    wait_for(tmux_session, "Cas 1")
    for _ in range(3):
        tmux("send-keys", "-t", tmux_session, "Down")
        time.sleep(0.2)
    tmux("send-keys", "-t", tmux_session, "Enter")
    wait_for(tmux_session, "Référence du contrat")
    tmux("send-keys", "-t", tmux_session, "-l", "HDH-OD-2024-017")
    time.sleep(0.3)
    tmux("send-keys", "-t", tmux_session, "C-d")
    wait_for(tmux_session, "Brouillon enregistré")
    tmux("send-keys", "-t", tmux_session, "Escape")
    time.sleep(0.3)
    tmux("send-keys", "-t", tmux_session, "q")
    time.sleep(1)
    status = subprocess.run(
        [str(COMMAND), "status", str(tmp_path / "hdh-wizard-demo"), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    doc = json.loads(status.stdout)
    contract = next(s for s in doc["steps"] if s["id"] == "contract")
    assert contract["status"] == "in_progress"


def test_installed_anonymity_step_measures_the_demo_in_a_real_terminal(
    tmp_path: Path, tmux_session: str
) -> None:
    _start_demo(tmux_session, tmp_path, 120, 40)
    wait_for(tmux_session, "Anonymat des données")
    tmux("send-keys", "-t", tmux_session, "Enter")  # the first step: anonymity
    wait_for(tmux_session, "quasi-identifiant", timeout=60)  # the scan proposed the roles
    tmux("send-keys", "-t", tmux_session, "Escape")
    time.sleep(0.3)
    tmux("send-keys", "-t", tmux_session, "q")
    time.sleep(1)
    risk = subprocess.run(
        [str(COMMAND), "risk", "donnees", "--json"],
        cwd=tmp_path / "hdh-wizard-demo",
        capture_output=True,
        text=True,
        check=False,
    )
    assert risk.returncode == 1, risk.stderr
    document = json.loads(risk.stdout)
    assert document["tables"][0]["original"]["records"] == 800
