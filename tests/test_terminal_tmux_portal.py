"""The installed command in a real terminal, against the real udata: the key pasted, verified,
and never shown again, on a server without a keyring (the usual case for our users)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from hdh_wizard import project as projects
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.steps import StepId
from tests.portal_helpers import release_ready_for_portal
from tests.tmux_helpers import COMMAND, tmux, wait_for
from tests.udata_local.server import PARTNER, UdataServer

pytestmark = pytest.mark.slow


def test_api_key_is_verified_in_a_real_terminal_and_never_shown(
    tmp_path: Path, tmux_session: str, udata_server: UdataServer
) -> None:
    folder = tmp_path / "projet"
    folder.mkdir()
    release_ready_for_portal(folder, udata_server)
    env = (
        f"env -u DBUS_SESSION_BUS_ADDRESS LANG=C.UTF-8 TERM=xterm-256color HOME={tmp_path} "
        "PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring"
    )
    command = f"cd {tmp_path} && {env} {COMMAND} {folder}; sleep 30"
    tmux("new-session", "-d", "-s", tmux_session, "-x", "120", "-y", "40", command)
    # Without a client attached, tmux may keep its 80x24 default: fix the size by hand.
    tmux("set-window-option", "-t", tmux_session, "window-size", "manual")
    tmux("resize-window", "-t", tmux_session, "-x", "120", "-y", "40")
    wait_for(tmux_session, "Compte administrateur")
    tmux("send-keys", "-t", tmux_session, "Enter")  # the next step is highlighted: the account
    wait_for(tmux_session, "Pas de trousseau utilisable ici")
    time.sleep(0.5)  # the key field takes the focus once the screen is mounted
    tmux("send-keys", "-t", tmux_session, "-l", PARTNER.api_key)
    time.sleep(0.3)
    typed = wait_for(tmux_session, "•••••")
    assert PARTNER.api_key not in typed and PARTNER.api_key[-12:] not in typed  # dots only
    tmux("send-keys", "-t", tmux_session, "Enter")
    # Once verified, the field is emptied (the key is never shown again, even as dots).
    screen = wait_for(tmux_session, "udata_…")
    assert PARTNER.api_key[-12:] not in screen
    tmux("send-keys", "-t", tmux_session, "C-s")
    screen = wait_for(tmux_session, "Organisation sur data.gouv.fr")
    assert "Compte administrateur" in screen
    tmux("send-keys", "-t", tmux_session, "q")
    time.sleep(1)
    subprocess.run(["tmux", "kill-session", "-t", tmux_session], capture_output=True)
    release = projects.read_project(folder)
    assert release.record(StepId.ACCOUNT).status is StepStatus.DONE
    assert release.record(StepId.ACCOUNT).outputs["user_name"] == "Alice Martin"
    assert release.record(StepId.ACCOUNT).outputs["key_source"] == "session"
    assert PARTNER.api_key[-12:] not in (folder / "hdh-release.yaml").read_text()
