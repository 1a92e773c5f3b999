"""Route 2, step 7: the files hosted by HDH referenced on the dataset page, against the real udata.

Each hosted file becomes a remote resource with its URL, size, SHA-256 and type; a re-run
sends nothing when nothing changed, updates in place what changed, removes what is no longer
hosted, makes again what was deleted on the server, and never leaves a duplicate.

The set-up the route-2 screen and command tests share (`hosted_release`) is in portal_helpers.py.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.hosting_records import (
    HostedObject,
    ReferencesRecord,
    hosted_objects,
)
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.errors import ApiError, ErrorKind
from hdh_wizard.services.datagouv.references import (
    ReferenceAction,
    ReferenceEvent,
    ReferenceRun,
    ReferencesError,
    ReferencesOutcome,
    plan_references,
    references_match,
)
from tests.portal_helpers import (
    BUCKET,
    DESCRIPTION,
    SPLIT,
    hosted,
    hosted_release,
    new_organization,
)
from tests.udata_local.server import PARTNER, UdataServer

FR = load_catalogue(Lang.FR)


# --- shared set-up: a route-2 release with its files hosted ------------------------------------


# --- the service alone ---------------------------------------------------------------------------


class Recorder(httpx.BaseTransport):
    """The real transport, with each request's method and path written down."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        return self.inner.handle_request(request)

    def changes(self) -> list[tuple[str, str]]:
        """What changed the resources: POST, PUT and DELETE (the dataset's creation aside)."""
        return [(m, p) for m, p in self.sent if m != "GET" and "/resources/" in p]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(udata_server: UdataServer, recorder: Recorder) -> Iterator[DataGouvClient]:
    with DataGouvClient(udata_server.url, PARTNER.api_key, transport=recorder) as c:
        yield c


@pytest.fixture
def dataset_id(client: DataGouvClient, udata_server: UdataServer) -> str:
    """A private dataset page without files, as step 5 leaves it."""
    org_id = new_organization(udata_server)
    created = client.create_dataset(
        {
            "title": f"Cohorte hébergée {uuid.uuid4().hex[:6]}",
            "description": DESCRIPTION,
            "organization": org_id,
            "license": "lov2",
            "frequency": "punctual",
            "private": True,
        }
    )
    return str(created["id"])


class Saved:
    """What the run hands to `save`, in order: the state as it would be written."""

    def __init__(self) -> None:
        self.records: list[ReferencesRecord] = []

    def __call__(self, record: ReferencesRecord) -> None:
        self.records.append(record)


def reference(
    client: DataGouvClient,
    dataset_id: str,
    objects: tuple[HostedObject, ...],
    record: ReferencesRecord | None,
    events: list[ReferenceEvent] | None = None,
) -> tuple[ReferencesOutcome, Saved]:
    saved = Saved()
    run = ReferenceRun(
        client=client,
        site=client.base_url,
        dataset_id=dataset_id,
        objects=objects,
        save=saved,
        on_event=(events.append if events is not None else lambda _e: None),
    )
    return run.run(record), saved


def rid(outcome: ReferencesOutcome, path: str) -> str:
    """The id of the resource that references `path`."""
    referenced = outcome.record.file(path)
    assert referenced is not None, path
    return referenced.resource_id


def resources_by_id(client: DataGouvClient, dataset_id: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in client.dataset(dataset_id)["resources"]}


def test_each_hosted_file_is_referenced_with_its_url_size_checksum_and_type(
    client: DataGouvClient, dataset_id: str
) -> None:
    events: list[ReferenceEvent] = []
    outcome, saved = reference(client, dataset_id, SPLIT, None, events)

    assert outcome.verified, outcome.mismatches
    assert outcome.count(ReferenceAction.CREATE) == 4
    assert saved.records[-1] == outcome.record  # each creation saved as it happened
    assert len(saved.records) == 4
    assert [e.index for e in events if e.kind == "file_done"] == [4, 3, 2, 1]
    server = resources_by_id(client, dataset_id)
    assert len(server) == 4
    for obj in SPLIT:
        referenced = outcome.record.file(obj.path)
        assert referenced is not None
        resource = server[referenced.resource_id]
        assert resource["filetype"] == "remote"
        assert resource["url"] == obj.url
        assert resource["filesize"] == obj.size
        assert resource["checksum"] == {"type": "sha256", "value": obj.sha256}
        assert obj.sha256 in resource["description"]
        assert resource["format"] == obj.format
    sample = server[rid(outcome, "publish/sejours__echantillon.csv")]
    assert sample["type"] == "main"
    assert sample["title"].startswith("Échantillon à consulter en premier")
    assert "à consulter en premier" in sample["description"]
    assert "4,5 Mo" in sample["description"]
    document = server[rid(outcome, "docs/dictionnaire.pdf")]
    assert document["type"] == "documentation"
    assert document["title"] == "dictionnaire.pdf"
    data = server[rid(outcome, "publish/sejours__Stade_I.csv")]
    assert data["type"] == "main"
    assert "1,2 Go" in data["description"]
    # The page's order: the main tables, then the sample, then the documents.
    titles = [r["title"] for r in client.dataset(dataset_id)["resources"]]
    assert titles[:2] == ["sejours__Stade_I.csv", "sejours__Stade_II.csv"]
    assert titles[2].startswith("Échantillon") and titles[-1] == "dictionnaire.pdf"


