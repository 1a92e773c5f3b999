"""The guide's steps as data: ids, numbering on each route, who does them, their graph."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hdh_wizard.core.enums import Actor, Group, Requirement, Route
from hdh_wizard.core.steps import (
    STEPS,
    STEPS_BY_ID,
    Step,
    StepId,
    dependents_on,
    get_step,
    prerequisites_on,
    steps_for_route,
    topological_order,
)
from hdh_wizard.i18n.catalogue import Lang, load_catalogue

# Written out literally: these strings are stored in state files and typed on the command line.
STORED_IDS = [
    "anonymity",
    "interoperability",
    "volume",
    "contract",
    "share_with_hdh",
    "account",
    "organization",
    "deposit",
    "dataset_page",
    "prepare_data",
    "reference_urls",
    "publication",
    "co_admin",
]


def _numbered(route: Route) -> list[tuple[str, StepId]]:
    """The route's steps of group II, as (guide number, id) in checklist order."""
    return [(s.number(route), s.id) for s in steps_for_route(route) if s.group is Group.ROUTE]


# --- ids ------------------------------------------------------------------------------------


def test_step_ids_stored_in_state_files_never_change() -> None:
    assert [step_id.value for step_id in StepId] == STORED_IDS


def test_every_step_id_has_exactly_one_step() -> None:
    assert [step.id for step in STEPS] == list(StepId)
    assert set(STEPS_BY_ID) == set(StepId)


@pytest.mark.parametrize("value", STORED_IDS)
def test_a_step_is_found_by_its_stored_id(value: str) -> None:
    step = get_step(value)
    assert step.id.value == value
    assert get_step(StepId(value)) is step


def test_an_unknown_step_id_is_refused() -> None:
    with pytest.raises(ValueError):
        get_step("publish_everything")


# --- the guide's numbering ------------------------------------------------------------------


def test_route_1_numbers_contract_account_organization_deposit() -> None:
    assert _numbered(Route.DIRECT) == [
        ("1", StepId.CONTRACT),
        ("2", StepId.ACCOUNT),
        ("3", StepId.ORGANIZATION),
        ("4", StepId.DEPOSIT),
    ]


def test_route_2_numbers_its_seven_steps_as_the_guide() -> None:
    assert _numbered(Route.HOSTED) == [
        ("1", StepId.CONTRACT),
        ("2", StepId.SHARE_WITH_HDH),
        ("3", StepId.ACCOUNT),
        ("4", StepId.ORGANIZATION),
        ("5", StepId.DATASET_PAGE),
        ("6", StepId.PREPARE_DATA),
        ("7", StepId.REFERENCE_URLS),
    ]


@pytest.mark.parametrize("route", list(Route))
def test_prerequisites_i1_to_i3_open_the_checklist_on_both_routes(route: Route) -> None:
    first = steps_for_route(route)[:3]
    assert [(s.id, s.number(route)) for s in first] == [
        (StepId.ANONYMITY, "I.1"),
        (StepId.INTEROPERABILITY, "I.2"),
        (StepId.VOLUME, "I.3"),
    ]
    assert all(s.group is Group.PREREQUISITES for s in first)
    assert all(s.requirement is Requirement.REQUIRED for s in first)


@pytest.mark.parametrize("route", list(Route))
def test_publication_closes_both_routes_then_the_optional_co_admin(route: Route) -> None:
    checklist = steps_for_route(route)
    assert [s.id for s in checklist[-2:]] == [StepId.PUBLICATION, StepId.CO_ADMIN]
    publication = get_step(StepId.PUBLICATION)
    assert publication.group is Group.PUBLICATION
    assert publication.requirement is Requirement.REQUIRED
    assert publication.routes == frozenset(Route)


@pytest.mark.parametrize("route", list(Route))
def test_checklist_is_ordered_by_group(route: Route) -> None:
    groups = [s.group for s in steps_for_route(route)]
    order = [Group.PREREQUISITES, Group.ROUTE, Group.PUBLICATION, Group.OPTIONAL]
    assert groups == sorted(groups, key=order.index)


def test_steps_of_one_route_only_have_no_number_on_the_other() -> None:
    assert get_step(StepId.DEPOSIT).routes == {Route.DIRECT}
    for hosted_only in (
        StepId.SHARE_WITH_HDH,
        StepId.DATASET_PAGE,
        StepId.PREPARE_DATA,
        StepId.REFERENCE_URLS,
    ):
        assert get_step(hosted_only).routes == {Route.HOSTED}
        assert get_step(hosted_only).number(Route.DIRECT) == ""
    assert get_step(StepId.DEPOSIT).number(Route.HOSTED) == ""


def test_every_step_has_a_number_on_each_of_its_routes() -> None:
    for step in STEPS:
        assert step.routes, step.id
        for route in step.routes:
            assert step.number(route), (step.id, route)


# --- who does what --------------------------------------------------------------------------


def test_co_admin_is_optional_and_recommended_on_both_routes() -> None:
    co_admin = get_step(StepId.CO_ADMIN)
    assert co_admin.group is Group.OPTIONAL
    assert co_admin.requirement is Requirement.RECOMMENDED
    assert co_admin.routes == frozenset(Route)
    assert co_admin.prerequisites == (StepId.ORGANIZATION,)


def test_sharing_with_hdh_and_referencing_urls_are_done_by_hdh_staff() -> None:
    staff_steps = {step.id for step in STEPS if step.actor is Actor.HDH_STAFF}
    assert staff_steps == {StepId.SHARE_WITH_HDH, StepId.REFERENCE_URLS}


def test_the_contract_and_co_admin_may_be_done_by_either_side() -> None:
    either = {step.id for step in STEPS if step.actor is Actor.EITHER}
    assert either == {StepId.CONTRACT, StepId.CO_ADMIN}


