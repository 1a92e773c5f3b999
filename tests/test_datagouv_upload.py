"""File uploads to the real udata: one request or chunks, replacing a file, progress, cancel
and resume, and resuming after the uploading process was killed half-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.datagouv import (
    ApiError,
    ChunkedUpload,
    DataGouvClient,
    ErrorKind,
    FileDigests,
    UploadProgress,
    check_uploaded,
    file_digests,
)
from hdh_wizard.services.datagouv.upload import DEFAULT_CHUNK_SIZE, unique_upload_name
from tests.udata_local.fault_proxy import FaultProxy, LoggedRequest
from tests.udata_local.server import PARTNER, UdataServer

CHUNK = 64 * 1024
UPLOAD_PATH = r"/upload/$"


@pytest.fixture
def proxy(udata_server: UdataServer) -> Iterator[FaultProxy]:
    with FaultProxy(udata_server.url) as running:
        yield running


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(proxy: FaultProxy, waits: list[float]) -> Iterator[DataGouvClient]:
    with DataGouvClient(proxy.url, PARTNER.api_key, sleep=waits.append) as partner:
        yield partner


@pytest.fixture
def dataset(client: DataGouvClient, proxy: FaultProxy) -> dict[str, Any]:
    created = client.create_dataset(
        {"title": f"Dépôt {uuid.uuid4().hex[:6]}", "description": "Jeu de test.", "private": True}
    )
    proxy.clear()
    return created


def _data_file(folder: Path, name: str, size: int) -> Path:
    path = folder / name
    path.write_bytes(os.urandom(size))
    return path


def _server_bytes(resource: dict[str, Any]) -> bytes:
    response = httpx.get(resource["url"], timeout=30)
    response.raise_for_status()
    return response.content


def _parts(requests: list[LoggedRequest]) -> list[int]:
    return [int(r.fields["partindex"]) for r in requests if "partindex" in r.fields]


def test_a_small_file_goes_in_one_request_titled_with_its_own_name(
    client: DataGouvClient, proxy: FaultProxy, dataset: dict[str, Any], tmp_path: Path
) -> None:
    path = _data_file(tmp_path, "Données patients 2012.csv", 10_000)

    resource = client.upload_file(dataset["id"], path, chunk_size=CHUNK)

    uploads = proxy.requests("POST", UPLOAD_PATH)
    assert len(uploads) == 1
    assert uploads[0].has_file and "partindex" not in uploads[0].fields
    assert resource["title"] == "Données patients 2012.csv"
    assert resource["filetype"] == "file"
    assert check_uploaded(resource, file_digests(path)) == []
    assert _server_bytes(resource) == path.read_bytes()


def test_a_multi_chunk_upload_gives_the_server_the_same_bytes(
    client: DataGouvClient, proxy: FaultProxy, dataset: dict[str, Any], tmp_path: Path
) -> None:
    path = _data_file(tmp_path, "patients.csv", 5 * CHUNK + 1234)  # a short last part
    states: list[ChunkedUpload] = []

    resource = client.upload_file(dataset["id"], path, chunk_size=CHUNK, on_chunk=states.append)

    uploads = proxy.requests("POST", UPLOAD_PATH)
    assert _parts(uploads) == [0, 1, 2, 3, 4, 5]
    assert [int(r.fields["chunksize"]) for r in uploads[:6]] == [CHUNK] * 5 + [1234]
    assert len({r.fields["uuid"] for r in uploads}) == 1  # the assembly included
    assembly = uploads[-1]
    assert not assembly.has_file and assembly.fields["totalparts"] == "6"
    assert [s.done_parts for s in states] == [0, 1, 2, 3, 4, 5, 6]
    assert states[-1].uuid == uploads[0].fields["uuid"]

    digests = file_digests(path)
    assert resource["filesize"] == digests.size
    assert resource["checksum"] == {"type": "sha1", "value": digests.sha1}
    assert check_uploaded(resource, digests) == []
    assert _server_bytes(resource) == path.read_bytes()
    assert resource["title"] == "patients.csv"


def test_replacing_a_file_keeps_the_resource_and_its_title(
    client: DataGouvClient, dataset: dict[str, Any], tmp_path: Path
) -> None:
    first = _data_file(tmp_path, "patients.csv", 3 * CHUNK)
    original = client.upload_file(dataset["id"], first, chunk_size=CHUNK)
    client.update_resource(dataset["id"], original["id"], {"description": "Version 1."})
    (tmp_path / "v2").mkdir()
    second = _data_file(tmp_path / "v2", "patients.csv", 2 * CHUNK + 7)

    replaced = client.upload_file(
        dataset["id"], second, resource_id=original["id"], chunk_size=CHUNK
    )

    assert replaced["id"] == original["id"]
    assert replaced["title"] == "patients.csv"
    assert replaced["description"] == "Version 1."
    assert check_uploaded(replaced, file_digests(second)) == []
    assert _server_bytes(replaced) == second.read_bytes()
    resources = client.dataset(dataset["id"])["resources"]
    assert [r["id"] for r in resources] == [original["id"]]


def test_progress_only_grows_and_ends_at_the_file_size(
    client: DataGouvClient, dataset: dict[str, Any], tmp_path: Path
) -> None:
    path = _data_file(tmp_path, "images.zip", 4 * CHUNK + 99)
    seen: list[UploadProgress] = []

    client.upload_file(dataset["id"], path, chunk_size=CHUNK, progress=seen.append)

    sent = [p.sent for p in seen]
    assert len(seen) > 5  # steps within the parts, not only one per part
    assert sent == sorted(sent)
    assert sent[-1] == path.stat().st_size
    assert {p.total for p in seen} == {path.stat().st_size}
    assert all(p.speed >= 0 for p in seen)
    assert seen[-1].remaining_seconds in (0.0, None)


def test_cancel_then_resume_sends_only_the_missing_chunks_with_the_same_uuid(
    client: DataGouvClient, proxy: FaultProxy, dataset: dict[str, Any], tmp_path: Path
) -> None:
    path = _data_file(tmp_path, "patients.csv", 6 * CHUNK + 10)
    cancel = threading.Event()

    def stop_after_three(state: ChunkedUpload) -> None:
        if state.done_parts == 3:
            cancel.set()

    with pytest.raises(ApiError) as caught:
        client.upload_file(
            dataset["id"], path, chunk_size=CHUNK, cancel=cancel, on_chunk=stop_after_three
        )
    error = caught.value
    assert error.kind is ErrorKind.CANCELLED
    assert error.upload is not None and error.upload.done_parts == 3
    assert _parts(proxy.requests("POST", UPLOAD_PATH)) == [0, 1, 2]

    proxy.clear()
    resumed_from: list[UploadProgress] = []
    resource = client.upload_file(
        dataset["id"], path, resume=error.upload, progress=resumed_from.append
    )

    uploads = proxy.requests("POST", UPLOAD_PATH)
    assert _parts(uploads) == [3, 4, 5, 6]
    assert {r.fields["uuid"] for r in uploads} == {error.upload.uuid}
    assert resumed_from[0].start == 3 * CHUNK
    assert _server_bytes(resource) == path.read_bytes()
    assert len(client.dataset(dataset["id"])["resources"]) == 1


def test_a_resume_state_of_a_changed_file_starts_over(
    client: DataGouvClient, proxy: FaultProxy, dataset: dict[str, Any], tmp_path: Path
) -> None:
    path = _data_file(tmp_path, "patients.csv", 4 * CHUNK)
    cancel = threading.Event()
    with pytest.raises(ApiError) as caught:
        client.upload_file(
            dataset["id"],
            path,
            chunk_size=CHUNK,
            cancel=cancel,
            on_chunk=lambda s: cancel.set() if s.done_parts == 2 else None,
        )
    stale = caught.value.upload
    assert stale is not None
    path.write_bytes(os.urandom(4 * CHUNK + 1))  # a new version of the file
    proxy.clear()

    resource = client.upload_file(dataset["id"], path, resume=stale, chunk_size=CHUNK)

    uploads = proxy.requests("POST", UPLOAD_PATH)
    assert _parts(uploads) == [0, 1, 2, 3, 4]
    assert stale.uuid not in {r.fields["uuid"] for r in uploads}
    assert _server_bytes(resource) == path.read_bytes()


CHILD = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from hdh_wizard.services.datagouv.client import DataGouvClient

    site, dataset_id, file_path, state_path, chunk = sys.argv[1:6]
    state_file = Path(state_path)

    def persist(state):
        temporary = state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state.to_dict()))
        os.replace(temporary, state_file)

    with DataGouvClient(site, os.environ["HDH_TEST_API_KEY"]) as client:
        client.upload_file(dataset_id, Path(file_path), chunk_size=int(chunk), on_chunk=persist)
    """
)