def test_a_rerun_with_nothing_changed_keeps_the_same_resources_and_sends_nothing(
    client: DataGouvClient, dataset_id: str, recorder: Recorder
) -> None:
    first, _ = reference(client, dataset_id, SPLIT, None)
    before = recorder.changes()
    assert len(before) == 4  # the four creations

    again, saved = reference(client, dataset_id, SPLIT, first.record)

    assert recorder.changes() == before  # not one POST, PUT or DELETE
    assert saved.records == []
    assert again.verified
    assert again.count(ReferenceAction.KEEP) == 4
    assert {f.resource_id for f in again.record.files} == {
        f.resource_id for f in first.record.files
    }
    assert references_match(again.record, SPLIT, dataset_id)


def test_a_changed_checksum_updates_the_resource_in_place(
    client: DataGouvClient, dataset_id: str, recorder: Recorder
) -> None:
    first, _ = reference(client, dataset_id, SPLIT, None)
    changed = hosted("publish/sejours__Stade_II.csv", 900_000_001, tag="v2")
    objects = (SPLIT[0], changed, *SPLIT[2:])
    sent_before = len(recorder.changes())

    again, _ = reference(client, dataset_id, objects, first.record)

    assert again.verified, again.mismatches
    assert again.count(ReferenceAction.UPDATE) == 1
    assert [m for m, _ in recorder.changes()[sent_before:]] == ["PUT"]
    rid_ = rid(first, changed.path)
    assert rid(again, changed.path) == rid_
    resource = resources_by_id(client, dataset_id)[rid_]
    assert resource["checksum"]["value"] == changed.sha256
    assert resource["filesize"] == 900_000_001
    assert len(resources_by_id(client, dataset_id)) == 4


def test_a_file_no_longer_hosted_has_its_resource_deleted(
    client: DataGouvClient, dataset_id: str
) -> None:
    first, _ = reference(client, dataset_id, SPLIT, None)
    gone = first.record.file("publish/sejours__Stade_II.csv")
    assert gone is not None
    remaining = (SPLIT[0], *SPLIT[2:])

    again, saved = reference(client, dataset_id, remaining, first.record)

    assert again.verified
    assert again.count(ReferenceAction.DELETE) == 1
    assert gone.resource_id not in resources_by_id(client, dataset_id)
    assert again.record.file(gone.path) is None
    assert saved.records[-1].file(gone.path) is None


def test_a_resource_deleted_on_the_server_is_made_again(
    client: DataGouvClient, dataset_id: str
) -> None:
    first, _ = reference(client, dataset_id, SPLIT, None)
    lost = first.record.file("publish/sejours__Stade_I.csv")
    assert lost is not None
    client.delete_resource(dataset_id, lost.resource_id)

    again, _ = reference(client, dataset_id, SPLIT, first.record)

    assert again.verified
    assert again.count(ReferenceAction.CREATE) == 1
    remade = again.record.file(lost.path)
    assert remade is not None and remade.resource_id != lost.resource_id
    assert resources_by_id(client, dataset_id)[remade.resource_id]["url"] == lost.url
    assert len(resources_by_id(client, dataset_id)) == 4


def test_a_run_cancelled_after_one_file_keeps_it_and_the_next_run_finishes_without_duplicates(
    client: DataGouvClient, dataset_id: str
) -> None:
    saved = Saved()
    cancel = threading.Event()

    def stop_after_the_first(event: ReferenceEvent) -> None:
        if event.kind == "file_done":
            cancel.set()

    run = ReferenceRun(
        client, client.base_url, dataset_id, SPLIT, saved, stop_after_the_first, cancel
    )
    with pytest.raises(ApiError) as raised:
        run.run(None)
    assert raised.value.kind is ErrorKind.CANCELLED
    assert len(saved.records) == 1 and len(saved.records[-1].files) == 1
    assert len(resources_by_id(client, dataset_id)) == 1

    outcome, _ = reference(client, dataset_id, SPLIT, saved.records[-1])

    assert outcome.verified
    assert outcome.count(ReferenceAction.KEEP) == 1
    assert outcome.count(ReferenceAction.CREATE) == 3
    assert len(resources_by_id(client, dataset_id)) == 4


