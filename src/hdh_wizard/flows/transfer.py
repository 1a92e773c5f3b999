"""Route 2, step "share with HDH": the files to host sent to HDH's storage, once for the screen
and for `hdh-wizard transfer`.

The checks, in one order: the route (≤ 1 Go is deposited, not hosted), the storage details,
the secret, the steps still to do first, the files gone from the folder. A done step whose files
are all still hosted, as they are now, is not reopened (the references made from it would go
stale for nothing): its objects are checked again, and only those found wrong are sent again.
Otherwise the step is reopened, the details kept with what was sent, and every file not yet
hosted is sent part by part, each acknowledged part saved at once (a quit, a kill or a dropped
network resumes from the first missing part), then verified on the server. Only HDH staff
commit the step; a partner may prepare everything up to that.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Role, Route, StepStatus
from hdh_wizard.core.hosting_records import HostedObject, TransferRecord, transfer_of
from hdh_wizard.core.release import Person, Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import StepError
from hdh_wizard.flows.port import FlowContext
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.inspect.hosting_files import HostingFile
from hdh_wizard.services.secrets import Secret
from hdh_wizard.services.storage.config import StorageConfig, connect
from hdh_wizard.services.storage.hosting import (
    HostedCheck,
    HostingOutcome,
    HostingProgress,
    pending_files,
    run_hosting,
    stored_details,
    verify_hosted,
    with_details,
    without_failed,
)
from hdh_wizard.services.storage.hosting_choice import chosen_hosting_files
from hdh_wizard.services.storage.public_access import PublicCheck, check_all_public
from hdh_wizard.services.storage.transfer import DEFAULT_WORKERS

STEP = StepId.SHARE_WITH_HDH


class Refusal(StrEnum):
    """Why a transfer does not start, in the order the checks are made."""

    NOT_HOSTED = "not_hosted"
    NO_DETAILS = "no_details"
    BAD_DETAILS = "bad_details"
    NO_SECRET = "no_secret"
    BLOCKED = "blocked"
    MISSING = "missing"


@dataclass(frozen=True)
class Refused:
    """A check that failed: what to tell (`message`), and why (`reason`)."""

    reason: Refusal
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    blockers: tuple[StepId, ...] = ()
    paths: tuple[str, ...] = ()  # the files missing

    def message(self, cat: Catalogue, show: Callable[[str], str] = str) -> str:
        """`show`: how a path is written (the command makes control characters printable)."""
        params = dict(self.params)
        if self.reason is Refusal.BLOCKED:
            params["steps"] = ", ".join(cat.t(f"step.{b.value}.title") for b in self.blockers)
        if self.reason is Refusal.MISSING:
            params["paths"] = ", ".join(show(path) for path in self.paths)
        return cat.t(self.key, **params)


class NeedsStaff(StepError):
    """A partner asked to mark the step done: only HDH staff do."""

    key = "error.step_needs_staff"

    def __init__(self) -> None:
        super().__init__(step=STEP.value)


@dataclass(frozen=True)
class Plan:
    """What a transfer that passed the checks sends, where, with what."""

    config: StorageConfig
    secret: Secret | str
    files: tuple[HostingFile, ...]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class AlreadyHosted:
    """Nothing to redo: the step is done and every object is still there, whole."""

    checks: tuple[HostedCheck, ...]


def _ignore(_: Any) -> None:
    return None


@dataclass
class TransferEvents:
    """What the flow says while it works (from the thread it runs in)."""

    started: Callable[[Plan], None] = _ignore  # the checks passed: files are to be sent
    progress: Callable[[HostingProgress], None] = _ignore
    checked: Callable[[HostedCheck], None] = _ignore  # a file verified on the server
    saved: Callable[[TransferRecord], None] = _ignore  # progress kept in the state


# --- the checks ------------------------------------------------------------------------------


def refusal(
    release: Release,
    folder: Path,
    config: StorageConfig | None,
    secret: Secret | str | None,
) -> Refused | Plan:
    """The checks, in their one order; the first that fails is said."""
    if workflow.route_of(release) is not Route.HOSTED:
        return Refused(Refusal.NOT_HOSTED, "cli.transfer.not_hosted")
    if config is None:
        return Refused(Refusal.NO_DETAILS, "cli.transfer.no_details")
    problems = config.problems()
    if problems:
        return Refused(Refusal.BAD_DETAILS, problems[0])
    if not _value(secret):
        return Refused(
            Refusal.NO_SECRET, "storage.config.secret_missing", {"url": config.secret_url}
        )
    blockers = workflow.blockers(release, STEP)
    if blockers:
        return Refused(Refusal.BLOCKED, "hosting.blocked", blockers=tuple(blockers))
    files, missing = chosen_hosting_files(release, folder)
    if missing:
        return Refused(Refusal.MISSING, "hosting.error.missing", paths=tuple(missing))
    assert secret is not None  # (checked above)
    return Plan(config, secret, tuple(files))


def _value(secret: Secret | str | None) -> str:
    if isinstance(secret, Secret):
        return secret.value
    return secret or ""


def nothing_to_redo(release: Release, plan: Plan) -> bool:
    """The step is done and every file is hosted, as it is now, under these details."""
    record = transfer_of(release)
    if release.record(STEP).status is not StepStatus.DONE or record is None or record.uploads:
        return False
    # A file hosted but no longer chosen (the whole table, once only its parts are): the
    # record must be made again without it.
    if {o.path for o in record.objects} - {f.path for f in plan.files}:
        return False
    return not pending_files(plan.files, record, plan.config)


# --- the work --------------------------------------------------------------------------------


def transfer(
    ctx: FlowContext,
    folder: Path,
    config: StorageConfig | None,
    secret: Secret | str | None,
    *,
    events: TransferEvents | None = None,
    full_read: bool = False,
    resend: Collection[str] = (),
    part_size: int | None = None,
    workers: int = DEFAULT_WORKERS,
) -> Refused | AlreadyHosted | HostingOutcome:
    """The whole sequence: checks, "nothing to redo", reopen, send, verify. Storage and state
    errors (`StorageError`, `HdhWizardError`) are raised; a cancel (`ctx.cancel`) ends in a
    `StorageError` of kind CANCELLED, what was acknowledged being saved."""
    events = events or TransferEvents()
    plan = refusal(ctx.release, folder, config, secret)
    if isinstance(plan, Refused):
        return plan
    again = set(resend)
    if nothing_to_redo(ctx.release, plan):
        checks = verify(ctx, plan.config, plan.secret, full_read=full_read)
        if all(c.ok for c in checks):
            for check in checks:
                events.checked(check)
            return AlreadyHosted(tuple(checks))
        again |= {c.path for c in checks if not c.ok}  # forgotten (the step reopened): resent
    events.started(plan)
    record = with_details(transfer_of(ctx.release), stored_details(plan.config))
    ctx.reopen(STEP)
    ctx.save_draft(STEP, record.to_outputs())

    def save(record: TransferRecord) -> None:
        ctx.record_progress(STEP, record.to_outputs())
        events.saved(record)

    return run_hosting(
        ctx.release,
        folder,
        plan.config,
        plan.secret,
        record=transfer_of(ctx.release),
        now=ctx.now,
        save=save,
        progress=events.progress,
        checked=events.checked,
        cancel=ctx.cancel,
        part_size=part_size,
        workers=workers,
        resend=frozenset(again),
    )


def verify(
    ctx: FlowContext,
    config: StorageConfig,
    secret: Secret | str,
    *,
    full_read: bool = False,
) -> list[HostedCheck]:
    """The recorded objects checked on the server again (size and SHA-256; `full_read`: read
    back whole). What is found wrong is no longer hosted: the step is reopened and the record
    forgets it, so that the next transfer sends it again."""
    record = transfer_of(ctx.release)
    if record is None or not record.objects:
        return []
    checks = verify_hosted(
        connect(config, secret), record.objects, full_read=full_read, cancel=ctx.cancel
    )
    failed = [c for c in checks if not c.ok]
    if failed:
        ctx.reopen(STEP)
        ctx.record_progress(STEP, without_failed(record, failed).to_outputs())
    return checks


def closed_to_public(
    objects: Sequence[HostedObject],
) -> list[tuple[HostedObject, PublicCheck]]:
    """The URLs to reference, asked as the public would: those the public cannot read (a
    closed bucket is said now, not found at the references step)."""
    checks = check_all_public([(o.url, o.size) for o in objects])
    return [(o, c) for o, c in zip(objects, checks, strict=True) if not c.ok]


# --- the commit ------------------------------------------------------------------------------


def done_outputs(record: TransferRecord, actor: Person) -> dict[str, Any]:
    """The step's record once done: no upload under way, and who ran it."""
    return TransferRecord(dict(record.storage), record.objects, {}, actor.name).to_outputs()


def committed(release: Release, record: TransferRecord, actor: Person, now: datetime) -> Release:
    """The step marked done with `record`; a partner is refused (`NeedsStaff`)."""
    if actor.role is not Role.HDH_STAFF:
        raise NeedsStaff()
    return workflow.commit_step(release, STEP, done_outputs(record, actor), actor, now)


def commit(ctx: FlowContext, record: TransferRecord) -> Release:
    """Mark the step done (HDH staff only: `NeedsStaff` otherwise)."""
    actor, now = ctx.actor, ctx.now()
    return ctx.change(lambda release: committed(release, record, actor, now))
