"""What can be done to a release: commit, undo, skip, block a step; route and target changes.

Every function takes the release, the acting person and the time, and returns the new release
with the action appended to its audit trail. Refusals raise `StepError` with a catalogue key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from hdh_wizard.core.enums import (
    ENVIRONMENT_URLS,
    Actor,
    Environment,
    Requirement,
    Role,
    Route,
    StepStatus,
)
from hdh_wizard.core.release import (
    AuditAction,
    AuditEntry,
    DataFile,
    Person,
    Release,
    StepRecord,
    Target,
)
from hdh_wizard.core.route import decide_route, previewed_route
from hdh_wizard.core.steps import (
    STEPS,
    Step,
    StepId,
    dependents_on,
    get_step,
    prerequisites_on,
    steps_for_route,
    topological_order,
)
from hdh_wizard.errors import StepError

SATISFIED = frozenset({StepStatus.DONE, StepStatus.SKIPPED})
# The steps done on a data.gouv.fr portal (or HDH's storage for it): redone after a target change.
PORTAL_STEPS = (
    StepId.ACCOUNT,
    StepId.ORGANIZATION,
    StepId.CO_ADMIN,
    StepId.DEPOSIT,
    StepId.DATASET_PAGE,
    StepId.REFERENCE_URLS,
    StepId.PUBLICATION,
)


def new_release(name: str, actor: Person, now: datetime, files: Iterable[DataFile] = ()) -> Release:
    release = Release(name=name.strip(), created_at=now, actor=actor, files=tuple(files))
    return _log(release, actor, now, AuditAction.CREATED)


# --- reading -------------------------------------------------------------------------------


def route_of(release: Release) -> Route:
    """The measured route once the volume is known, the previewed one before."""
    if release.measured_bytes is not None:
        return decide_route(release.measured_bytes)
    return previewed_route(release)


def route_is_measured(release: Release) -> bool:
    return release.measured_bytes is not None


def active_steps(release: Release) -> tuple[Step, ...]:
    return steps_for_route(route_of(release))


def status_of(release: Release, step_id: StepId) -> StepStatus:
    return release.record(step_id).status


def blockers(release: Release, step_id: StepId) -> tuple[StepId, ...]:
    """The prerequisites, on the active route, that are not yet done or skipped."""
    step = get_step(step_id)
    return tuple(
        p
        for p in prerequisites_on(step, route_of(release))
        if status_of(release, p) not in SATISFIED
    )


def is_available(release: Release, step_id: StepId) -> bool:
    """On the active route, with every prerequisite done or skipped."""
    on_route = route_of(release) in get_step(step_id).routes
    return on_route and not blockers(release, step_id)


def next_step(release: Release) -> StepId | None:
    """The first step of the checklist that can be worked on now and is not finished."""
    for step in active_steps(release):
        status = status_of(release, step.id)
        if status in SATISFIED or status is StepStatus.BLOCKED:
            continue
        if is_available(release, step.id):
            return step.id
    return None


def is_complete(release: Release) -> bool:
    return all(
        status_of(release, s.id) in SATISFIED
        for s in active_steps(release)
        if s.requirement is Requirement.REQUIRED
    )


def stale_after_undo(release: Release, step_id: StepId) -> tuple[StepId, ...]:
    """The done steps that would need review if `step_id` were undone."""
    # Both routes: a step of the other route must not come back done on a switch.
    return tuple(
        d for d in _dependents_on_any_route(step_id) if status_of(release, d) is StepStatus.DONE
    )


# --- acting --------------------------------------------------------------------------------


def save_draft(
    release: Release, step_id: StepId, outputs: Mapping[str, Any], actor: Person, now: datetime
) -> Release:
    """Keep what was typed so far; the step shows as in progress (a blocked one stays blocked).

    A finished step keeps what was committed: change it by committing again, or reopen it.
    """
    record = release.record(step_id)
    if record.status in SATISFIED:
        raise StepError("error.draft_on_finished_step", step=step_id.value)
    blocked = record.status is StepStatus.BLOCKED
    updated = replace(
        record,
        status=StepStatus.BLOCKED if blocked else StepStatus.IN_PROGRESS,
        outputs=dict(outputs),
        reason=record.reason if blocked else "",  # a stale step being reworked is in progress
        updated_at=now,
        updated_by=actor,
    )
    return _log(
        _with_record(release, step_id, updated), actor, now, AuditAction.DRAFT_SAVED, step_id
    )


def record_progress(
    release: Release, step_id: StepId, outputs: Mapping[str, Any], now: datetime
) -> Release:
    """Keep the progress of long work (an upload chunk by chunk) without an audit entry each time.

    Only an open step records progress: a finished one is reopened first (`undo_step`), so the
    state never says done while the work that made it so is being redone.
    """
    record = release.record(step_id)
    if record.status in SATISFIED or record.status is StepStatus.STALE:
        raise StepError("error.draft_on_finished_step", step=step_id.value)
    status = StepStatus.BLOCKED if record.status is StepStatus.BLOCKED else StepStatus.IN_PROGRESS
    updated = replace(record, status=status, outputs=dict(outputs), updated_at=now)
    return _with_record(release, step_id, updated)


def commit_step(
    release: Release, step_id: StepId, outputs: Mapping[str, Any], actor: Person, now: datetime
) -> Release:
    """Mark a step done with its outputs, if its prerequisites are met and the actor may."""
    step = get_step(step_id)
    if route_of(release) not in step.routes:
        raise StepError("error.step_not_on_route", step=step_id.value)
    missing = blockers(release, step_id)
    if missing:
        raise StepError(
            "error.step_not_available",
            step=step_id.value,
            blockers=", ".join(m.value for m in missing),
        )
    if step.actor is Actor.HDH_STAFF and actor.role is not Role.HDH_STAFF:
        raise StepError("error.step_needs_staff", step=step_id.value)
    if step_id is StepId.VOLUME and release.measured_bytes is None:
        # The route follows from the measure: the step is done by measuring (`record_volume`).
        raise StepError("error.volume_not_measured")
    previous = release.record(step_id)
    record = StepRecord(StepStatus.DONE, dict(outputs), "", now, actor)
    release = _log(
        _with_record(release, step_id, record), actor, now, AuditAction.COMMITTED, step_id
    )
    if previous.status is StepStatus.DONE and previous.outputs != record.outputs:
        # What later steps relied on changed (another organization after the deposit…).
        release = _mark_stale(
            release, stale_after_undo(release, step_id), f"changed:{step_id.value}", actor, now
        )
    return release


def undo_step(
    release: Release, step_id: StepId, actor: Person, now: datetime
) -> tuple[Release, tuple[StepId, ...]]:
    """Reopen a finished step; the done steps that relied on it become stale (returned)."""
    record = release.record(step_id)
    if record.status not in SATISFIED | {StepStatus.STALE}:
        raise StepError("error.step_not_done", step=step_id.value)
    stale = stale_after_undo(release, step_id)
    reopened = replace(
        record,
        status=StepStatus.IN_PROGRESS if record.outputs else StepStatus.TODO,
        reason="",
        updated_at=now,
        updated_by=actor,
    )
    release = _log(
        _with_record(release, step_id, reopened), actor, now, AuditAction.UNDONE, step_id
    )
    release = _mark_stale(release, stale, f"undo:{step_id.value}", actor, now)
    if step_id is StepId.VOLUME:
        # The measurement no longer stands: the route goes back to the preview.
        before = route_of(release)
        release = replace(release, measured_bytes=None)
        if route_of(release) is not before:
            release, more = _recheck_route_marked(release, actor, now)
            stale = (*stale, *more)
    return release, stale


def skip_step(
    release: Release, step_id: StepId, reason: str, actor: Person, now: datetime
) -> Release:
    """Skip a recommended step, with the reason recorded."""
    if get_step(step_id).requirement is not Requirement.RECOMMENDED:
        raise StepError("error.step_not_skippable", step=step_id.value)
    if route_of(release) not in get_step(step_id).routes:
        raise StepError("error.step_not_on_route", step=step_id.value)
    if status_of(release, step_id) in SATISFIED:
        raise StepError("error.step_already_done", step=step_id.value)
    if not reason.strip():
        raise StepError("error.reason_required")
    record = replace(
        release.record(step_id),
        status=StepStatus.SKIPPED,
        reason=reason.strip(),
        updated_at=now,
        updated_by=actor,
    )
    return _log(
        _with_record(release, step_id, record),
        actor,
        now,
        AuditAction.SKIPPED,
        step_id,
        reason.strip(),
    )


def block_step(
    release: Release, step_id: StepId, why: str, actor: Person, now: datetime
) -> Release:
    """Record that a step cannot go on for an outside reason (a signature awaited…)."""
    if not why.strip():
        raise StepError("error.reason_required")
    if status_of(release, step_id) in SATISFIED:
        raise StepError("error.step_already_done", step=step_id.value)
    record = replace(
        release.record(step_id),
        status=StepStatus.BLOCKED,
        reason=why.strip(),
        updated_at=now,
        updated_by=actor,
    )
    return _log(
        _with_record(release, step_id, record),
        actor,
        now,
        AuditAction.BLOCKED,
        step_id,
        why.strip(),
    )


def unblock_step(release: Release, step_id: StepId, actor: Person, now: datetime) -> Release:
    record = release.record(step_id)
    if record.status is not StepStatus.BLOCKED:
        raise StepError("error.step_not_blocked", step=step_id.value)
    status = StepStatus.IN_PROGRESS if record.outputs else StepStatus.TODO
    updated = replace(record, status=status, reason="", updated_at=now, updated_by=actor)
    return _log(_with_record(release, step_id, updated), actor, now, AuditAction.UNBLOCKED, step_id)


def preview_route(release: Release, route: Route, actor: Person, now: datetime) -> Release:
    """Show the other route's checklist before the volume is measured; work done is kept."""
    if route_is_measured(release):
        raise StepError("error.route_already_measured")
    release = _log(
        replace(release, route_preview=route),
        actor,
        now,
        AuditAction.ROUTE_PREVIEWED,
        None,
        route.value,
    )
    return _recheck_route(release, actor, now)