def test_a_resource_made_by_a_request_whose_answer_was_lost_is_adopted_not_doubled(
    client: DataGouvClient, dataset_id: str, recorder: Recorder
) -> None:
    # The first creation reached the server, but its answer never came back: nothing recorded.
    # (Every creation sends the file's SHA-256: that is how the wizard knows its own.)
    obj = SPLIT[0]
    orphan = client.create_remote_resource(
        dataset_id,
        title=obj.path,
        url=obj.url,
        format="csv",
        type="main",
        checksum=("sha256", obj.sha256),
    )

    outcome, _ = reference(client, dataset_id, SPLIT, None)

    assert outcome.verified, outcome.mismatches
    assert rid(outcome, obj.path) == orphan["id"]
    assert outcome.count(ReferenceAction.CREATE) == 3
    assert outcome.count(ReferenceAction.UPDATE) == 1  # given its size, checksum, description
    assert len(resources_by_id(client, dataset_id)) == 4


def test_a_duplicate_left_by_a_lost_answer_is_removed(
    client: DataGouvClient, dataset_id: str
) -> None:
    first, _ = reference(client, dataset_id, SPLIT, None)
    obj = SPLIT[1]
    # A retried creation whose first answer was lost: the same file twice on the page.
    duplicate = client.create_remote_resource(
        dataset_id,
        title=obj.path,
        url=obj.url,
        format="csv",
        type="main",
        checksum=("sha256", obj.sha256),
    )
    by_hand = client.create_remote_resource(
        dataset_id,
        title="Article de référence",
        url="https://doi.example.org/10.1/x",
        format="html",
    )

    again, _ = reference(client, dataset_id, SPLIT, first.record)

    assert again.verified
    assert again.duplicates_removed == (duplicate["id"],)
    server = resources_by_id(client, dataset_id)
    assert duplicate["id"] not in server
    assert by_hand["id"] in server  # what the partner added by hand is left alone
    assert len(server) == 5


def test_verification_names_a_resource_changed_on_the_server(
    client: DataGouvClient, dataset_id: str
) -> None:
    first, _ = reference(client, dataset_id, SPLIT, None)
    client.update_resource(dataset_id, rid(first, SPLIT[0].path), {"url": f"{BUCKET}/ailleurs.csv"})
    run = ReferenceRun(client, client.base_url, dataset_id, SPLIT, save=lambda _r: None)

    mismatches = run.verify(first.record)

    assert [(m.path, m.key) for m in mismatches] == [(SPLIT[0].path, "references.mismatch.url")]
    text = FR.t(mismatches[0].key, path=mismatches[0].path, **mismatches[0].params)
    assert "ailleurs.csv" in text and SPLIT[0].path in text


def test_files_of_the_same_name_in_two_folders_get_titles_that_tell_them_apart(
    client: DataGouvClient, dataset_id: str
) -> None:
    slides = (
        hosted("lames/stade_1/lame_001.tiff", 3_000_000_000),
        hosted("lames/stade_2/lame_001.tiff", 2_000_000_000),
    )
    outcome, _ = reference(client, dataset_id, slides, None)
    titles = sorted(r["title"] for r in client.dataset(dataset_id)["resources"])
    assert titles == ["lames/stade_1/lame_001.tiff", "lames/stade_2/lame_001.tiff"]
    assert all(r["format"] == "tiff" for r in client.dataset(dataset_id)["resources"])
    assert outcome.verified


def test_a_dataset_deleted_on_the_server_is_said_plainly(
    client: DataGouvClient, dataset_id: str
) -> None:
    client.delete_dataset(dataset_id)
    with pytest.raises(ReferencesError) as raised:
        reference(client, dataset_id, SPLIT, None)
    assert "étape 5" in raised.value.message(FR)


def test_references_of_another_dataset_are_not_reused(dataset_id: str) -> None:
    elsewhere = ReferencesRecord("http://ailleurs", "autre-jeu")
    plan = plan_references(SPLIT, replace(elsewhere, dataset_id="autre-jeu"), [])
    assert {p.action for p in plan} == {ReferenceAction.CREATE}
    assert not references_match(elsewhere, SPLIT, dataset_id)


def test_the_release_records_what_share_with_hdh_left(
    tmp_path: Path, udata_server: UdataServer
) -> None:
    project = hosted_release(tmp_path, udata_server)
    release = projects.read_project(tmp_path)
    assert workflow.route_of(release).value == "hosted"
    assert hosted_objects(release) == SPLIT
    assert project.release == release
