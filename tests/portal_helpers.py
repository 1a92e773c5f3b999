"""Set-up shared by the data.gouv.fr tests: a demo release aimed at the local udata (route 1),
or hosted by HDH with its files referenced on data.gouv.fr (route 2), and the references screen."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import keyring.backends.fail
from textual.widgets import DataTable

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.documentation import Documentation, TemporalCoverage, documentation_to_outputs
from hdh_wizard.core.enums import Environment
from hdh_wizard.core.hosting_records import FileRole, HostedObject, TransferRecord
from hdh_wizard.core.portal_records import OrganizationRecord
from hdh_wizard.core.release import Person, Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.core.volume import commit_volume, summarize_release
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.session import PortalSession
from hdh_wizard.services.secrets import SecretStore
from hdh_wizard.ui.app import HdhWizardApp
from tests.tui_helpers import ALICE, NOW, STAFF, make_demo_project
from tests.udata_local.server import PARTNER, UdataServer


def session_portal(chunk_size: int | None = None) -> PortalSession:
    """Keys kept in memory only: the tests never touch the machine's keyring."""
    backend = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]
    return PortalSession(SecretStore(environ={}, backend=backend), chunk_size=chunk_size)


def release_ready_for_portal(folder: Path, server: UdataServer) -> projects.Project:
    """The demo project, aimed at the local udata, with the prerequisites of the deposit done."""
    project = make_demo_project(folder)
    release = workflow.set_target(
        project.release, Environment.CUSTOM, ALICE, NOW, url=server.url, confirmed=True
    )
    release = prerequisites_done(release)
    return projects.save(project, release)


def prerequisites_done(release: Release) -> Release:
    release = workflow.commit_step(
        release, StepId.CONTRACT, {"reference": "HDH-OD-2026-001"}, ALICE, NOW
    )
    release = workflow.commit_step(
        release, StepId.ANONYMITY, {"note": "mesures faites"}, ALICE, NOW
    )
    release = workflow.commit_step(release, StepId.INTEROPERABILITY, {}, ALICE, NOW)
    return commit_volume(release, summarize_release(release), ALICE, NOW)


def new_organization(server: UdataServer, name: str | None = None) -> str:
    """An organization the partner administers, made directly on the server."""
    with DataGouvClient(server.url, PARTNER.api_key) as client:
        org = client.create_organization(
            name or f"Consortium test {uuid.uuid4().hex[:6]}",
            "Organisation créée pour les tests d'intégration de hdh-wizard.",
            acronym="CTEST",
        )
    return org.id


# --- route 1: the deposit planned for `hdh-wizard publish` -----------------------------------


PLANNED_DESCRIPTION = (
    "## Présentation\nCohorte synthétique de mélanome pour tester la publication sans écran.\n\n"
    "## Comment citer\nhdh-wizard, 2026.\n"
)


def planned_release(folder: Path, server: UdataServer) -> None:
    """What the wizard leaves for the command: an organization chosen, the documentation written."""
    project = release_ready_for_portal(folder, server)
    org_id = new_organization(server)
    release = workflow.save_draft(
        project.release,
        StepId.ORGANIZATION,
        OrganizationRecord(server.url, org_id, "Consortium test", "CTEST").to_outputs(),
        ALICE,
        NOW,
    )
    doc = Documentation(
        title="Cohorte mélanome (test sans écran)",
        description=PLANNED_DESCRIPTION,
        license="lov2",
        tags=("ctest", "health-data-hub", "hdh", "melanoma"),
        temporal=TemporalCoverage(NOW.date().replace(year=2012), NOW.date().replace(year=2016)),
        frequency="punctual",
    )
    release = workflow.save_draft(
        release, StepId.DEPOSIT, {"documentation": documentation_to_outputs(doc)}, ALICE, NOW
    )
    projects.save(project, release)


def keyed_portal(server: UdataServer, chunk_size: int | None = None) -> PortalSession:
    """The partner's key, kept in memory for this session only."""
    portal = session_portal(chunk_size)
    portal.remember(server.url, PARTNER.api_key, keep=False)
    return portal