def test_only_preparing_the_data_and_co_admin_are_recommended() -> None:
    recommended = {s.id for s in STEPS if s.requirement is Requirement.RECOMMENDED}
    assert recommended == {StepId.PREPARE_DATA, StepId.CO_ADMIN}


def test_steps_computed_from_the_data_are_flagged() -> None:
    assert {s.id for s in STEPS if s.uses_data} == {
        StepId.ANONYMITY,
        StepId.INTEROPERABILITY,
        StepId.VOLUME,
        StepId.SHARE_WITH_HDH,
        StepId.DEPOSIT,
        StepId.PREPARE_DATA,
    }


# --- the dependency graph -------------------------------------------------------------------


def test_every_prerequisite_is_a_known_step_other_than_itself() -> None:
    for step in STEPS:
        for prerequisite in step.prerequisites:
            assert prerequisite in STEPS_BY_ID, (step.id, prerequisite)
            assert prerequisite is not step.id
        assert len(set(step.prerequisites)) == len(step.prerequisites), step.id


@pytest.mark.parametrize("route", list(Route))
def test_graph_has_no_cycle_and_the_order_respects_prerequisites(route: Route) -> None:
    route_steps = steps_for_route(route)
    order = topological_order(route_steps, route)
    assert sorted(order) == sorted(s.id for s in route_steps)
    for step in route_steps:
        for prerequisite in prerequisites_on(step, route):
            assert order.index(prerequisite) < order.index(step.id), (prerequisite, step.id)


def test_topological_order_detects_a_cycle() -> None:
    loop_a = Step(
        StepId.ACCOUNT,
        Group.ROUTE,
        {Route.DIRECT: "2"},
        Actor.PARTNER,
        Requirement.REQUIRED,
        (StepId.ORGANIZATION,),
    )
    loop_b = replace(loop_a, id=StepId.ORGANIZATION, prerequisites=(StepId.ACCOUNT,))
    with pytest.raises(ValueError, match="cycle"):
        topological_order([loop_a, loop_b], Route.DIRECT)


@pytest.mark.parametrize("route", list(Route))
def test_prerequisites_on_a_route_only_name_steps_of_that_route(route: Route) -> None:
    for step in steps_for_route(route):
        for prerequisite in prerequisites_on(step, route):
            assert route in get_step(prerequisite).routes


def test_publication_waits_for_the_deposit_on_route_1_and_the_urls_on_route_2() -> None:
    publication = get_step(StepId.PUBLICATION)
    assert prerequisites_on(publication, Route.DIRECT) == (StepId.DEPOSIT,)
    assert prerequisites_on(publication, Route.HOSTED) == (StepId.REFERENCE_URLS,)


def test_preparing_the_data_comes_before_sharing_it_with_hdh() -> None:
    # The guide numbers preparation 6, but the split files are what HDH uploads (step 2).
    share = get_step(StepId.SHARE_WITH_HDH)
    assert StepId.PREPARE_DATA in prerequisites_on(share, Route.HOSTED)


def test_the_deposit_needs_the_anonymity_the_volume_the_contract_and_the_organization() -> None:
    deposit = get_step(StepId.DEPOSIT)
    assert set(prerequisites_on(deposit, Route.DIRECT)) == {
        StepId.CONTRACT,
        StepId.ORGANIZATION,
        StepId.ANONYMITY,
        StepId.VOLUME,
    }


def test_the_contract_and_the_account_can_start_at_once() -> None:
    assert get_step(StepId.CONTRACT).prerequisites == ()
    assert get_step(StepId.ACCOUNT).prerequisites == ()


def test_dependents_of_the_volume_differ_by_route_in_checklist_order() -> None:
    assert dependents_on(StepId.VOLUME, Route.DIRECT) == (StepId.DEPOSIT, StepId.PUBLICATION)
    assert dependents_on(StepId.VOLUME, Route.HOSTED) == (
        StepId.SHARE_WITH_HDH,
        StepId.PREPARE_DATA,
        StepId.REFERENCE_URLS,
        StepId.PUBLICATION,
    )


def test_dependents_of_the_account_reach_publication_and_co_admin() -> None:
    assert dependents_on(StepId.ACCOUNT, Route.DIRECT) == (
        StepId.ORGANIZATION,
        StepId.DEPOSIT,
        StepId.PUBLICATION,
        StepId.CO_ADMIN,
    )


@pytest.mark.parametrize("route", list(Route))
def test_dependents_are_the_transitive_closure_of_prerequisites(route: Route) -> None:
    route_steps = steps_for_route(route)
    for step in route_steps:
        expected = set()
        for other in route_steps:
            seen, frontier = set(), [other.id]
            while frontier:
                current = frontier.pop()
                for p in prerequisites_on(get_step(current), route):
                    if p not in seen:
                        seen.add(p)
                        frontier.append(p)
            if step.id in seen:
                expected.add(other.id)
        assert set(dependents_on(step.id, route)) == expected, step.id


# --- texts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", list(Lang))
@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.id.value)
def test_every_step_has_a_title_and_a_summary_in_both_languages(step: Step, lang: Lang) -> None:
    cat = load_catalogue(lang)
    assert step.title_key == f"step.{step.id.value}.title"
    assert step.summary_key == f"step.{step.id.value}.summary"
    assert cat.t(step.title_key).strip()
    assert cat.t(step.summary_key).strip()


def test_every_step_of_the_guide_opens_its_own_screen() -> None:
    from hdh_wizard.ui.steps.registry import SCREENS

    assert set(SCREENS) == set(StepId)
    for step_id, screen_class in SCREENS.items():
        assert screen_class.step_id is step_id
