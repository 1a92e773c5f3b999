"""Route 2, step 7: each file hosted by HDH referenced on the dataset page by its URL.

The sequence, for the screen's worker and for `hdh-wizard publish` alike: `check` (hosted
files, usable, a page: in this order) → `nothing_to_redo` → `require_staff` (the step is HDH
staff's; a partner may still see that it is done) → `public_access` (dead links refused
before anything changes) → `reopen` → `run` (progress events, cancel, each resource saved at
once) → `commit` once verified.
"""

from __future__ import annotations

from collections.abc import Callable

from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Role, StepStatus
from hdh_wizard.core.hosting_records import HostedObject, ReferencesRecord, hosted_objects
from hdh_wizard.core.hosting_records import references_of as references_in
from hdh_wizard.core.portal_records import DatasetRecord, dataset_of
from hdh_wizard.core.release import Person, Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows.port import REOPENED_FROM, FlowContext
from hdh_wizard.flows.stops import PublishStop, Said, Say, require_available
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.references import (
    PublicChecker,
    ReferenceAction,
    ReferenceEvent,
    ReferenceRun,
    ReferencesOutcome,
    check_hosted,
    check_public_access,
    references_match,
    updated_fields,
)
from hdh_wizard.services.storage.public_access import PublicCheck, check_all_public

STEP = StepId.REFERENCE_URLS


def check(release: Release, objects: tuple[HostedObject, ...]) -> DatasetRecord:
    """Files hosted, each usable on a page (else every problem named), a page to put them on."""
    if not objects:
        raise PublishStop("publish.stop.nothing_hosted")
    # A hand-edited transfer record that cannot be published stops here, before the step is
    # reopened (which would mark the publication stale for nothing).
    check_hosted(objects)
    dataset = dataset_of(release)
    if dataset is None:
        raise PublishStop("publish.stop.no_dataset")
    return dataset


def nothing_to_redo(
    release: Release, objects: tuple[HostedObject, ...], dataset_id: str, holds: bool
) -> bool:
    """Done, the hosted files those referenced, and the server still holds them (`holds`: the
    last check found nothing wrong)."""
    done = release.record(STEP).status is StepStatus.DONE
    return done and holds and references_match(references_in(release), objects, dataset_id)


def require_staff(actor: Person) -> None:
    if actor.role is not Role.HDH_STAFF:
        raise PublishStop("publish.stop.references_staff", name=actor.name)


def public_access(
    objects: tuple[HostedObject, ...], checker: PublicChecker = check_all_public
) -> list[tuple[HostedObject, PublicCheck]]:
    """Dead links refused (ReferencesError, each named); URLs this machine cannot reach (a
    closed network) returned, to be said: they are referenced."""
    return check_public_access(objects, checker)


def reopen(ctx: FlowContext) -> bool:
    """The state must not say done while resources change; False if the save was refused."""
    return ctx.reopen(STEP).record(STEP).status not in REOPENED_FROM


def reference_run(
    client: DataGouvClient,
    release: Release,
    objects: tuple[HostedObject, ...],
    dataset_id: str,
    ctx: FlowContext | None = None,
    on_event: Callable[[ReferenceEvent], None] = lambda _event: None,
) -> ReferenceRun:
    """The run on the release's page; with `ctx`, each resource made is saved at once."""
    run = ReferenceRun(client, release.target.url, dataset_id, objects, lambda _record: None)
    run.on_event = on_event
    if ctx is not None:
        run.cancel = ctx.cancel

        def keep(record: ReferencesRecord) -> None:
            ctx.record_progress(STEP, record.to_outputs())

        run.save = keep
    return run


def run(
    ctx: FlowContext,
    client: DataGouvClient,
    objects: tuple[HostedObject, ...],
    dataset_id: str,
    record: ReferencesRecord | None,
    on_event: Callable[[ReferenceEvent], None] = lambda _event: None,
) -> ReferencesOutcome:
    """One remote resource per hosted file, each kept in the state at once, then verified."""
    return reference_run(client, ctx.release, objects, dataset_id, ctx, on_event).run(record)


def verify(
    client: DataGouvClient,
    release: Release,
    objects: tuple[HostedObject, ...],
    dataset_id: str,
) -> ReferencesOutcome:
    """What the server holds now. References made on an earlier page (step 5 redone) say
    nothing about this one."""
    checker = reference_run(client, release, objects, dataset_id)
    current = checker.start_record(references_in(release))
    return ReferencesOutcome(current, (), tuple(checker.verify(current)))


def commit(ctx: FlowContext, outcome: ReferencesOutcome) -> Release:
    if not outcome.verified:
        raise PublishStop(
            "publish.stop.references_not_verified",
            [(m.key, {"path": m.path, **m.params}) for m in outcome.mismatches],
        )
    return ctx.commit(STEP, outcome.record.to_outputs())


def publish_step(
    ctx: FlowContext,
    client: DataGouvClient,
    *,
    say: Say,
    on_event: Callable[[ReferenceEvent], None] = lambda _event: None,
    checker: PublicChecker = check_all_public,
) -> Release:
    """The whole step, as `hdh-wizard publish` runs it: a partner's run stops here unless the
    references are done and still hold."""
    if workflow.status_of(ctx.release, StepId.SHARE_WITH_HDH) is not StepStatus.DONE:
        raise PublishStop("publish.stop.transfer")
    require_available(ctx.release, STEP)
    objects = hosted_objects(ctx.release)
    dataset = check(ctx.release, objects)
    record = references_in(ctx.release)
    if ctx.release.record(STEP).status is StepStatus.DONE and record is not None:
        holds = not reference_run(client, ctx.release, objects, dataset.dataset_id).verify(record)
        if nothing_to_redo(ctx.release, objects, dataset.dataset_id, holds):
            say(Said("publish.references_up_to_date", {"count": len(record.files)}))
            return ctx.release
    require_staff(ctx.actor)
    unreachable = public_access(objects, checker)
    if unreachable:
        say(Said("references.public_unreachable", {"count": len(unreachable)}))
    reopen(ctx)
    outcome = run(ctx, client, objects, dataset.dataset_id, record, on_event)
    if outcome.verified:
        say(
            Said(
                "publish.referenced",
                {
                    "count": len(outcome.record.files),
                    "created": outcome.count(ReferenceAction.CREATE),
                    "updated": outcome.count(ReferenceAction.UPDATE),
                    "deleted": outcome.count(ReferenceAction.DELETE),
                },
            )
        )
        for key, params in updated_fields(outcome):
            say(Said(key, params))
    return commit(ctx, outcome)
