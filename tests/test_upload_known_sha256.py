"""Sending a large file without reading it more than it must be: the whole file's SHA-256 the
inspection recorded is reused while the file is still the one it read (same size, modification
time and fast fingerprint), and each part is read once, into a buffer a worker keeps from part
to part, then hashed and sent from there. A file changed since the inspection is hashed again,
and what is hosted is its real SHA-256. While a part's state is saved, the worker it set free
reads the next part, sent once the state is saved."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import threading
import time
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import hdh_wizard.services.storage.transfer as transfer
from hdh_wizard import project as projects
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.hosting_records import TransferRecord
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.inspect.hosting_files import hosting_files
from hdh_wizard.services.storage import (
    MultipartState,
    StorageClient,
    StorageConfig,
    TransferPhase,
    TransferProgress,
    connect,
    upload_file,
)
from hdh_wizard.services.storage.hosting import (
    HostingOutcome,
    inspected_sha256,
    run_hosting,
)
from tests.s3_local import ANY_KEY_ID, ANY_SECRET, S3FaultProxy, raw_client
from tests.storage_helpers import BIG, PART, hosted_project, storage_config
from tests.tui_helpers import NOW


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def inspected(project: projects.Project) -> Release:
    """The release as the inspection leaves it: the interoperability step done, with each
    declared file to publish and its SHA-256 (a folder's files are hashed when sent)."""
    publish = []
    for data_file in project.release.files:
        local = project.folder / data_file.path
        digest = sha256_of(local) if local.is_file() else ""
        publish.append({"path": data_file.path, "size": data_file.size, "sha256": digest})
    record = project.release.record(StepId.INTEROPERABILITY)
    assert record.status is StepStatus.DONE
    steps = dict(project.release.steps)
    steps[StepId.INTEROPERABILITY] = replace(record, outputs={**record.outputs, "publish": publish})
    return replace(project.release, steps=steps)


@pytest.fixture
def project(tmp_path: Path) -> projects.Project:
    project = hosted_project(tmp_path)
    return projects.save(project, inspected(project))


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files read whole for their SHA-256 before being sent, in order."""
    read: list[Path] = []
    original = transfer.file_sha256

    def spy(path: Path, *args: Any, **kwargs: Any) -> str:
        read.append(path)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(transfer, "file_sha256", spy)
    return read


def host(
    project: projects.Project,
    config: StorageConfig,
    record: TransferRecord | None = None,
    resend: Collection[str] = (),
) -> HostingOutcome:
    return run_hosting(
        project.release,
        project.folder,
        config,
        ANY_SECRET,
        record=record,
        now=lambda: NOW,
        part_size=PART,
        workers=2,
        resend=resend,
    )


def names(project: projects.Project, paths: list[Path]) -> set[str]:
    return {path.relative_to(project.folder).as_posix() for path in paths}


def rewrite_same_size(path: Path, offset: int) -> None:
    """Other bytes at `offset`, the size kept (a re-export that changed one value)."""
    with path.open("r+b") as handle:
        handle.seek(offset)
        old = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([old[0] ^ 0xFF]))


# --- the SHA-256 the inspection recorded --------------------------------------------------


def test_a_file_the_inspection_hashed_is_sent_without_reading_it_for_its_sha256(
    project: projects.Project, proxy: S3FaultProxy, bucket: str, hashed: list[Path]
) -> None:
    outcome = host(project, storage_config(proxy.url, bucket))

    assert outcome.ok
    # The declared files the inspection hashed (the table, the image, the notice) are not read
    # for it again; the folder's slides and the prepared sample, which it did not hash, are.
    assert names(project, hashed) == {
        "lames/stade_I/lame_01.tiff",
        "lames/stade_II/lame_02.tiff",
        "publish/echantillon.csv",
    }
    for hosted in outcome.record.objects:
        assert hosted.sha256 == sha256_of(project.folder / hosted.path)
    (create,) = proxy.seen("CreateMultipartUpload")
    assert create.headers["x-amz-meta-sha256"] == sha256_of(project.folder / BIG)


def test_a_file_changed_since_the_inspection_is_read_again_and_hosted_with_its_real_sha256(
    project: projects.Project, proxy: S3FaultProxy, bucket: str, hashed: list[Path]
) -> None:
    image = project.folder / BIG
    recorded = sha256_of(image)
    rewrite_same_size(image, PART + 10)  # same size, a new modification time

    outcome = host(project, storage_config(proxy.url, bucket))

    assert outcome.ok
    assert BIG in names(project, hashed)
    (hosted,) = [o for o in outcome.record.objects if o.path == BIG]
    assert hosted.sha256 == sha256_of(image) != recorded
    (create,) = proxy.seen("CreateMultipartUpload")
    assert create.headers["x-amz-meta-sha256"] == sha256_of(image)


def test_the_inspections_sha256_is_trusted_only_for_the_file_it_read(
    project: projects.Project,
) -> None:
    files, _ = hosting_files(project.release, project.folder)
    image = project.folder / BIG
    table = project.folder / "donnees/sejours.csv"
    known = inspected_sha256(project.release, files)
    assert known == {
        "donnees/sejours.csv": sha256_of(table),
        BIG: sha256_of(image),
        "notice.pdf": sha256_of(project.folder / "notice.pdf"),
    }

    # Other bytes where the fast fingerprint samples them, the modification time put back:
    # size and time say nothing changed, the fingerprint does.
    stat = image.stat()
    rewrite_same_size(image, 100)
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    # Touched only: the same bytes, a new modification time the state does not know yet.
    os.utime(table, ns=(table.stat().st_atime_ns, table.stat().st_mtime_ns + 10**9))
    files, _ = hosting_files(project.release, project.folder)
    assert inspected_sha256(project.release, files) == {
        "notice.pdf": sha256_of(project.folder / "notice.pdf")
    }

    # The inspection to do again (files changed at the last opening): nothing is trusted.
    steps = dict(project.release.steps)
    record = steps[StepId.INTEROPERABILITY]
    steps[StepId.INTEROPERABILITY] = replace(record, status=StepStatus.STALE)
    assert inspected_sha256(replace(project.release, steps=steps), files) == {}


def test_a_file_to_send_again_is_hashed_again_even_if_the_inspection_hashed_it(
    project: projects.Project, proxy: S3FaultProxy, bucket: str, hashed: list[Path]
) -> None:
    config = storage_config(proxy.url, bucket)
    first = host(project, config)
    hashed.clear()

    again = host(project, config, record=first.record, resend=[BIG])

    assert again.ok
    assert names(project, hashed) == {BIG}  # the others are hosted, as they are now


# --- each part read once, into a buffer kept from part to part ----------------------------


@pytest.fixture
def client(proxy: S3FaultProxy, bucket: str) -> StorageClient:
    return connect(StorageConfig(proxy.url, "us-east-1", bucket, "", ANY_KEY_ID), ANY_SECRET)


def test_more_parts_than_workers_each_go_with_their_own_bytes_and_checksums(
    client: StorageClient, proxy: S3FaultProxy, bucket: str, tmp_path: Path
) -> None:
    data = random.Random(7).randbytes(6 * PART + 777)  # 7 parts through 2 buffers
    path = tmp_path / "sejours.csv"
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    reports: list[TransferProgress] = []

    result = upload_file(
        client, path, "sejours.csv", sha256=digest, part_size=PART, workers=2,
        progress=reports.append,
    )  # fmt: skip

    assert result.parts == 7 and result.sha256 == digest
    assert TransferPhase.HASHING not in {r.phase for r in reports}  # the SHA-256 was given
    parts = proxy.seen("UploadPart")
    assert sorted(r.part_number or 0 for r in parts) == list(range(1, 8))
    for request in parts:
        assert request.part_number is not None
        start = (request.part_number - 1) * PART
        part = data[start : start + PART]
        assert request.body_size == len(part)
        md5 = base64.b64encode(hashlib.md5(part).digest()).decode()
        assert request.headers["content-md5"] == md5
        # The body is not hashed a third time to be signed: its MD5 and CRC32, signed
        # headers both, are what the server checks.
        assert request.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    stored = raw_client(proxy.url).get_object(Bucket=bucket, Key="sejours.csv")["Body"].read()
    assert stored == data


def test_the_next_part_is_read_while_the_state_is_saved_and_sent_only_once_it_is_saved(
    client: StorageClient,
    proxy: S3FaultProxy,
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = random.Random(9).randbytes(4 * PART + 55)  # 5 parts, one worker
    path = tmp_path / "sejours.csv"
    path.write_bytes(data)
    saving = threading.Event()
    read_while_saving: list[int] = []
    sent_while_saving: list[int] = []
    read_into = transfer._FileUpload._read_into

    def spy(upload: Any, offset: int, view: memoryview) -> None:
        if saving.is_set():
            read_while_saving.append(offset // PART + 1)
        read_into(upload, offset, view)

    def slow_save(state: MultipartState | None) -> None:
        if state is None or not state.parts:
            return
        saving.set()
        before = len(proxy.seen("UploadPart"))
        time.sleep(0.2)  # a slow disk: the worker set free reads and hashes the next part
        sent_while_saving.append(len(proxy.seen("UploadPart")) - before)
        saving.clear()

    monkeypatch.setattr(transfer._FileUpload, "_read_into", spy)
    result = upload_file(client, path, "sejours.csv", part_size=PART, workers=1, on_state=slow_save)

    assert result.parts == 5
    assert read_while_saving == [2, 3, 4, 5]  # each read as the previous part's state is saved
    assert sent_while_saving == [0, 0, 0, 0, 0]  # … and sent once it is
    stored = raw_client(proxy.url).get_object(Bucket=bucket, Key="sejours.csv")["Body"].read()
    assert stored == data
