"""Sending a release's files to HDH's storage (a local moto S3 behind a counting proxy): the
connection test, several files including a multipart one, parallel parts with their checksums,
files already in place, and resuming after a cancel, a killed process, a changed file or an
upload the server dropped."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.storage import (
    MIN_PART_SIZE,
    ConnectionCheck,
    FileToSend,
    MultipartState,
    StorageClient,
    StorageConfig,
    StorageError,
    StorageErrorKind,
    TransferPhase,
    TransferProgress,
    choose_part_size,
    connect,
    public_url,
    test_connection,
    upload_file,
    upload_files,
    verify_object,
)
from tests.s3_local import ANY_KEY_ID, ANY_SECRET, S3FaultProxy, raw_client

FR = load_catalogue(Lang.FR)
MiB = 1024 * 1024
PART = 5 * MiB  # S3's smallest part; moto refuses a smaller one too (EntityTooSmall)
PREFIX = "hdh/base-melanome/"


def random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def config(proxy: S3FaultProxy, bucket: str) -> StorageConfig:
    return StorageConfig(proxy.url, "us-east-1", bucket, PREFIX, ANY_KEY_ID)


@pytest.fixture
def client(config: StorageConfig) -> StorageClient:
    return connect(config, ANY_SECRET)


class Recorder:
    """What the transfer told its caller: saved states and progress reports."""

    def __init__(self, cancel_after_parts: int | None = None) -> None:
        self.states: list[MultipartState | None] = []
        self.reports: list[TransferProgress] = []
        self.cancel = threading.Event()
        self.cancel_after_parts = cancel_after_parts

    def save(self, state: MultipartState | None) -> None:
        self.states.append(state)
        limit = self.cancel_after_parts
        if state is not None and limit is not None and state.done_parts >= limit:
            self.cancel.set()

    def progress(self, report: TransferProgress) -> None:
        self.reports.append(report)

    @property
    def last_state(self) -> MultipartState | None:
        return self.states[-1] if self.states else None


# --- the connection test ----------------------------------------------------------------------


def test_the_connection_test_passes_every_check_and_leaves_no_probe_behind(
    config: StorageConfig, proxy: S3FaultProxy, bucket: str, s3_server: str
) -> None:
    report = test_connection(config, ANY_SECRET)

    assert report.ok, report.error
    assert report.passed == tuple(ConnectionCheck)
    assert report.message(FR) == FR.t("storage.test.ok")
    operations = [r.operation for r in proxy.seen()]
    assert operations == ["ListObjectsV2", "PutObject", "HeadObject", "DeleteObject"]
    assert report.probe_key.startswith(PREFIX)
    assert raw_client(s3_server).list_objects_v2(Bucket=bucket).get("KeyCount") == 0


# --- several files ----------------------------------------------------------------------------


def make_public(endpoint: str, bucket: str, prefix: str) -> None:
    """What HDH staff do for open data: anyone may read the objects under the prefix."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/{prefix}*",
            }
        ],
    }
    raw_client(endpoint).put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def test_several_files_including_a_multipart_one_arrive_whole_with_their_sha256(
    client: StorageClient,
    config: StorageConfig,
    proxy: S3FaultProxy,
    tmp_path: Path,
    s3_server: str,
) -> None:
    contents = {
        "lisez-moi.txt": b"Base melanome: un fichier par stade.\n" * 50,
        "échantillon stade II.csv": random_bytes(300_000, 1),
        "vide.csv": b"",
        "patients.csv": random_bytes(11 * MiB + 12_345, 2),  # 3 parts of 5 MiB
    }
    files = [
        FileToSend(write(tmp_path / name, data), config.key_for(f"donnees/{name}"))
        for name, data in contents.items()
    ]
    recorder = Recorder()

    results = upload_files(
        client, files, part_size=PART, progress=recorder.progress, on_state=lambda k, s: None
    )

    assert [r.key for r in results] == [f.key for f in files]
    assert [r.parts for r in results] == [1, 1, 1, 3]
    assert [r.sha256 for r in results] == [sha256_of(d) for d in contents.values()]
    assert not any(r.skipped for r in results)
    for result, data in zip(results, contents.values(), strict=True):
        check = verify_object(
            client, result.key, size=len(data), sha256=sha256_of(data), full_read=True
        )
        assert check.ok, check.problems
        assert check.remote_sha256 == check.read_sha256 == sha256_of(data)
    assert [r.part_number for r in proxy.seen("UploadPart")].count(None) == 0
    assert sorted(proxy.part_numbers()) == [1, 2, 3]
    assert len(proxy.seen("PutObject")) == 3
    assert len(proxy.seen("CreateMultipartUpload")) == 1
    assert len(proxy.seen("CompleteMultipartUpload")) == 1
    # The batch's progress only goes forward, to the total, and each file ends done.
    total = sum(len(d) for d in contents.values())
    overall = [r.overall.sent for r in recorder.reports if r.phase is not TransferPhase.HASHING]
    assert overall == sorted(overall) and overall[-1] == total
    assert all(r.overall.total == total and r.count == 4 for r in recorder.reports)
    done = [(r.index, r.file.sent) for r in recorder.reports if r.phase is TransferPhase.DONE]
    assert done == [(i, len(d)) for i, d in enumerate(contents.values())]
    # Once HDH makes the prefix public, the public URL of a file with accents and spaces
    # serves its bytes to anyone.
    make_public(s3_server, config.bucket, PREFIX)
    with urllib.request.urlopen(public_url(config, results[1].key)) as answer:
        assert answer.read() == contents["échantillon stade II.csv"]


