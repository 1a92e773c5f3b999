"""What can be done to a release, step by step, as the HDH guide's checklist runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hdh_wizard.core import workflow as wf
from hdh_wizard.core.enums import Actor, Environment, Requirement, Role, Route, StepStatus
from hdh_wizard.core.release import AuditAction, DataFile, Person, Release
from hdh_wizard.core.steps import STEPS, StepId, get_step
from hdh_wizard.errors import StepError

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=1)
PARTNER = Person("Élodie Martin", Role.PARTNER)
STAFF = Person("Karim Benali", Role.HDH_STAFF)
FILES = (
    DataFile("donnees/patients.csv", 600_000_000, 1_767_171_600_000_000_000, "sha256:ab12"),
    DataFile("donnees/lames", 300_000_000, 1_767_171_700_000_000_000, "sha256:cd34"),
)
SMALL = 900_000_000
BIG = 2_700_000_000

S = StepId
DIRECT_PATH = (
    S.ANONYMITY,
    S.INTEROPERABILITY,
    S.VOLUME,
    S.CONTRACT,
    S.ACCOUNT,
    S.ORGANIZATION,
    S.DEPOSIT,
    S.PUBLICATION,
)
HOSTED_PATH = (
    S.ANONYMITY,
    S.INTEROPERABILITY,
    S.VOLUME,
    S.CONTRACT,
    S.ACCOUNT,
    S.ORGANIZATION,
    S.DATASET_PAGE,
    S.PREPARE_DATA,
    S.SHARE_WITH_HDH,
    S.REFERENCE_URLS,
    S.PUBLICATION,
)


def actor_for(step_id: StepId) -> Person:
    return STAFF if get_step(step_id).actor is Actor.HDH_STAFF else PARTNER


def new() -> Release:
    return wf.new_release("  Base mélanome — cohorte 2012-2016 ", PARTNER, T0, FILES)


def commit(release: Release, *steps: StepId, outputs: dict[str, Any] | None = None) -> Release:
    for step_id in steps:
        release = wf.commit_step(
            release, step_id, outputs or {"by": step_id.value}, actor_for(step_id), T0
        )
    return release


def measured(total_bytes: int, release: Release | None = None) -> Release:
    """The prerequisites done, with the volume measured: the route is decided."""
    release = commit(release or new(), S.ANONYMITY, S.INTEROPERABILITY)
    release = wf.record_volume(release, total_bytes, PARTNER, T0)
    return commit(release, S.VOLUME)


def status(release: Release, step_id: StepId) -> StepStatus:
    return wf.status_of(release, step_id)


def refused(key: str, action: Callable[[], object]) -> StepError:
    with pytest.raises(StepError) as caught:
        action()
    assert caught.value.key == key
    return caught.value


def violations(release: Release) -> list[tuple[StepId, StepId]]:
    """Done steps of the active route whose active-route prerequisites are not satisfied."""
    return [
        (step.id, p)
        for step in wf.active_steps(release)
        if status(release, step.id) is StepStatus.DONE
        for p in wf.blockers(release, step.id)
    ]


# --- a new release --------------------------------------------------------------------------


def test_a_new_release_starts_with_every_step_to_do_on_the_direct_preview() -> None:
    release = new()
    assert release.name == "Base mélanome — cohorte 2012-2016"
    assert release.files == FILES
    assert wf.route_of(release) is Route.DIRECT
    assert not wf.route_is_measured(release)
    assert all(status(release, s.id) is StepStatus.TODO for s in STEPS)
    assert [(e.action, e.actor, e.at) for e in release.audit] == [
        (AuditAction.CREATED, PARTNER, T0)
    ]
    assert not wf.is_complete(release)


# --- availability ---------------------------------------------------------------------------


def test_steps_without_prerequisites_are_available_at_once() -> None:
    release = new()
    available = {s.id for s in wf.active_steps(release) if wf.is_available(release, s.id)}
    assert available == {S.ANONYMITY, S.INTEROPERABILITY, S.CONTRACT, S.ACCOUNT}


def test_the_volume_waits_for_interoperability() -> None:
    release = new()
    assert wf.blockers(release, S.VOLUME) == (S.INTEROPERABILITY,)
    assert wf.is_available(commit(release, S.INTEROPERABILITY), S.VOLUME)


def test_the_deposit_waits_for_each_of_its_prerequisites_in_declared_order() -> None:
    release = new()
    assert wf.blockers(release, S.DEPOSIT) == (S.CONTRACT, S.ORGANIZATION, S.ANONYMITY, S.VOLUME)
    release = commit(release, S.ANONYMITY, S.CONTRACT)
    assert wf.blockers(release, S.DEPOSIT) == (S.ORGANIZATION, S.VOLUME)


def test_publication_on_route_1_waits_for_the_deposit_not_for_reference_urls() -> None:
    release = commit(measured(SMALL), S.CONTRACT, S.ACCOUNT, S.ORGANIZATION)
    assert wf.blockers(release, S.PUBLICATION) == (S.DEPOSIT,)
    release = commit(release, S.DEPOSIT)
    assert status(release, S.REFERENCE_URLS) is StepStatus.TODO
    assert wf.is_available(release, S.PUBLICATION)


def test_publication_on_route_2_waits_for_reference_urls_not_for_the_deposit() -> None:
    release = measured(BIG)
    assert wf.blockers(release, S.PUBLICATION) == (S.REFERENCE_URLS,)
    release = commit(release, *HOSTED_PATH[3:-1])
    assert status(release, S.DEPOSIT) is StepStatus.TODO
    assert wf.is_available(release, S.PUBLICATION)


def test_on_route_2_hdh_shares_the_base_only_once_the_data_is_prepared() -> None:
    release = commit(measured(BIG), S.CONTRACT)
    assert wf.blockers(release, S.SHARE_WITH_HDH) == (S.PREPARE_DATA,)
    assert wf.is_available(commit(release, S.PREPARE_DATA), S.SHARE_WITH_HDH)


def test_on_route_1_the_preparation_of_hosted_data_is_not_waited_for() -> None:
    release = commit(measured(SMALL), S.CONTRACT)
    # share_with_hdh is not on route 1; its hosted-only prerequisite is ignored there.
    assert S.PREPARE_DATA not in wf.blockers(release, S.SHARE_WITH_HDH)


# --- committing -----------------------------------------------------------------------------


def test_committing_records_the_outputs_the_time_and_who_did_it() -> None:
    outputs = {"signed_on": "2026-02-27", "reference": "HDH-2026-042"}
    release = wf.commit_step(new(), S.CONTRACT, outputs, STAFF, LATER)
    record = release.record(S.CONTRACT)
    assert record.status is StepStatus.DONE
    assert record.outputs == outputs
    assert (record.updated_at, record.updated_by, record.reason) == (LATER, STAFF, "")
    assert release.actor == STAFF
    outputs["reference"] = "changed afterwards"
    assert release.record(S.CONTRACT).outputs["reference"] == "HDH-2026-042"


def test_committing_an_unavailable_step_is_refused_with_its_blockers() -> None:
    release = commit(new(), S.CONTRACT)
    error = refused(
        "error.step_not_available", lambda: wf.commit_step(release, S.DEPOSIT, {}, PARTNER, T0)
    )
    assert error.params == {"step": "deposit", "blockers": "organization, anonymity, volume"}


def test_a_refused_commit_leaves_the_release_unchanged() -> None:
    release = new()
    before = (dict(release.steps), release.audit)
    with pytest.raises(StepError):
        wf.commit_step(release, S.VOLUME, {}, PARTNER, T0)
    assert (release.steps, release.audit) == before


def test_committing_a_step_of_the_other_route_is_refused() -> None:
    hosted = commit(measured(BIG), S.CONTRACT, S.ACCOUNT, S.ORGANIZATION)
    refused("error.step_not_on_route", lambda: wf.commit_step(hosted, S.DEPOSIT, {}, PARTNER, T0))
    direct = measured(SMALL)
    error = refused(
        "error.step_not_on_route", lambda: wf.commit_step(direct, S.DATASET_PAGE, {}, PARTNER, T0)
    )
    assert error.params == {"step": "dataset_page"}


@pytest.mark.parametrize("step_id", [S.SHARE_WITH_HDH, S.REFERENCE_URLS])
def test_a_partner_cannot_commit_a_step_done_by_hdh_staff(step_id: StepId) -> None:
    release = commit(measured(BIG), *HOSTED_PATH[3:8])
    if step_id is S.REFERENCE_URLS:
        release = commit(release, S.SHARE_WITH_HDH)
    assert wf.is_available(release, step_id)
    error = refused(
        "error.step_needs_staff", lambda: wf.commit_step(release, step_id, {}, PARTNER, T0)
    )
    assert error.params == {"step": step_id.value}
    done = wf.commit_step(release, step_id, {"urls": ["s3://hdh/base"]}, STAFF, T0)
    assert status(done, step_id) is StepStatus.DONE


def test_either_the_partner_or_hdh_staff_may_sign_the_contract() -> None:
    for person in (PARTNER, STAFF):
        release = wf.commit_step(new(), S.CONTRACT, {}, person, T0)
        assert status(release, S.CONTRACT) is StepStatus.DONE


def test_committing_again_a_done_step_replaces_its_outputs() -> None:
    release = commit(new(), S.ACCOUNT, outputs={"user": "emartin"})
    release = commit(release, S.ACCOUNT, outputs={"user": "elodie.martin"})
    assert release.record(S.ACCOUNT).outputs == {"user": "elodie.martin"}
    assert status(release, S.ACCOUNT) is StepStatus.DONE


# --- drafts ---------------------------------------------------------------------------------


def test_a_draft_puts_a_step_in_progress() -> None:
    release = wf.save_draft(new(), S.CONTRACT, {"reference": "HDH-20"}, PARTNER, LATER)
    record = release.record(S.CONTRACT)
    assert (record.status, record.outputs) == (StepStatus.IN_PROGRESS, {"reference": "HDH-20"})
    assert release.audit[-1].action is AuditAction.DRAFT_SAVED
    assert release.audit[-1].step is S.CONTRACT


def _with_every_status() -> Release:
    """contract blocked, account done, organization stale, co_admin skipped."""
    release = commit(new(), S.ACCOUNT, S.ORGANIZATION)
    release = wf.block_step(release, S.CONTRACT, "signature attendue", PARTNER, T0)
    release = wf.skip_step(release, S.CO_ADMIN, "pas besoin", PARTNER, T0)
    release, _ = wf.undo_step(release, S.ACCOUNT, PARTNER, T0)
    return commit(release, S.ACCOUNT, outputs={"user": "emartin"})


@pytest.mark.parametrize("step_id", [S.ACCOUNT, S.CO_ADMIN])
def test_a_draft_on_a_finished_step_is_refused_and_the_committed_outputs_stay(
    step_id: StepId,
) -> None:
    release = _with_every_status()
    before = release.record(step_id)
    assert before.status in {StepStatus.DONE, StepStatus.SKIPPED}
    error = refused(
        "error.draft_on_finished_step",
        lambda: wf.save_draft(release, step_id, {"user": "brouillon"}, PARTNER, LATER),
    )
    assert error.params == {"step": step_id.value}
    assert release.record(step_id) == before


def test_a_draft_keeps_a_blocked_step_blocked() -> None:
    release = _with_every_status()
    drafted = wf.save_draft(release, S.CONTRACT, {"reference": "HDH-20"}, PARTNER, LATER)
    record = drafted.record(S.CONTRACT)
    assert (record.status, record.outputs) == (StepStatus.BLOCKED, {"reference": "HDH-20"})
    assert record.reason == "signature attendue"


def test_a_draft_on_a_stale_step_means_it_is_being_reviewed() -> None:
    release = _with_every_status()
    assert status(release, S.ORGANIZATION) is StepStatus.STALE
    drafted = wf.save_draft(release, S.ORGANIZATION, {"slug": "hdh"}, PARTNER, LATER)
    assert status(drafted, S.ORGANIZATION) is StepStatus.IN_PROGRESS


# --- skipping -------------------------------------------------------------------------------


@pytest.mark.parametrize("step_id", [s.id for s in STEPS if s.requirement is Requirement.REQUIRED])
def test_a_required_step_cannot_be_skipped(step_id: StepId) -> None:
    error = refused(
        "error.step_not_skippable",
        lambda: wf.skip_step(new(), step_id, "trop long", PARTNER, T0),
    )
    assert error.params == {"step": step_id.value}


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_skipping_needs_a_reason(reason: str) -> None:
    refused("error.reason_required", lambda: wf.skip_step(new(), S.CO_ADMIN, reason, PARTNER, T0))


def test_skipping_a_recommended_step_records_the_reason() -> None:
    release = wf.skip_step(
        measured(BIG), S.PREPARE_DATA, "  Base déjà découpée par stade  ", PARTNER, LATER
    )
    record = release.record(S.PREPARE_DATA)
    assert (record.status, record.reason) == (StepStatus.SKIPPED, "Base déjà découpée par stade")
    entry = release.audit[-1]
    assert (entry.action, entry.step, entry.detail) == (
        AuditAction.SKIPPED,
        S.PREPARE_DATA,
        "Base déjà découpée par stade",
    )


def test_a_skipped_preparation_lets_hdh_share_the_base() -> None:
    release = commit(measured(BIG), S.CONTRACT)
    release = wf.skip_step(release, S.PREPARE_DATA, "Base déjà découpée", PARTNER, T0)
    assert wf.is_available(release, S.SHARE_WITH_HDH)


# --- blocking -------------------------------------------------------------------------------


def test_blocking_a_step_records_why_and_next_step_goes_past_it() -> None:
    release = wf.block_step(new(), S.ANONYMITY, " Avis du DPO attendu ", PARTNER, LATER)
    record = release.record(S.ANONYMITY)
    assert (record.status, record.reason) == (StepStatus.BLOCKED, "Avis du DPO attendu")
    assert release.audit[-1].action is AuditAction.BLOCKED
    assert release.audit[-1].detail == "Avis du DPO attendu"
    assert wf.next_step(release) is S.INTEROPERABILITY


def test_blocking_needs_a_reason() -> None:
    refused("error.reason_required", lambda: wf.block_step(new(), S.CONTRACT, " ", PARTNER, T0))


def test_a_finished_step_cannot_be_blocked() -> None:
    release = commit(new(), S.CONTRACT)
    refused(
        "error.step_already_done",
        lambda: wf.block_step(release, S.CONTRACT, "signature", PARTNER, T0),
    )
    skipped = wf.skip_step(new(), S.CO_ADMIN, "non", PARTNER, T0)
    refused(
        "error.step_already_done",
        lambda: wf.block_step(skipped, S.CO_ADMIN, "attente", PARTNER, T0),
    )


def test_a_blocked_step_does_not_satisfy_its_dependents() -> None:
    release = wf.block_step(new(), S.ACCOUNT, "En attente de la DSI", PARTNER, T0)
    assert wf.blockers(release, S.ORGANIZATION) == (S.ACCOUNT,)


def test_unblocking_returns_to_todo_or_to_the_draft_in_progress() -> None:
    release = wf.block_step(new(), S.CONTRACT, "signature", PARTNER, T0)
    unblocked = wf.unblock_step(release, S.CONTRACT, STAFF, LATER)
    assert unblocked.record(S.CONTRACT).status is StepStatus.TODO
    assert unblocked.record(S.CONTRACT).reason == ""
    assert unblocked.audit[-1].action is AuditAction.UNBLOCKED

    drafted = wf.save_draft(new(), S.CONTRACT, {"reference": "HDH-20"}, PARTNER, T0)
    drafted = wf.block_step(drafted, S.CONTRACT, "signature", PARTNER, T0)
    unblocked = wf.unblock_step(drafted, S.CONTRACT, PARTNER, LATER)
    assert unblocked.record(S.CONTRACT).status is StepStatus.IN_PROGRESS
    assert unblocked.record(S.CONTRACT).outputs == {"reference": "HDH-20"}


def test_unblocking_a_step_that_is_not_blocked_is_refused() -> None:
    error = refused(
        "error.step_not_blocked", lambda: wf.unblock_step(new(), S.CONTRACT, PARTNER, T0)
    )
    assert error.params == {"step": "contract"}


# --- undoing --------------------------------------------------------------------------------


def test_undoing_a_step_marks_its_done_dependents_stale_and_reports_them() -> None:
    release = commit(measured(SMALL), S.CONTRACT, S.ACCOUNT, S.ORGANIZATION, S.DEPOSIT)
    assert wf.stale_after_undo(release, S.ACCOUNT) == (S.ORGANIZATION, S.DEPOSIT)
    undone, stale = wf.undo_step(release, S.ACCOUNT, PARTNER, LATER)
    assert stale == (S.ORGANIZATION, S.DEPOSIT)
    assert status(undone, S.ORGANIZATION) is StepStatus.STALE
    assert status(undone, S.DEPOSIT) is StepStatus.STALE
    assert undone.record(S.DEPOSIT).reason == "undo:account"
    # Steps that did not rely on it, and dependents never done, are untouched.
    assert status(undone, S.CONTRACT) is StepStatus.DONE
    assert status(undone, S.PUBLICATION) is StepStatus.TODO


def test_undo_keeps_what_was_entered_as_in_progress() -> None:
    release = commit(new(), S.CONTRACT, outputs={"reference": "HDH-2026-042"})
    undone, stale = wf.undo_step(release, S.CONTRACT, PARTNER, LATER)
    assert stale == ()
    record = undone.record(S.CONTRACT)
    assert (record.status, record.outputs) == (
        StepStatus.IN_PROGRESS,
        {"reference": "HDH-2026-042"},
    )
    skipped = wf.skip_step(new(), S.CO_ADMIN, "non", PARTNER, T0)
    assert status(wf.undo_step(skipped, S.CO_ADMIN, PARTNER, T0)[0], S.CO_ADMIN) is StepStatus.TODO


@pytest.mark.parametrize("prior", [StepStatus.TODO, StepStatus.IN_PROGRESS, StepStatus.BLOCKED])
def test_undoing_an_unfinished_step_is_refused(prior: StepStatus) -> None:
    release = new()
    if prior is StepStatus.IN_PROGRESS:
        release = wf.save_draft(release, S.CONTRACT, {"a": 1}, PARTNER, T0)
    if prior is StepStatus.BLOCKED:
        release = wf.block_step(release, S.CONTRACT, "signature", PARTNER, T0)
    assert status(release, S.CONTRACT) is prior
    refused("error.step_not_done", lambda: wf.undo_step(release, S.CONTRACT, PARTNER, T0))


def test_stale_steps_do_not_satisfy_prerequisites() -> None:
    release = commit(measured(SMALL), S.CONTRACT, S.ACCOUNT, S.ORGANIZATION)
    release, stale = wf.undo_step(release, S.INTEROPERABILITY, PARTNER, T0)
    assert stale == (S.VOLUME,)
    release = commit(release, S.INTEROPERABILITY)
    assert status(release, S.VOLUME) is StepStatus.STALE
    assert wf.blockers(release, S.DEPOSIT) == (S.VOLUME,)
    refused("error.step_not_available", lambda: commit(release, S.DEPOSIT))
    assert wf.is_available(commit(release, S.VOLUME), S.DEPOSIT)


def test_a_stale_step_can_itself_be_undone() -> None:
    release, _ = wf.undo_step(commit(new(), S.ACCOUNT, S.ORGANIZATION), S.ACCOUNT, PARTNER, T0)
    assert status(release, S.ORGANIZATION) is StepStatus.STALE
    reopened, stale = wf.undo_step(release, S.ORGANIZATION, PARTNER, T0)
    assert stale == ()
    assert status(reopened, S.ORGANIZATION) is StepStatus.IN_PROGRESS


def test_undoing_a_skipped_preparation_makes_the_hdh_share_stale() -> None:
    release = commit(measured(BIG), S.CONTRACT)
    release = wf.skip_step(release, S.PREPARE_DATA, "Base déjà découpée", PARTNER, T0)
    release = commit(release, S.SHARE_WITH_HDH)
    release, stale = wf.undo_step(release, S.PREPARE_DATA, PARTNER, T0)
    assert stale == (S.SHARE_WITH_HDH,)


def test_undoing_the_volume_forgets_the_measurement_and_returns_to_the_preview() -> None:
    release = wf.preview_route(new(), Route.HOSTED, PARTNER, T0)
    release = measured(SMALL, release)
    assert wf.route_of(release) is Route.DIRECT
    release, _ = wf.undo_step(release, S.VOLUME, PARTNER, LATER)
    assert not wf.route_is_measured(release)
    assert wf.route_of(release) is Route.HOSTED


def test_stale_after_undo_only_previews() -> None:
    release = commit(new(), S.ACCOUNT, S.ORGANIZATION)
    assert wf.stale_after_undo(release, S.ACCOUNT) == (S.ORGANIZATION,)
    assert status(release, S.ORGANIZATION) is StepStatus.DONE


# --- the next step --------------------------------------------------------------------------


def test_next_step_follows_the_checklist_of_route_1() -> None:
    release = new()
    seen = []
    while (step_id := wf.next_step(release)) is not None:
        seen.append(step_id)
        if step_id is S.CO_ADMIN:
            release = wf.skip_step(release, step_id, "pas besoin", PARTNER, T0)
        else:
            if step_id is S.VOLUME:
                release = wf.record_volume(release, SMALL, PARTNER, T0)
            release = commit(release, step_id)
    assert seen == [*DIRECT_PATH[:-1], S.PUBLICATION, S.CO_ADMIN]
    assert wf.is_complete(release)


def test_next_step_goes_to_the_first_available_unfinished_step_on_route_2() -> None:
    release = commit(measured(BIG), S.CONTRACT)
    # share_with_hdh (2) waits for prepare_data (6): the account (3) comes first.
    assert wf.next_step(release) is S.ACCOUNT
    release = commit(release, S.ACCOUNT, S.ORGANIZATION, S.DATASET_PAGE)
    assert wf.next_step(release) is S.PREPARE_DATA
    assert wf.next_step(commit(release, S.PREPARE_DATA)) is S.SHARE_WITH_HDH


def test_next_step_returns_to_a_stale_or_in_progress_step() -> None:
    release, _ = wf.undo_step(measured(SMALL), S.INTEROPERABILITY, PARTNER, T0)
    assert wf.next_step(release) is S.INTEROPERABILITY  # in progress: its outputs are kept
    release = commit(release, S.INTEROPERABILITY)
    assert status(release, S.VOLUME) is StepStatus.STALE
    assert wf.next_step(release) is S.VOLUME


def test_next_step_is_none_when_everything_left_is_blocked_or_unavailable() -> None:
    release = new()
    for step_id in (S.ANONYMITY, S.INTEROPERABILITY, S.CONTRACT, S.ACCOUNT):
        release = wf.block_step(release, step_id, "en attente", PARTNER, T0)
    assert wf.next_step(release) is None
    assert not wf.is_complete(release)


# --- route preview and measurement ----------------------------------------------------------


def test_the_route_can_be_previewed_before_the_volume_is_measured() -> None:
    release = commit(new(), S.CONTRACT, S.ACCOUNT)
    previewed = wf.preview_route(release, Route.HOSTED, STAFF, LATER)
    assert wf.route_of(previewed) is Route.HOSTED
    assert not wf.route_is_measured(previewed)
    assert S.SHARE_WITH_HDH in {s.id for s in wf.active_steps(previewed)}
    assert status(previewed, S.CONTRACT) is StepStatus.DONE
    entry = previewed.audit[-1]
    assert (entry.action, entry.step, entry.detail, entry.actor) == (
        AuditAction.ROUTE_PREVIEWED,
        None,
        "hosted",
        STAFF,
    )


def test_the_route_cannot_be_previewed_once_the_volume_is_measured() -> None:
    release = wf.record_volume(new(), SMALL, PARTNER, T0)
    refused(
        "error.route_already_measured",
        lambda: wf.preview_route(release, Route.HOSTED, PARTNER, T0),
    )


@pytest.mark.parametrize(
    ("total_bytes", "route"),
    [(0, Route.DIRECT), (10**9, Route.DIRECT), (10**9 + 1, Route.HOSTED)],
)
def test_the_measured_volume_decides_the_route(total_bytes: int, route: Route) -> None:
    other = Route.HOSTED if route is Route.DIRECT else Route.DIRECT
    release = wf.preview_route(new(), other, PARTNER, T0)
    release = wf.record_volume(release, total_bytes, PARTNER, LATER)
    assert wf.route_is_measured(release)
    assert release.measured_bytes == total_bytes
    assert wf.route_of(release) is route
    entry = release.audit[-1]
    assert (entry.action, entry.detail) == (
        AuditAction.VOLUME_MEASURED,
        f"{total_bytes}:{route.value}",
    )


def test_a_negative_volume_is_refused() -> None:
    refused("error.volume_negative", lambda: wf.record_volume(new(), -1, PARTNER, T0))


def test_switching_route_keeps_the_contract_done() -> None:
    release = commit(new(), S.ANONYMITY, S.INTEROPERABILITY, S.CONTRACT, S.ACCOUNT, S.ORGANIZATION)
    assert wf.route_of(release) is Route.DIRECT
    release = wf.record_volume(release, BIG, PARTNER, T0)
    release = commit(release, S.VOLUME)
    assert wf.route_of(release) is Route.HOSTED
    for step_id in (S.CONTRACT, S.ACCOUNT, S.ORGANIZATION, S.ANONYMITY, S.INTEROPERABILITY):
        assert status(release, step_id) is StepStatus.DONE
    assert wf.is_available(release, S.DATASET_PAGE)
    assert wf.next_step(release) is S.DATASET_PAGE


def test_a_new_measurement_can_switch_the_route_back() -> None:
    release = wf.record_volume(measured(BIG), SMALL, PARTNER, LATER)
    assert wf.route_of(release) is Route.DIRECT
    assert status(release, S.VOLUME) is StepStatus.DONE


def test_re_measuring_into_the_other_route_puts_publication_back_for_review() -> None:
    release = commit(measured(SMALL), *DIRECT_PATH[3:])
    assert status(release, S.PUBLICATION) is StepStatus.DONE
    release = wf.record_volume(release, BIG, PARTNER, LATER)
    assert status(release, S.PUBLICATION) is StepStatus.STALE
    assert violations(release) == []


def test_a_step_done_on_the_other_route_goes_stale_when_its_prerequisite_is_undone() -> None:
    release = wf.preview_route(new(), Route.HOSTED, PARTNER, T0)
    release = commit(release, S.CONTRACT, S.ACCOUNT, S.ORGANIZATION, S.DATASET_PAGE)
    release = wf.preview_route(release, Route.DIRECT, PARTNER, T0)
    release, _ = wf.undo_step(release, S.ORGANIZATION, PARTNER, T0)
    release = wf.preview_route(release, Route.HOSTED, PARTNER, T0)
    assert status(release, S.DATASET_PAGE) is StepStatus.STALE
    assert violations(release) == []


def test_the_volume_step_cannot_be_done_without_a_measured_volume() -> None:
    release = commit(new(), S.INTEROPERABILITY)
    refused("error.volume_not_measured", lambda: wf.commit_step(release, S.VOLUME, {}, PARTNER, T0))
    assert status(release, S.VOLUME) is StepStatus.TODO


# --- where the release is published ---------------------------------------------------------


def test_a_new_release_targets_the_demo_portal() -> None:
    assert new().target.environment is Environment.DEMO
    assert new().target.url == "https://demo.data.gouv.fr"


def test_production_needs_an_explicit_confirmation() -> None:
    refused(
        "error.production_needs_confirmation",
        lambda: wf.set_target(new(), Environment.PRODUCTION, STAFF, T0),
    )
    release = wf.set_target(new(), Environment.PRODUCTION, STAFF, LATER, confirmed=True)
    assert release.target.url == "https://www.data.gouv.fr"
    entry = release.audit[-1]
    assert (entry.action, entry.detail) == (
        AuditAction.TARGET_CHANGED,
        "production:https://www.data.gouv.fr",
    )


def test_going_back_to_the_demo_portal_needs_no_confirmation() -> None:
    release = wf.set_target(new(), Environment.PRODUCTION, STAFF, T0, confirmed=True)
    release = wf.set_target(release, Environment.DEMO, PARTNER, LATER)
    assert release.target.url == "https://demo.data.gouv.fr"


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://data.example.org/", "https://data.example.org"),
        ("https://data.example.org", "https://data.example.org"),
        ("http://127.0.0.1:7000", "http://127.0.0.1:7000"),
    ],
)
def test_a_custom_portal_url_is_kept_without_its_trailing_slash(url: str, stored: str) -> None:
    release = wf.set_target(new(), Environment.CUSTOM, PARTNER, T0, url=url)
    assert release.target.environment is Environment.CUSTOM
    assert release.target.url == stored


@pytest.mark.parametrize("url", [None, "", "data.example.org", "ftp://data.example.org"])
def test_an_invalid_custom_portal_url_is_refused(url: str | None) -> None:
    error = refused(
        "error.custom_url_invalid",
        lambda: wf.set_target(new(), Environment.CUSTOM, PARTNER, T0, url=url),
    )
    assert error.params == {"url": url or ""}


@pytest.mark.parametrize("url", ["https://", "https:///", "https://data example.org"])
def test_a_custom_portal_url_needs_a_host(url: str) -> None:
    refused(
        "error.custom_url_invalid",
        lambda: wf.set_target(new(), Environment.CUSTOM, PARTNER, T0, url=url),
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://www.data.gouv.fr",
        "https://www.data.gouv.fr/",
        "https://WWW.Data.Gouv.FR",
        "https://www.data.gouv.fr/fr/",
        "https://data.gouv.fr",
        "http://www.data.gouv.fr",
        "https://www.data.gouv.fr:443",
    ],
)
def test_a_custom_url_to_production_still_needs_the_confirmation(url: str) -> None:
    refused(
        "error.production_needs_confirmation",
        lambda: wf.set_target(new(), Environment.CUSTOM, PARTNER, T0, url=url),
    )
    confirmed = wf.set_target(new(), Environment.CUSTOM, STAFF, T0, url=url, confirmed=True)
    assert confirmed.target.environment is Environment.PRODUCTION


@pytest.mark.parametrize("url", ["https://data.example.org:99999", "https://data.example.org:x"])
def test_a_custom_portal_url_with_a_bad_port_is_refused(url: str) -> None:
    refused(
        "error.custom_url_invalid",
        lambda: wf.set_target(new(), Environment.CUSTOM, PARTNER, T0, url=url),
    )


def test_a_custom_portal_on_an_ipv6_host_keeps_its_address() -> None:
    release = wf.set_target(new(), Environment.CUSTOM, PARTNER, T0, url="http://[::1]:7000/")
    assert release.target.url == "http://[::1]:7000"


# --- the data files change ------------------------------------------------------------------


def test_setting_the_same_files_changes_nothing() -> None:
    release = measured(SMALL)
    same, stale = wf.set_files(release, list(FILES), PARTNER, LATER)
    assert same is release
    assert stale == ()


def test_new_files_make_the_steps_computed_from_the_data_and_their_dependents_stale() -> None:
    release = commit(measured(SMALL), S.CONTRACT, S.ACCOUNT, S.ORGANIZATION, S.DEPOSIT)
    new_files = (*FILES, DataFile("donnees/annexe.csv", 1_000, 1, "sha256:ef56"))
    changed, stale = wf.set_files(release, new_files, PARTNER, LATER)
    assert changed.files == new_files
    assert stale == (S.ANONYMITY, S.INTEROPERABILITY, S.VOLUME, S.DEPOSIT)
    for step_id in stale:
        assert status(changed, step_id) is StepStatus.STALE
        assert changed.record(step_id).reason == "files_changed"
    for step_id in (S.CONTRACT, S.ACCOUNT, S.ORGANIZATION):
        assert status(changed, step_id) is StepStatus.DONE
    assert [(e.action, e.step) for e in changed.audit[len(release.audit) :]] == [
        (AuditAction.FILES_CHANGED, None),
        *[(AuditAction.MARKED_STALE, step_id) for step_id in stale],
    ]
    assert changed.audit[len(release.audit)].detail == (
        "donnees/patients.csv, donnees/lames, donnees/annexe.csv"
    )


def test_new_files_make_a_done_non_data_dependent_stale_too() -> None:
    release = commit(measured(SMALL), *DIRECT_PATH[3:])
    _, stale = wf.set_files(release, FILES[:1], PARTNER, LATER)
    assert S.PUBLICATION in stale  # it relies on the deposit, computed from the data


def test_new_files_also_put_back_for_review_the_done_steps_of_the_other_route() -> None:
    release = commit(measured(BIG), *HOSTED_PATH[3:-1])
    release = wf.record_volume(release, SMALL, PARTNER, T0)  # hosted steps now hidden
    _, stale = wf.set_files(release, FILES[:1], PARTNER, LATER)
    # reference_urls relies on the upload to HDH, which relied on the data.
    assert {S.SHARE_WITH_HDH, S.PREPARE_DATA, S.REFERENCE_URLS} <= set(stale)


def test_new_files_leave_unfinished_and_skipped_steps_as_they_were() -> None:
    release = commit(measured(BIG), S.CONTRACT)
    release = wf.skip_step(release, S.PREPARE_DATA, "Base déjà découpée", PARTNER, T0)
    release = wf.save_draft(release, S.ACCOUNT, {"user": "em"}, PARTNER, T0)
    changed, _ = wf.set_files(release, FILES[:1], PARTNER, LATER)
    assert status(changed, S.PREPARE_DATA) is StepStatus.SKIPPED
    assert status(changed, S.ACCOUNT) is StepStatus.IN_PROGRESS
    assert status(changed, S.SHARE_WITH_HDH) is StepStatus.TODO


# --- the audit trail ------------------------------------------------------------------------

Action = Callable[[Release], Release]


def _blocked_account(release: Release) -> Release:
    return wf.block_step(release, S.ACCOUNT, "En attente de la DSI", PARTNER, T0)


ONE_ENTRY_ACTIONS: dict[str, tuple[Action, Action, AuditAction]] = {
    "commit": (
        lambda r: r,
        lambda r: wf.commit_step(r, S.ACCOUNT, {}, PARTNER, LATER),
        AuditAction.COMMITTED,
    ),
    "draft": (
        lambda r: r,
        lambda r: wf.save_draft(r, S.ACCOUNT, {}, PARTNER, LATER),
        AuditAction.DRAFT_SAVED,
    ),
    "skip": (
        lambda r: r,
        lambda r: wf.skip_step(r, S.CO_ADMIN, "non", PARTNER, LATER),
        AuditAction.SKIPPED,
    ),
    "block": (
        lambda r: r,
        lambda r: wf.block_step(r, S.ACCOUNT, "En attente de la DSI", PARTNER, LATER),
        AuditAction.BLOCKED,
    ),
    "unblock": (
        _blocked_account,
        lambda r: wf.unblock_step(r, S.ACCOUNT, STAFF, LATER),
        AuditAction.UNBLOCKED,
    ),
    "undo without dependents": (
        lambda r: r,
        lambda r: wf.undo_step(r, S.CONTRACT, PARTNER, LATER)[0],
        AuditAction.UNDONE,
    ),
    "preview": (
        lambda r: r,
        lambda r: wf.preview_route(r, Route.HOSTED, PARTNER, LATER),
        AuditAction.ROUTE_PREVIEWED,
    ),
    "measure": (
        lambda r: r,
        lambda r: wf.record_volume(r, SMALL, PARTNER, LATER),
        AuditAction.VOLUME_MEASURED,
    ),
    "target": (
        lambda r: r,
        lambda r: wf.set_target(r, Environment.DEMO, PARTNER, LATER),
        AuditAction.TARGET_CHANGED,
    ),
    "files without done data steps": (
        lambda r: r,
        lambda r: wf.set_files(r, FILES[:1], PARTNER, LATER)[0],
        AuditAction.FILES_CHANGED,
    ),
    "log": (
        lambda r: r,
        lambda r: wf.log_action(r, STAFF, LATER, AuditAction.BACKUP_RESTORED, "bak"),
        AuditAction.BACKUP_RESTORED,
    ),
}


@pytest.mark.parametrize("name", list(ONE_ENTRY_ACTIONS))
def test_every_action_appends_exactly_one_audit_entry(name: str) -> None:
    setup, action, expected = ONE_ENTRY_ACTIONS[name]
    before = setup(commit(new(), S.CONTRACT))
    after = action(before)
    assert after.audit[: len(before.audit)] == before.audit
    assert len(after.audit) == len(before.audit) + 1
    assert after.audit[-1].action is expected
    assert after.audit[-1].at == LATER


def test_undo_appends_one_entry_then_one_per_step_marked_stale() -> None:
    release = commit(new(), S.ACCOUNT, S.ORGANIZATION, S.CO_ADMIN)
    undone, stale = wf.undo_step(release, S.ACCOUNT, STAFF, LATER)
    added = undone.audit[len(release.audit) :]
    assert undone.audit[: len(release.audit)] == release.audit
    assert [(e.action, e.step, e.detail) for e in added] == [
        (AuditAction.UNDONE, S.ACCOUNT, ""),
        (AuditAction.MARKED_STALE, S.ORGANIZATION, "undo:account"),
        (AuditAction.MARKED_STALE, S.CO_ADMIN, "undo:account"),
    ]
    assert stale == (S.ORGANIZATION, S.CO_ADMIN)
    assert all(e.actor == STAFF and e.at == LATER for e in added)


def test_undoing_the_volume_marks_each_dependent_stale_once_with_the_undo_as_reason() -> None:
    release = commit(measured(SMALL), S.CONTRACT, S.ACCOUNT, S.ORGANIZATION, S.DEPOSIT)
    undone, stale = wf.undo_step(release, S.VOLUME, PARTNER, LATER)
    assert wf.route_of(undone) is Route.DIRECT  # the preview is the measured route
    assert stale == (S.DEPOSIT,)
    assert [(e.action, e.step, e.detail) for e in undone.audit[len(release.audit) :]] == [
        (AuditAction.UNDONE, S.VOLUME, ""),
        (AuditAction.MARKED_STALE, S.DEPOSIT, "undo:volume"),
    ]


def test_undoing_the_volume_puts_steps_invalid_on_the_previewed_route_back_for_review() -> None:
    release = wf.preview_route(new(), Route.HOSTED, PARTNER, T0)
    release = commit(measured(SMALL, release), *DIRECT_PATH[3:])
    undone, stale = wf.undo_step(release, S.VOLUME, PARTNER, LATER)
    assert wf.route_of(undone) is Route.HOSTED
    assert set(stale) >= {S.DEPOSIT, S.PUBLICATION}
    assert status(undone, S.PUBLICATION) is StepStatus.STALE
    assert violations(undone) == []


def test_the_audit_trail_of_a_whole_release_is_append_only() -> None:
    steps: list[Callable[[Release], Release]] = [
        lambda r: wf.preview_route(r, Route.HOSTED, PARTNER, T0),
        lambda r: commit(r, S.ANONYMITY, S.INTEROPERABILITY),
        lambda r: wf.record_volume(r, BIG, PARTNER, T0),
        lambda r: commit(r, S.VOLUME, S.CONTRACT, S.ACCOUNT),
        lambda r: wf.block_step(r, S.ORGANIZATION, "statuts", PARTNER, T0),
        lambda r: wf.unblock_step(r, S.ORGANIZATION, PARTNER, T0),
        lambda r: commit(r, S.ORGANIZATION, S.DATASET_PAGE),
        lambda r: wf.skip_step(r, S.PREPARE_DATA, "déjà découpée", PARTNER, T0),
        lambda r: commit(r, S.SHARE_WITH_HDH),
        lambda r: wf.undo_step(r, S.CONTRACT, PARTNER, T0)[0],
        lambda r: wf.set_files(r, FILES[:1], PARTNER, T0)[0],
        lambda r: wf.set_target(r, Environment.PRODUCTION, STAFF, T0, confirmed=True),
    ]
    release = new()
    for step in steps:
        after = step(release)
        assert len(after.audit) > len(release.audit)
        assert after.audit[: len(release.audit)] == release.audit
        release = after


# --- completion -----------------------------------------------------------------------------


def test_route_1_is_complete_without_the_optional_co_admin() -> None:
    release = commit(measured(SMALL), *DIRECT_PATH[3:-1])
    assert not wf.is_complete(release)
    release = commit(release, S.PUBLICATION)
    assert status(release, S.CO_ADMIN) is StepStatus.TODO
    assert wf.is_complete(release)


def test_route_2_is_complete_once_hdh_referenced_the_urls_and_it_is_published() -> None:
    release = measured(BIG)
    release = commit(release, *HOSTED_PATH[3:7])
    release = wf.skip_step(release, S.PREPARE_DATA, "déjà découpée", PARTNER, T0)
    release = commit(release, S.SHARE_WITH_HDH, S.REFERENCE_URLS)
    assert not wf.is_complete(release)
    assert wf.is_complete(commit(release, S.PUBLICATION))


def test_a_stale_step_makes_a_finished_release_incomplete_again() -> None:
    release = commit(measured(SMALL), *DIRECT_PATH[3:])
    assert wf.is_complete(release)
    changed, _ = wf.set_files(release, FILES[:1], PARTNER, LATER)
    assert not wf.is_complete(changed)


def test_a_release_done_on_route_1_is_not_complete_on_route_2() -> None:
    release = commit(measured(SMALL), *DIRECT_PATH[3:])
    assert not wf.is_complete(wf.record_volume(release, BIG, PARTNER, LATER))


def test_set_actor_changes_who_is_offered_on_resume_without_an_audit_entry() -> None:
    release = new()
    changed = wf.set_actor(release, STAFF)
    assert changed.actor == STAFF
    assert changed.audit == release.audit
