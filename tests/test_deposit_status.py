"""What the deposit says of its dataset and of an upload stopped half-way, against the real
local udata: the files tab names the dataset once it is made (after a restart too), a file whose
upload was interrupted says how many parts the server received and that « Envoyer » resumes, and
the home screen's line says it too instead of "0 fichiers déposés"."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from hdh_wizard import project as projects
from hdh_wizard.core.documentation import documentation_from_outputs
from hdh_wizard.core.portal_records import dataset_of
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows import deposit
from hdh_wizard.flows.port import FlowContext, ProjectStore
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.inspect.deposit_files import deposit_files
from hdh_wizard.present.portal_presenters import portal_detail
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.deposit import (
    DepositEvent,
    DepositOutcome,
    interrupted_uploads,
)
from hdh_wizard.services.datagouv.errors import ApiError, ErrorKind
from hdh_wizard.ui.steps.deposit import DepositStepScreen
from tests.portal_helpers import keyed_portal, planned_release
from tests.tui_helpers import ALICE, make_app, until
from tests.udata_local.server import PARTNER, UdataServer

FR = load_catalogue(Lang.FR)
CHUNK = 64 * 1024  # the demo's slides go in 4 parts, its table in one
SIZE = (130, 45)


def run_deposit(
    folder: Path,
    server: UdataServer,
    on_event: Callable[[DepositEvent], None] = lambda _event: None,
    cancel: threading.Event | None = None,
) -> DepositOutcome:
    """The deposit's flow, as the screen's worker and `hdh-wizard publish` run it."""
    project = projects.open_project(folder, None, datetime.now(UTC))[0]
    ctx = FlowContext(ProjectStore(project), ALICE, lambda: datetime.now(UTC))
    if cancel is not None:
        ctx.cancel = cancel
    files, missing = deposit_files(ctx.release, folder)
    organization_id = deposit.check(ctx.release, (), missing)
    doc = documentation_from_outputs(ctx.release.record(StepId.DEPOSIT).outputs["documentation"])
    with DataGouvClient(server.url, PARTNER.api_key) as client:
        return deposit.run(
            ctx,
            client,
            folder=folder,
            files=files,
            doc=doc,
            organization_id=organization_id,
            describe=lambda _local, _digests: "fichier de test",
            on_event=on_event,
            chunk_size=CHUNK,
        )


def interrupt_a_slide(folder: Path, server: UdataServer) -> None:
    """Run the deposit and stop it while a slide's second part is read: the server has
    acknowledged the first."""
    cancel = threading.Event()

    def stop_after_one_part(event: DepositEvent) -> None:
        progress = event.progress
        if event.path.endswith(".tif") and progress is not None and progress.sent > CHUNK:
            cancel.set()

    with pytest.raises(ApiError) as stop:
        run_deposit(folder, server, stop_after_one_part, cancel)
    assert stop.value.kind is ErrorKind.CANCELLED


@pytest.fixture
def interrupted(tmp_path: Path, udata_server: UdataServer) -> Path:
    planned_release(tmp_path, udata_server)
    interrupt_a_slide(tmp_path, udata_server)
    return tmp_path


def test_an_interrupted_upload_is_kept_with_its_parts_and_said_on_the_home_line(
    interrupted: Path, udata_server: UdataServer
) -> None:
    release = projects.read_project(interrupted)
    stopped = interrupted_uploads(dataset_of(release))
    assert len(stopped) == 1
    ((path, upload),) = stopped.items()
    assert path.endswith(".tif")
    assert 0 < upload.done_parts < upload.total_parts == 4

    line = portal_detail(FR, release, StepId.DEPOSIT)
    said = f"envoi interrompu : {upload.done_parts}/4 morceaux reçus — Envoyer reprend"
    assert said in line, line

    # The next run resumes it: nothing is left interrupted, and the home line says no more.
    outcome = run_deposit(interrupted, udata_server)
    assert outcome.verified
    release = projects.read_project(interrupted)
    assert interrupted_uploads(dataset_of(release)) == {}
    assert "interrompu" not in portal_detail(FR, release, StepId.DEPOSIT)


def files_tab(screen: DepositStepScreen) -> tuple[str, dict[str, str]]:
    """The files tab's summary, and each file's state cell."""
    summary = str(screen.query_one("#deposit-summary", Static).render())
    table = screen.query_one("#deposit-files", DataTable)
    states = {str(key.value): str(table.get_cell(key, "state")) for key in table.rows}
    return summary, states


async def test_after_a_restart_the_files_tab_names_the_dataset_and_the_interrupted_upload(
    interrupted: Path, udata_server: UdataServer
) -> None:
    record = dataset_of(projects.read_project(interrupted))
    assert record is not None
    ((path, upload),) = interrupted_uploads(record).items()
    app = make_app(interrupted, portal=keyed_portal(udata_server, chunk_size=CHUNK))
    async with app.run_test(size=SIZE) as pilot:
        app.open_step(StepId.DEPOSIT)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DepositStepScreen)
        await until(pilot, lambda: screen.server_dataset is not None and not screen.busy)
        screen.show_tab("tab-files")
        await pilot.pause()
        summary, states = files_tab(screen)
        assert "pas encore créé" not in summary, summary
        assert f"/datasets/{record.slug or record.dataset_id}/" in summary, summary
        assert states[path] == f"envoi interrompu : {upload.done_parts}/4 morceaux reçus"
        assert "« Envoyer » reprend là où il s'est arrêté" in summary

        # Sending resumes it; once verified the tab still names the dataset.
        screen.start_deposit()
        await until(pilot, lambda: screen.outcome is not None and not screen.running)
        assert screen.outcome is not None and screen.outcome.verified
        summary, states = files_tab(screen)
        assert "pas encore créé" not in summary and "interrompu" not in summary, summary
        assert not any("interrompu" in s for s in states.values())
        screen.verify()
        await until(pilot, lambda: not screen.busy)
        summary, _ = files_tab(screen)
        assert "pas encore créé" not in summary, summary