# --- route 2: the files hosted by HDH, referenced on data.gouv.fr -----------------------------


BUCKET = "https://stockage.hdh.example.org/open-data/cohorte-melanome"
DESCRIPTION = (
    "## Présentation\nCohorte synthétique de mélanome, hébergée par le HDH.\n\n"
    "## Comment citer\nhdh-wizard, 2026.\n"
)


def hosted(path: str, size: int, role: FileRole = FileRole.DATA, *, tag: str = "") -> HostedObject:
    """A file as HDH's storage holds it (its checksum made up from its path and `tag`)."""
    sha256 = hashlib.sha256(f"{path}{tag}".encode()).hexdigest()
    return HostedObject(
        path, f"cohorte/{path}", size, sha256, f"{BUCKET}/{path}", role, 1, NOW.isoformat()
    )


SPLIT = (
    hosted("publish/sejours__Stade_I.csv", 1_200_000_000),
    hosted("publish/sejours__Stade_II.csv", 900_000_000),
    hosted("publish/sejours__echantillon.csv", 4_500_000, FileRole.SAMPLE),
    hosted("docs/dictionnaire.pdf", 250_000, FileRole.DOCUMENTATION),
)


def hosted_release(
    folder: Path,
    server: UdataServer,
    objects: tuple[HostedObject, ...] = SPLIT,
    *,
    transferred: bool = True,
) -> projects.Project:
    """The demo project on route 2 (its volume said to be 2,7 Go), aimed at the local udata:
    prerequisites done, an organization chosen and the documentation written (as drafts the
    command commits), and, unless `transferred` is False, the transfer to HDH done by staff."""
    project = make_demo_project(folder)
    release = workflow.set_target(
        project.release, Environment.CUSTOM, ALICE, NOW, url=server.url, confirmed=True
    )
    release = prerequisites_done(release)
    release = workflow.record_volume(release, 2_700_000_000, ALICE, NOW)
    release = workflow.skip_step(
        release, StepId.PREPARE_DATA, "Base déjà découpée par stade", ALICE, NOW
    )
    org_id = new_organization(server)
    release = workflow.save_draft(
        release,
        StepId.ORGANIZATION,
        OrganizationRecord(server.url, org_id, "Consortium test", "CTEST").to_outputs(),
        ALICE,
        NOW,
    )
    doc = Documentation(
        title=f"Cohorte mélanome hébergée {uuid.uuid4().hex[:6]}",
        description=DESCRIPTION,
        license="lov2",
        tags=("ctest", "health-data-hub", "hdh", "melanoma"),
        temporal=TemporalCoverage(NOW.date().replace(year=2012), NOW.date().replace(year=2016)),
        frequency="punctual",
    )
    release = workflow.save_draft(
        release, StepId.DATASET_PAGE, {"documentation": documentation_to_outputs(doc)}, ALICE, NOW
    )
    if transferred:
        release = transfer_done(release, objects)
    # The partner runs the wizard on their side: the last person to work on it, once more.
    return projects.save(project, workflow.set_actor(release, ALICE))


def transfer_done(release: Any, objects: tuple[HostedObject, ...]) -> Any:
    """What the share_with_hdh step records once staff transferred and verified the files."""
    record = TransferRecord(
        {"endpoint_url": "https://stockage.hdh.example.org", "bucket": "open-data"},
        objects,
        {},
        STAFF.name,
    )
    return workflow.commit_step(release, StepId.SHARE_WITH_HDH, record.to_outputs(), STAFF, NOW)


REFERENCES_SIZE = (140, 45)  # the reference URLs screen
FR = load_catalogue(Lang.FR)


def app_as(folder: Path, server: UdataServer, person: Person) -> HdhWizardApp:
    return HdhWizardApp(folder, FR, actor=person, clock=lambda: NOW, portal=keyed_portal(server))


def cells(screen: Any, column: str) -> list[str]:
    table = screen.query_one("#refs-files", DataTable)
    return [str(table.get_cell(row, column)) for row in table.rows]