def test_parts_go_in_parallel_each_with_its_md5_and_crc32_and_the_file_sha256_as_metadata(
    client: StorageClient, proxy: S3FaultProxy, tmp_path: Path
) -> None:
    data = random_bytes(3 * PART + 1000, 3)  # 4 parts
    path = write(tmp_path / "stade-III.csv", data)
    proxy.delay("UploadPart", 0.4)

    result = upload_file(client, path, "stade-III.csv", part_size=PART, workers=4)

    assert result.parts == 4
    assert proxy.peak("UploadPart") == 4
    for request in proxy.seen("UploadPart"):
        assert request.part_number is not None
        start = (request.part_number - 1) * PART
        part = data[start : start + PART]
        assert request.body_size == len(part)
        md5 = base64.b64encode(hashlib.md5(part).digest()).decode()
        crc32 = base64.b64encode(zlib.crc32(part).to_bytes(4, "big")).decode()
        assert request.headers["content-md5"] == md5
        assert request.headers["x-amz-checksum-crc32"] == crc32
    (create,) = proxy.seen("CreateMultipartUpload")
    assert create.headers["x-amz-meta-sha256"] == sha256_of(data)
    assert create.headers["x-amz-checksum-algorithm"] == "CRC32"
    assert create.headers["content-type"] == "text/csv"


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (1, 8 * MiB),
        (8 * MiB * 10_000, 8 * MiB),
        (8 * MiB * 10_000 + 1, 16 * MiB),
        (1024**4, 128 * MiB),  # 1 TiB
    ],
)
def test_the_part_size_doubles_until_the_file_fits_in_10000_parts(size: int, expected: int) -> None:
    assert choose_part_size(size) == expected
    smallest = choose_part_size(size, minimum=MIN_PART_SIZE)
    assert size <= 10_000 * smallest
    assert smallest == MIN_PART_SIZE or size > 10_000 * (smallest // 2)


def test_a_file_over_5_tib_is_refused_with_a_clear_message() -> None:
    with pytest.raises(StorageError) as caught:
        choose_part_size(6 * 1024**4)
    assert caught.value.kind is StorageErrorKind.TOO_LARGE
    assert "5 Tio" in caught.value.message(FR)


def test_a_part_smaller_than_s3_allows_is_a_programming_error(
    client: StorageClient, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="part_size"):
        upload_file(client, write(tmp_path / "a.csv", b"x"), "a.csv", part_size=MiB)


# --- files already in place ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [1000, 2 * PART + 10])
def test_an_unchanged_file_already_in_place_is_not_sent_again(
    client: StorageClient, proxy: S3FaultProxy, tmp_path: Path, size: int
) -> None:
    path = write(tmp_path / "stade-I.csv", random_bytes(size, 4))
    first = upload_file(client, path, "stade-I.csv", part_size=PART)
    proxy.clear()

    again = upload_file(client, path, "stade-I.csv", part_size=PART)

    assert again.skipped and not first.skipped
    assert again.sent_bytes == 0 and again.etag == first.etag
    assert [r.operation for r in proxy.seen()] == ["HeadObject"]


def test_a_file_whose_content_changed_is_sent_again(
    client: StorageClient, proxy: S3FaultProxy, tmp_path: Path
) -> None:
    path = write(tmp_path / "stade-I.csv", random_bytes(5000, 5))
    upload_file(client, path, "stade-I.csv")
    changed = random_bytes(5000, 6)  # same size, other bytes
    write(path, changed)
    proxy.clear()

    result = upload_file(client, path, "stade-I.csv")

    assert not result.skipped and len(proxy.seen("PutObject")) == 1
    assert verify_object(client, "stade-I.csv", size=5000, sha256=sha256_of(changed)).ok


# --- the state recorded to resume ---------------------------------------------------------------


def a_state(**changes: Any) -> MultipartState:
    fields: dict[str, Any] = {
        "bucket": "hdh-open-data",
        "key": "hdh/base/patients.csv",
        "upload_id": "2~AbC-dEf_123",
        "size": 3 * PART + 7,
        "mtime_ns": 1_767_171_600_123_456_789,
        "part_size": PART,
        "sha256": "ab" * 32,
        "parts": ((1, "0" * 32, "AAAAAA=="), (3, "f" * 32, "BBBBBB==")),
        "checksum_algorithm": "CRC32",
        "created_at": 1_767_171_600.5,
        "updated_at": 1_767_171_700.25,
    }
    fields.update(changes)
    return MultipartState(**fields)


def test_the_state_reads_back_from_json_and_yaml_and_says_where_to_resume() -> None:
    state = a_state()

    from_json = MultipartState.from_dict(json.loads(json.dumps(state.to_dict())))
    from_yaml = MultipartState.from_dict(yaml.safe_load(yaml.safe_dump(state.to_dict())))

    assert from_json == from_yaml == state
    assert state.total_parts == 4 and state.missing() == [2, 4]
    assert state.done_bytes == 2 * PART
    assert a_state(parts=((4, "e" * 32, "C"),)).done_bytes == 7
    assert "secret" not in json.dumps(state.to_dict()).lower()


def _without(name: str) -> dict[str, Any]:
    data = a_state().to_dict()
    del data[name]
    return data


def _with(**changes: Any) -> dict[str, Any]:
    return {**a_state().to_dict(), **changes}


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        "upload",
        [],
        {},
        _without("upload_id"),
        _without("sha256"),
        _with(upload_id=""),
        _with(size=-1),
        _with(size=True),
        _with(size="15"),
        _with(part_size=MiB),  # below S3's smallest part
        _with(size=PART),  # one part: never a multipart upload
        _with(sha256="not-a-digest"),
        _with(parts="1,2"),
        _with(parts=[[0, "e", "C"]]),
        _with(parts=[[5, "e", "C"]]),  # past the last part
        _with(parts=[[1, "e", "C"], [1, "f", "D"]]),
        _with(parts=[[1, 2, "C"]]),
        _with(parts=[[1, "e"]]),  # CRC32 declared, this part's unknown
        _with(parts=[[1]]),
        _with(checksum_algorithm="SHA1"),
        _with(created_at="yesterday"),
        _with(updated_at=float("nan")),
        _with(key=["a"]),
    ],
)
def test_a_damaged_state_reads_as_none_so_the_upload_starts_over(garbage: object) -> None:
    assert MultipartState.from_dict(garbage) is None