def test_an_upload_killed_half_way_resumes_from_its_saved_state(
    client: DataGouvClient, proxy: FaultProxy, dataset: dict[str, Any], tmp_path: Path
) -> None:
    path = _data_file(tmp_path, "patients.csv", 30 * CHUNK + 500)
    state_path = tmp_path / "upload-state.json"
    script = tmp_path / "upload_child.py"
    script.write_text(CHILD)
    proxy.delay(UPLOAD_PATH, 0.05, method="POST")  # slow enough to be stopped half-way
    child = subprocess.Popen(
        [
            sys.executable,
            str(script),
            proxy.url,
            dataset["id"],
            str(path),
            str(state_path),
            str(CHUNK),
        ],
        env={**os.environ, "HDH_TEST_API_KEY": PARTNER.api_key},
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            saved = json.loads(state_path.read_text()) if state_path.exists() else {}
            if saved.get("done_parts", 0) >= 5:
                break
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(10)
    assert child.returncode == -signal.SIGKILL

    state = ChunkedUpload.from_dict(json.loads(state_path.read_text()))
    assert state is not None
    assert 5 <= state.done_parts < state.total_parts == 31
    assert proxy.wait_idle()  # the killed process's last request, still in the proxy
    proxy.clear()

    resource = client.upload_file(dataset["id"], path, resume=state)

    resumed_parts = _parts(proxy.requests("POST", UPLOAD_PATH))
    assert resumed_parts == list(range(state.done_parts, 31))  # finished chunks not re-sent
    assert check_uploaded(resource, file_digests(path)) == []
    assert _server_bytes(resource) == path.read_bytes()
    assert len(client.dataset(dataset["id"])["resources"]) == 1


def test_a_part_stored_but_not_saved_as_done_is_not_sent_twice(
    client: DataGouvClient, proxy: FaultProxy, dataset: dict[str, Any], tmp_path: Path
) -> None:
    # Killed between the server's answer and the saving of the state: the state is one part
    # behind the server, which refuses to store a part twice (a 500).
    path = _data_file(tmp_path, "patients.csv", 5 * CHUNK)
    cancel = threading.Event()
    with pytest.raises(ApiError) as caught:
        client.upload_file(
            dataset["id"],
            path,
            chunk_size=CHUNK,
            cancel=cancel,
            on_chunk=lambda s: cancel.set() if s.done_parts == 3 else None,
        )
    assert caught.value.upload is not None
    behind = replace(caught.value.upload, done_parts=2)
    proxy.clear()

    resource = client.upload_file(dataset["id"], path, resume=behind)

    uploads = proxy.requests("POST", UPLOAD_PATH)
    assert [(r.fields.get("partindex"), r.status) for r in uploads[:3]] == [
        ("2", 500),  # already there: taken as stored, not retried
        ("3", 200),
        ("4", 200),
    ]
    assert check_uploaded(resource, file_digests(path)) == []
    assert _server_bytes(resource) == path.read_bytes()


def test_the_same_file_twice_in_a_second_makes_two_resources_with_its_title(
    client: DataGouvClient, dataset: dict[str, Any], tmp_path: Path
) -> None:
    # udata stores files under the upload's second and refuses an existing name: a 500.
    path = _data_file(tmp_path, "patients.csv", 5000)

    first = client.upload_file(dataset["id"], path)
    second = client.upload_file(dataset["id"], path)

    assert first["id"] != second["id"]
    assert first["title"] == second["title"] == "patients.csv"
    assert first["url"] != second["url"]
    assert _server_bytes(first) == _server_bytes(second) == path.read_bytes()


def test_an_extension_the_server_refuses_is_explained(
    client: DataGouvClient, dataset: dict[str, Any], tmp_path: Path
) -> None:
    path = _data_file(tmp_path, "outil.exe", 100)
    with pytest.raises(ApiError) as caught:
        client.upload_file(dataset["id"], path)
    assert caught.value.kind is ErrorKind.INVALID
    assert "extensions" in caught.value.server_message
    assert "exe" not in client.allowed_extensions()


# --- pure parts: no server ---------------------------------------------------------------------


def test_upload_names_are_unique_and_keep_every_extension() -> None:
    upload_uuid = "1a2b3c4d-0000-4000-8000-000000000000"
    assert unique_upload_name("patients.csv", upload_uuid) == "patients-1a2b3c4d.csv"
    assert unique_upload_name("base.csv.gz", upload_uuid) == "base-1a2b3c4d.csv.gz"
    assert unique_upload_name("LISEZMOI", upload_uuid) == "LISEZMOI-1a2b3c4d"
    assert unique_upload_name(".cache", upload_uuid) == ".cache-1a2b3c4d"


def test_the_default_chunk_is_data_gouv_frs_own() -> None:
    assert DEFAULT_CHUNK_SIZE == 20_000_000


def _state(**changes: Any) -> dict[str, Any]:
    upload_uuid = str(uuid.uuid4())
    base = ChunkedUpload(
        uuid=upload_uuid,
        filename=unique_upload_name("patients.csv", upload_uuid),
        size=10 * CHUNK,
        mtime_ns=1_767_171_600_000_000_000,
        chunk_size=CHUNK,
        total_parts=10,
        done_parts=4,
        dataset_id="6b0bbb87f550d5513f26875a",
        resource_id=None,
        title="patients.csv",
        updated_at=1_767_171_600.0,
    ).to_dict()
    return {**base, **changes}


def test_a_saved_upload_state_reads_back_the_same() -> None:
    saved = _state()
    assert json.loads(json.dumps(saved)) == saved  # JSON- and YAML-safe
    state = ChunkedUpload.from_dict(saved)
    assert state is not None and state.to_dict() == saved


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        "patients.csv",
        [],
        {},
        _state(uuid="not-a-uuid"),
        _state(done_parts=11),
        _state(done_parts=-1),
        _state(total_parts=3),
        _state(chunk_size=0),
        _state(size="big"),
        _state(done_parts=True),
        _state(dataset_id=""),
        _state(resource_id=42),
        {k: v for k, v in _state().items() if k != "uuid"},
    ],
)
def test_a_damaged_upload_state_reads_as_nothing_to_resume(garbage: object) -> None:
    assert ChunkedUpload.from_dict(garbage) is None