def record_volume(release: Release, total_bytes: int, actor: Person, now: datetime) -> Release:
    """Record the measured volume, which decides the route. Work done on steps common to both
    routes is kept; a done step whose prerequisites differ on the new route may become stale."""
    if total_bytes < 0:
        raise StepError("error.volume_negative")
    release = _log(
        replace(release, measured_bytes=total_bytes),
        actor,
        now,
        AuditAction.VOLUME_MEASURED,
        None,
        f"{total_bytes}:{decide_route(total_bytes)}",
    )
    return _recheck_route(release, actor, now)


def set_target(
    release: Release,
    environment: Environment,
    actor: Person,
    now: datetime,
    *,
    url: str | None = None,
    confirmed: bool = False,
) -> Release:
    """Change where the release is published; production needs an explicit confirmation."""
    if environment is Environment.CUSTOM:
        url = _portal_url(url or "")
        if _is_production(url):
            environment = Environment.PRODUCTION  # the same portal, the same confirmation
    if environment is Environment.PRODUCTION and not confirmed:
        raise StepError("error.production_needs_confirmation")
    if environment is Environment.CUSTOM:
        target = Target(environment, url or "")
    else:
        target = Target(environment, ENVIRONMENT_URLS[environment])
    moved = target.url.rstrip("/").lower() != release.target.url.rstrip("/").lower()
    release = _log(
        replace(release, target=target),
        actor,
        now,
        AuditAction.TARGET_CHANGED,
        None,
        f"{target.environment}:{target.url}",
    )
    if not moved:
        return release
    # What was done on one portal does not exist on another: account, organization, dataset and
    # publication are to be done again there (their records name their portal and are ignored).
    done = [s for s in PORTAL_STEPS if status_of(release, s) is StepStatus.DONE]
    return _mark_stale(release, done, "target_changed", actor, now)


