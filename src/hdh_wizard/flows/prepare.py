"""Route 2, step "prepare the data": a table split on a column, its sample drawn, a folder's
files (slides) grouped by a mapping table, what was prepared from changed tables given up.

Each run checks the step may be worked on (before anonymity is done, the tables are not the
ones to publish: they can be looked at, not written from), writes into a staging folder and
moves the results into `publish/` (`inspect.preparation`), then records the step's new record at
once, so that `publish/` and the state never part ways. The record's rule: a finished (or
skipped) step whose files were just replaced is reopened, never left done listing old files
(what relied on it, the transfer, becomes stale); a stale one is saved as a draft; an open one
keeps the new record as progress. Committing marks the step done.

Progress and cancel go through `inspect.progress.Progress` (polled by the screen; `cancel()`
stops the run before it installs anything). Raises `HdhWizardError` (an `OSError` of the disk is
turned into one) and `Cancelled`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hdh_wizard.core import workflow
from hdh_wizard.core.checks import Check
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.exit_guard import finish_before_exit
from hdh_wizard.core.preparation import Preparation, step_checks
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError, StepError
from hdh_wizard.flows.port import FlowContext
from hdh_wizard.inspect import preparation as prep
from hdh_wizard.inspect.preparation import Choices, Published, missing_outputs
from hdh_wizard.inspect.progress import Cancelled, Progress
from hdh_wizard.services.storage.hosting_choice import (
    HOSTING_KEY,
    HostingChoice,
    HostingCosts,
    choice_outputs,
    chosen,
    release_costs,
    with_choice,
)

STEP = StepId.PREPARE_DATA


class NotReady(StepError):
    """Committing asked while a check fails: `failed` says which."""

    key = "step.not_ready"

    def __init__(self, failed: Sequence[Check]) -> None:
        super().__init__()
        self.failed = tuple(failed)


@dataclass(frozen=True)
class Run:
    """A run's result, as recorded: the step's new record, and whether the run reopened it."""

    preparation: Preparation
    reopened: bool = False


def disk_error(error: OSError) -> HdhWizardError:
    """A disk or a folder that went away meanwhile, said with the path."""
    return HdhWizardError(
        "prepare.error.disk",
        path=str(error.filename or "—"),
        detail=error.strerror or type(error).__name__,
    )


def blockers(release: Release) -> list[StepId]:
    """The steps to finish first; until then the tables are browsed, not written from."""
    return list(workflow.blockers(release, STEP))


def recorded(release: Release) -> Preparation:
    """What the step records (done or under way)."""
    return Preparation.from_outputs(dict(release.record(STEP).outputs))


def published(release: Release, folder: Path) -> Choices:
    """The tables and folders the release publishes: what can be prepared."""
    return prep.choices(release, folder)


def find(found: Sequence[Published], stored: str) -> Published:
    """The published table (or folder) `stored`, as the state names it."""
    wanted = stored.strip().rstrip("/")
    match = next((p for p in found if p.stored == wanted), None)
    if match is None:
        names = ", ".join(p.stored for p in found) or "—"
        raise HdhWizardError("prepare.flow.not_published", name=stored, names=names)
    return match


def column_index(table: Published, name: str) -> int:
    """The index of the column `name` (or its number, from 1) in the table's header."""
    columns = prep.table_columns(table)
    if name in columns:
        return columns.index(name)
    if name.strip().isdigit() and 1 <= int(name) <= len(columns):
        return int(name) - 1
    raise HdhWizardError(
        "prepare.flow.no_column", name=name, file=table.stored, columns=", ".join(columns)
    )


def checks(folder: Path, preparation: Preparation, found: Choices | None) -> list[Check]:
    """What committing asks: something prepared, every file still as written, from the tables
    as they are now (`found`: the published ones, once listed; None: not checked yet)."""
    outdated = preparation.outdated(prep.versions(found)) if found is not None else []
    return step_checks(preparation, missing_outputs(folder, preparation), outdated)


# --- the runs ----------------------------------------------------------------------------------


def split(
    ctx: FlowContext,
    folder: Path,
    before: Preparation,
    table: Published,
    column: int,
    threshold: int | None,
    progress: Progress,
    *,
    tables: Sequence[Published] | None = None,
) -> Run:
    """The table split on `column` into `publish/` (values under `threshold` rows grouped)."""
    return _run(
        ctx,
        lambda release: prep.split_into_publish(
            release, folder, before, table, column, threshold, progress, tables=tables
        ),
    )


