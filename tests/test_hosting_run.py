"""The "share with HDH" step's work, without a screen: a hosted release's files (a table, a folder
of slides, a multipart image, a notice, the prepared sample) sent to a local S3 behind a counting
proxy, verified and recorded; resumed after a cancel without resending finished parts; uploads
no longer wanted aborted; an object altered behind our back detected."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.hosting_records import (
    FileRole,
    HostedObject,
    TransferRecord,
)
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.inspect.hosting_files import hosting_files
from hdh_wizard.services.storage import (
    MultipartState,
    StorageConfig,
    StorageError,
    StorageErrorKind,
    connect,
    public_url,
)
from hdh_wizard.services.storage.hosting import (
    HostingOutcome,
    MissingFilesError,
    pending_files,
    run_hosting,
    verify_hosted,
    without_failed,
)
from tests.s3_local import ANY_SECRET, S3FaultProxy, raw_client
from tests.storage_helpers import (
    BIG,
    EXPECTED_PATHS,
    PART,
    PREFIX,
    Saved,
    hosted_project,
    storage_config,
)
from tests.tui_helpers import NOW


def object_of(record: TransferRecord, path: str) -> HostedObject:
    found = record.object(path)
    assert found is not None, path
    return found


def clock() -> datetime:
    return NOW


@pytest.fixture
def project(tmp_path: Path) -> projects.Project:
    return hosted_project(tmp_path)


def host(
    project: projects.Project,
    config: StorageConfig,
    record: TransferRecord | None = None,
    saved: Saved | None = None,
    cancel: threading.Event | None = None,
) -> HostingOutcome:
    return run_hosting(
        project.release,
        project.folder,
        config,
        ANY_SECRET,
        record=record,
        now=clock,
        save=saved,
        cancel=cancel,
        part_size=PART,
        workers=2,
    )


def test_the_files_to_host_are_found_with_folders_opened_and_their_roles(
    project: projects.Project,
) -> None:
    files, missing = hosting_files(project.release, project.folder)
    assert missing == []
    assert [f.path for f in files] == EXPECTED_PATHS  # the hidden .DS_Store left out
    roles = {f.path: f.role for f in files}
    assert roles["publish/echantillon.csv"] is FileRole.SAMPLE
    assert roles["notice.pdf"] is FileRole.DOCUMENTATION
    assert roles[BIG] is FileRole.DATA and roles["lames/stade_I/lame_01.tiff"] is FileRole.DATA


def test_every_file_is_sent_verified_and_recorded_with_its_url_each_part_saved_as_it_arrives(
    project: projects.Project, proxy: S3FaultProxy, bucket: str
) -> None:
    config = storage_config(proxy.url, bucket)
    saved = Saved()

    outcome = run_hosting(
        project.release,
        project.folder,
        config,
        ANY_SECRET,
        now=clock,
        save=saved,
        part_size=PART,
        workers=2,
    )

    assert outcome.ok
    record = outcome.record
    assert [o.path for o in record.objects] == EXPECTED_PATHS
    assert record.uploads == {}
    for hosted in record.objects:
        assert hosted.key == PREFIX + hosted.path
        assert hosted.url == public_url(config, hosted.key)
        assert hosted.url.startswith(f"{proxy.url}/{bucket}/{PREFIX}")
        assert hosted.verified_at == NOW.isoformat(timespec="seconds")
        local = project.folder / hosted.path
        assert hosted.size == local.stat().st_size
        assert hosted.sha256 == hashlib.sha256(local.read_bytes()).hexdigest()
        assert hosted.mtime_ns == local.stat().st_mtime_ns
    assert object_of(record, "publish/echantillon.csv").role is FileRole.SAMPLE
    assert object_of(record, "notice.pdf").role is FileRole.DOCUMENTATION
    # The multipart image: the upload saved once created, then as its 3 parts arrive. Saves are
    # spaced when saving takes long beside the parts (two workers may finish parts 1 and 2 at
    # once), so which of parts 2 and 3 get their own save depends on timing; the first always
    # does, and what is recorded only ever grows.
    assert sorted(proxy.part_numbers()) == [1, 2, 3]
    counts = [c for c in saved.parts_recorded() if c]
    assert counts[0] == 1 and counts == sorted(set(counts)) and counts[-1] <= 3
    assert saved.records[-1] == record
    # Every object really is there, whole.
    listed = raw_client(proxy.url).list_objects_v2(Bucket=bucket, Prefix=PREFIX)
    assert sorted(o["Key"] for o in listed["Contents"]) == sorted(
        PREFIX + p for p in EXPECTED_PATHS
    )


def test_the_public_base_url_staff_gave_makes_the_urls(
    project: projects.Project, s3_server: str, bucket: str
) -> None:
    config = storage_config(s3_server, bucket, "https://donnees.health-data-hub.fr/open/")
    outcome = host(project, config)
    urls = [o.url for o in outcome.record.objects]
    assert urls[0] == f"https://donnees.health-data-hub.fr/open/{PREFIX}donnees/sejours.csv"
    assert all(u.startswith("https://donnees.health-data-hub.fr/open/") for u in urls)


def test_a_second_run_reads_and_sends_nothing_already_hosted(
    project: projects.Project, proxy: S3FaultProxy, bucket: str
) -> None:
    config = storage_config(proxy.url, bucket)
    first = host(project, config)
    proxy.clear()

    again = host(project, config, record=first.record)

    assert all(r.skipped for r in again.results)
    operations = {r.operation for r in proxy.seen()}
    assert operations == {"HeadObject"}  # one look per file, and its verification
    assert again.record == first.record


def test_a_cancelled_transfer_resumes_from_the_first_missing_part(
    project: projects.Project, proxy: S3FaultProxy, bucket: str
) -> None:
    config = storage_config(proxy.url, bucket)
    proxy.delay("UploadPart", 0.2)
    saved = Saved(cancel_after_parts=1)

    with pytest.raises(StorageError) as stopped:
        host(project, config, saved=saved, cancel=saved.cancel)

    assert stopped.value.kind is StorageErrorKind.CANCELLED
    record = saved.records[-1]
    state = MultipartState.from_dict(record.uploads[BIG])
    assert state is not None and 1 <= state.done_parts < 3
    done_before = [p.path for p in record.objects]
    assert done_before == EXPECTED_PATHS[:3]  # the files before the image are hosted already
    recorded = {number for number, _, _ in state.parts}
    assert proxy.wait_idle()
    on_server = set(proxy.part_numbers(ok_only=True))
    proxy.clear()

    outcome = host(project, config, record=record)

    sent_again = proxy.part_numbers()
    assert sorted(sent_again) == sorted({1, 2, 3} - on_server)
    assert not recorded & set(sent_again)
    assert not proxy.seen("CreateMultipartUpload")
    assert outcome.ok
    assert [o.path for o in outcome.record.objects] == EXPECTED_PATHS


def test_an_upload_of_a_file_no_longer_to_host_is_aborted_and_forgotten(
    project: projects.Project, proxy: S3FaultProxy, bucket: str
) -> None:
    config = storage_config(proxy.url, bucket)
    client = connect(config, ANY_SECRET)
    key = PREFIX + "ancien/retire.csv"
    upload_id = client.create_multipart(key, metadata={}, content_type="text/csv")
    old = MultipartState(bucket, key, upload_id, 3 * PART, 1, PART, "b" * 64)
    record = TransferRecord(config.to_dict(), uploads={"ancien/retire.csv": old.to_dict()})
    proxy.clear()

    outcome = host(project, config, record=record)

    assert [r.path for r in proxy.seen("AbortMultipartUpload")] == [f"/{bucket}/{key}"]
    assert outcome.abandoned == ("ancien/retire.csv",)
    assert outcome.record.uploads == {}
    assert client.list_uploads(PREFIX) == []


def test_an_object_altered_behind_our_back_is_detected_and_sent_again(
    project: projects.Project, s3_server: str, bucket: str
) -> None:
    config = storage_config(s3_server, bucket)
    record = host(project, config).record
    client = connect(config, ANY_SECRET)
    assert all(c.ok for c in verify_hosted(client, record.objects, full_read=True))
    raw = raw_client(s3_server)
    # Someone replaces one slide (no checksum of ours), and rewrites another with our metadata.
    slide = object_of(record, "lames/stade_I/lame_01.tiff")
    raw.put_object(Bucket=bucket, Key=slide.key, Body=b"autre contenu")
    other = object_of(record, "lames/stade_II/lame_02.tiff")
    forged = bytes(b ^ 1 for b in (project.folder / other.path).read_bytes())
    raw.put_object(Bucket=bucket, Key=other.key, Body=forged, Metadata={"sha256": other.sha256})

    quick = {c.path: c for c in verify_hosted(client, record.objects)}
    full = {c.path: c for c in verify_hosted(client, record.objects, full_read=True)}

    assert set(quick[slide.path].check.problems) == {
        "storage.verify.size_mismatch",
        "storage.verify.checksum_missing",
    }
    assert quick[other.path].ok  # same size and metadata: only reading it back tells
    assert full[other.path].check.problems == ("storage.verify.content_mismatch",)
    assert [p for p, c in full.items() if not c.ok] == [slide.path, other.path]
    files, _ = hosting_files(project.release, project.folder)
    kept = without_failed(record, list(full.values()))
    assert pending_files(files, kept, config) == [slide.path, other.path]

    outcome = run_hosting(
        project.release,
        project.folder,
        config,
        ANY_SECRET,
        record=kept,
        now=clock,
        part_size=PART,
        resend=[slide.path, other.path],  # what reading back found altered
    )

    assert outcome.ok
    assert [r.key for r in outcome.results if not r.skipped] == [slide.key, other.key]
    assert all(c.ok for c in verify_hosted(client, outcome.record.objects, full_read=True))


def test_missing_files_stop_the_transfer_before_anything_is_sent(
    project: projects.Project, proxy: S3FaultProxy, bucket: str
) -> None:
    (project.folder / "notice.pdf").unlink()
    with pytest.raises(MissingFilesError) as missing:
        host(project, storage_config(proxy.url, bucket))
    assert missing.value.paths == ("notice.pdf",)
    assert proxy.seen() == []


def test_the_record_in_the_state_round_trips_and_holds_no_secret(
    project: projects.Project, s3_server: str, bucket: str
) -> None:
    outcome = host(project, storage_config(s3_server, bucket))
    release: Release = workflow.record_progress(
        project.release,
        StepId.SHARE_WITH_HDH,
        outcome.record.to_outputs(),
        NOW,
    )
    projects.save(project, release)
    text = (project.folder / "hdh-release.yaml").read_text(encoding="utf-8")
    assert ANY_SECRET not in text and ANY_SECRET[-12:] not in text
    assert projects.read_project(project.folder).record(StepId.SHARE_WITH_HDH).outputs == (
        outcome.record.to_outputs()
    )


def test_part_saves_are_spaced_when_saving_the_state_is_slow_and_nothing_is_lost(
    project: projects.Project, s3_server: str, bucket: str
) -> None:
    """A state of thousands of parts is slow to write: part by part saves then wait ten times
    a save's duration; the upload's creation and each file's end are always saved."""
    saved = Saved()

    def slow_save(record: TransferRecord) -> None:
        time.sleep(0.5)  # a part then waits 5 s for its save: longer than sending one here
        saved(record)

    config = storage_config(s3_server, bucket)
    outcome = run_hosting(
        project.release,
        project.folder,
        config,
        ANY_SECRET,
        now=clock,
        save=slow_save,
        part_size=PART,
        workers=1,
    )

    counts = saved.parts_recorded()
    assert 0 in counts  # the upload was saved once created, before any part
    assert len([c for c in counts if c]) < 3  # some part saves were skipped
    assert saved.records[-1] == outcome.record and outcome.ok