def set_files(
    release: Release, files: Iterable[DataFile], actor: Person, now: datetime
) -> tuple[Release, tuple[StepId, ...]]:
    """Replace the release's file list; steps computed from the data become stale."""
    files = tuple(files)
    if sorted(files, key=lambda f: f.path) == sorted(release.files, key=lambda f: f.path):
        return release, ()
    release = _log(
        replace(release, files=files),
        actor,
        now,
        AuditAction.FILES_CHANGED,
        None,
        ", ".join(f.path for f in files),
    )
    return mark_data_stale(release, "files_changed", actor, now)


def mark_data_stale(
    release: Release, reason: str, actor: Person, now: datetime
) -> tuple[Release, tuple[StepId, ...]]:
    """The data changed: every done step computed from it, and what relies on those, is stale."""
    touched: list[StepId] = []
    for step in STEPS:
        if step.uses_data and status_of(release, step.id) is StepStatus.DONE:
            touched.append(step.id)
            touched.extend(_dependents_on_any_route(step.id))
    order = [s.id for s in STEPS]
    stale = tuple(
        sorted({s for s in touched if status_of(release, s) is StepStatus.DONE}, key=order.index)
    )
    return _mark_stale(release, stale, reason, actor, now), stale


def log_action(
    release: Release, actor: Person, now: datetime, action: AuditAction, detail: str = ""
) -> Release:
    """Note in the audit trail an action made outside the steps (a backup restored…)."""
    return _log(release, actor, now, action, None, detail)


