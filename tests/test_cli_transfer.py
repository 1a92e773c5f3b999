"""`hdh-wizard transfer`: the hosted release's files sent headless from the details in the state,
the secret from HDH_WIZARD_STORAGE_SECRET; committed when run as HDH staff; stopped by Ctrl+C or
killed mid-transfer, then resumed without resending finished parts."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from hdh_wizard import project as projects
from hdh_wizard.cli.main import main
from hdh_wizard.cli.transfer import run_transfer
from hdh_wizard.core.enums import Role, StepStatus
from hdh_wizard.core.hosting_records import transfer_of
from hdh_wizard.core.release import Person
from hdh_wizard.core.steps import StepId
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.storage import MultipartState
from tests.s3_local import ANY_SECRET, S3FaultProxy
from tests.storage_helpers import (
    BIG,
    EXPECTED_PATHS,
    PART,
    PREFIX,
    hosted_project,
    project_with_details,
    secrets,
)
from tests.tmux_helpers import COMMAND
from tests.tui_helpers import ALICE, make_demo_project

CAT = load_catalogue(Lang.FR)


def test_staff_transfer_every_file_headless_and_the_step_is_committed(
    tmp_path: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project_with_details(tmp_path, s3_server, bucket)

    code = run_transfer(CAT, tmp_path, secrets=secrets(), part_size=PART)

    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"compartiment {bucket}" in err and "6 fichiers" in err
    for path in EXPECTED_PATHS:
        assert f"vérifié : {path} → {s3_server}/{bucket}/{PREFIX}{path}" in out
    assert "validée par Hugo Bernard" in out
    release = projects.read_project(tmp_path)
    assert release.record(StepId.SHARE_WITH_HDH).status is StepStatus.DONE
    record = transfer_of(release)
    assert record is not None and record.done_by == "Hugo Bernard"
    assert [o.path for o in record.objects] == EXPECTED_PATHS
    assert ANY_SECRET not in (tmp_path / "hdh-release.yaml").read_text(encoding="utf-8")
    assert ANY_SECRET not in out + err


def test_a_partner_may_transfer_but_the_step_waits_for_staff(
    tmp_path: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project_with_details(tmp_path, s3_server, bucket, actor=ALICE)

    code = run_transfer(CAT, tmp_path, secrets=secrets(), part_size=PART)

    out, _ = capsys.readouterr()
    assert code == 0
    assert "reste à valider par un membre de l'équipe HDH" in out
    release = projects.read_project(tmp_path)
    assert release.record(StepId.SHARE_WITH_HDH).status is StepStatus.IN_PROGRESS
    record = transfer_of(release)
    assert record is not None and len(record.objects) == 6


def test_a_staff_member_named_on_the_command_line_commits_the_partners_project(
    tmp_path: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project_with_details(tmp_path, s3_server, bucket, actor=ALICE)

    code = run_transfer(
        CAT,
        tmp_path,
        secrets=secrets(),
        part_size=PART,
        actor=Person("Hugo Bernard", Role.HDH_STAFF),
    )

    assert code == 0
    release = projects.read_project(tmp_path)
    assert release.record(StepId.SHARE_WITH_HDH).status is StepStatus.DONE
    record = transfer_of(release)
    assert record is not None and record.done_by == "Hugo Bernard"
    with pytest.raises(SystemExit) as usage:
        main(["transfer", str(tmp_path), "--staff", "  "])
    assert usage.value.code == 2
    assert "donnez votre nom" in capsys.readouterr().err


def test_without_details_or_secret_the_command_says_what_to_do(
    tmp_path: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    hosted_project(tmp_path / "sans-details")
    assert run_transfer(CAT, tmp_path / "sans-details", secrets=secrets()) == 1
    assert "Aucun paramètre de stockage" in capsys.readouterr().err
    project_with_details(tmp_path / "sans-cle", s3_server, bucket)
    assert run_transfer(CAT, tmp_path / "sans-cle", secrets=secrets("")) == 1
    assert "HDH_WIZARD_STORAGE_SECRET" in capsys.readouterr().err


def test_a_wrong_bucket_is_explained_with_exit_code_1(
    tmp_path: Path, s3_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project_with_details(tmp_path, s3_server, "pas-de-tel-bucket")
    assert run_transfer(CAT, tmp_path, secrets=secrets(), part_size=PART) == 1
    assert "n'existe pas" in capsys.readouterr().err


def test_a_bad_part_size_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["transfer", str(tmp_path), "--part-size", "2"])
    assert usage.value.code == 2
    assert "au moins 5" in capsys.readouterr().err


def _child(folder: Path, home: Path) -> subprocess.Popen[str]:
    """The installed command, on a server without a keyring, the secret in the environment."""
    environment = {
        **os.environ,
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "HDH_WIZARD_LANG": "fr",
        "HDH_WIZARD_STORAGE_SECRET": ANY_SECRET,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    return subprocess.Popen(
        [str(COMMAND), "transfer", str(folder), "--part-size", "5", "--workers", "1"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _big_upload(folder: Path) -> MultipartState | None:
    try:
        record = transfer_of(projects.read_project(folder))
    except Exception:  # read while being replaced: try again
        return None
    return MultipartState.from_dict(record.uploads.get(BIG)) if record else None


def _wait_for_parts(folder: Path, child: subprocess.Popen[str], count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.poll() is not None:
            pytest.fail(f"the transfer ended before it was stopped: {child.communicate()}")
        state = _big_upload(folder)
        if state is not None and state.done_parts >= count:
            return
        time.sleep(0.05)
    pytest.fail("no part was recorded in time")


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["killed", "ctrl-c"])
def test_a_transfer_stopped_mid_way_resumes_without_resending_finished_parts(
    tmp_path: Path,
    proxy: S3FaultProxy,
    bucket: str,
    stop: signal.Signals,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "projet"
    project_with_details(folder, proxy.url, bucket)
    proxy.delay("UploadPart", 0.4)  # a slow link: the stop lands mid-transfer
    child = _child(folder, tmp_path)
    try:
        _wait_for_parts(folder, child, 1)
        child.send_signal(stop)
        _out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    if stop is signal.SIGINT:  # the parts under way finish, are recorded, and it says so
        assert child.returncode == 1, err
        assert "Interruption demandée" in err and "annulé" in err
    else:
        assert child.returncode == -signal.SIGKILL
    assert proxy.wait_idle()
    saved = _big_upload(folder)
    assert saved is not None and 1 <= saved.done_parts < 3
    recorded = {number for number, _, _ in saved.parts}
    on_server = set(proxy.part_numbers(ok_only=True))
    proxy.clear()

    code = run_transfer(CAT, folder, secrets=secrets())  # the part size recorded is kept

    assert code == 0, capsys.readouterr().err
    sent_again = proxy.part_numbers()
    assert sorted(sent_again) == sorted({1, 2, 3} - on_server)
    assert not recorded & set(sent_again)
    assert not proxy.seen("CreateMultipartUpload")
    put = sorted(r.path.rsplit(PREFIX, 1)[1] for r in proxy.seen("PutObject"))  # in parallel
    assert put == ["notice.pdf", "publish/echantillon.csv"]  # those before were not resent
    release = projects.read_project(folder)
    assert release.record(StepId.SHARE_WITH_HDH).status is StepStatus.DONE


def test_a_release_of_one_go_or_less_has_nothing_to_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_demo_project(tmp_path)  # the demo is small: route 1, deposited on data.gouv.fr

    assert run_transfer(CAT, tmp_path, secrets=secrets()) == 1
    assert "cas de figure 1 (≤ 1 Go)" in capsys.readouterr().err