def test_a_state_without_crc32_reads_back_with_two_item_parts() -> None:
    data = _with(checksum_algorithm="", parts=[[2, "e" * 32]])
    state = MultipartState.from_dict(data)
    assert state is not None and state.parts == ((2, "e" * 32, ""),)


# --- resuming -------------------------------------------------------------------------------------

CHILD_UPLOAD = """
import json, os, sys
from pathlib import Path
from hdh_wizard.services.storage import StorageConfig, connect, upload_file
args = json.loads(sys.argv[1])
config = StorageConfig(args["endpoint"], "us-east-1", args["bucket"], "", "AKIDLOCALTEST")
client = connect(config, os.environ["HDH_WIZARD_STORAGE_SECRET"])
state_file = Path(args["state"])
def save(state):
    temporary = state_file.with_suffix(".tmp")
    temporary.write_text(json.dumps(None if state is None else state.to_dict()))
    os.replace(temporary, state_file)
upload_file(client, Path(args["path"]), args["key"], part_size=args["part_size"], workers=2,
            on_state=save)
"""


def _wait_for_parts(state_file: Path, count: int, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.poll() is not None:
            pytest.fail("the uploading process ended before it was killed")
        try:
            saved = json.loads(state_file.read_text())
        except (OSError, ValueError):
            saved = None
        if saved and len(saved["parts"]) >= count:
            return
        time.sleep(0.02)
    pytest.fail("the uploading process recorded no parts in time")


def test_the_upload_resumes_after_its_process_is_killed_without_resending_finished_parts(
    config: StorageConfig, client: StorageClient, proxy: S3FaultProxy, tmp_path: Path
) -> None:
    data = random_bytes(11 * PART + 4321, 7)  # 12 parts
    path = write(tmp_path / "lames-stade-IV.tiff", data)
    state_file = tmp_path / "state.json"
    proxy.delay("UploadPart", 0.25)  # a slow link: the kill lands mid-transfer
    args = {
        "endpoint": proxy.url,
        "bucket": config.bucket,
        "key": "lames-stade-IV.tiff",
        "path": str(path),
        "state": str(state_file),
        "part_size": PART,
    }
    environment = {**os.environ, "HDH_WIZARD_STORAGE_SECRET": ANY_SECRET}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_UPLOAD, json.dumps(args)], env=environment
    )
    try:
        _wait_for_parts(state_file, 4, child)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    assert proxy.wait_idle()
    saved = MultipartState.from_dict(json.loads(state_file.read_text()))
    assert saved is not None
    recorded = {number for number, _, _ in saved.parts}
    on_server = set(proxy.part_numbers(ok_only=True))  # including any the record missed
    assert 4 <= len(recorded) < 12 and recorded <= on_server
    proxy.clear()
    recorder = Recorder()

    result = upload_file(
        client,
        path,
        "lames-stade-IV.tiff",
        part_size=PART,
        resume=saved,
        on_state=recorder.save,
        progress=recorder.progress,
    )

    sent_again = proxy.part_numbers()
    assert sorted(sent_again) == sorted(set(range(1, 13)) - on_server)
    assert not recorded & set(sent_again)
    assert result.reused_parts == len(on_server) and result.parts == 12
    assert [r.operation for r in proxy.seen()].count("ListParts") == 1
    assert not proxy.seen("CreateMultipartUpload")
    assert recorder.states[-1] is None  # nothing left to resume
    first_upload = next(r for r in recorder.reports if r.phase is TransferPhase.UPLOADING)
    assert first_upload.file.start == len(on_server) * PART  # speed counts this run only
    check = verify_object(
        client, result.key, size=len(data), sha256=sha256_of(data), full_read=True
    )
    assert check.ok, check.problems
    assert client.list_uploads("") == []