def set_actor(release: Release, actor: Person) -> Release:
    return replace(release, actor=actor)


def identity_in_doubt(release: Release) -> bool:
    """Whether the last actor may not be the one at the keyboard now: HDH staff worked last
    (the project is the partner's: a staff session must not carry over unasked), or the next
    step is the other role's (the project is being handed over). A partner resuming their own
    steps is not asked."""
    last = release.actor
    if last.role is Role.HDH_STAFF:
        return True
    upcoming = next_step(release)
    return upcoming is not None and get_step(upcoming).actor.value == Role.HDH_STAFF.value


def last_of_other_role(release: Release) -> Person | None:
    """The last person of the other role than the last actor's, from the audit trail."""
    role = release.actor.role
    for entry in reversed(release.audit):
        if entry.actor.role is not role:
            return entry.actor
    return None


# --- helpers -------------------------------------------------------------------------------


def _dependents_on_any_route(step_id: StepId) -> tuple[StepId, ...]:
    found = {d for route in Route for d in dependents_on(step_id, route)}
    return tuple(s.id for s in STEPS if s.id in found)


def _recheck_route(release: Release, actor: Person, now: datetime) -> Release:
    return _recheck_route_marked(release, actor, now)[0]


def _recheck_route_marked(
    release: Release, actor: Person, now: datetime
) -> tuple[Release, tuple[StepId, ...]]:
    """After a route change, a done step whose prerequisites on the new route are not all
    finished (publication after a deposit, now waiting for URL references) is stale."""
    route = route_of(release)
    marked: list[StepId] = []
    for step_id in topological_order(steps_for_route(route), route):
        if status_of(release, step_id) is StepStatus.DONE and blockers(release, step_id):
            release = _mark_stale(release, (step_id,), "route_changed", actor, now)
            marked.append(step_id)
    return release, tuple(marked)


PRODUCTION_HOSTS = frozenset({"www.data.gouv.fr", "data.gouv.fr"})


def _portal_url(url: str) -> str:
    """A portal's base URL, normalised; refuses what is not an http(s) address with a host."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port out of range or not a number
    except ValueError:
        raise StepError("error.custom_url_invalid", url=url) from None
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or any(c.isspace() for c in text)
    ):
        raise StepError("error.custom_url_invalid", url=url)
    netloc = parts.netloc.rsplit("@", 1)[-1]  # never keep credentials typed in the address
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def _is_production(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower() in PRODUCTION_HOSTS


def _mark_stale(
    release: Release, steps: Iterable[StepId], reason: str, actor: Person, now: datetime
) -> Release:
    for step_id in steps:
        record = replace(
            release.record(step_id),
            status=StepStatus.STALE,
            reason=reason,
            updated_at=now,
            updated_by=actor,
        )
        release = _log(
            _with_record(release, step_id, record),
            actor,
            now,
            AuditAction.MARKED_STALE,
            step_id,
            reason,
        )
    return release


def _with_record(release: Release, step_id: StepId, record: StepRecord) -> Release:
    return replace(release, steps={**release.steps, step_id: record})


def _log(
    release: Release,
    actor: Person,
    now: datetime,
    action: AuditAction,
    step: StepId | None = None,
    detail: str = "",
) -> Release:
    entry = AuditEntry(at=now, actor=actor, action=action, step=step, detail=detail)
    return replace(release, actor=actor, audit=(*release.audit, entry))
