"""A crash anywhere in the wizard: a report without any secret, a message, a non-zero exit.

Each test runs the real command in a child process (tests/crash_driver.py) with a canary API key
in the environment and another typed on the Account step, forces an exception at one kind of
place, and looks everywhere a secret could end up: the terminal, the crash report, the state,
its backup and audit trail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from hdh_wizard.core.state_file import STATE_FILE_NAME
from hdh_wizard.crash import CRASH_EXIT_CODE, write_crash_report
from tests.tui_helpers import make_demo_project

ROOT = Path(__file__).resolve().parent.parent
ENV_CANARY = "udata_envcanary/7Hq+e9Zr2Lk4Wm8Px1Nb"
TYPED_CANARY = "udata_typedcanary/3Fz+Yv6Qs0Jd5Tg9Kc2R"
CANARIES = (ENV_CANARY, TYPED_CANARY)


def _forms(secret: str) -> list[str]:
    return [secret, quote(secret, safe=""), secret[6:]]


def _run(place: str, project: Path, state_home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "XDG_STATE_HOME": str(state_home),
        "HDH_WIZARD_API_KEY": ENV_CANARY,
        "CRASH_TEST_TYPED_KEY": TYPED_CANARY,
        "HDH_WIZARD_LANG": "fr",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    return subprocess.run(
        [sys.executable, "-m", "tests.crash_driver", place, str(project)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _assert_no_canary(*texts: str) -> None:
    for text in texts:
        for canary in CANARIES:
            for form in _forms(canary):
                assert form not in text


def _reports(state_home: Path) -> list[Path]:
    return sorted((state_home / "hdh-wizard" / "crashes").glob("crash-*.log"))


@pytest.mark.slow
@pytest.mark.parametrize("place", ["worker", "callback", "compose", "action", "startup"])
def test_a_crash_anywhere_writes_a_report_without_secrets_and_exits_non_zero(
    place: str, tmp_path: Path
) -> None:
    project = tmp_path / "projet"
    make_demo_project(project)
    state_home = tmp_path / "state"

    done = _run(place, project, state_home)

    assert done.returncode == CRASH_EXIT_CODE, done.stderr
    reports = _reports(state_home)
    assert len(reports) == 1
    report = reports[0].read_text(encoding="utf-8")
    assert "Traceback" in report and "forced failure" in report
    assert "erreur interne inattendue" in done.stderr
    assert str(reports[0]) in done.stderr
    assert "Traceback" not in done.stdout + done.stderr  # no traceback, no locals, on screen
    state = project / STATE_FILE_NAME
    backup = project / (STATE_FILE_NAME + ".bak")
    saved = [p.read_text(encoding="utf-8") for p in (state, backup) if p.exists()]
    _assert_no_canary(done.stdout, done.stderr, report, *saved)
    assert oct(reports[0].stat().st_mode & 0o777) == "0o600"


@pytest.mark.slow
def test_a_broken_state_file_at_resume_exits_non_zero_without_a_secret(tmp_path: Path) -> None:
    project = tmp_path / "projet"
    make_demo_project(project)
    (project / STATE_FILE_NAME).write_text("schema_version: [\n", encoding="utf-8")
    state_home = tmp_path / "state"

    done = _run("state", project, state_home)

    assert done.returncode == 1
    assert not _reports(state_home)
    _assert_no_canary(done.stdout, done.stderr)


def test_two_crashes_get_two_reports(tmp_path: Path) -> None:
    first = write_crash_report(RuntimeError("one"), (), folder=tmp_path)
    second = write_crash_report(RuntimeError("two"), (), folder=tmp_path)
    assert first is not None and second is not None and first != second
    assert "one" in first.read_text() and "two" in second.read_text()


def test_a_crash_report_redacts_a_secret_in_every_form(tmp_path: Path) -> None:
    secret = "S3cr3t/Key+With=Signs"
    encoded = quote(secret, safe="")
    lower_hex = re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), encoded)  # %2f, not %2F
    error = RuntimeError(f"{secret} {encoded} {lower_hex} {secret!r}")
    report = write_crash_report(error, {secret}, folder=tmp_path)
    assert report is not None
    text = report.read_text(encoding="utf-8")
    for form in (secret, encoded, lower_hex):
        assert form not in text


def test_a_crash_report_never_follows_a_planted_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me", encoding="utf-8")
    folder = tmp_path / "crashes"
    folder.mkdir()
    report = write_crash_report(RuntimeError("x"), (), folder=folder)
    assert report is not None
    report.unlink()
    report.symlink_to(outside)  # the same name a second crash in this second would take
    second = write_crash_report(RuntimeError("y"), (), folder=folder)
    assert second is not None and second != report
    assert outside.read_text(encoding="utf-8") == "keep me"
