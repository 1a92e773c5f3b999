"""The handover between the partner and HDH staff: who acts next, on which step, and what they
will need — decided by the core from the release alone, printed by `hdh-wizard status`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hdh_wizard import project as projects
from hdh_wizard.cli.main import main
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Actor, Role
from hdh_wizard.core.next_actor import NEEDS, Need, NextActor, can_do, next_actor
from hdh_wizard.core.release import DataFile, Person, Release
from hdh_wizard.core.steps import STEPS, StepId
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.present.handover import handover_text

from .tui_helpers import ALICE, NOW, STAFF, make_demo_project

SMALL = (DataFile("donnees/cohorte.csv", 40_000_000, 1, "fp1:a"),)
LARGE = (DataFile("donnees/cohorte.csv", 1_200_000_000, 1, "fp1:b"),)


def _release(files: tuple[DataFile, ...], actor: Person = ALICE) -> Release:
    return workflow.new_release("Cohorte test", actor, NOW, files)


def _prerequisites(release: Release) -> Release:
    for step_id in (StepId.CONTRACT, StepId.ANONYMITY, StepId.INTEROPERABILITY):
        release = workflow.commit_step(release, step_id, {}, ALICE, NOW)
    total = sum(f.size for f in release.files)
    release = workflow.record_volume(release, total, ALICE, NOW)
    return workflow.commit_step(release, StepId.VOLUME, {}, ALICE, NOW)


def _commit(release: Release, *steps: StepId, by: Person = ALICE) -> Release:
    for step_id in steps:
        release = workflow.commit_step(release, step_id, {}, by, NOW)
    return release


def _expect(release: Release) -> NextActor:
    nxt = next_actor(release)
    assert nxt is not None
    return nxt


def test_every_step_says_what_its_actor_will_need() -> None:
    assert set(NEEDS) == {step.id for step in STEPS}
    assert all(NEEDS[step_id] for step_id in NEEDS)


def test_a_new_release_starts_with_the_partner_and_the_data_files() -> None:
    nxt = _expect(_release(SMALL))
    assert (nxt.step, nxt.actor) == (StepId.ANONYMITY, Actor.PARTNER)
    assert nxt.needs == (Need.DATA_FILES,)
    assert not nxt.hands_over and not nxt.blocked


def test_route_one_after_the_organization_the_partner_deposits_with_the_key() -> None:
    release = _commit(_prerequisites(_release(SMALL)), StepId.ACCOUNT, StepId.ORGANIZATION)
    nxt = _expect(release)
    assert nxt.step is StepId.DEPOSIT
    assert Need.ACCOUNT_KEY in nxt.needs and Need.DOCUMENTATION in nxt.needs
    assert not nxt.hands_over


def test_route_two_hands_the_sharing_over_to_hdh_staff_with_the_storage_access() -> None:
    release = _prerequisites(_release(LARGE))
    release = workflow.skip_step(release, StepId.PREPARE_DATA, "Déjà découpée", ALICE, NOW)
    nxt = _expect(release)
    assert (nxt.step, nxt.actor) == (StepId.SHARE_WITH_HDH, Actor.HDH_STAFF)
    assert Need.STORAGE_ACCESS in nxt.needs
    assert nxt.hands_over  # Alice, the partner, is at the keyboard
    assert nxt.meanwhile is StepId.ACCOUNT  # hers to do while HDH staff shares the files
    # The same release opened by HDH staff: theirs to do, nothing to hand over.
    assert not _expect(workflow.set_actor(release, STAFF)).hands_over


def test_route_two_references_need_a_member_key_and_the_hosted_urls() -> None:
    release = _prerequisites(_release(LARGE))
    release = workflow.skip_step(release, StepId.PREPARE_DATA, "Déjà découpée", ALICE, NOW)
    release = _commit(release, StepId.SHARE_WITH_HDH, by=STAFF)
    release = _commit(release, StepId.ACCOUNT, StepId.ORGANIZATION, StepId.DATASET_PAGE)
    nxt = _expect(release)
    assert (nxt.step, nxt.actor) == (StepId.REFERENCE_URLS, Actor.HDH_STAFF)
    assert nxt.needs == (Need.MEMBER_KEY, Need.HOSTED_URLS)


def test_when_only_a_blocked_step_is_left_it_is_named_with_its_reason() -> None:
    release = _commit(_prerequisites(_release(SMALL)), StepId.ACCOUNT, StepId.ORGANIZATION)
    release = workflow.skip_step(release, StepId.CO_ADMIN, "Pas utile", ALICE, NOW)
    release = workflow.block_step(release, StepId.DEPOSIT, "Clé perdue", ALICE, NOW)
    nxt = _expect(release)
    assert nxt.step is StepId.DEPOSIT
    assert nxt.blocked and nxt.reason == "Clé perdue"


def test_nobody_acts_once_every_step_is_finished() -> None:
    release = _commit(
        _prerequisites(_release(SMALL)),
        StepId.ACCOUNT,
        StepId.ORGANIZATION,
        StepId.DEPOSIT,
        StepId.PUBLICATION,
        StepId.CO_ADMIN,
    )
    assert next_actor(release) is None


@pytest.mark.parametrize(
    ("actor", "role", "allowed"),
    [
        (Actor.PARTNER, Role.PARTNER, True),
        (Actor.PARTNER, Role.HDH_STAFF, False),
        (Actor.HDH_STAFF, Role.PARTNER, False),
        (Actor.EITHER, Role.PARTNER, True),
        (Actor.EITHER, Role.HDH_STAFF, True),
    ],
)
def test_who_may_do_a_step(actor: Actor, role: Role, allowed: bool) -> None:
    assert can_do(actor, role) is allowed


@pytest.mark.parametrize("lang", list(Lang))
def test_the_handover_is_one_sentence_naming_who_what_and_the_needs(lang: Lang) -> None:
    cat = load_catalogue(lang)
    release = _prerequisites(_release(LARGE))
    release = workflow.skip_step(release, StepId.PREPARE_DATA, "Déjà découpée", ALICE, NOW)
    text = handover_text(cat, next_actor(release))
    assert cat.t("actor.hdh_staff") in text
    assert cat.t("step.share_with_hdh.title") in text
    assert cat.t("handover.need.storage_access") in text
    assert cat.t("handover.need.prepared_files") in text


def test_status_prints_who_acts_next_and_what_they_need(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_demo_project(tmp_path)
    release = _prerequisites(project.release)
    projects.save(project, _commit(release, StepId.ACCOUNT, StepId.ORGANIZATION))
    assert main(["--lang", "fr", "status", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "À faire par : partenaire" in out
    assert "la clé d'API du compte administrateur sur data.gouv.fr" in out


def test_status_json_carries_the_handover(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_demo_project(tmp_path)
    release = workflow.record_volume(project.release, 2_000_000_000, ALICE, NOW)
    release = _commit(release, StepId.CONTRACT, StepId.ANONYMITY, StepId.INTEROPERABILITY)
    release = _commit(release, StepId.VOLUME)
    release = workflow.skip_step(release, StepId.PREPARE_DATA, "Déjà découpée", ALICE, NOW)
    projects.save(project, release)
    assert main(["status", str(tmp_path), "--json"]) == 0
    handover = json.loads(capsys.readouterr().out)["handover"]
    assert handover["step"] == "share_with_hdh"
    assert handover["actor"] == "hdh_staff"
    assert "storage_access" in handover["needs"]
    assert handover["hands_over"] is True
    assert handover["meanwhile"] == "account"  # what the last actor, a partner, can do
    assert handover["blocked"] is False


def test_who_is_at_the_keyboard_is_asked_after_staff_or_when_staff_is_next() -> None:
    own_steps = _release(SMALL)
    assert not workflow.identity_in_doubt(own_steps)  # the partner resuming their own steps
    assert workflow.identity_in_doubt(workflow.set_actor(own_steps, STAFF))  # staff worked last
    handed = _prerequisites(_release(LARGE))
    handed = workflow.skip_step(handed, StepId.PREPARE_DATA, "Déjà découpée", ALICE, NOW)
    assert workflow.next_step(handed) is StepId.SHARE_WITH_HDH
    assert workflow.identity_in_doubt(handed)  # HDH staff's turn: maybe at the keyboard now
