"""The organization step with the keyboard, against a udata of its own (a fresh database, where
the partner belongs to exactly one organization): the only organization listed is highlighted,
Enter chooses it, and Ctrl+S validates the step."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import OptionList, Static

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.portal_records import AccountRecord, organization_of
from hdh_wizard.core.steps import StepId
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.ui.steps.organization import OrganizationStepScreen
from tests.portal_helpers import keyed_portal, new_organization, release_ready_for_portal
from tests.tui_helpers import ALICE, NOW, make_app, until
from tests.udata_local.server import PARTNER, UdataServer

SIZE = (120, 40)


@pytest.fixture(scope="module")
def lone_udata() -> Iterator[UdataServer]:
    """A udata where the partner's account has one organization, and one only."""
    server = UdataServer()
    server.start()
    yield server
    server.remove()


async def test_enter_on_the_only_organization_chooses_it_and_the_step_validates(
    tmp_path: Path, lone_udata: UdataServer
) -> None:
    project = release_ready_for_portal(tmp_path, lone_udata)
    with DataGouvClient(lone_udata.url, PARTNER.api_key) as client:
        me = client.me()
    account = AccountRecord(lone_udata.url, me.id, PARTNER.full_name, "session")
    release = workflow.commit_step(
        project.release, StepId.ACCOUNT, account.to_outputs(), ALICE, NOW
    )
    projects.save(project, release)
    org_id = new_organization(lone_udata, "Consortium VisioMel seul")
    app = make_app(tmp_path, portal=keyed_portal(lone_udata))
    async with app.run_test(size=SIZE) as pilot:
        app.open_step(StepId.ORGANIZATION)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, OrganizationStepScreen)
        await until(pilot, lambda: bool(screen.organizations) and not screen.busy)
        assert [o.id for o in screen.organizations] == [org_id]
        options = screen.query_one("#org-list", OptionList)
        assert options.highlighted == 0  # highlighted before any arrow key
        assert screen.record is None

        options.focus()
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: screen.record is not None)
        assert screen.record is not None and screen.record.organization_id == org_id
        chosen = str(screen.query_one("#org-chosen", Static).render())
        assert "Consortium VisioMel seul" in chosen

        await pilot.press("ctrl+s")
        await pilot.pause()

    release = projects.read_project(tmp_path)
    assert release.record(StepId.ORGANIZATION).status is StepStatus.DONE
    org = organization_of(release)
    assert org is not None and org.organization_id == org_id