def test_a_cancelled_upload_resumes_and_every_part_is_sent_exactly_once(
    client: StorageClient, proxy: S3FaultProxy, tmp_path: Path
) -> None:
    data = random_bytes(5 * PART + 99, 8)  # 6 parts
    path = write(tmp_path / "stade-II.csv", data)
    proxy.delay("UploadPart", 0.2)
    recorder = Recorder(cancel_after_parts=2)

    with pytest.raises(StorageError) as caught:
        upload_file(
            client, path, "stade-II.csv", part_size=PART, workers=2,
            on_state=recorder.save, cancel=recorder.cancel,
        )  # fmt: skip

    error = caught.value
    assert error.kind is StorageErrorKind.CANCELLED
    assert error.state is not None and error.state == recorder.last_state
    assert 2 <= error.state.done_parts < 6
    assert FR.t("storage.error.cancelled") in error.message(FR)
    assert f"{error.state.done_parts} morceaux sur 6" in error.message(FR)

    result = upload_file(client, path, "stade-II.csv", part_size=PART, resume=error.state)

    assert sorted(proxy.part_numbers()) == [1, 2, 3, 4, 5, 6]
    assert result.reused_parts == error.state.done_parts
    assert verify_object(client, result.key, size=len(data), sha256=sha256_of(data)).ok


def _cancelled_upload(
    client: StorageClient, path: Path, key: str, proxy: S3FaultProxy
) -> MultipartState:
    proxy.delay("UploadPart", 0.2)
    recorder = Recorder(cancel_after_parts=1)
    with pytest.raises(StorageError) as caught:
        upload_file(
            client, path, key, part_size=PART, workers=1,
            on_state=recorder.save, cancel=recorder.cancel,
        )  # fmt: skip
    assert caught.value.state is not None
    proxy.clear()
    return caught.value.state


