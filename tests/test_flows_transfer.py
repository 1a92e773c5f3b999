"""`flows.transfer`, without a screen or a command: the checks in their one order, "nothing to
redo" on a done step still hosted, the reopen rule when an object went missing, progress saved
and told, a cancel keeping what was sent, and the commit refused to a partner for the screen and
the command alike. Against the local S3 server where files are sent."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from hdh_wizard import project as projects
from hdh_wizard.cli.transfer import run_transfer
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.hosting_records import TransferRecord, transfer_of
from hdh_wizard.core.release import AuditAction, Person
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows import transfer as flow
from hdh_wizard.flows.port import FlowContext, ProjectStore
from hdh_wizard.flows.transfer import (
    AlreadyHosted,
    NeedsStaff,
    Plan,
    Refusal,
    Refused,
    TransferEvents,
)
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.storage import StorageConfig, StorageError, StorageErrorKind
from hdh_wizard.services.storage.hosting import HostedCheck, HostingOutcome, HostingProgress
from tests.s3_local import ANY_KEY_ID, ANY_SECRET, raw_client
from tests.storage_helpers import (
    BIG,
    EXPECTED_PATHS,
    PART,
    PREFIX,
    hosted_project,
    project_with_details,
    secrets,
)
from tests.tui_helpers import ALICE, NOW, STAFF

CAT = load_catalogue(Lang.FR)
STEP = StepId.SHARE_WITH_HDH


def context(folder: Path, actor: Person = STAFF) -> FlowContext:
    return FlowContext(
        ProjectStore(projects.open_project(folder, None, NOW)[0]), actor, lambda: NOW
    )


def details(endpoint: str = "http://127.0.0.1:9", bucket: str = "seau") -> StorageConfig:
    return StorageConfig(endpoint, "", bucket, PREFIX, ANY_KEY_ID)


def reason(result: Refused | Plan) -> Refusal | None:
    return result.reason if isinstance(result, Refused) else None


def test_the_checks_are_made_in_one_order(tmp_path: Path) -> None:
    project = hosted_project(tmp_path)
    release, folder = project.release, tmp_path
    # Everything wrong at once: the route is said first, then each in turn as it is put right.
    (tmp_path / "notice.pdf").unlink()
    late = workflow.undo_step(release, StepId.CONTRACT, STAFF, NOW)[0]
    small = workflow.record_volume(late, 10, ALICE, NOW)
    assert reason(flow.refusal(small, folder, None, "")) is Refusal.NOT_HOSTED
    assert reason(flow.refusal(late, folder, None, "")) is Refusal.NO_DETAILS
    bad = StorageConfig("http://127.0.0.1:9", "", "", PREFIX, ANY_KEY_ID)
    assert reason(flow.refusal(late, folder, bad, "")) is Refusal.BAD_DETAILS
    assert reason(flow.refusal(late, folder, details(), "")) is Refusal.NO_SECRET
    blocked = flow.refusal(late, folder, details(), ANY_SECRET)
    assert isinstance(blocked, Refused) and blocked.reason is Refusal.BLOCKED
    assert "Contractualisation" in blocked.message(CAT)
    missing = flow.refusal(release, folder, details(), ANY_SECRET)
    assert isinstance(missing, Refused) and missing.reason is Refusal.MISSING
    assert "notice.pdf" in missing.message(CAT)
    assert "«notice.pdf»" in missing.message(CAT, lambda p: f"«{p}»")  # the command's writing
    (tmp_path / "notice.pdf").write_bytes(b"%PDF-1.4 notice\n")
    plan = flow.refusal(release, folder, details(), ANY_SECRET)
    assert isinstance(plan, Plan)
    assert sorted(f.path for f in plan.files) == sorted(EXPECTED_PATHS)


def test_the_screen_and_the_command_refuse_a_partner_commit_the_same_way(
    tmp_path: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project_with_details(tmp_path, s3_server, bucket, actor=ALICE)
    # The command: everything sent, the step left for staff (said, exit 0).
    assert run_transfer(CAT, tmp_path, secrets=secrets(), part_size=PART) == 0
    assert "reste à valider par un membre de l'équipe HDH" in capsys.readouterr().out
    release = projects.read_project(tmp_path)
    assert release.record(STEP).status is StepStatus.IN_PROGRESS
    record = transfer_of(release)
    assert record is not None and len(record.objects) == 6
    # The screen's commit (`committed`, applied by the app) and the flow's, refused alike.
    with pytest.raises(NeedsStaff) as screen_refusal:
        flow.committed(release, record, ALICE, NOW)
    ctx = context(tmp_path, ALICE)
    with pytest.raises(NeedsStaff) as flow_refusal:
        flow.commit(ctx, record)
    assert screen_refusal.value.message(CAT) == flow_refusal.value.message(CAT)
    assert projects.read_project(tmp_path).record(STEP).status is StepStatus.IN_PROGRESS
    # Staff commit what the partner sent, with no upload left and their name.
    done = flow.commit(context(tmp_path, STAFF), record)
    assert done.record(STEP).status is StepStatus.DONE
    committed = transfer_of(projects.read_project(tmp_path))
    assert committed is not None and committed.done_by == STAFF.name and not committed.uploads


def sent(tmp_path: Path, s3_server: str, bucket: str) -> TransferRecord:
    """The project's files sent and the step committed by staff, through the flow."""
    hosted_project(tmp_path)
    ctx = context(tmp_path)
    outcome = flow.transfer(ctx, tmp_path, details(s3_server, bucket), ANY_SECRET, part_size=PART)
    assert isinstance(outcome, HostingOutcome) and outcome.ok
    flow.commit(ctx, outcome.record)
    return outcome.record


