"""Route 2, step 5: the dataset page on data.gouv.fr with its documentation, no file yet.

The sequence, for the screen's worker and for `hdh-wizard publish` alike:
`check` (documentation, organization) → `nothing_to_redo` (the command; the screen sends the
form again) → `reopen` → `run` (the page made or updated, saved at once) → `commit`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hdh_wizard.core.documentation import Documentation, documentation_to_outputs
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.portal_records import DatasetRecord, dataset_of
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows import deposit
from hdh_wizard.flows.documentation import DOCUMENTATION_KEY, documentation_in_state
from hdh_wizard.flows.port import REOPENED_FROM, FlowContext
from hdh_wizard.flows.stops import Said, Say, require_available
from hdh_wizard.present.portal_presenters import dataset_page_url
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.deposit import DepositRun, dataset_body

STEP = StepId.DATASET_PAGE


def check(release: Release, doc_problems: deposit.Problems) -> str:
    """Documentation complete, then the organization; returns the organization's id."""
    return deposit.check(release, doc_problems, ())


def nothing_to_redo(release: Release, doc_outputs: dict[str, Any]) -> bool:
    """Done, the page made, with this documentation."""
    record = release.record(STEP)
    return (
        record.status is StepStatus.DONE
        and dataset_of(release) is not None
        and record.outputs.get(DOCUMENTATION_KEY) == doc_outputs
    )


def reopen(ctx: FlowContext) -> bool:
    """False if the save was refused."""
    return ctx.reopen(STEP).record(STEP).status not in REOPENED_FROM


def run(
    ctx: FlowContext,
    client: DataGouvClient,
    *,
    folder: Path,
    doc: Documentation,
    organization_id: str,
) -> tuple[DatasetRecord, dict[str, Any]]:
    """The page made (or its documentation updated); the record kept in the state at once."""
    record = dataset_of(ctx.release)
    keep = deposit.progress_saver(ctx, STEP, documentation_to_outputs(doc))
    page = DepositRun(
        client=client,
        site=ctx.release.target.url,
        folder=folder,
        files=(),
        payload=dataset_body(client, doc, organization_id, record),
        describe=lambda _local, _digests: "",
        save=keep,
        cancel=ctx.cancel,
    )
    record, dataset = page.ensure_dataset(record)
    keep(record)
    return record, dataset


def commit(ctx: FlowContext, doc: Documentation, record: DatasetRecord) -> Release:
    outputs = {DOCUMENTATION_KEY: documentation_to_outputs(doc), "dataset": record.to_outputs()}
    return ctx.commit(STEP, outputs)


def publish_step(ctx: FlowContext, client: DataGouvClient, *, folder: Path, say: Say) -> Release:
    """The whole step from the state, as `hdh-wizard publish` runs it."""
    require_available(ctx.release, STEP)
    doc = documentation_in_state(client, ctx.release, STEP)
    organization_id = check(ctx.release, ())
    if nothing_to_redo(ctx.release, documentation_to_outputs(doc)):
        return ctx.release
    reopen(ctx)
    record, _ = run(ctx, client, folder=folder, doc=doc, organization_id=organization_id)
    say(Said("publish.page", {"page": dataset_page_url(record)}))
    return commit(ctx, doc, record)
