"""Who acts next, and what they will need: the handover between the partner and HDH staff.

A pure function of the release: the next step of the checklist (or, when every open step is
blocked, the first blocked one), who does it, and what that person must have at hand to do it
(the signed contract, a data.gouv.fr API key, HDH's storage access…). The home screen shows it
and `hdh-wizard status` prints it, so whoever opens the project next knows where it stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Actor, Role, StepStatus
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId, get_step


class Need(StrEnum):
    """Something the person doing a step must have at hand (a catalogue label each)."""

    DATA_FILES = "data_files"  # the data files themselves, on this machine
    SIGNED_CONTRACT = "signed_contract"  # the contract signed by both parties, its reference
    ACCOUNT_KEY = "account_key"  # the API key of an administrator account on data.gouv.fr
    STAFF_ACCOUNT = "staff_account"  # the data.gouv.fr account of the HDH Open Science member
    MEMBER_KEY = "member_key"  # an API key of an account that is a member of the organization
    DOCUMENTATION = "documentation"  # description, licence, coverage, contact of the dataset
    SPLIT_CRITERION = "split_criterion"  # a relevant criterion to split on, a sample's size
    STORAGE_ACCESS = "storage_access"  # HDH's storage: endpoint, bucket, access keys
    PREPARED_FILES = "prepared_files"  # the files to host, as the partner prepared them
    HOSTED_URLS = "hosted_urls"  # the addresses of the files HDH hosts


NEEDS: dict[StepId, tuple[Need, ...]] = {
    StepId.ANONYMITY: (Need.DATA_FILES,),
    StepId.INTEROPERABILITY: (Need.DATA_FILES,),
    StepId.VOLUME: (Need.DATA_FILES,),
    StepId.CONTRACT: (Need.SIGNED_CONTRACT,),
    StepId.SHARE_WITH_HDH: (Need.STORAGE_ACCESS, Need.PREPARED_FILES),
    StepId.ACCOUNT: (Need.ACCOUNT_KEY,),
    StepId.ORGANIZATION: (Need.ACCOUNT_KEY,),
    StepId.DEPOSIT: (Need.ACCOUNT_KEY, Need.DOCUMENTATION, Need.DATA_FILES),
    StepId.DATASET_PAGE: (Need.ACCOUNT_KEY, Need.DOCUMENTATION),
    StepId.PREPARE_DATA: (Need.DATA_FILES, Need.SPLIT_CRITERION),
    StepId.REFERENCE_URLS: (Need.MEMBER_KEY, Need.HOSTED_URLS),
    StepId.PUBLICATION: (Need.ACCOUNT_KEY,),
    StepId.CO_ADMIN: (Need.ACCOUNT_KEY, Need.STAFF_ACCOUNT),
}


@dataclass(frozen=True)
class NextActor:
    """The step to do next, who does it and what they will need.

    `blocked`: no step can be worked on; this one waits for what its block names (`reason`).
    `hands_over`: the person at the keyboard cannot do it; the other role takes over.
    `meanwhile`: when it hands over, a step the person at the keyboard can do in the meantime.
    """

    step: StepId
    actor: Actor
    needs: tuple[Need, ...]
    blocked: bool = False
    reason: str = ""
    hands_over: bool = False
    meanwhile: StepId | None = None


def can_do(actor: Actor, role: Role) -> bool:
    """Whether a person in `role` may do a step done by `actor`."""
    return actor is Actor.EITHER or actor.value == role.value


def next_actor(release: Release) -> NextActor | None:
    """Who acts next on this release; None once every required step is finished and nothing
    is left to do (or blocked) on the route."""
    step_id = workflow.next_step(release)
    blocked = False
    if step_id is None:
        step_id = _first_blocked(release)
        blocked = step_id is not None
    if step_id is None:
        return None
    actor = get_step(step_id).actor
    hands_over = not can_do(actor, release.actor.role)
    return NextActor(
        step=step_id,
        actor=actor,
        needs=NEEDS[step_id],
        blocked=blocked,
        reason=release.record(step_id).reason if blocked else "",
        hands_over=hands_over,
        meanwhile=_open_to(release, release.actor.role) if hands_over else None,
    )


def _open_to(release: Release, role: Role) -> StepId | None:
    """The first step that `role` can work on now (available, not finished, not blocked)."""
    for step in workflow.active_steps(release):
        status = workflow.status_of(release, step.id)
        if status in workflow.SATISFIED or status is StepStatus.BLOCKED:
            continue
        if can_do(step.actor, role) and workflow.is_available(release, step.id):
            return step.id
    return None


def _first_blocked(release: Release) -> StepId | None:
    for step in workflow.active_steps(release):
        if workflow.status_of(release, step.id) is StepStatus.BLOCKED:
            return step.id
    return None