def test_a_done_step_still_hosted_is_checked_not_reopened(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    sent(tmp_path, s3_server, bucket)
    started: list[Plan] = []
    checked: list[HostedCheck] = []
    events = TransferEvents(started=started.append, checked=checked.append)

    result = flow.transfer(
        context(tmp_path), tmp_path, details(s3_server, bucket), ANY_SECRET, events=events
    )

    assert isinstance(result, AlreadyHosted) and len(result.checks) == 6
    assert not started and len(checked) == 6
    release = projects.read_project(tmp_path)
    assert release.record(STEP).status is StepStatus.DONE
    assert AuditAction.UNDONE not in {e.action for e in release.audit}


def test_an_object_gone_from_the_storage_reopens_the_step_and_is_sent_again(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    record = sent(tmp_path, s3_server, bucket)
    gone = record.object("notice.pdf")
    assert gone is not None
    raw_client(s3_server).delete_object(Bucket=bucket, Key=gone.key)

    result = flow.transfer(context(tmp_path), tmp_path, details(s3_server, bucket), ANY_SECRET)

    assert isinstance(result, HostingOutcome) and result.ok
    assert [o.path for o in result.record.objects] == EXPECTED_PATHS
    release = projects.read_project(tmp_path)
    assert release.record(STEP).status is StepStatus.IN_PROGRESS  # reopened, to commit again
    assert AuditAction.UNDONE in {e.action for e in release.audit}
    raw_client(s3_server).head_object(Bucket=bucket, Key=gone.key)  # there again


def test_progress_is_told_and_saved_and_a_cancel_keeps_what_was_sent(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    hosted_project(tmp_path)
    ctx = context(tmp_path)
    saved: list[TransferRecord] = []
    reports: list[HostingProgress] = []

    def progress(report: HostingProgress) -> None:
        reports.append(report)
        if report.path == BIG:
            ctx.cancel.set()  # the user presses "Annuler" (or Ctrl+C) as the image starts

    events = TransferEvents(progress=progress, saved=saved.append)
    with pytest.raises(StorageError) as stopped:
        flow.transfer(
            ctx, tmp_path, details(s3_server, bucket), ANY_SECRET, events=events, part_size=PART
        )

    assert stopped.value.kind is StorageErrorKind.CANCELLED
    assert reports and saved
    record = transfer_of(projects.read_project(tmp_path))
    assert record is not None and record.object("donnees/sejours.csv") is not None
    assert record.object("notice.pdf") is None  # after the image: not sent
    assert isinstance(ctx.cancel, threading.Event)