@pytest.mark.parametrize("local_part_changed", [False, True])
def test_a_part_the_record_missed_is_kept_only_if_it_matches_the_local_bytes(
    client: StorageClient, proxy: S3FaultProxy, tmp_path: Path, local_part_changed: bool
) -> None:
    data = random_bytes(3 * PART + 10, 13)  # 4 parts
    path = write(tmp_path / "stade-IV.csv", data)
    proxy.delay("UploadPart", 0.1)
    recorder = Recorder(cancel_after_parts=2)
    with pytest.raises(StorageError) as caught:
        upload_file(
            client, path, "stade-IV.csv", part_size=PART, workers=1,
            on_state=recorder.save, cancel=recorder.cancel,
        )  # fmt: skip
    state = caught.value.state
    assert state is not None and [p[0] for p in state.parts] == [1, 2]
    lost_record = replace(state, parts=state.parts[:1])  # part 2 stored, its record lost
    if local_part_changed:  # same size and modification time, other bytes in part 2
        stat = path.stat()
        changed = data[:PART] + random_bytes(PART, 14) + data[2 * PART :]
        write(path, changed)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        data = changed
    proxy.clear()

    result = upload_file(client, path, "stade-IV.csv", part_size=PART, resume=lost_record)

    assert sorted(proxy.part_numbers()) == ([2, 3, 4] if local_part_changed else [3, 4])
    assert result.reused_parts == (1 if local_part_changed else 2)
    check = verify_object(
        client, result.key, size=len(data), sha256=sha256_of(data), full_read=True
    )
    assert check.read_sha256 == sha256_of(data)  # the object holds the local bytes
    # A file altered with its modification time put back is not seen until the check: the
    # SHA-256 in the object's metadata is still the one computed when the upload began.
    expected = ("storage.verify.checksum_mismatch",) if local_part_changed else ()
    assert check.problems == expected


def test_a_file_changed_since_the_interruption_aborts_the_old_upload_and_starts_over(
    client: StorageClient, proxy: S3FaultProxy, tmp_path: Path
) -> None:
    path = write(tmp_path / "stade-I.csv", random_bytes(3 * PART, 9))
    old = _cancelled_upload(client, path, "stade-I.csv", proxy)
    new_data = random_bytes(3 * PART + 10, 10)
    write(path, new_data)
    recorder = Recorder()

    result = upload_file(
        client, path, "stade-I.csv", part_size=PART, resume=old, on_state=recorder.save
    )

    assert [r.path for r in proxy.seen("AbortMultipartUpload")] == [
        "/" + old.bucket + "/stade-I.csv"
    ]
    assert recorder.states[0] is None  # the old state forgotten first
    new_ids = {s.upload_id for s in recorder.states if s is not None}
    assert old.upload_id not in new_ids and len(new_ids) == 1
    assert sorted(proxy.part_numbers()) == [1, 2, 3, 4]
    assert client.list_uploads("") == []
    check = verify_object(client, result.key, size=len(new_data), sha256=sha256_of(new_data))
    assert check.ok


def test_an_upload_the_server_dropped_starts_over_with_a_new_one(
    client: StorageClient, proxy: S3FaultProxy, tmp_path: Path, s3_server: str
) -> None:
    data = random_bytes(2 * PART + 5, 11)
    path = write(tmp_path / "stade-II.csv", data)
    old = _cancelled_upload(client, path, "stade-II.csv", proxy)
    raw_client(s3_server).abort_multipart_upload(
        Bucket=old.bucket, Key=old.key, UploadId=old.upload_id
    )

    result = upload_file(client, path, "stade-II.csv", part_size=PART, resume=old)

    assert len(proxy.seen("CreateMultipartUpload")) == 1
    assert sorted(proxy.part_numbers()) == [1, 2, 3]
    assert result.reused_parts == 0
    assert verify_object(client, result.key, size=len(data), sha256=sha256_of(data)).ok


def test_an_upload_completed_just_before_a_crash_is_found_done(
    client: StorageClient, proxy: S3FaultProxy, tmp_path: Path
) -> None:
    path = write(tmp_path / "stade-III.csv", random_bytes(2 * PART + 5, 12))
    recorder = Recorder()
    upload_file(client, path, "stade-III.csv", part_size=PART, on_state=recorder.save)
    last_recorded = [s for s in recorder.states if s is not None][-1]  # the crash: None unsaved
    proxy.clear()

    result = upload_file(client, path, "stade-III.csv", part_size=PART, resume=last_recorded)

    assert result.skipped
    assert [r.operation for r in proxy.seen()] == ["ListParts", "HeadObject"]


# --- connection details -------------------------------------------------------------------------


