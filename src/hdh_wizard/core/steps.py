"""Every step of the HDH guide, both routes, as data.

Each step has a stable id (used in the state file and on the command line), its number in the
guide for each route it belongs to, who does it, whether it is required, and its prerequisites.
Prerequisites form a graph: a prerequisite that does not belong to the active route is ignored,
so one definition serves both routes (publication waits for the deposit on route 1 and for the
URL references on route 2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from hdh_wizard.core.enums import Actor, Group, Requirement, Route

BOTH_ROUTES: frozenset[Route] = frozenset(Route)


class StepId(StrEnum):
    ANONYMITY = "anonymity"
    INTEROPERABILITY = "interoperability"
    VOLUME = "volume"
    CONTRACT = "contract"
    SHARE_WITH_HDH = "share_with_hdh"
    ACCOUNT = "account"
    ORGANIZATION = "organization"
    DEPOSIT = "deposit"
    DATASET_PAGE = "dataset_page"
    PREPARE_DATA = "prepare_data"
    REFERENCE_URLS = "reference_urls"
    PUBLICATION = "publication"
    CO_ADMIN = "co_admin"


@dataclass(frozen=True)
class Step:
    id: StepId
    group: Group
    numbers: dict[Route, str]  # the guide's number on each route the step belongs to
    actor: Actor
    requirement: Requirement
    prerequisites: tuple[StepId, ...]
    uses_data: bool = False  # its result depends on the data files' content

    @property
    def routes(self) -> frozenset[Route]:
        return frozenset(self.numbers)

    @property
    def title_key(self) -> str:
        return f"step.{self.id.value}.title"

    @property
    def summary_key(self) -> str:
        return f"step.{self.id.value}.summary"

    def number(self, route: Route) -> str:
        return self.numbers.get(route, "")


def _both(number: str) -> dict[Route, str]:
    return {route: number for route in Route}


STEPS: tuple[Step, ...] = (
    # I. Prérequis à l'ouverture (both routes)
    Step(
        StepId.ANONYMITY,
        Group.PREREQUISITES,
        _both("I.1"),
        Actor.PARTNER,
        Requirement.REQUIRED,
        (),
        uses_data=True,
    ),
    Step(
        StepId.INTEROPERABILITY,
        Group.PREREQUISITES,
        _both("I.2"),
        Actor.PARTNER,
        Requirement.REQUIRED,
        (),
        uses_data=True,
    ),
    Step(
        StepId.VOLUME,
        Group.PREREQUISITES,
        _both("I.3"),
        Actor.PARTNER,
        Requirement.REQUIRED,
        (StepId.INTEROPERABILITY,),
        uses_data=True,
    ),
    # II. Modalités d'ouverture: the contract is administrative and can start at once.
    Step(
        StepId.CONTRACT,
        Group.ROUTE,
        {Route.DIRECT: "1", Route.HOSTED: "1"},
        Actor.EITHER,
        Requirement.REQUIRED,
        (),
    ),
    Step(
        StepId.SHARE_WITH_HDH,
        Group.ROUTE,
        {Route.HOSTED: "2"},
        Actor.HDH_STAFF,
        Requirement.REQUIRED,
        (StepId.CONTRACT, StepId.ANONYMITY, StepId.VOLUME, StepId.PREPARE_DATA),
        uses_data=True,
    ),
    Step(
        StepId.ACCOUNT,
        Group.ROUTE,
        {Route.DIRECT: "2", Route.HOSTED: "3"},
        Actor.PARTNER,
        Requirement.REQUIRED,
        (),
    ),
    Step(
        StepId.ORGANIZATION,
        Group.ROUTE,
        {Route.DIRECT: "3", Route.HOSTED: "4"},
        Actor.PARTNER,
        Requirement.REQUIRED,
        (StepId.ACCOUNT,),
    ),
    Step(
        StepId.DEPOSIT,
        Group.ROUTE,
        {Route.DIRECT: "4"},
        Actor.PARTNER,
        Requirement.REQUIRED,
        (StepId.CONTRACT, StepId.ORGANIZATION, StepId.ANONYMITY, StepId.VOLUME),
        uses_data=True,
    ),
    Step(
        StepId.DATASET_PAGE,
        Group.ROUTE,
        {Route.HOSTED: "5"},
        Actor.PARTNER,
        Requirement.REQUIRED,
        (StepId.CONTRACT, StepId.ORGANIZATION),
    ),
    # The guide numbers it 6, but splitting must happen before the transfer to HDH (step 2).
    Step(
        StepId.PREPARE_DATA,
        Group.ROUTE,
        {Route.HOSTED: "6"},
        Actor.PARTNER,
        Requirement.RECOMMENDED,
        (StepId.ANONYMITY, StepId.VOLUME),
        uses_data=True,
    ),
    Step(
        StepId.REFERENCE_URLS,
        Group.ROUTE,
        {Route.HOSTED: "7"},
        Actor.HDH_STAFF,
        Requirement.REQUIRED,
        (StepId.SHARE_WITH_HDH, StepId.DATASET_PAGE),
    ),
    # Publication closes both routes.
    Step(
        StepId.PUBLICATION,
        Group.PUBLICATION,
        _both("III"),
        Actor.PARTNER,
        Requirement.REQUIRED,
        (StepId.DEPOSIT, StepId.REFERENCE_URLS),
    ),
    # NB of the guide: an Open Science member may co-administer the organization.
    Step(
        StepId.CO_ADMIN,
        Group.OPTIONAL,
        _both("NB"),
        Actor.EITHER,
        Requirement.RECOMMENDED,
        (StepId.ORGANIZATION,),
    ),
)

STEPS_BY_ID: dict[StepId, Step] = {step.id: step for step in STEPS}
GROUP_ORDER: tuple[Group, ...] = (
    Group.PREREQUISITES,
    Group.ROUTE,
    Group.PUBLICATION,
    Group.OPTIONAL,
)


def group_title_key(group: Group, route: Route) -> str:
    """The catalogue key of a checklist heading; the route group is named after its route."""
    return f"group.route.{route.value}" if group is Group.ROUTE else f"group.{group.value}"


def get_step(step_id: StepId | str) -> Step:
    return STEPS_BY_ID[StepId(step_id)]


def steps_for_route(route: Route) -> tuple[Step, ...]:
    """The route's steps in checklist order: by group, then by the guide's number."""
    active = [step for step in STEPS if route in step.routes]
    return tuple(sorted(active, key=lambda s: (GROUP_ORDER.index(s.group), _sort_key(s, route))))


def _sort_key(step: Step, route: Route) -> tuple[int, str]:
    number = step.number(route)
    if "." in number:
        number = number.rsplit(".", 1)[1]
    return (int(number), "") if number.isdigit() else (0, number)


def prerequisites_on(step: Step, route: Route) -> tuple[StepId, ...]:
    """The prerequisites that exist on this route."""
    return tuple(p for p in step.prerequisites if route in STEPS_BY_ID[p].routes)


def dependents_on(step_id: StepId, route: Route) -> tuple[StepId, ...]:
    """Every step of the route that relies on `step_id`, directly or not, in checklist order."""
    found: set[StepId] = set()
    frontier = [step_id]
    route_steps = steps_for_route(route)
    while frontier:
        current = frontier.pop()
        for step in route_steps:
            if current in prerequisites_on(step, route) and step.id not in found:
                found.add(step.id)
                frontier.append(step.id)
    return tuple(step.id for step in route_steps if step.id in found)


def topological_order(steps: Iterable[Step], route: Route) -> list[StepId]:
    """A valid doing order; raises ValueError on a cycle (a guard for edits to STEPS)."""
    pending = {step.id: set(prerequisites_on(step, route)) for step in steps}
    order: list[StepId] = []
    while pending:
        ready = sorted((s for s, deps in pending.items() if not deps), key=list(StepId).index)
        if not ready:
            raise ValueError(f"cycle among steps: {sorted(pending)}")
        for step_id in ready:
            order.append(step_id)
            del pending[step_id]
        for deps in pending.values():
            deps.difference_update(ready)
    return order
