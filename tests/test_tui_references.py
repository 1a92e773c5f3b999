"""Route 2, step 7 on screen, against the real udata: HDH staff reference the hosted files on the
dataset page, see them verified and commit; a partner sees them but is told staff do the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from hdh_wizard import project as projects
from hdh_wizard.cli.publish import run_publish
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.hosting_records import references_of
from hdh_wizard.core.portal_records import dataset_of
from hdh_wizard.core.steps import StepId
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.storage.public_access import Access, PublicCheck
from hdh_wizard.ui.steps.reference_urls import ReferenceUrlsStepScreen
from tests.portal_helpers import (
    REFERENCES_SIZE,
    SPLIT,
    app_as,
    cells,
    hosted_release,
    keyed_portal,
)
from tests.tui_helpers import ALICE, STAFF, checks_text, status_text, until
from tests.udata_local.server import PARTNER, UdataServer

FR = load_catalogue(Lang.FR)


@pytest.fixture
def folder(tmp_path: Path, udata_server: UdataServer) -> Path:
    """The files hosted by HDH, and the dataset page made: the partner's `publish` stops at
    the references, which are HDH staff's."""
    hosted_release(tmp_path, udata_server)
    assert run_publish(FR, tmp_path, yes=True, portal=keyed_portal(udata_server)) == 1
    assert dataset_of(projects.read_project(tmp_path)) is not None
    return tmp_path


async def test_staff_reference_the_hosted_files_see_them_verified_and_commit(
    folder: Path, udata_server: UdataServer
) -> None:
    app = app_as(folder, udata_server, STAFF)
    async with app.run_test(size=REFERENCES_SIZE) as pilot:
        app.open_step(StepId.REFERENCE_URLS)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReferenceUrlsStepScreen)
        assert not screen.query_one("#refs-staff", Static).display
        files = cells(screen, "file")
        # The main tables first, then the sample, then the documents.
        assert files[:3] == [
            "publish/sejours__Stade_I.csv",
            "publish/sejours__Stade_II.csv",
            "publish/sejours__echantillon.csv",
        ]
        assert set(files) == {o.path for o in SPLIT}
        assert set(cells(screen, "url")) == {o.url for o in SPLIT}
        assert "1,2 Go" in cells(screen, "size")
        assert cells(screen, "role")[2] == "échantillon"
        assert set(cells(screen, "state")) == {"à référencer"}

        await pilot.click("#refs-run")
        await until(pilot, lambda: screen.outcome is not None and not screen.running)

        result = str(screen.query_one("#refs-result", Static).render())
        assert "4 fichiers référencés et vérifiés" in result, result
        assert "4 créés" in result
        assert set(cells(screen, "state")) == {"vérifié ✓"}
        assert "✗" not in checks_text(screen)
        # Each resource was saved as soon as it was made, before the commit.
        saved = references_of(projects.read_project(folder))
        assert saved is not None and len(saved.files) == 4

        await pilot.press("ctrl+s")
        await pilot.pause()

    release = projects.read_project(folder)
    record = release.record(StepId.REFERENCE_URLS)
    assert record.status is StepStatus.DONE
    assert record.updated_by == STAFF
    references = references_of(release)
    assert references is not None and record.outputs == references.to_outputs()
    dataset = dataset_of(release)
    assert dataset is not None
    with DataGouvClient(udata_server.url, PARTNER.api_key) as client:
        resources = client.dataset(dataset.dataset_id)["resources"]
    assert sorted(r["url"] for r in resources) == sorted(o.url for o in SPLIT)
    # The page shows them in the table's order.
    shown = {o.url: o.path for o in SPLIT}
    assert [shown[r["url"]] for r in resources] == files


async def test_a_second_press_on_a_done_step_verifies_without_reopening_it(
    folder: Path, udata_server: UdataServer
) -> None:
    app = app_as(folder, udata_server, STAFF)
    async with app.run_test(size=REFERENCES_SIZE) as pilot:
        app.open_step(StepId.REFERENCE_URLS)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReferenceUrlsStepScreen)
        await pilot.click("#refs-run")
        await until(pilot, lambda: screen.outcome is not None and not screen.running)
        await pilot.press("ctrl+s")
        await pilot.pause()

        app.open_step(StepId.REFERENCE_URLS)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReferenceUrlsStepScreen)
        await until(pilot, lambda: screen.outcome is not None and not screen.busy)
        assert set(cells(screen, "state")) == {"vérifié ✓"}  # read back on opening
        screen.outcome = None
        await pilot.click("#refs-run")
        await until(pilot, lambda: screen.outcome is not None and not screen.busy)
        assert projects.read_project(folder).record(StepId.REFERENCE_URLS).status is (
            StepStatus.DONE
        )


async def test_a_partner_sees_the_hosted_files_but_is_told_staff_reference_and_commit(
    folder: Path, udata_server: UdataServer
) -> None:
    app = app_as(folder, udata_server, ALICE)
    async with app.run_test(size=REFERENCES_SIZE) as pilot:
        app.open_step(StepId.REFERENCE_URLS)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReferenceUrlsStepScreen)
        note = screen.query_one("#refs-staff", Static)
        assert note.display
        assert "« i » sur l'accueil" in str(note.render())
        assert len(cells(screen, "file")) == 4

        await pilot.click("#refs-run")
        await pilot.pause()
        assert "Seul un membre de l'équipe HDH" in status_text(screen)
        assert not screen.running

        await pilot.press("ctrl+s")
        await pilot.pause()
        messages = " ".join(n.message for n in app._notifications)
        assert "changez d'identité avec « i » sur l'accueil" in messages
        assert app.screen is screen  # still on the step

    release = projects.read_project(folder)
    assert release.record(StepId.REFERENCE_URLS).status is not StepStatus.DONE
    assert references_of(release) is None


async def test_urls_the_public_cannot_read_are_refused_before_anything_is_sent(
    folder: Path, udata_server: UdataServer
) -> None:
    def closed_bucket(files: Any) -> list[PublicCheck]:
        return [PublicCheck(url, Access.FORBIDDEN, 403) for url, _size in files]

    app = app_as(folder, udata_server, STAFF)
    async with app.run_test(size=REFERENCES_SIZE) as pilot:
        app.open_step(StepId.REFERENCE_URLS)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReferenceUrlsStepScreen)
        screen.public_check = closed_bucket
        await pilot.click("#refs-run")
        await until(pilot, lambda: not screen.running)
        status = status_text(screen)
        assert "ne donnent pas le fichier à tout le monde" in status
        assert "publish/sejours__echantillon.csv » : refusé au public (erreur 403)" in status
    release = projects.read_project(folder)
    assert release.record(StepId.REFERENCE_URLS).status is StepStatus.TODO
    dataset = dataset_of(release)
    assert dataset is not None
    with DataGouvClient(udata_server.url, PARTNER.api_key) as client:
        assert client.dataset(dataset.dataset_id)["resources"] == []