def test_digests_in_one_read_and_mismatches_named_in_the_catalogue(tmp_path: Path) -> None:
    path = _data_file(tmp_path, "patients.csv", 3_000_000)
    seen: list[UploadProgress] = []
    digests = file_digests(path, progress=seen.append)
    assert digests.size == 3_000_000
    assert seen[-1].sent == 3_000_000

    good = {"filesize": digests.size, "checksum": {"type": "sha1", "value": digests.sha1}}
    assert check_uploaded(good, digests) == []
    as_sha256 = {"filesize": digests.size, "checksum": {"type": "sha256", "value": digests.sha256}}
    assert check_uploaded(as_sha256, digests) == []

    other = FileDigests(digests.size + 1, "0" * 40, "0" * 64)
    problems = check_uploaded(good, other)
    assert problems == ["datagouv.verify.size_mismatch", "datagouv.verify.checksum_mismatch"]
    assert check_uploaded({}, digests) == [
        "datagouv.verify.size_missing",
        "datagouv.verify.checksum_missing",
    ]
    for lang in Lang:
        catalogue = load_catalogue(lang)
        assert all(catalogue.has(key) for key in problems)

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ApiError) as caught:
        file_digests(path, cancel=cancel)
    assert caught.value.kind is ErrorKind.CANCELLED