def test_the_connection_details_go_in_the_state_without_the_secret() -> None:
    config = StorageConfig(
        " https://S3.Hdh.example.fr:9000/ ", "", "hdh-open-data", "/melanome//2026", "AKIA123"
    )
    data = config.to_dict()

    assert StorageConfig.from_dict(data) == config
    assert StorageConfig.from_dict({**data, "bucket": 3}) is None
    assert StorageConfig.from_dict("config") is None
    assert "public_base_url" in data and all(isinstance(v, str) for v in data.values())
    assert config.problems() == ("storage.config.prefix_invalid",)  # "//" inside
    clean = StorageConfig(
        " https://S3.Hdh.example.fr:9000/ ", "", "hdh-open-data", "/melanome/2026//", "AKIA123"
    ).normalized()
    assert clean.endpoint_url == "https://s3.hdh.example.fr:9000"
    assert clean.region == "us-east-1" and clean.prefix == "melanome/2026/"
    assert clean.secret_url == "https://s3.hdh.example.fr:9000/hdh-open-data/AKIA123"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"endpoint_url": ""}, "storage.config.endpoint_missing"),
        ({"endpoint_url": "s3.hdh.fr"}, "storage.config.endpoint_invalid"),
        ({"endpoint_url": "ftp://s3.hdh.fr"}, "storage.config.endpoint_invalid"),
        ({"endpoint_url": "https://user:pw@s3.hdh.fr"}, "storage.config.endpoint_invalid"),
        ({"endpoint_url": "https://s3.hdh.fr/bucket"}, "storage.config.endpoint_invalid"),
        ({"endpoint_url": "https://s3.hdh.fr:99999"}, "storage.config.endpoint_invalid"),
        ({"region": "eu west"}, "storage.config.region_invalid"),
        ({"bucket": ""}, "storage.config.bucket_missing"),
        ({"bucket": "a/b"}, "storage.config.bucket_invalid"),
        ({"bucket": "ab"}, "storage.config.bucket_invalid"),
        ({"prefix": "../etc"}, "storage.config.prefix_invalid"),
        ({"prefix": "a/\x00/b"}, "storage.config.prefix_invalid"),
        ({"access_key_id": " "}, "storage.config.access_key_missing"),
        ({"access_key_id": "clé à moi"}, "storage.config.access_key_invalid"),
        ({"public_base_url": "files.hdh.fr"}, "storage.config.public_base_url_invalid"),
    ],
)
def test_unusable_connection_details_are_explained_not_raised(
    changes: dict[str, str], problem: str
) -> None:
    fields = {
        "endpoint_url": "https://s3.hdh.fr",
        "region": "fr-par",
        "bucket": "hdh-open-data",
        "prefix": "melanome/",
        "access_key_id": "AKIA123",
        **changes,
    }
    config = StorageConfig(**fields)

    assert config.problems() == (problem,)
    report = test_connection(config, ANY_SECRET)
    assert report.error is not None and report.error.kind is StorageErrorKind.BAD_CONFIG
    assert report.passed == () and report.failed_check is ConnectionCheck.REACH
    message = report.message(FR)
    assert FR.t("storage.error.bad_config") in message and FR.t(problem) in message


@pytest.mark.parametrize(
    "name", ["", "../etc/passwd", "/etc/passwd", "a//b.csv", "a/./b.csv", "a\x00b", "é" * 600]
)
def test_a_file_name_that_cannot_be_an_object_key_is_refused(name: str) -> None:
    config = StorageConfig("https://s3.hdh.fr", "", "hdh-open-data", "melanome", "AKIA123")
    with pytest.raises(StorageError) as caught:
        config.key_for(name)
    assert caught.value.reason_key == "storage.config.bad_name"


def test_an_object_key_is_the_prefix_then_the_relative_path() -> None:
    config = StorageConfig("https://s3.hdh.fr", "", "hdh-open-data", "/melanome", "AKIA123")
    assert config.key_for("stades\\stade II.csv") == "melanome/stades/stade II.csv"


def test_the_public_url_is_path_style_and_quoted_or_under_the_base_url_staff_gave() -> None:
    config = StorageConfig("https://s3.hdh.fr/", "", "hdh-open-data", "melanome/", "AKIA123")
    key = "melanome/échantillon stade #2?.csv"

    assert public_url(config, key) == (
        "https://s3.hdh.fr/hdh-open-data/melanome/%C3%A9chantillon%20stade%20%232%3F.csv"
    )
    staff = StorageConfig(
        "https://s3.hdh.fr", "", "hdh-open-data", "", "AKIA123", "https://donnees.hdh.fr/open/"
    )
    assert public_url(staff, "a b.csv") == "https://donnees.hdh.fr/open/a%20b.csv"
