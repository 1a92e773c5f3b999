"""What goes wrong between the wizard and HDH's storage, and how it is handled and explained:
a part failing or altered on the way, the storage going away mid-upload, wrong credentials, a
prefix the keys may not write, a missing bucket, clock skew, a wrong endpoint, TLS, an object
changed behind the wizard's back. Faults come from a proxy in front of a local moto S3;
credentials are checked by a moto with IAM checks on, in its own process."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.storage import (
    ConnectionCheck,
    StorageClient,
    StorageConfig,
    StorageError,
    StorageErrorKind,
    connect,
    test_connection,
    upload_file,
    verify_object,
)
from hdh_wizard.services.storage.config import SHA256_METADATA
from hdh_wizard.services.storage.errors import describe
from tests.s3_local import ANY_KEY_ID, ANY_SECRET, AuthS3, S3FaultProxy, raw_client

FR = load_catalogue(Lang.FR)
EN = load_catalogue(Lang.EN)
MiB = 1024 * 1024
PART = 5 * MiB


def random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def sha256_of(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def config(proxy: S3FaultProxy, bucket: str) -> StorageConfig:
    return StorageConfig(proxy.url, "us-east-1", bucket, "melanome/", ANY_KEY_ID)


@pytest.fixture
def client(config: StorageConfig) -> StorageClient:
    return connect(config, ANY_SECRET, attempts=3)


@pytest.fixture(scope="module")
def auth_s3() -> Iterator[AuthS3]:
    server = AuthS3().start()
    yield server
    server.stop()


def three_parts(tmp_path: Path, seed: int = 1) -> tuple[Path, bytes]:
    data = random_bytes(2 * PART + 777, seed)
    path = tmp_path / "patients.csv"
    path.write_bytes(data)
    return path, data


# --- a part on the way --------------------------------------------------------------------------


@pytest.mark.parametrize("server_did_the_work", [False, True])
def test_a_part_failing_with_500_once_is_sent_again_and_the_upload_succeeds(
    client: StorageClient,
    proxy: S3FaultProxy,
    tmp_path: Path,
    server_did_the_work: bool,
) -> None:
    path, data = three_parts(tmp_path)
    proxy.fail("UploadPart", part_number=2, status=500, forward=server_did_the_work)

    result = upload_file(client, path, "patients.csv", part_size=PART)

    statuses = [(r.part_number, r.status) for r in proxy.seen("UploadPart")]
    assert sorted(statuses) == [(1, 200), (2, 200), (2, 500), (3, 200)]
    check = verify_object(
        client, result.key, size=len(data), sha256=sha256_of(data), full_read=True
    )
    assert check.ok, check.problems


def test_a_part_altered_on_the_way_is_caught_by_its_etag_and_sent_again(
    client: StorageClient, proxy: S3FaultProxy, tmp_path: Path
) -> None:
    path, data = three_parts(tmp_path, seed=2)
    proxy.corrupt("UploadPart", part_number=2)  # moto stores it: only the ETag tells

    result = upload_file(client, path, "patients.csv", part_size=PART)

    assert sorted(proxy.part_numbers()) == [1, 2, 2, 3]
    check = verify_object(
        client, result.key, size=len(data), sha256=sha256_of(data), full_read=True
    )
    assert check.ok, check.problems


def test_a_part_altered_every_time_stops_with_a_checksum_error_then_resumes(
    client: StorageClient, proxy: S3FaultProxy, tmp_path: Path
) -> None:
    path, data = three_parts(tmp_path, seed=3)
    proxy.corrupt("UploadPart", part_number=3, times=100)

    with pytest.raises(StorageError) as caught:
        upload_file(client, path, "patients.csv", part_size=PART)

    error = caught.value
    assert error.kind is StorageErrorKind.CHECKSUM and error.object_key == "patients.csv"
    assert proxy.part_numbers().count(3) == 3  # three tries, then it gives up
    assert error.state is not None and [p[0] for p in error.state.parts] == [1, 2]
    message = describe(error, FR)
    assert message.startswith(FR.t("storage.error.checksum"))
    assert "2 morceaux sur 3" in message and "patients.csv" in message
    proxy.clear()

    result = upload_file(client, path, "patients.csv", part_size=PART, resume=error.state)

    assert proxy.part_numbers() == [3]
    assert verify_object(client, result.key, size=len(data), sha256=sha256_of(data)).ok


def test_the_storage_going_away_mid_upload_is_a_network_error_that_resumes(
    config: StorageConfig, proxy: S3FaultProxy, tmp_path: Path
) -> None:
    client = connect(config, ANY_SECRET, attempts=2, connect_timeout=2)
    path, data = three_parts(tmp_path, seed=4)
    proxy.delay("UploadPart", 0.2)

    def storage_goes_away(state: object) -> None:
        if state is not None and getattr(state, "done_parts", 0) >= 1:
            proxy.refuse()

    with pytest.raises(StorageError) as caught:
        upload_file(
            client, path, "patients.csv", part_size=PART, workers=1, on_state=storage_goes_away
        )

    error = caught.value
    assert error.kind is StorageErrorKind.NETWORK  # not "wrong address": it answered before
    assert error.state is not None and error.state.done_parts == 1
    assert "reprendra" in describe(error, FR)
    proxy.accept()
    proxy.clear()

    result = upload_file(client, path, "patients.csv", part_size=PART, resume=error.state)

    assert sorted(proxy.part_numbers()) == [2, 3]
    assert verify_object(client, result.key, size=len(data), sha256=sha256_of(data)).ok


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (500, "InternalError", StorageErrorKind.SERVER),
        (503, "SlowDown", StorageErrorKind.SERVER),
        (403, "QuotaExceeded", StorageErrorKind.QUOTA),
        (403, "AccessDenied", StorageErrorKind.ACCESS_DENIED),
        (403, "RequestTimeTooSkewed", StorageErrorKind.CLOCK_SKEW),
        (400, "AuthorizationHeaderMalformed", StorageErrorKind.WRONG_REGION),
    ],
)
def test_each_refusal_of_the_storage_has_its_own_explanation(
    config: StorageConfig,
    proxy: S3FaultProxy,
    tmp_path: Path,
    status: int,
    code: str,
    kind: StorageErrorKind,
) -> None:
    client = connect(config, ANY_SECRET, attempts=2)
    path = tmp_path / "stade-I.csv"
    path.write_bytes(b"id;stade\n1;I\n")
    proxy.fail("PutObject", status=status, code=code, times=None)

    with pytest.raises(StorageError) as caught:
        upload_file(client, path, "stade-I.csv")

    assert caught.value.kind is kind and caught.value.code == code
    message = caught.value.message(FR)
    assert message.startswith(FR.t(f"storage.error.{kind.value}"))
    assert code in message and "PutObject" in message


# --- the connection test ------------------------------------------------------------------------


def test_an_unknown_access_key_is_explained(auth_s3: AuthS3) -> None:
    config = StorageConfig(auth_s3.url, "", auth_s3.bucket, auth_s3.prefix, "AKIANOTAKEY00000000")

    report = test_connection(config, auth_s3.secret)

    assert report.error is not None and report.error.kind is StorageErrorKind.CREDENTIALS
    assert report.error.code == "InvalidAccessKeyId"
    assert report.failed_check is ConnectionCheck.REACH and report.passed == ()
    step = FR.t("storage.test.check.reach")
    assert report.message(FR).startswith(FR.t("storage.test.failed", step=step, reason=""))
    assert FR.t("storage.error.credentials") in report.message(FR)


def test_a_wrong_secret_is_explained_and_never_shown(auth_s3: AuthS3) -> None:
    wrong = "wR0ng-s3cret-typed-by-hand-0123456789abcdef"
    config = StorageConfig(auth_s3.url, "", auth_s3.bucket, auth_s3.prefix, auth_s3.access_key_id)

    report = test_connection(config, wrong)

    error = report.error
    assert error is not None and error.kind is StorageErrorKind.CREDENTIALS
    assert error.code == "SignatureDoesNotMatch"
    client = connect(config, wrong)
    shown = [
        str(error),
        repr(error),
        repr(report),
        report.message(FR),
        report.message(EN),
        repr(client),
        repr(config.to_dict()),
    ]
    assert not any(wrong in text for text in shown)


def test_the_granted_prefix_passes_and_a_multipart_upload_needs_no_other_right(
    auth_s3: AuthS3, tmp_path: Path
) -> None:
    config = StorageConfig(auth_s3.url, "", auth_s3.bucket, auth_s3.prefix, auth_s3.access_key_id)
    report = test_connection(config, auth_s3.secret)
    assert report.ok, report.error
    path, data = three_parts(tmp_path, seed=5)
    client = connect(config, auth_s3.secret)

    result = upload_file(client, path, config.key_for("patients.csv"), part_size=PART)

    assert result.parts == 3
    assert verify_object(client, result.key, size=len(data), sha256=sha256_of(data)).ok


def test_a_prefix_outside_the_granted_one_is_access_denied_when_writing(auth_s3: AuthS3) -> None:
    config = StorageConfig(auth_s3.url, "", auth_s3.bucket, "autre-base/", auth_s3.access_key_id)

    report = test_connection(config, auth_s3.secret)

    assert report.error is not None and report.error.kind is StorageErrorKind.ACCESS_DENIED
    assert report.passed == (ConnectionCheck.REACH,)
    assert report.failed_check is ConnectionCheck.WRITE
    assert FR.t("storage.error.access_denied") in report.message(FR)


def test_a_missing_bucket_is_explained(s3_server: str) -> None:
    config = StorageConfig(s3_server, "", "hdh-no-such-bucket", "melanome/", ANY_KEY_ID)

    report = test_connection(config, ANY_SECRET)

    assert report.error is not None and report.error.kind is StorageErrorKind.NO_SUCH_BUCKET
    assert report.failed_check is ConnectionCheck.REACH
    assert FR.t("storage.error.no_such_bucket") in report.message(FR)


def test_clock_skew_is_explained(config: StorageConfig, proxy: S3FaultProxy) -> None:
    proxy.fail("ListObjectsV2", status=403, code="RequestTimeTooSkewed", times=None)

    report = test_connection(config, ANY_SECRET)

    assert report.error is not None and report.error.kind is StorageErrorKind.CLOCK_SKEW
    assert "horloge" in report.message(FR)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    "endpoint",
    [
        pytest.param(f"http://127.0.0.1:{_closed_port()}", id="connection-refused"),
        pytest.param("https://stockage.hdh.invalid", id="unknown-host"),
    ],
)
def test_a_wrong_endpoint_is_explained(endpoint: str) -> None:
    config = StorageConfig(endpoint, "", "hdh-open-data", "", ANY_KEY_ID)

    report = test_connection(config, ANY_SECRET, connect_timeout=3)

    assert report.error is not None and report.error.kind is StorageErrorKind.ENDPOINT
    assert report.message(FR).count(FR.t("storage.error.endpoint")) == 1
    assert report.elapsed < 30


def test_a_tls_failure_is_explained(s3_server: str) -> None:
    plain_port = s3_server.rsplit(":", 1)[1]
    config = StorageConfig(f"https://127.0.0.1:{plain_port}", "", "hdh-open-data", "", ANY_KEY_ID)

    report = test_connection(config, ANY_SECRET, connect_timeout=3)

    assert report.error is not None and report.error.kind is StorageErrorKind.TLS
    assert "AWS_CA_BUNDLE" in report.message(FR)


# --- an object changed behind the wizard's back -------------------------------------------------


def test_an_object_replaced_behind_our_back_is_caught_by_verify(
    client: StorageClient, bucket: str, s3_server: str, tmp_path: Path
) -> None:
    data = random_bytes(100_000, 6)
    path = tmp_path / "stade-II.csv"
    path.write_bytes(data)
    upload_file(client, path, "stade-II.csv")
    assert verify_object(client, "stade-II.csv", size=len(data), sha256=sha256_of(data)).ok
    other = raw_client(s3_server)

    other.put_object(Bucket=bucket, Key="stade-II.csv", Body=data[:-10])
    replaced = verify_object(client, "stade-II.csv", size=len(data), sha256=sha256_of(data))

    assert replaced.problems == ("storage.verify.size_mismatch", "storage.verify.checksum_missing")
    assert replaced.remote_size == len(data) - 10

    # Same size, other bytes, and our metadata copied over: only reading it back tells.
    forged = bytes([data[0] ^ 1]) + data[1:]
    metadata = {SHA256_METADATA: sha256_of(data)}
    other.put_object(Bucket=bucket, Key="stade-II.csv", Body=forged, Metadata=metadata)
    by_metadata = verify_object(client, "stade-II.csv", size=len(data), sha256=sha256_of(data))
    read_back = verify_object(
        client, "stade-II.csv", size=len(data), sha256=sha256_of(data), full_read=True
    )

    assert by_metadata.ok
    assert read_back.problems == ("storage.verify.content_mismatch",)
    assert read_back.read_sha256 == sha256_of(forged)


def test_a_missing_object_is_reported_by_verify(client: StorageClient) -> None:
    check = verify_object(client, "melanome/absent.csv", size=10, sha256="0" * 64)

    assert check.problems == ("storage.verify.missing",) and check.remote_size is None
    assert FR.t(check.problems[0])


def test_a_local_file_gone_before_sending_is_explained(
    client: StorageClient, tmp_path: Path
) -> None:
    with pytest.raises(StorageError) as caught:
        upload_file(client, tmp_path / "absent.csv", "absent.csv")

    assert caught.value.kind is StorageErrorKind.LOCAL_FILE
    assert caught.value.message(FR).startswith(FR.t("storage.error.local_file"))
