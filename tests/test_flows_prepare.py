"""`flows.prepare`, without a screen: each run recorded at once (progress of the open step), the
finished step reopened by a new run and a stale one saved as a draft, nothing written before
anonymity is done, a cancel or a full disk leaving `publish/` and the state as they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hdh_wizard import project as projects
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.preparation import Preparation, preparation_of
from hdh_wizard.core.release import AuditAction, Person
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError, StepError
from hdh_wizard.flows import prepare as flow
from hdh_wizard.flows.port import FlowContext, ProjectStore
from hdh_wizard.inspect import preparation as prep
from hdh_wizard.inspect.preparation import missing_outputs
from hdh_wizard.inspect.progress import Cancelled, Progress
from tests.prepare_helpers import STAGE, TABLE, hosted_project, table_of
from tests.tui_helpers import ALICE, NOW

STEP = StepId.PREPARE_DATA


def context(folder: Path, actor: Person = ALICE) -> FlowContext:
    project = projects.open_project(folder, None, NOW)[0]
    return FlowContext(ProjectStore(project), actor, lambda: NOW)


def split(ctx: FlowContext, folder: Path, progress: Progress | None = None) -> flow.Run:
    table = table_of(ctx.release, folder)
    before = flow.recorded(ctx.release)
    return flow.split(ctx, folder, before, table, STAGE, None, progress or Progress())


def test_a_run_is_recorded_at_once_as_progress_of_the_open_step(tmp_path: Path) -> None:
    hosted_project(tmp_path)
    ctx = context(tmp_path)

    run = split(ctx, tmp_path)

    assert run.preparation.split_files(TABLE) and not run.reopened
    release = projects.read_project(tmp_path)
    assert preparation_of(release) == run.preparation
    assert release.record(STEP).status is StepStatus.IN_PROGRESS
    assert missing_outputs(tmp_path, run.preparation) == []


def test_a_run_after_the_commit_reopens_the_step_never_left_done_with_old_files(
    tmp_path: Path,
) -> None:
    hosted_project(tmp_path)
    ctx = context(tmp_path)
    flow.commit(ctx, tmp_path, split(ctx, tmp_path).preparation)
    assert projects.read_project(tmp_path).record(STEP).status is StepStatus.DONE

    run = flow.sample(
        ctx,
        tmp_path,
        flow.recorded(ctx.release),
        table_of(ctx.release, tmp_path),
        size=3,
        fraction=None,
        seed=7,
        stratify_column=None,
        progress=Progress(),
    )

    assert run.reopened and run.preparation.sample_file(TABLE) is not None
    release = projects.read_project(tmp_path)
    assert release.record(STEP).status is StepStatus.IN_PROGRESS
    assert AuditAction.UNDONE in {e.action for e in release.audit}
    assert preparation_of(release) == run.preparation


def test_nothing_is_written_before_anonymity_is_done(tmp_path: Path) -> None:
    hosted_project(tmp_path)
    ctx = context(tmp_path)
    ctx.reopen(StepId.ANONYMITY)
    assert flow.blockers(ctx.release) == [StepId.ANONYMITY]

    with pytest.raises(StepError):
        split(ctx, tmp_path)

    assert not (tmp_path / "publish").exists() or not list((tmp_path / "publish").iterdir())
    assert preparation_of(projects.read_project(tmp_path)) == Preparation()
    # Giving up what was prepared only removes what the step wrote: always allowed.
    assert flow.drop(ctx, tmp_path, Preparation(), [TABLE]).preparation == Preparation()


def test_a_cancel_or_a_full_disk_leaves_publish_and_the_state_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hosted_project(tmp_path)
    ctx = context(tmp_path)
    first = split(ctx, tmp_path).preparation
    on_disk = sorted(p.name for p in (tmp_path / "publish").iterdir())

    cancelled = Progress()
    cancelled.cancel()
    with pytest.raises(Cancelled):
        split(ctx, tmp_path, cancelled)

    def full_disk(*_: Any, **__: Any) -> Any:
        raise OSError(28, "No space left on device", str(tmp_path / "publish" / "x.csv"))

    monkeypatch.setattr(prep, "split_table", full_disk)
    with pytest.raises(HdhWizardError) as error:
        split(ctx, tmp_path)
    assert error.value.key == "prepare.error.disk"
    assert "x.csv" in error.value.params["path"]

    assert preparation_of(projects.read_project(tmp_path)) == first
    assert sorted(p.name for p in (tmp_path / "publish").iterdir()) == on_disk
