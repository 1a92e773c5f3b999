"""What the data.gouv.fr steps record: typed, per portal, tolerant of hand edits, never secret."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Environment, StepStatus
from hdh_wizard.core.invitation import check_invitee, invitee_kind
from hdh_wizard.core.organization_form import OrganizationForm, check_organization_form
from hdh_wizard.core.portal_records import (
    AccountRecord,
    DatasetRecord,
    DepositedFile,
    InvitationRecord,
    OrganizationRecord,
    account_of,
    dataset_of,
    organization_of,
)
from hdh_wizard.core.release import Target
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import StepError
from tests.conftest import PARTNER, T0

DEMO = "https://demo.data.gouv.fr"


def test_records_round_trip_through_outputs() -> None:
    dataset = DatasetRecord(
        DEMO,
        "ds",
        "slug",
        "https://demo.data.gouv.fr/datasets/slug",
        (DepositedFile("a.csv", "r1", 3, 4, "x" * 64, "y" * 40, "a.csv", "u", "main"),),
        {"a.csv": {"uuid": "u1", "done_parts": 2}},
    )
    assert DatasetRecord.from_outputs(dataset.to_outputs()) == dataset
    org = OrganizationRecord(DEMO, "o1", "Consortium", "CV", "consortium", "page", True)
    assert OrganizationRecord.from_outputs(org.to_outputs()) == org
    invitation = InvitationRecord(DEMO, "o1", "i1", "x@y.fr", "admin", True, "t0", "t1")
    assert InvitationRecord.from_outputs(invitation.to_outputs()) == invitation
    account = AccountRecord(DEMO, "u1", "Alice Martin", "keyring")
    assert AccountRecord.from_outputs(account.to_outputs()) == account


@pytest.mark.parametrize(
    "outputs",
    [
        {},
        {"site": 3, "dataset_id": None},
        {"site": DEMO, "dataset_id": "d", "files": "nope", "uploads": [1]},
        {"site": DEMO, "dataset_id": "d", "files": [None, {"path": "a"}, {"size": "x"}]},
    ],
)
def test_hand_edited_records_read_as_not_done_or_empty(outputs: dict[str, Any]) -> None:
    record = DatasetRecord.from_outputs(outputs)
    assert record is None or (record.files == () and record.uploads == {})


def test_records_of_another_portal_are_ignored_after_a_target_change() -> None:
    release = workflow.new_release("Base", PARTNER, T0)
    release = workflow.commit_step(
        release, StepId.ACCOUNT, AccountRecord(DEMO, "u1", "A", "keyring").to_outputs(), PARTNER, T0
    )
    assert account_of(release) is not None
    moved = replace(release, target=Target(Environment.PRODUCTION, "https://www.data.gouv.fr"))
    assert account_of(moved) is None
    assert organization_of(moved) is None
    assert dataset_of(moved) is None


def test_nothing_secret_is_recorded() -> None:
    outputs = AccountRecord(DEMO, "u1", "Alice", "keyring").to_outputs()
    assert set(outputs) == {"site", "user_id", "user_name", "key_source"}


def test_progress_is_recorded_without_an_audit_entry_but_never_on_a_finished_step() -> None:
    release = workflow.new_release("Base", PARTNER, T0)
    before = len(release.audit)
    release = workflow.record_progress(release, StepId.ACCOUNT, {"x": 1}, T0)
    assert len(release.audit) == before
    assert release.record(StepId.ACCOUNT).status is StepStatus.IN_PROGRESS
    release = workflow.commit_step(release, StepId.ACCOUNT, {"x": 2}, PARTNER, T0)
    with pytest.raises(StepError):
        workflow.record_progress(release, StepId.ACCOUNT, {"x": 3}, T0)


def test_invitees_are_emails_or_user_ids() -> None:
    assert invitee_kind("helene.durand@health-data-hub.fr") == "email"
    assert invitee_kind("6b0bba44497ba7d44e0af3a7") == "user"
    assert invitee_kind("Hélène") == "unknown"
    assert [c.key for c in check_invitee("")] == ["coadmin.problem.empty"]
    assert [c.key for c in check_invitee("pas une adresse")] == ["coadmin.problem.shape"]


def test_an_organization_needs_a_name_a_description_and_a_web_address_if_any() -> None:
    keys = {c.key for c in check_organization_form(OrganizationForm(url="ftp://x"))}
    assert keys == {
        "organization.problem.name",
        "organization.problem.description",
        "organization.problem.url",
    }
    good = OrganizationForm("Consortium VisioMel", "VISIOMEL", "x" * 60, "https://visiomel.fr")
    assert check_organization_form(good) == []


def test_changing_the_portal_marks_the_portal_steps_to_review_not_the_prerequisites() -> None:
    release = workflow.new_release("Base", PARTNER, T0)
    release = workflow.commit_step(
        release, StepId.ACCOUNT, AccountRecord(DEMO, "u1", "A", "keyring").to_outputs(), PARTNER, T0
    )
    release = workflow.commit_step(release, StepId.CONTRACT, {"reference": "x"}, PARTNER, T0)
    moved = workflow.set_target(release, Environment.PRODUCTION, PARTNER, T0, confirmed=True)
    assert moved.record(StepId.ACCOUNT).status is StepStatus.STALE
    assert moved.record(StepId.ACCOUNT).reason == "target_changed"
    assert moved.record(StepId.CONTRACT).status is StepStatus.DONE
    assert not workflow.is_complete(moved)
    same = workflow.set_target(release, Environment.DEMO, PARTNER, T0)
    assert same.record(StepId.ACCOUNT).status is StepStatus.DONE
