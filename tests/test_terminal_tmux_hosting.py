"""The installed command in a real terminal, against a local S3: HDH staff on a server without a
keyring (the secret in HDH_WIZARD_STORAGE_SECRET) open the step, transfer, and commit; the secret
never appears on the screen nor in the state."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from hdh_wizard import project as projects
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.hosting_records import transfer_of
from hdh_wizard.core.steps import StepId
from tests.s3_local import ANY_SECRET, new_bucket
from tests.storage_helpers import (
    EXPECTED_PATHS,
    project_with_details,
)
from tests.tmux_helpers import COMMAND, tmux, wait_for

pytestmark = pytest.mark.slow


def test_staff_transfer_and_commit_in_a_real_terminal_and_the_secret_is_never_shown(
    tmp_path: Path, tmux_session: str, s3_server: str
) -> None:
    folder = tmp_path / "projet"
    bucket = new_bucket(s3_server)
    project_with_details(folder, s3_server, bucket)
    env = (
        f"env -u DBUS_SESSION_BUS_ADDRESS LANG=C.UTF-8 TERM=xterm-256color HOME={tmp_path} "
        "PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring "
        f"HDH_WIZARD_STORAGE_SECRET={ANY_SECRET}"
    )
    command = f"cd {tmp_path} && {env} {COMMAND} {folder}; sleep 30"
    tmux("new-session", "-d", "-s", tmux_session, "-x", "120", "-y", "40", command)
    tmux("set-window-option", "-t", tmux_session, "window-size", "manual")
    tmux("resize-window", "-t", tmux_session, "-x", "120", "-y", "40")
    wait_for(tmux_session, "Qui est au clavier", timeout=60)  # staff worked last, the partner too
    tmux("send-keys", "-t", tmux_session, "Enter")  # still the staff member
    time.sleep(0.5)  # the home list shows behind the question: let it close first
    wait_for(tmux_session, "Partager la base avec le HDH", timeout=60)
    tmux("send-keys", "-t", tmux_session, "Enter")  # the next step is highlighted: this one
    wait_for(tmux_session, "Compartiment (bucket)", timeout=60)
    wait_for(tmux_session, bucket, timeout=10)  # the details typed earlier, from the state
    time.sleep(0.5)  # Ctrl+T before the secret is looked up waits for it: either way works
    tmux("send-keys", "-t", tmux_session, "C-t")
    screen = wait_for(tmux_session, "Transfert terminé", timeout=90)
    assert "vérifié ✓" in screen
    assert ANY_SECRET not in screen and ANY_SECRET[:-4] not in screen
    tmux("send-keys", "-t", tmux_session, "C-s")
    wait_for(
        tmux_session, "Compte administrateur", timeout=60
    )  # back home, the next step highlighted
    tmux("send-keys", "-t", tmux_session, "q")
    time.sleep(1)
    subprocess.run(["tmux", "kill-session", "-t", tmux_session], capture_output=True)
    release = projects.read_project(folder)
    assert release.record(StepId.SHARE_WITH_HDH).status is StepStatus.DONE
    record = transfer_of(release)
    assert record is not None and record.done_by == "Hugo Bernard"
    assert [o.path for o in record.objects] == EXPECTED_PATHS
    assert ANY_SECRET not in (folder / "hdh-release.yaml").read_text(encoding="utf-8")
