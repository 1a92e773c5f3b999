"""Properties of the workflow under random interleavings of actions by the partner and HDH.

Each run starts from a new release and applies a random list of actions (commit, undo, skip,
block, unblock, draft, a new measurement, a route preview, new files, and "advance": commit
what `next_step` proposes a few times in a row, so that deep states are reached). A refused
action (StepError) is a legitimate answer of the model; invariants are checked after each one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hdh_wizard.core import workflow as wf
from hdh_wizard.core.enums import Actor, Requirement, Role, Route, StepStatus
from hdh_wizard.core.release import DataFile, Person, Release
from hdh_wizard.core.steps import StepId, get_step
from hdh_wizard.errors import StepError

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PARTNER = Person("Élodie Martin", Role.PARTNER)
STAFF = Person("Karim Benali", Role.HDH_STAFF)
FILES = (
    DataFile("donnees/patients.csv", 600_000_000, 1, "sha256:ab12"),
    DataFile("donnees/lames", 300_000_000, 2, "sha256:cd34"),
    DataFile("donnees/images.tiff", 1_800_000_000, 3, "sha256:ef56"),
)
SMALL, BIG = 900_000_000, 2_700_000_000


@dataclass(frozen=True)
class Action:
    kind: str
    step: StepId = StepId.CONTRACT
    person: Person = PARTNER
    text: str = ""
    number: int = 0
    route: Route = Route.DIRECT


steps = st.sampled_from(list(StepId))
people = st.sampled_from([PARTNER, STAFF])
reasons = st.sampled_from(["", "  ", "Base déjà découpée", "En attente de la DSI"])
volumes = st.one_of(
    st.sampled_from([0, 10**9, 10**9 + 1, SMALL, BIG, -1]),
    st.integers(min_value=-10, max_value=5 * 10**9),
)

actions = st.one_of(
    st.builds(Action, st.just("commit"), steps, people),
    st.builds(Action, st.just("advance"), number=st.integers(1, 12)),
    st.builds(Action, st.just("undo"), steps, people),
    st.builds(Action, st.just("skip"), steps, people, reasons),
    st.builds(Action, st.just("block"), steps, people, reasons),
    st.builds(Action, st.just("unblock"), steps, people),
    st.builds(Action, st.just("draft"), steps, people),
    st.builds(Action, st.just("measure"), person=people, number=volumes),
    st.builds(Action, st.just("preview"), person=people, route=st.sampled_from(list(Route))),
    st.builds(Action, st.just("files"), person=people, number=st.integers(0, 2 ** len(FILES) - 1)),
)
action_lists = st.lists(actions, max_size=40)

MEASURE = Action("measure", number=SMALL)


def advance(times: int) -> Action:
    return Action("advance", number=times)


# Route 1 done up to the publication, then a new measurement says the base is over 1 Go.
PUBLISHED_THEN_REMEASURED = [
    MEASURE,
    advance(8),
    Action("measure", number=BIG),
]
# Route 2 previewed, dataset page done; on route 1 the organization is undone; back to route 2.
HIDDEN_STEP_KEPT_DONE = [
    Action("preview", route=Route.HOSTED),
    Action("commit", StepId.CONTRACT),
    Action("commit", StepId.ACCOUNT),
    Action("commit", StepId.ORGANIZATION),
    Action("commit", StepId.DATASET_PAGE),
    Action("preview", route=Route.DIRECT),
    Action("undo", StepId.ORGANIZATION),
    Action("preview", route=Route.HOSTED),
]


def actor_for(step_id: StepId) -> Person:
    return STAFF if get_step(step_id).actor is Actor.HDH_STAFF else PARTNER


def apply(release: Release, action: Action, now: datetime) -> Release:
    who, step_id = action.person, action.step
    match action.kind:
        case "commit":
            return wf.commit_step(release, step_id, {"at": now.isoformat()}, who, now)
        case "advance":  # commit what next_step proposes, `number` times
            for _ in range(action.number):
                proposed = wf.next_step(release)
                if proposed is None:
                    break
                release = wf.commit_step(release, proposed, {}, actor_for(proposed), now)
            return release
        case "undo":
            return wf.undo_step(release, step_id, who, now)[0]
        case "skip":
            return wf.skip_step(release, step_id, action.text, who, now)
        case "block":
            return wf.block_step(release, step_id, action.text, who, now)
        case "unblock":
            return wf.unblock_step(release, step_id, who, now)
        case "draft":
            return wf.save_draft(release, step_id, {"draft": True}, who, now)
        case "measure":
            return wf.record_volume(release, action.number, who, now)
        case "preview":
            return wf.preview_route(release, action.route, who, now)
        case "files":
            chosen = [f for i, f in enumerate(FILES) if action.number >> i & 1]
            return wf.set_files(release, chosen, who, now)[0]
    raise AssertionError(action.kind)


def run(plan: list[Action], check: Callable[[Release, Release, Action], None]) -> Release:
    """Apply the plan; `check(before, after, action)` after every action, refused or not."""
    release = wf.new_release("Base mélanome", PARTNER, T0, FILES[:2])
    for n, action in enumerate(plan, start=1):
        try:
            after = apply(release, action, T0 + timedelta(minutes=n))
        except StepError as refusal:
            assert refusal.key.startswith("error.")
            after = release
        check(release, after, action)
        release = after
    return release


def violations(release: Release) -> set[tuple[StepId, StepId]]:
    """(done step, unsatisfied prerequisite) pairs on the active route."""
    return {
        (step.id, p)
        for step in wf.active_steps(release)
        if wf.status_of(release, step.id) is StepStatus.DONE
        for p in wf.blockers(release, step.id)
    }


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(action_lists)
def test_the_audit_trail_only_grows_and_never_rewrites_its_past(plan: list[Action]) -> None:
    def check(before: Release, after: Release, action: Action) -> None:
        assert after.audit[: len(before.audit)] == before.audit
        if after is not before:  # an accepted action is always written down
            assert len(after.audit) > len(before.audit)
        stamps = {e.at for e in after.audit[len(before.audit) :]}
        assert len(stamps) <= 1  # one action, one moment

    run(plan, check)


@PROPERTY
@given(action_lists)
def test_statuses_stay_valid_and_skipped_steps_are_never_required(plan: list[Action]) -> None:
    def check(before: Release, after: Release, action: Action) -> None:
        for step_id, record in after.steps.items():
            assert isinstance(step_id, StepId)
            assert isinstance(record.status, StepStatus)
            if record.status is StepStatus.SKIPPED:
                assert get_step(step_id).requirement is Requirement.RECOMMENDED
            if record.status in {StepStatus.SKIPPED, StepStatus.BLOCKED, StepStatus.STALE}:
                assert record.reason.strip(), (step_id, record)
            if record.status is not StepStatus.TODO:
                assert record.updated_at is not None and record.updated_by is not None
        if after.measured_bytes is not None:
            assert after.measured_bytes >= 0

    run(plan, check)


@PROPERTY
@given(action_lists)
@example(PUBLISHED_THEN_REMEASURED)
@example(HIDDEN_STEP_KEPT_DONE)
def test_every_done_step_has_its_active_route_prerequisites_done_or_skipped(
    plan: list[Action],
) -> None:
    """Also across route changes: a done step whose prerequisites differ on the new route
    (publication: the deposit on route 1, the URL references on route 2), or a done step of
    the other route whose prerequisite was undone meanwhile, comes back stale, not done."""

    def check(before: Release, after: Release, action: Action) -> None:
        assert violations(after) == set(), action

    run(plan, check)


@PROPERTY
@given(action_lists)
def test_next_step_is_always_an_available_unfinished_step_of_the_route(
    plan: list[Action],
) -> None:
    def check(before: Release, after: Release, action: Action) -> None:
        proposed = wf.next_step(after)
        if proposed is None:
            return
        assert proposed in {s.id for s in wf.active_steps(after)}
        assert wf.is_available(after, proposed)
        assert wf.status_of(after, proposed) not in {
            StepStatus.DONE,
            StepStatus.SKIPPED,
            StepStatus.BLOCKED,
        }

    run(plan, check)


@PROPERTY
@given(action_lists)
def test_a_complete_release_has_every_required_step_of_its_route_done(plan: list[Action]) -> None:
    def check(before: Release, after: Release, action: Action) -> None:
        if wf.is_complete(after):
            for step in wf.active_steps(after):
                if step.requirement is Requirement.REQUIRED:
                    assert wf.status_of(after, step.id) is StepStatus.DONE

    run(plan, check)


def _undo(
    plan: list[Action], step_id: StepId, person: Person
) -> tuple[Release, Release, tuple[StepId, ...]] | None:
    """Run the plan, then undo `step_id`: (before, after, stale), or None if refused."""
    release = run(plan, lambda before, after, action: None)
    expected = wf.stale_after_undo(release, step_id)
    try:
        undone, stale = wf.undo_step(release, step_id, person, T0 + timedelta(days=1))
    except StepError as refusal:
        assert refusal.key == "error.step_not_done"
        assert wf.status_of(release, step_id) not in {
            StepStatus.DONE,
            StepStatus.SKIPPED,
            StepStatus.STALE,
        }
        return None
    assert stale == expected
    return release, undone, stale


@PROPERTY
@given(action_lists, steps, people)
def test_undo_marks_stale_every_done_dependent_it_reports_and_nothing_else(
    plan: list[Action], step_id: StepId, person: Person
) -> None:
    result = _undo(plan, step_id, person)
    if result is None:
        return
    release, undone, stale = result
    assert all(wf.status_of(undone, s) is StepStatus.STALE for s in stale)
    changed = {s for s in StepId if wf.status_of(undone, s) != wf.status_of(release, s)}
    rechecked = {s for s in changed if undone.record(s).reason == "route_changed"}
    assert changed <= {step_id, *stale, *rechecked}
    assert not rechecked or step_id is StepId.VOLUME  # only the volume changes the route


@PROPERTY
@given(action_lists, steps, people)
@example([MEASURE, advance(7)], StepId.VOLUME, PARTNER)
def test_undo_writes_one_entry_then_one_per_step_it_makes_stale(
    plan: list[Action], step_id: StepId, person: Person
) -> None:
    result = _undo(plan, step_id, person)
    if result is None:
        return
    release, undone, _ = result
    added = undone.audit[len(release.audit) :]
    assert added[0].action.value == "undone"
    assert {e.action.value for e in added[1:]} <= {"marked_stale"}
    marked = [e.step for e in added[1:]]
    newly_stale = {
        s
        for s in StepId
        if wf.status_of(undone, s) is StepStatus.STALE
        and wf.status_of(release, s) is not StepStatus.STALE
    }
    assert len(marked) == len(newly_stale), marked
    assert set(marked) == newly_stale


def test_the_hypothesis_plans_do_reach_the_end_of_both_routes() -> None:
    """The generators can complete a route: `advance` makes the deep states reachable."""
    direct = run([MEASURE, advance(8)], lambda before, after, action: None)
    assert wf.status_of(direct, StepId.PUBLICATION) is StepStatus.DONE
    hosted = run([Action("measure", number=BIG), advance(12)], lambda before, after, action: None)
    assert wf.status_of(hosted, StepId.PUBLICATION) is StepStatus.DONE
    assert wf.is_complete(direct) and wf.is_complete(hosted)
