"""Route 1, step 4: the dataset made (or updated) on data.gouv.fr with its documentation and
its files, then read back to verify.

The sequence, for the screen's worker and for `hdh-wizard publish` alike:
`check` (documentation, organization, files: in this order) → `nothing_to_redo` → `reopen` →
`run` (progress events, cancel, each server step saved at once) → `commit` once verified.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hdh_wizard.core.deposit_plan import Action, LocalFile, PlannedFile, plan_deposit
from hdh_wizard.core.documentation import Documentation, documentation_to_outputs
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.portal_records import DatasetRecord, dataset_of, organization_of
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows.dictionary import refresh_dictionary
from hdh_wizard.flows.documentation import DOCUMENTATION_KEY, documentation_in_state
from hdh_wizard.flows.port import REOPENED_FROM, FlowContext
from hdh_wizard.flows.stops import PublishStop, Said, Say, require_available
from hdh_wizard.inspect.deposit_files import deposit_files, dictionary_documents
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.deposit import (
    DepositEvent,
    DepositOutcome,
    DepositRun,
    dataset_body,
)
from hdh_wizard.services.datagouv.errors import ApiError, ErrorKind
from hdh_wizard.services.datagouv.upload import FileDigests

STEP = StepId.DEPOSIT
Describe = Callable[[LocalFile, FileDigests], str]
Problems = Sequence[tuple[str, dict[str, Any]]]


def check(release: Release, doc_problems: Problems, missing: Sequence[str]) -> str:
    """What must hold before anything is sent, in one order; returns the organization's id."""
    if doc_problems:
        raise PublishStop(
            "publish.stop.documentation_incomplete", doc_problems, count=len(doc_problems)
        )
    org = organization_of(release)
    if org is None:
        raise PublishStop("publish.stop.organization")
    if missing:
        raise PublishStop("publish.stop.missing_files", paths=", ".join(missing))
    return org.organization_id


def documentation_outputs(doc: Documentation) -> dict[str, Any]:
    return documentation_to_outputs(doc)


def nothing_to_redo(
    release: Release,
    doc_outputs: dict[str, Any],
    server_dataset: dict[str, Any] | None,
    plan: Sequence[PlannedFile],
) -> bool:
    """Done, the dataset still on the server, every file unchanged, the documentation the one
    sent: reopening would only send the publication back to review."""
    record = release.record(STEP)
    return (
        record.status is StepStatus.DONE
        and dataset_of(release) is not None
        and server_dataset is not None
        and record.outputs.get(DOCUMENTATION_KEY) == doc_outputs
        and all(p.action is Action.KEEP for p in plan)
    )


def files_to_deposit(release: Release, folder: Path) -> tuple[list[LocalFile], list[str]]:
    """(files, paths missing): the files to publish, then the data dictionary's documents."""
    files, missing = deposit_files(release, folder)
    return [*files, *dictionary_documents(folder, files)], missing


def still_there(client: DataGouvClient, dataset_id: str) -> dict[str, Any] | None:
    """The dataset, or None once deleted on data.gouv.fr (the deposit then makes a new one)."""
    try:
        dataset = client.dataset(dataset_id)
    except ApiError as error:
        if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.GONE):
            return None
        raise
    return None if dataset.get("deleted") else dataset


def reopen(ctx: FlowContext) -> bool:
    """The state must not say done while files are replaced; False if the save was refused."""
    return ctx.reopen(STEP).record(STEP).status not in REOPENED_FROM


def progress_saver(
    ctx: FlowContext, step: StepId, doc_outputs: dict[str, Any]
) -> Callable[[DatasetRecord], None]:
    """Each server step (dataset made, chunk sent, file verified) saved at once, with the
    documentation that was sent."""

    def keep(dataset_record: DatasetRecord) -> None:
        outputs = {DOCUMENTATION_KEY: doc_outputs, "dataset": dataset_record.to_outputs()}
        ctx.record_progress(step, outputs)

    return keep


def run(
    ctx: FlowContext,
    client: DataGouvClient,
    *,
    folder: Path,
    files: Sequence[LocalFile],
    doc: Documentation,
    organization_id: str,
    describe: Describe,
    on_event: Callable[[DepositEvent], None] = lambda _event: None,
    chunk_size: int | None = None,
) -> DepositOutcome:
    record = dataset_of(ctx.release)
    deposit = DepositRun(
        client=client,
        site=ctx.release.target.url,
        folder=folder,
        files=files,
        payload=dataset_body(client, doc, organization_id, record),
        describe=describe,
        save=progress_saver(ctx, STEP, documentation_outputs(doc)),
        on_event=on_event,
        cancel=ctx.cancel,
        chunk_size=chunk_size,
    )
    return deposit.run(record)


def commit(ctx: FlowContext, doc: Documentation, outcome: DepositOutcome) -> Release:
    if not outcome.verified:
        raise PublishStop(
            "publish.stop.not_verified",
            paths=", ".join(sorted({m.path for m in outcome.mismatches})),
        )
    outputs = {
        DOCUMENTATION_KEY: documentation_outputs(doc),
        "dataset": outcome.record.to_outputs(),
    }
    return ctx.commit(STEP, outputs)


def publish_step(
    ctx: FlowContext,
    client: DataGouvClient,
    *,
    folder: Path,
    describe: Describe,
    say: Say,
    on_event: Callable[[DepositEvent], None] = lambda _event: None,
    chunk_size: int | None = None,
) -> Release:
    """The whole step from the state, as `hdh-wizard publish` runs it."""
    require_available(ctx.release, STEP)
    doc = documentation_in_state(client, ctx.release, STEP)
    # The dictionary and schemas describe the tables as they are now: written again if not.
    refresh_dictionary(ctx.release, folder)
    files, missing = files_to_deposit(ctx.release, folder)
    organization_id = check(ctx.release, (), missing)
    record = dataset_of(ctx.release)
    if record is not None and ctx.release.record(STEP).status is StepStatus.DONE:
        dataset = still_there(client, record.dataset_id)
        plan = plan_deposit(files, record, (dataset or {}).get("resources") or [])
        if nothing_to_redo(ctx.release, documentation_outputs(doc), dataset, plan):
            say(Said("publish.deposit_up_to_date", {"count": len(files)}))
            return ctx.release
    reopen(ctx)
    outcome = run(
        ctx,
        client,
        folder=folder,
        files=files,
        doc=doc,
        organization_id=organization_id,
        describe=describe,
        on_event=on_event,
        chunk_size=chunk_size,
    )
    if outcome.verified:
        say(Said("publish.deposited", {"count": len(outcome.record.files)}))
    return commit(ctx, doc, outcome)
