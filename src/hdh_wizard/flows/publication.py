"""III: publication: the private draft made public, and the address kept.

The sequence, for the screen's worker and for `hdh-wizard publish` alike: `check` (a dataset,
then the prerequisites) → `production_host` (a first publication in production is confirmed by
typing the host: the caller asks) → `publish_dataset` (the address kept at once) → `commit`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from hdh_wizard.core.enums import Environment, StepStatus
from hdh_wizard.core.portal_records import (
    DatasetRecord,
    PublicationRecord,
    dataset_of,
    published_before_on,
)
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows.port import FlowContext
from hdh_wizard.flows.stops import PublishStop, Said, Say, require_available
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.publication import public_page, publish

STEP = StepId.PUBLICATION


def check(release: Release) -> DatasetRecord:
    record = dataset_of(release)
    if record is None:
        raise PublishStop("publish.stop.no_dataset")
    require_available(release, STEP)
    return record


def production_host(release: Release) -> str | None:
    """The host to type before a first publication in production; None: no question."""
    site = release.target.url
    if release.target.environment is not Environment.PRODUCTION or published_before_on(
        release, site
    ):
        return None
    return site.removeprefix("https://").removeprefix("http://").rstrip("/")


def publish_dataset(
    ctx: FlowContext, client: DataGouvClient, record: DatasetRecord
) -> tuple[dict[str, Any], PublicationRecord]:
    """The dataset made public; its address kept at once (unless the step is done or stale),
    so leaving without committing loses nothing. A republication keeps the first date."""
    site = ctx.release.target.url
    dataset = publish(client, record)
    published = PublicationRecord(
        site, record.dataset_id, public_page(dataset, site), ctx.now().isoformat(timespec="seconds")
    )
    previous = ctx.release.record(STEP)
    if previous.status is StepStatus.DONE:
        old = PublicationRecord.from_outputs(previous.outputs)
        if old is not None and old.dataset_id == published.dataset_id and old.site == site:
            published = replace(published, published_at=old.published_at)
    if previous.status not in (StepStatus.DONE, StepStatus.STALE):
        ctx.record_progress(STEP, published.to_outputs())
    return dataset, published


def commit(ctx: FlowContext, published: PublicationRecord) -> Release:
    return ctx.commit_if_changed(STEP, published.to_outputs())


def publish_step(
    ctx: FlowContext,
    client: DataGouvClient,
    *,
    confirm_production: Callable[[str], bool],
    say: Say,
) -> Release:
    """The whole step, as `hdh-wizard publish` runs it; `confirm_production(host)` asks."""
    record = check(ctx.release)
    host = production_host(ctx.release)
    if host is not None and not confirm_production(host):
        raise PublishStop("publish.stop.not_confirmed", host=host)
    _, published = publish_dataset(ctx, client, record)
    say(Said("publish.published", {"page": published.page}))
    return commit(ctx, published)
