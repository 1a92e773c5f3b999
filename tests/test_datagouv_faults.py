"""Faults between the wizard and data.gouv.fr, injected by a proxy in front of the real udata:
errors on one chunk, lost answers, slow answers, the server down mid-upload; what is retried,
what is not, and how each failure is explained."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.datagouv import (
    ApiError,
    ChunkedUpload,
    DataGouvClient,
    ErrorKind,
    RetryPolicy,
    check_uploaded,
    describe,
    file_digests,
)
from tests.udata_local.fault_proxy import FaultProxy, LoggedRequest
from tests.udata_local.server import PARTNER, UdataServer

FR = load_catalogue(Lang.FR)
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
        {"title": f"Pannes {uuid.uuid4().hex[:6]}", "description": "Jeu de test.", "private": True}
    )
    proxy.clear()
    return created


def _data_file(folder: Path, size: int) -> Path:
    path = folder / "patients.csv"
    path.write_bytes(os.urandom(size))
    return path


def _parts(requests: list[LoggedRequest]) -> list[int]:
    return [int(r.fields["partindex"]) for r in requests if "partindex" in r.fields]


def _explained(error: ApiError) -> str:
    text = describe(error, FR)
    assert text.startswith(FR.t(error.explanation_key))
    return text


def test_every_kind_of_failure_is_explained_in_french_and_english() -> None:
    for lang in Lang:
        catalogue = load_catalogue(lang)
        for kind in ErrorKind:
            assert catalogue.has(ApiError(kind).explanation_key), (lang, kind)


# --- uploads -----------------------------------------------------------------------------------


def test_a_500_on_one_chunk_is_retried_and_the_upload_completes(
    client: DataGouvClient,
    proxy: FaultProxy,
    dataset: dict[str, Any],
    tmp_path: Path,
    waits: list[float],
) -> None:
    path = _data_file(tmp_path, 5 * CHUNK + 3)
    proxy.fail("POST", UPLOAD_PATH, 500, times=1, fields={"partindex": "2"})

    resource = client.upload_file(dataset["id"], path, chunk_size=CHUNK)

    uploads = proxy.requests("POST", UPLOAD_PATH)
    assert _parts(uploads) == [0, 1, 2, 2, 3, 4, 5]
    assert [r.status for r in uploads if r.fields.get("partindex") == "2"] == [500, 200]
    assert len(waits) == 1
    assert check_uploaded(resource, file_digests(path)) == []


def test_a_lost_answer_to_a_stored_chunk_does_not_break_the_upload(
    client: DataGouvClient, proxy: FaultProxy, dataset: dict[str, Any], tmp_path: Path
) -> None:
    # The gateway loses the answer after udata stored the part; sent again, udata refuses it.
    path = _data_file(tmp_path, 4 * CHUNK)
    proxy.fail("POST", UPLOAD_PATH, 502, times=1, forward=True, fields={"partindex": "1"})

    resource = client.upload_file(dataset["id"], path, chunk_size=CHUNK)

    part_one = [
        r.status for r in proxy.requests("POST", UPLOAD_PATH) if r.fields.get("partindex") == "1"
    ]
    assert part_one == [502, 500]
    assert check_uploaded(resource, file_digests(path)) == []


def test_a_lost_answer_to_the_assembly_does_not_make_a_second_resource(
    client: DataGouvClient, proxy: FaultProxy, dataset: dict[str, Any], tmp_path: Path
) -> None:
    path = _data_file(tmp_path, 3 * CHUNK + 1)
    assembly = {"partindex": None, "totalparts": "4"}
    proxy.fail("POST", UPLOAD_PATH, 504, times=1, forward=True, fields=assembly)

    resource = client.upload_file(dataset["id"], path, chunk_size=CHUNK)

    assemblies = [r for r in proxy.requests("POST", UPLOAD_PATH) if "partindex" not in r.fields]
    assert [r.status for r in assemblies] == [504]  # found on the server, not sent again
    resources = client.dataset(dataset["id"])["resources"]
    assert [r["id"] for r in resources] == [resource["id"]]
    assert resource["title"] == "patients.csv"
    assert check_uploaded(resource, file_digests(path)) == []


def test_the_server_down_mid_upload_says_where_to_resume_and_the_resume_completes(
    client: DataGouvClient,
    proxy: FaultProxy,
    dataset: dict[str, Any],
    tmp_path: Path,
    waits: list[float],
) -> None:
    path = _data_file(tmp_path, 6 * CHUNK)

    def server_stops_after_three(state: ChunkedUpload) -> None:
        if state.done_parts == 3:
            proxy.refuse()

    with pytest.raises(ApiError) as caught:
        client.upload_file(dataset["id"], path, chunk_size=CHUNK, on_chunk=server_stops_after_three)
    error = caught.value
    assert error.kind is ErrorKind.NETWORK
    assert error.attempts == RetryPolicy().attempts  # tried again, with a wait between each
    assert len(waits) == RetryPolicy().attempts - 1
    assert error.upload is not None and error.upload.done_parts == 3
    text = _explained(error)
    assert FR.t("datagouv.error.resume_at", part=4, total=6) in text

    proxy.accept()
    proxy.clear()
    resource = client.upload_file(dataset["id"], path, resume=error.upload)

    assert _parts(proxy.requests("POST", UPLOAD_PATH)) == [3, 4, 5]
    assert check_uploaded(resource, file_digests(path)) == []
    assert len(client.dataset(dataset["id"])["resources"]) == 1


def test_an_upload_whose_title_could_not_be_set_resumes_without_sending_the_file_again(
    client: DataGouvClient, proxy: FaultProxy, dataset: dict[str, Any], tmp_path: Path
) -> None:
    path = _data_file(tmp_path, 3 * CHUNK)
    proxy.fail("PUT", r"/resources/", 503, times=None)

    with pytest.raises(ApiError) as caught:
        client.upload_file(dataset["id"], path, chunk_size=CHUNK)

    error = caught.value
    assert (error.kind, error.method) == (ErrorKind.SERVER, "PUT")
    assert error.upload is not None and error.upload.done_parts == error.upload.total_parts == 3
    proxy.clear()

    resource = client.upload_file(dataset["id"], path, resume=error.upload)

    assert proxy.requests("POST") == []  # found on the server: only its title is set
    assert resource["title"] == "patients.csv"
    assert [r["id"] for r in client.dataset(dataset["id"])["resources"]] == [resource["id"]]


# --- reads and writes --------------------------------------------------------------------------


def test_a_503_on_a_read_is_retried(
    client: DataGouvClient, proxy: FaultProxy, waits: list[float]
) -> None:
    proxy.fail("GET", r"/me/$", 503, times=2)

    assert client.me().email == PARTNER.email

    assert [r.status for r in proxy.requests("GET", r"/me/$")] == [503, 503, 200]
    policy = RetryPolicy()
    assert len(waits) == 2
    assert policy.base_delay / 2 <= waits[0] <= policy.base_delay  # backoff with jitter
    assert policy.base_delay <= waits[1] <= 2 * policy.base_delay


def test_a_429_waits_what_retry_after_asks(
    client: DataGouvClient, proxy: FaultProxy, waits: list[float]
) -> None:
    proxy.fail("GET", r"/datasets/licenses/$", 429, times=1, headers={"Retry-After": "3"})

    assert client.licenses()

    assert waits == [3.0]


def test_a_read_that_keeps_failing_is_explained_after_the_last_attempt(
    client: DataGouvClient, proxy: FaultProxy
) -> None:
    proxy.fail("GET", r"/me/$", 502, times=None)

    with pytest.raises(ApiError) as caught:
        client.me()

    error = caught.value
    assert (error.kind, error.status, error.attempts) == (ErrorKind.SERVER, 502, 4)
    assert len(proxy.requests("GET", r"/me/$")) == 4
    _explained(error)


def test_slow_answers_beyond_the_timeout_are_retried_then_explained(
    proxy: FaultProxy, waits: list[float]
) -> None:
    proxy.delay(r"/me/$", 1.0)
    policy = RetryPolicy(attempts=3)
    with (
        DataGouvClient(
            proxy.url, PARTNER.api_key, timeout=0.3, retry=policy, sleep=waits.append
        ) as slow,
        pytest.raises(ApiError) as caught,
    ):
        slow.me()

    error = caught.value
    assert error.kind is ErrorKind.TIMEOUT
    assert error.attempts == 3
    assert len(waits) == 2
    assert proxy.wait_idle()
    assert len(proxy.requests("GET", r"/me/$")) == 3
    assert PARTNER.api_key not in _explained(error)


def test_a_creation_is_not_sent_again_after_a_502(
    client: DataGouvClient, proxy: FaultProxy, waits: list[float]
) -> None:
    title = f"Jamais deux fois {uuid.uuid4().hex[:6]}"
    proxy.fail("POST", r"/datasets/$", 502, times=1)

    with pytest.raises(ApiError) as caught:
        client.create_dataset({"title": title, "description": "Jeu de test."})

    error = caught.value
    assert (error.kind, error.status, error.attempts) == (ErrorKind.SERVER, 502, 1)
    assert len(proxy.requests("POST", r"/datasets/$")) == 1
    assert waits == []
    _explained(error)


def test_a_creation_is_sent_again_when_the_server_could_not_be_reached(
    proxy: FaultProxy,
) -> None:
    # The connection never opened: the server cannot have created anything.
    proxy.refuse()
    with DataGouvClient(proxy.url, PARTNER.api_key, sleep=lambda _s: proxy.accept()) as client:
        created = client.create_dataset(
            {"title": f"Après coupure {uuid.uuid4().hex[:6]}", "description": "Jeu de test."}
        )
    assert [r.method for r in proxy.requests(path_regex=r"/datasets/$")] == ["POST"]
    assert created["id"]


def test_a_read_only_portal_is_explained_and_not_retried(
    client: DataGouvClient, proxy: FaultProxy, dataset: dict[str, Any]
) -> None:
    proxy.fail("PUT", r"/datasets/", 423, times=None)

    with pytest.raises(ApiError) as caught:
        client.update_dataset(dataset["id"], {"title": "Pendant la maintenance"})

    assert (caught.value.kind, caught.value.attempts) == (ErrorKind.READ_ONLY, 1)
    assert len(proxy.requests("PUT")) == 1
    _explained(caught.value)


def test_an_answer_of_the_wrong_shape_is_unexpected(
    client: DataGouvClient, proxy: FaultProxy
) -> None:
    # As from a portal that is not udata: a 200 whose body is not the list asked for.
    proxy.fail("GET", r"/datasets/licenses/$", 200, times=1)

    with pytest.raises(ApiError) as caught:
        client.licenses()

    assert caught.value.kind is ErrorKind.UNEXPECTED
    _explained(caught.value)