def sample(
    ctx: FlowContext,
    folder: Path,
    before: Preparation,
    table: Published,
    *,
    size: int | None,
    fraction: float | None,
    seed: int,
    stratify_column: int | None,
    progress: Progress,
    tables: Sequence[Published] | None = None,
) -> Run:
    """The table's sample drawn into `publish/` (`size` rows or a `fraction`, from `seed`)."""
    return _run(
        ctx,
        lambda release: prep.sample_into_publish(
            release,
            folder,
            before,
            table,
            size=size,
            fraction=fraction,
            seed=seed,
            stratify_column_index=stratify_column,
            progress=progress,
            tables=tables,
        ),
    )


def split_folder(
    ctx: FlowContext,
    folder: Path,
    before: Preparation,
    source: Published,
    mapping: Published,
    file_column: int,
    value_column: int,
    progress: Progress,
    *,
    folders: Sequence[Published] | None = None,
) -> Run:
    """The files of the published folder `source` grouped by `mapping`'s value column."""
    return _run(
        ctx,
        lambda release: prep.split_folder_into_publish(
            release,
            folder,
            before,
            source,
            mapping,
            file_column,
            value_column,
            progress,
            folders=folders,
        ),
    )


def drop(ctx: FlowContext, folder: Path, before: Preparation, sources: Sequence[str]) -> Run:
    """What was prepared from `sources` (tables changed or gone since) given up. Allowed before
    the steps it waits for: it only removes what this step wrote."""
    return _run(ctx, lambda release: prep.drop_prepared(release, folder, before, sources), False)


def _run(ctx: FlowContext, work: Callable[[Release], Preparation], writes: bool = True) -> Run:
    release = ctx.release
    waiting = blockers(release) if writes else []
    if waiting:
        raise StepError(
            "error.step_not_available",
            step=STEP.value,
            blockers=", ".join(b.value for b in waiting),
        )
    if ctx.cancel.is_set():
        raise Cancelled
    # The files moved into publish/, then the state listing them: never one without the other,
    # even when the user quits meanwhile (the command waits; a cancel still stops it before
    # anything is moved).
    with finish_before_exit():
        try:
            after = work(release)
        except OSError as error:
            raise disk_error(error) from error
        return record(ctx, after)


# --- the record and the commit -----------------------------------------------------------------


def outputs_of(release: Release, preparation: Preparation) -> dict[str, Any]:
    """The step's record: what was prepared, and the hosting choice made (kept across runs)."""
    return {**preparation.to_outputs(), **choice_outputs(release)}


def hosting(release: Release) -> HostingChoice:
    """What HDH is to host of a split table: its parts and sample, or the whole table too."""
    return chosen(release)


def costs(release: Release, preparation: Preparation) -> HostingCosts:
    """Bytes hosted by each choice, from the files published and prepared."""
    return release_costs(release, preparation.files)


def choose_hosting(ctx: FlowContext, choice: HostingChoice) -> bool:
    """Keep the partner's choice; False when it was already the one kept. The reopen rule is
    a run's: a finished step whose hosted files change is reopened (the transfer goes stale)."""
    if choice_outputs(ctx.release) == {HOSTING_KEY: choice.value}:
        return False
    outputs = with_choice(ctx.release.record(STEP).outputs, choice)
    _keep(ctx, outputs)
    return True


def record(ctx: FlowContext, preparation: Preparation) -> Run:
    """Keep a run's result in the state at once (the files are on disk now); see the module
    for the reopen rule."""
    outputs = outputs_of(ctx.release, preparation)
    return _keep(ctx, outputs, preparation)


def _keep(ctx: FlowContext, outputs: dict[str, Any], preparation: Preparation | None = None) -> Run:
    if preparation is None:
        preparation = Preparation.from_outputs(outputs)
    status = ctx.release.record(STEP).status
    if status in workflow.SATISFIED:
        ctx.reopen(STEP)  # the files of the finished step were just replaced
    elif status is StepStatus.STALE:
        ctx.save_draft(STEP, outputs)
        return Run(preparation)
    ctx.record_progress(STEP, outputs)
    return Run(preparation, reopened=status in workflow.SATISFIED)


def commit(ctx: FlowContext, folder: Path, preparation: Preparation) -> Release:
    """Mark the step done with what was prepared, once its checks pass (`NotReady` else)."""
    failed = [c for c in checks(folder, preparation, published(ctx.release, folder)) if not c.ok]
    if failed:
        raise NotReady(failed)
    # Done again with the same record: no new entry.
    return ctx.commit_if_changed(STEP, outputs_of(ctx.release, preparation))
