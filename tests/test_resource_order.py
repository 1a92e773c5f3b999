"""The order of the files on the data.gouv.fr page, against the real local udata: the main
tables first, then the sample, then the images, then the documentation — on the first run and
after re-runs that send a file again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import pytest

from hdh_wizard import project as projects
from hdh_wizard.core.hosting_records import FileRole, HostedObject, ReferencesRecord
from hdh_wizard.core.portal_records import dataset_of
from hdh_wizard.flows.port import FlowContext, ProjectStore
from hdh_wizard.flows.publish_all import PublishAll
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.references import ReferenceRun
from tests.portal_helpers import SPLIT, hosted, keyed_portal, new_organization, planned_release
from tests.tui_helpers import ALICE
from tests.udata_local.server import PARTNER, UdataServer

IMAGES = (".tif", ".tiff")
DOCUMENTS = (".pdf", ".md", ".txt")


def publish(folder: Path, server: UdataServer) -> FlowContext:
    project = projects.open_project(folder, None, datetime.now(UTC))[0]
    ctx = FlowContext(ProjectStore(project), ALICE, lambda: datetime.now(UTC))
    PublishAll(
        ctx=ctx,
        portal=keyed_portal(server),
        folder=folder,
        describe=lambda _local, _digests: "fichier de test",
        confirm_production=lambda _host: False,
        say=lambda _said: None,
    ).run()
    return ctx


def rank_of(path: str) -> int:
    """0 a table, 2 an image, 3 a document (route 1 has no sample); the data dictionary and
    the Table Schemas are documents, though CSV and JSON."""
    suffix = PurePosixPath(path).suffix.lower()
    name = PurePosixPath(path).name
    if name.startswith("dictionnaire-des-variables") or name.endswith(".schema.json"):
        return 3
    return 2 if suffix in IMAGES else 3 if suffix in DOCUMENTS else 0


def page_paths(server: UdataServer, folder: Path) -> list[str]:
    """The deposited files as the page lists them, first to last."""
    record = dataset_of(projects.read_project(folder))
    assert record is not None
    path_of = {f.resource_id: f.path for f in record.files}
    with DataGouvClient(server.url, PARTNER.api_key) as client:
        resources = client.dataset(record.dataset_id)["resources"]
    return [path_of[r["id"]] for r in resources]


def test_the_deposit_shows_the_main_table_before_the_images_and_keeps_it_after_a_rerun(
    tmp_path: Path, udata_server: UdataServer
) -> None:
    planned_release(tmp_path, udata_server)
    publish(tmp_path, udata_server)

    shown = page_paths(udata_server, tmp_path)
    assert any(rank_of(p) == 0 for p in shown) and any(rank_of(p) == 2 for p in shown), shown
    assert [rank_of(p) for p in shown] == sorted(rank_of(p) for p in shown), shown
    first_order = shown

    # An image removed from the page by hand is sent again: udata puts it first, the wizard
    # puts it back after the table.
    record = dataset_of(projects.read_project(tmp_path))
    assert record is not None
    image = next(f for f in record.files if rank_of(f.path) == 2)
    with DataGouvClient(udata_server.url, PARTNER.api_key) as client:
        client.delete_resource(record.dataset_id, image.resource_id)
    publish(tmp_path, udata_server)

    assert page_paths(udata_server, tmp_path) == first_order


# --- route 2 --------------------------------------------------------------------------------


@pytest.fixture
def client(udata_server: UdataServer) -> Iterator[DataGouvClient]:
    with DataGouvClient(udata_server.url, PARTNER.api_key) as c:
        yield c


@pytest.fixture
def dataset_id(client: DataGouvClient, udata_server: UdataServer) -> str:
    created = client.create_dataset(
        {
            "title": f"Ordre des ressources {uuid.uuid4().hex[:6]}",
            "description": "Jeu de test de l'ordre des ressources.",
            "organization": new_organization(udata_server),
            "license": "lov2",
            "frequency": "punctual",
            "private": True,
        }
    )
    return str(created["id"])


SLIDE = hosted("publish/lames/lame_d6ly8nf6.tiff", 80_000_000)
CLEANED = hosted("publish/lames/lame_d6ly8nf6.tiff", 79_000_000, tag="nettoyée")


def reference(
    client: DataGouvClient,
    dataset_id: str,
    objects: tuple[HostedObject, ...],
    record: ReferencesRecord | None,
) -> ReferencesRecord:
    run = ReferenceRun(client, client.base_url, dataset_id, objects, lambda _r: None)
    outcome = run.run(record)
    assert outcome.verified, outcome.mismatches
    return outcome.record


def page_roles(client: DataGouvClient, dataset_id: str, record: ReferencesRecord) -> list[str]:
    path_of = {f.resource_id: f.path for f in record.files}
    return [path_of[r["id"]] for r in client.dataset(dataset_id)["resources"]]


def test_references_show_tables_then_sample_then_images_then_documents_after_reruns(
    client: DataGouvClient, dataset_id: str
) -> None:
    objects = (*SPLIT, SLIDE)
    expected = [
        "publish/sejours__Stade_I.csv",
        "publish/sejours__Stade_II.csv",
        "publish/sejours__echantillon.csv",
        SLIDE.path,
        "docs/dictionnaire.pdf",
    ]
    assert [o.role for o in SPLIT].count(FileRole.SAMPLE) == 1

    record = reference(client, dataset_id, objects, None)
    assert page_roles(client, dataset_id, record) == expected

    # The slide cleaned (same name, new content: updated in place) and the sample's resource
    # deleted by hand (made again, which udata puts first): the page keeps its order.
    sample = record.file("publish/sejours__echantillon.csv")
    assert sample is not None
    client.delete_resource(dataset_id, sample.resource_id)
    record = reference(client, dataset_id, (*SPLIT, CLEANED), record)
    assert page_roles(client, dataset_id, record) == expected

    # A re-run with nothing changed keeps it too.
    record = reference(client, dataset_id, (*SPLIT, CLEANED), record)
    assert page_roles(client, dataset_id, record) == expected
