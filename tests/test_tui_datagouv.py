"""Route 1 through the screens, against the real udata: account, organization, co-administrator,
documentation and deposit, publication, then a change re-deposited without duplicates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static, TextArea

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.documentation import documentation_from_outputs
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.portal_records import (
    AccountRecord,
    InvitationRecord,
    OrganizationRecord,
    dataset_of,
    organization_of,
)
from hdh_wizard.core.quality import compute_quality, quality_from_server, resource_plans_from_server
from hdh_wizard.core.steps import StepId
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.errors import ApiError, ErrorKind
from hdh_wizard.ui.app import HdhWizardApp
from hdh_wizard.ui.screens.home import HomeScreen
from hdh_wizard.ui.steps.account import AccountStepScreen
from hdh_wizard.ui.steps.co_admin import CoAdminStepScreen
from hdh_wizard.ui.steps.deposit import DepositStepScreen
from hdh_wizard.ui.steps.organization import OrganizationStepScreen
from hdh_wizard.ui.steps.publication import PublicationStepScreen
from hdh_wizard.ui.widgets.checklist import Checklist
from tests.portal_helpers import release_ready_for_portal, session_portal
from tests.tui_helpers import (
    ALICE,
    NOW,
    checks_text,
    make_app,
    make_demo_project,
    status_text,
    until,
)
from tests.udata_local.server import OPEN_SCIENCE, PARTNER, UdataServer

SIZE = (130, 45)
DESCRIPTION = (
    "## Présentation\nCohorte synthétique de patients atteints de mélanome, avec lames.\n\n"
    "## Contexte\nJeu de test de hdh-wizard.\n\n## Contenu\nUne table et trois lames.\n\n"
    "## Collecte\nDonnées générées.\n\n## Méthode d'anonymisation\nDonnées synthétiques.\n\n"
    "## Comment citer\nhdh-wizard, 2026.\n\n## Contact\nalice.martin@chu-exemple.fr\n"
)


async def open_step(app: HdhWizardApp, pilot: Pilot[None], step: StepId) -> Any:
    app.open_step(step)
    await pilot.pause()
    return app.screen


async def commit(pilot: Pilot[None]) -> None:
    await pilot.press("ctrl+s")
    await pilot.pause()


@pytest.fixture
def folder(tmp_path: Path, udata_server: UdataServer) -> Path:
    release_ready_for_portal(tmp_path, udata_server)
    return tmp_path


async def verify_account(app: HdhWizardApp, pilot: Pilot[None]) -> None:
    screen = await open_step(app, pilot, StepId.ACCOUNT)
    assert isinstance(screen, AccountStepScreen)
    screen.query_one("#api-key", Input).value = PARTNER.api_key
    screen.verify()
    await until(pilot, lambda: screen.record is not None)
    await commit(pilot)


async def test_a_wrong_api_key_is_explained_and_a_good_one_verified_then_kept_out_of_the_state(
    folder: Path,
) -> None:
    app = make_app(folder, portal=session_portal())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_step(app, pilot, StepId.ACCOUNT)
        assert isinstance(screen, AccountStepScreen)
        screen.query_one("#api-key", Input).value = "udata_" + "0" * 40
        screen.verify()
        await until(pilot, lambda: not screen.busy)
        assert "clé" in status_text(screen).lower()
        assert screen.record is None
        screen.query_one("#api-key", Input).value = PARTNER.api_key
        screen.verify()
        await until(pilot, lambda: screen.record is not None)
        result = str(screen.query_one("#account-result", Static).render())
        assert "Alice Martin" in result
        assert PARTNER.api_key not in result
        assert screen.query_one("#api-key", Input).value == ""
        await commit(pilot)
    release = projects.read_project(folder)
    assert release.record(StepId.ACCOUNT).status is StepStatus.DONE
    assert PARTNER.api_key[6:] not in (folder / "hdh-release.yaml").read_text()


async def test_route_one_from_account_to_publication_and_a_change_redeposited(
    folder: Path, udata_server: UdataServer
) -> None:
    portal = session_portal(chunk_size=64 * 1024)  # the slides go in several chunks
    app = make_app(folder, portal=portal)
    async with app.run_test(size=SIZE) as pilot:
        await verify_account(app, pilot)

        # Organization: created from the wizard, with the guide's advice.
        screen = await open_step(app, pilot, StepId.ORGANIZATION)
        assert isinstance(screen, OrganizationStepScreen)
        await until(pilot, lambda: not screen.busy)
        screen.query_one("#org-name", Input).value = "Consortium VisioMel test"
        screen.query_one("#org-acronym", Input).value = "VISIOMEL"
        screen.query_one(
            "#org-description", TextArea
        ).text = "Consortium de recherche sur le mélanome, créé pour les tests de l'assistant."
        screen.create()
        await until(pilot, lambda: screen.record is not None)
        await until(pilot, lambda: "✓" in checks_text(screen) and not screen.busy)
        await commit(pilot)
        release = projects.read_project(folder)
        org = organization_of(release)
        assert org is not None and org.name == "Consortium VisioMel test"

        # Co-administrator: invited by email, accepted by the Open Science member.
        screen = await open_step(app, pilot, StepId.CO_ADMIN)
        assert isinstance(screen, CoAdminStepScreen)
        screen.query_one("#invitee", Input).value = OPEN_SCIENCE.email
        screen.invite()
        await until(pilot, lambda: screen.record is not None)
        assert "attente" in str(screen.query_one("#coadmin-state", Static).render())
        await commit(pilot)
        with DataGouvClient(udata_server.url, OPEN_SCIENCE.api_key) as invitee:
            for invitation in invitee.my_invitations():
                invitee.accept_invitation(invitation.id)
        screen = await open_step(app, pilot, StepId.CO_ADMIN)
        assert isinstance(screen, CoAdminStepScreen)
        await until(pilot, lambda: screen.record is not None and screen.record.accepted)
        release = projects.read_project(folder)
        assert release.record(StepId.CO_ADMIN).outputs["accepted"] is True
        await pilot.press("escape")

        # Documentation and deposit.
        screen = await open_step(app, pilot, StepId.DEPOSIT)
        assert isinstance(screen, DepositStepScreen)
        await until(pilot, lambda: screen.lists is not None)
        screen.query_one("#doc-description", TextArea).text = DESCRIPTION
        screen.query_one("#doc-short", Input).value = "Cohorte synthétique de mélanome"
        screen.query_one("#doc-start", Input).value = "2012"
        screen.query_one("#doc-end", Input).value = "2016"
        screen.query_one("#doc-add-tags", Button).press()
        await pilot.pause()
        assert "hdh" in screen.query_one("#doc-tags", Input).value
        screen.query_one("#doc-contact-email", Input).value = PARTNER.email
        await pilot.pause()
        screen.show_tab("tab-files")
        await pilot.pause()
        screen.start_deposit()
        await until(pilot, lambda: screen.outcome is not None or not screen.running)
        assert screen.outcome is not None, status_text(screen)
        assert screen.outcome.verified
        await commit(pilot)
        release = projects.read_project(folder)
        assert release.record(StepId.DEPOSIT).status is StepStatus.DONE
        record = dataset_of(release)
        # The 4 data files, then the data dictionary and the table's schema (documentation).
        assert record is not None and len(record.files) == 6
        with DataGouvClient(udata_server.url, PARTNER.api_key) as client:
            dataset = client.dataset(record.dataset_id)
        assert dataset["private"] is True
        assert dataset["temporal_coverage"]["start"].startswith("2012-01-01")
        assert {r["title"] for r in dataset["resources"]} >= {"cohorte_melanome.csv"}
        # The score computed here equals the one data.gouv.fr gives.
        doc = documentation_from_outputs(release.record(StepId.DEPOSIT).outputs["documentation"])
        local = compute_quality(doc, resource_plans_from_server(dataset), now=app.now())
        assert local.score == quality_from_server(dataset).score

        # Publication.
        screen = await open_step(app, pilot, StepId.PUBLICATION)
        assert isinstance(screen, PublicationStepScreen)
        await until(pilot, lambda: screen.dataset is not None)
        screen.query_one("#publish", Button).press()
        await until(pilot, lambda: screen.record is not None or "✗" in status_text(screen))
        await commit(pilot)
        release = projects.read_project(folder)
        assert release.record(StepId.PUBLICATION).status is StepStatus.DONE
        with DataGouvClient(udata_server.url, PARTNER.api_key) as client:
            assert client.dataset(record.dataset_id)["private"] is False

        # A table changes: the deposit is redone, the same dataset is updated, no duplicate.
        table = folder / "donnees" / "cohorte_melanome.csv"
        table.write_text(table.read_text() + table.read_text().splitlines()[-1] + "\n")
        screen = await open_step(app, pilot, StepId.DEPOSIT)
        assert isinstance(screen, DepositStepScreen)
        await until(pilot, lambda: screen.server_dataset is not None)
        actions = {p.path: p.action.value for p in screen.plan}
        assert actions["donnees/cohorte_melanome.csv"] == "replace"
        assert sum(a == "keep" for a in actions.values()) == 5
        screen.start_deposit()
        await until(pilot, lambda: screen.outcome is not None and not screen.running)
        assert screen.outcome.verified
        await commit(pilot)
    release = projects.read_project(folder)
    with DataGouvClient(udata_server.url, PARTNER.api_key) as client:
        dataset = client.dataset(record.dataset_id)
    assert len(dataset["resources"]) == 6  # updated in place: the dictionary too, no duplicate
    assert dataset["private"] is False  # an update keeps it published
    assert release.record(StepId.PUBLICATION).status is StepStatus.STALE


async def test_home_shows_an_invitation_waiting_to_be_accepted(tmp_path: Path) -> None:
    project = make_demo_project(tmp_path)
    site = project.release.target.url
    release = workflow.commit_step(
        project.release,
        StepId.ACCOUNT,
        AccountRecord(site, "u", "A", "session").to_outputs(),
        ALICE,
        NOW,
    )
    release = workflow.commit_step(
        release,
        StepId.ORGANIZATION,
        OrganizationRecord(site, "o", "Consortium").to_outputs(),
        ALICE,
        NOW,
    )
    invitation = InvitationRecord(site, "o", "i1", "helene.durand@health-data-hub.fr")
    release = workflow.commit_step(release, StepId.CO_ADMIN, invitation.to_outputs(), ALICE, NOW)
    projects.save(project, release)
    app = make_app(tmp_path, portal=session_portal())
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        home.query_one(Checklist).highlighted = home.query_one(Checklist).get_option_index(
            StepId.CO_ADMIN.value
        )
        await pilot.pause()
        detail = str(home.query_one("#step-detail", Static).render())
        assert "helene.durand@health-data-hub.fr" in detail
        assert "en attente d'acceptation" in detail


async def test_fields_refused_by_the_server_are_named_and_marked_on_the_form(
    folder: Path,
) -> None:
    app = make_app(folder, portal=session_portal())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_step(app, pilot, StepId.DEPOSIT)
        assert isinstance(screen, DepositStepScreen)
        refused = ApiError(
            ErrorKind.INVALID,
            status=400,
            field_errors={"frequency": ("Not a valid choice",), "spatial.zones": ("Unknown",)},
        )
        message = screen.explain(refused)
        assert "Fréquence de mise à jour : Not a valid choice" in message
        assert "Couverture territoriale" in message
        assert screen.query_one("#doc-frequency").has_class("-server-refused")
        assert screen.query_one("#doc-zones").has_class("-server-refused")
        assert not screen.query_one("#doc-title").has_class("-server-refused")
