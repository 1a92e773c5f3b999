"""Route 2's transfer to HDH's storage, attacked: hostile file names, links leading out of the
project, a file listed twice, files changed or deleted under the transfer, a storage that
throttles, skews or revokes, the details changed half-way, a secret echoed back, a locked project,
a thousand small files, and a finished transfer run again. Each case ends in a clear message
or a correct result, never a traceback, and nothing is lost."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import keyring.backends.fail
import pytest

from hdh_wizard import project as projects
from hdh_wizard.cli.transfer import run_transfer
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.hosting_records import (
    FileRole,
    PreparedFile,
    PreparedKind,
    TransferRecord,
    transfer_of,
)
from hdh_wizard.core.release import AuditAction, Person
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import ProjectLockedError
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.inspect.hosting_files import hosting_files
from hdh_wizard.services.secrets import SecretStore
from hdh_wizard.services.storage import (
    MultipartState,
    StorageConfig,
    StorageError,
    StorageErrorKind,
    connect,
    describe,
)
from hdh_wizard.services.storage.errors import classify
from hdh_wizard.services.storage.hosting import (
    HostingOutcome,
    HostingProgress,
    SameKeyError,
    pending_files,
    run_hosting,
    with_details,
)
from tests.portal_helpers import session_portal
from tests.s3_local import ANY_KEY_ID, ANY_SECRET, S3FaultProxy, new_bucket, raw_client
from tests.storage_helpers import (
    BIG,
    PART,
    PREFIX,
    SHARE_POLL,
    SHARE_SIZE,
    Saved,
    fill,
    hosted_project,
    open_share,
    status,
    storage_config,
    transfer,
)
from tests.tui_helpers import ALICE, NOW, STAFF, make_app, until

CAT = load_catalogue(Lang.FR)


def clock() -> datetime:
    return NOW


def project_of(
    folder: Path,
    files: Mapping[str, bytes],
    published: list[str],
    prepared: list[PreparedFile] = (),  # type: ignore[assignment]
    actor: Person = STAFF,
) -> projects.Project:
    """A route-2 release whose prerequisites are done, publishing `published` (files or folders
    under `folder`), with `files` written first and the preparation's `prepared` files."""
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    paths = [folder / p for p in published]
    project = projects.create_project(folder, "Cohorte hostile", ALICE, paths, NOW)
    release = project.release
    for step in (StepId.ANONYMITY, StepId.INTEROPERABILITY):
        release = workflow.commit_step(release, step, {}, ALICE, NOW)
    release = workflow.record_volume(release, 5_000_000_000, ALICE, NOW)
    release = workflow.commit_step(release, StepId.VOLUME, {}, ALICE, NOW)
    release = workflow.commit_step(release, StepId.CONTRACT, {}, STAFF, NOW)
    outputs = {"files": [p.to_outputs() for p in prepared]}
    release = workflow.commit_step(release, StepId.PREPARE_DATA, outputs, ALICE, NOW)
    return projects.save(project, workflow.set_actor(release, actor))


def host(
    project: projects.Project,
    config: StorageConfig,
    record: TransferRecord | None = None,
    **kwargs: object,
) -> HostingOutcome:
    return run_hosting(
        project.release,
        project.folder,
        config,
        ANY_SECRET,
        record=record,
        now=clock,
        part_size=PART,
        **{"workers": 2, **kwargs},  # type: ignore[arg-type]
    )


def secrets(secret: str = ANY_SECRET) -> SecretStore:
    backend = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]
    return SecretStore(environ={"HDH_WIZARD_STORAGE_SECRET": secret}, backend=backend)


def with_draft(project: projects.Project, config: StorageConfig) -> projects.Project:
    release = workflow.save_draft(
        project.release,
        StepId.SHARE_WITH_HDH,
        TransferRecord(config.to_dict()).to_outputs(),
        project.release.actor,
        NOW,
    )
    return projects.save(project, release)


# --- what is hosted ---------------------------------------------------------------------------


def test_a_link_in_a_published_folder_leading_out_of_the_project_is_not_hosted(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    outside = tmp_path / "ailleurs"
    outside.mkdir()
    (outside / "identifiants.csv").write_text("nom;nir\nDupont;1850775123456\n")
    folder = tmp_path / "projet"
    project = project_of(folder, {"lames/a.tiff": b"slide"}, ["lames"])
    (folder / "lames" / "b.tiff").symlink_to(outside / "identifiants.csv")

    files, missing = hosting_files(project.release, project.folder)
    outcome = host(project, storage_config(s3_server, bucket))

    # The fingerprint and the anonymity check never saw the link: it is no file of the release.
    assert [f.path for f in files] == ["lames/a.tiff"] and missing == []
    assert [o.path for o in outcome.record.objects] == ["lames/a.tiff"]
    keys = raw_client(s3_server).list_objects_v2(Bucket=bucket, Prefix=PREFIX).get("Contents")
    assert [k["Key"] for k in keys] == [PREFIX + "lames/a.tiff"]


def test_a_prepared_file_inside_a_published_folder_is_hosted_once_as_the_sample(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    sample = b"id;stade\n1;I\n"
    prepared = PreparedFile(
        "publish/echantillon.csv",
        PreparedKind.SAMPLE,
        len(sample),
        hashlib.sha256(sample).hexdigest(),
        "publish/sejours.csv",
    )
    files = {"publish/sejours.csv": b"id;stade\n1;I\n2;II\n", "publish/echantillon.csv": sample}
    project = project_of(tmp_path, files, ["publish"], [prepared])

    found, _ = hosting_files(project.release, project.folder)
    outcome = host(project, storage_config(s3_server, bucket))

    assert [f.path for f in found] == ["publish/echantillon.csv", "publish/sejours.csv"]
    assert {f.path: f.role for f in found}["publish/echantillon.csv"] is FileRole.SAMPLE
    assert [o.path for o in outcome.record.objects] == [f.path for f in found]
    assert len(outcome.results) == 2


HOSTILE = [
    "données été/fichier avec espaces.csv",
    "dièse#et?question.csv",
    "pour%cent%20déjà.csv",
    "plus+et&esperluette=égal;point-virgule.csv",
    "crochets[1]{2}'apostrophe'.csv",
    "x" * 200 + "/" + "é" * 100 + ".csv",
]


@pytest.mark.parametrize("base", ["", "PUBLIC", "PUBLIC/"])
def test_hostile_names_get_urls_that_really_download_the_object(
    tmp_path: Path, s3_server: str, bucket: str, base: str
) -> None:
    files = {f"fichiers/{name}": f"contenu de {name}\n".encode() for name in HOSTILE}
    project = project_of(tmp_path, files, ["fichiers"])
    readable_by_anyone(s3_server, bucket)
    # A public base URL standing for the bucket's root, with or without a trailing slash.
    public = base.replace("PUBLIC", f"{s3_server}/{bucket}")
    config = storage_config(s3_server, bucket, public)

    outcome = host(project, config)

    assert outcome.ok and len(outcome.record.objects) == len(HOSTILE)
    for hosted in outcome.record.objects:
        assert hosted.key == PREFIX + hosted.path
        assert hosted.url.startswith(f"{s3_server}/{bucket}/{PREFIX}")
        assert "//" not in hosted.url.removeprefix("http://")
        assert " " not in hosted.url and "#" not in hosted.url and "?" not in hosted.url
        answer = httpx.get(hosted.url)
        assert answer.status_code == 200, hosted.url
        assert answer.content == (tmp_path / hosted.path).read_bytes()


def readable_by_anyone(endpoint: str, bucket: str) -> None:
    """As HDH's open data bucket is: anyone may download its objects."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    raw_client(endpoint).put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


# --- the details changed half-way ---------------------------------------------------------------


def test_another_prefix_after_a_partial_transfer_aborts_the_old_upload_and_mixes_nothing(
    tmp_path: Path, proxy: S3FaultProxy, bucket: str
) -> None:
    project = hosted_project(tmp_path)
    first = storage_config(proxy.url, bucket)
    proxy.delay("UploadPart", 0.2)
    saved = Saved(cancel_after_parts=1)
    with pytest.raises(StorageError):
        host(project, first, save=saved, cancel=saved.cancel)
    partial = saved.records[-1]
    old = MultipartState.from_dict(partial.uploads[BIG])
    assert old is not None and partial.objects
    assert proxy.wait_idle()
    proxy.clear()

    second = StorageConfig(proxy.url, "", bucket, "autre/prefixe/", ANY_KEY_ID)
    record = with_details(partial, second.normalized().to_dict())
    outcome = host(project, second, record=record)

    assert outcome.ok
    assert [r.path for r in proxy.seen("AbortMultipartUpload")] == [f"/{bucket}/{old.key}"]
    assert all(o.key.startswith("autre/prefixe/") for o in outcome.record.objects)
    assert all("/autre/prefixe/" in o.url for o in outcome.record.objects)
    assert outcome.record.uploads == {}
    assert connect(second, ANY_SECRET).list_uploads("") == []


def test_another_bucket_after_a_partial_transfer_aborts_the_upload_left_in_the_old_one(
    tmp_path: Path, proxy: S3FaultProxy, bucket: str, s3_server: str
) -> None:
    project = hosted_project(tmp_path)
    proxy.delay("UploadPart", 0.2)
    saved = Saved(cancel_after_parts=1)
    with pytest.raises(StorageError):
        host(project, storage_config(proxy.url, bucket), save=saved, cancel=saved.cancel)
    assert proxy.wait_idle()
    proxy.clear()

    other = storage_config(proxy.url, new_bucket(s3_server))
    record = with_details(saved.records[-1], other.normalized().to_dict())
    outcome = host(project, other, record=record)

    assert outcome.ok and outcome.abandoned == (BIG,)
    assert [r.path for r in proxy.seen("AbortMultipartUpload")] == [f"/{bucket}/{PREFIX}{BIG}"]
    assert raw_client(s3_server).list_multipart_uploads(Bucket=bucket).get("Uploads") is None
    assert connect(other, ANY_SECRET).list_uploads("") == []


def test_two_names_giving_the_same_object_key_are_refused_before_anything_is_sent(
    tmp_path: Path, proxy: S3FaultProxy, bucket: str
) -> None:
    files = {"lot/a.csv": b"id\n1\n", "lot\\a.csv": b"id\n2\n"}
    project = project_of(tmp_path, files, ["lot", "lot\\a.csv"])

    with pytest.raises(SameKeyError) as same:
        host(project, storage_config(proxy.url, bucket))

    text = same.value.message(CAT)
    assert f"{PREFIX}lot/a.csv" in text and "lot\\a.csv" in text and "Renommez" in text
    assert proxy.seen() == []


def test_another_bucket_makes_every_file_pending_again(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    project = hosted_project(tmp_path)
    config = storage_config(s3_server, bucket)
    done = host(project, config).record
    files, _ = hosting_files(project.release, project.folder)
    assert pending_files(files, done, config) == []

    other = storage_config(s3_server, new_bucket(s3_server))
    record = with_details(done, other.normalized().to_dict())

    # The files are not in the new bucket: nothing may say they are hosted there.
    assert pending_files(files, record, other) == [f.path for f in files]
    outcome = host(project, other, record=record)
    assert outcome.ok and not any(r.skipped for r in outcome.results)
    assert all(f"/{other.bucket}/" in o.url for o in outcome.record.objects)


def test_another_public_base_url_makes_the_recorded_urls_pending(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    project = hosted_project(tmp_path)
    config = storage_config(s3_server, bucket)
    done = host(project, config).record
    files, _ = hosting_files(project.release, project.folder)

    public = storage_config(s3_server, bucket, "https://donnees.health-data-hub.fr/open")
    record = with_details(done, public.normalized().to_dict())

    assert pending_files(files, record, public) == [f.path for f in files]
    outcome = host(project, public, record=record)
    assert all(r.skipped for r in outcome.results)  # the objects are there: nothing sent
    assert all(
        o.url.startswith("https://donnees.health-data-hub.fr/open/") for o in outcome.record.objects
    )


# --- the local files under the transfer ---------------------------------------------------------


def test_a_file_modified_while_it_is_sent_stops_with_a_clear_message_then_goes_whole(
    tmp_path: Path, proxy: S3FaultProxy, bucket: str
) -> None:
    project = hosted_project(tmp_path)
    config = storage_config(proxy.url, bucket)
    proxy.delay("UploadPart", 0.3)
    big = tmp_path / BIG
    records: list[TransferRecord] = []

    def save(record: TransferRecord) -> None:
        records.append(record)
        state = MultipartState.from_dict(record.uploads.get(BIG))
        if state is not None and state.done_parts == 1:
            with big.open("r+b") as handle:  # the partner's software rewrites the image
                handle.write(b"MODIFIE")
            os.utime(big, ns=(time.time_ns(), time.time_ns() + 10**9))

    with pytest.raises(StorageError) as stopped:
        host(project, config, save=save)

    assert stopped.value.kind is StorageErrorKind.FILE_CHANGED
    text = describe(stopped.value, CAT)
    assert BIG in text and "Traceback" not in text
    assert records[-1].uploads == {}  # the upload's parts are worthless: aborted, forgotten
    assert proxy.wait_idle()
    outcome = host(project, config, record=records[-1])
    assert outcome.ok
    hosted = outcome.record.object(BIG)
    assert hosted is not None and hosted.sha256 == hashlib.sha256(big.read_bytes()).hexdigest()


def test_a_file_deleted_between_the_listing_and_its_turn_is_explained_and_the_rest_kept(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    project = hosted_project(tmp_path)
    config = storage_config(s3_server, bucket)
    records: list[TransferRecord] = []

    def progress(report: HostingProgress) -> None:
        if report.index == 0:
            (tmp_path / "notice.pdf").unlink(missing_ok=True)

    with pytest.raises(StorageError) as stopped:
        host(project, config, save=records.append, progress=progress)

    assert stopped.value.kind is StorageErrorKind.LOCAL_FILE
    assert "notice.pdf" in describe(stopped.value, CAT)
    assert [o.path for o in records[-1].objects][:3] == [
        "donnees/sejours.csv",
        "lames/stade_I/lame_01.tiff",
        "lames/stade_II/lame_02.tiff",
    ]


def test_a_file_replaced_by_a_link_out_of_the_project_after_the_listing_is_not_sent(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    outside = tmp_path / "ailleurs.csv"
    outside.write_text("nom;nir\nDupont;1850775123456\n")
    folder = tmp_path / "projet"
    project = project_of(folder, {"a.csv": b"id\n1\n", "b.csv": b"id\n2\n"}, ["a.csv", "b.csv"])
    config = storage_config(s3_server, bucket)

    def progress(report: HostingProgress) -> None:
        target = folder / "b.csv"
        if report.index == 0 and not target.is_symlink():
            target.unlink()
            target.symlink_to(outside)

    with pytest.raises(StorageError) as stopped:
        host(project, config, progress=progress, workers=1)  # one file after the other

    assert stopped.value.kind is StorageErrorKind.FILE_CHANGED
    assert connect(config, ANY_SECRET).head(PREFIX + "b.csv") is None


# --- the storage misbehaving --------------------------------------------------------------------


def test_a_storage_answering_503_slow_down_then_recovering_gets_every_file(
    tmp_path: Path, proxy: S3FaultProxy, bucket: str
) -> None:
    project = hosted_project(tmp_path)
    proxy.fail("UploadPart", part_number=2, times=2, status=503, code="SlowDown")
    proxy.fail("PutObject", times=1, status=503, code="ServiceUnavailable")

    outcome = host(project, storage_config(proxy.url, bucket))

    assert outcome.ok
    assert [r.status for r in proxy.seen("UploadPart") if r.part_number == 2] == [503, 503, 200]


def test_clock_skew_mid_transfer_is_explained_and_the_parts_are_kept(
    tmp_path: Path, proxy: S3FaultProxy, bucket: str
) -> None:
    project = hosted_project(tmp_path)
    proxy.fail("UploadPart", part_number=2, times=None, status=403, code="RequestTimeTooSkewed")
    records: list[TransferRecord] = []

    with pytest.raises(StorageError) as stopped:
        host(project, storage_config(proxy.url, bucket), save=records.append, workers=1)

    assert stopped.value.kind is StorageErrorKind.CLOCK_SKEW
    assert "horloge" in describe(stopped.value, CAT).lower()
    state = MultipartState.from_dict(records[-1].uploads[BIG])
    assert state is not None and [p[0] for p in state.parts] == [1]


def test_credentials_revoked_mid_transfer_are_explained_and_the_run_resumes_once_restored(
    tmp_path: Path, proxy: S3FaultProxy, bucket: str
) -> None:
    project = hosted_project(tmp_path)
    config = storage_config(proxy.url, bucket)
    proxy.fail("UploadPart", part_number=2, times=None, status=403, code="InvalidAccessKeyId")
    records: list[TransferRecord] = []

    with pytest.raises(StorageError) as stopped:
        host(project, config, save=records.append, workers=1)

    assert stopped.value.kind is StorageErrorKind.CREDENTIALS
    assert ANY_SECRET not in describe(stopped.value, CAT) + str(stopped.value)
    assert proxy.wait_idle()
    proxy.clear()
    outcome = host(project, config, record=records[-1])
    assert outcome.ok
    assert 1 not in proxy.part_numbers()  # the part sent before the revocation is kept


# --- the secret ---------------------------------------------------------------------------------


def test_a_secret_echoed_back_by_the_server_is_never_kept_in_any_form() -> None:
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    encoded = quote(secret, safe="")
    lower_hex = re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), encoded)
    for echoed in (secret, encoded, quote(secret), quote_plus(secret), lower_hex):
        error = ClientError(
            {
                "Error": {"Code": "SignatureDoesNotMatch", "Message": f"secret was {echoed}"},
                "ResponseMetadata": {"HTTPStatusCode": 403},
            },
            "PutObject",
        )
        classified = classify(error, "PutObject", secret)
        shown = describe(classified, CAT) + str(classified) + repr(classified)
        assert echoed not in shown and secret not in shown


def test_a_server_echoing_the_secret_in_its_error_code_never_gets_it_printed(
    tmp_path: Path, proxy: S3FaultProxy, bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project = with_draft(
        project_of(tmp_path, {"a.csv": b"id\n1\n"}, ["a.csv"]), storage_config(proxy.url, bucket)
    )
    proxy.fail("PutObject", times=None, status=403, code=ANY_SECRET)

    code = run_transfer(CAT, project.folder, secrets=secrets())

    out, err = capsys.readouterr()
    assert code == 1
    assert "n'ont pas le droit" in err and "Traceback" not in err
    assert ANY_SECRET not in out + err
    assert ANY_SECRET not in (tmp_path / "hdh-release.yaml").read_text(encoding="utf-8")


def test_a_secret_pasted_with_spaces_and_newlines_around_it_still_connects(
    tmp_path: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project = with_draft(
        project_of(tmp_path, {"a.csv": b"id\n1\n"}, ["a.csv"]),
        storage_config(s3_server, bucket),
    )

    code = run_transfer(CAT, project.folder, secrets=secrets(f"  \n{ANY_SECRET} \r\n"))

    out, err = capsys.readouterr()
    assert code == 0, err
    assert ANY_SECRET not in out + err
    assert ANY_SECRET not in (tmp_path / "hdh-release.yaml").read_text(encoding="utf-8")


# --- the project ------------------------------------------------------------------------------


def test_a_project_locked_by_another_wizard_is_refused_clearly(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    project = with_draft(
        project_of(tmp_path, {"a.csv": b"id\n1\n"}, ["a.csv"]), storage_config(s3_server, bucket)
    )
    lock = projects.acquire_lock(project.folder)
    try:
        with pytest.raises(ProjectLockedError) as locked:
            run_transfer(CAT, project.folder, secrets=secrets())
    finally:
        lock.release()
    assert locked.value.message(CAT)
    assert connect(storage_config(s3_server, bucket), ANY_SECRET).list_keys("") == []


def test_a_finished_transfer_run_again_sends_nothing_and_does_not_reopen_the_step(
    tmp_path: Path, proxy: S3FaultProxy, bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reopening it would make the references made from it stale, for nothing."""
    project = with_draft(
        project_of(tmp_path, {"a.csv": b"id\n1\n", "b.csv": b"id\n2\n"}, ["a.csv", "b.csv"]),
        storage_config(proxy.url, bucket),
    )
    assert run_transfer(CAT, project.folder, secrets=secrets()) == 0
    before = projects.read_project(project.folder)
    assert before.record(StepId.SHARE_WITH_HDH).status is StepStatus.DONE
    proxy.clear()
    capsys.readouterr()

    code = run_transfer(CAT, project.folder, secrets=secrets())

    assert code == 0, capsys.readouterr().err
    assert {r.operation for r in proxy.seen()} <= {"HeadObject"}
    after = projects.read_project(project.folder)
    assert after.record(StepId.SHARE_WITH_HDH).status is StepStatus.DONE
    assert transfer_of(after) == transfer_of(before)
    new_entries = after.audit[len(before.audit) :]
    assert AuditAction.UNDONE not in {e.action for e in new_entries}


def test_a_thousand_small_files_go_in_reasonable_time_with_a_reasonable_state_file(
    tmp_path: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(7)
    files = {f"lames/lot_{i // 100:02d}/lame_{i:04d}.tiff": rng.randbytes(64) for i in range(1000)}
    project = with_draft(project_of(tmp_path, files, ["lames"]), storage_config(s3_server, bucket))

    started = time.monotonic()
    code = run_transfer(CAT, project.folder, secrets=secrets())
    elapsed = time.monotonic() - started

    assert code == 0, capsys.readouterr().err
    record = transfer_of(projects.read_project(project.folder))
    assert record is not None and len(record.objects) == 1000
    state_size = (tmp_path / "hdh-release.yaml").stat().st_size
    assert state_size < 1000 * 1024  # about 1 KB a file
    assert elapsed < 90, f"{elapsed:.1f} s for 1 000 files"


def test_the_transfer_stops_between_files_when_cancelled_and_keeps_what_was_done(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    project = hosted_project(tmp_path)
    cancel = threading.Event()
    records: list[TransferRecord] = []

    def progress(report: HostingProgress) -> None:
        if report.index == 1:
            cancel.set()

    with pytest.raises(StorageError) as stopped:
        host(
            project,
            storage_config(s3_server, bucket),
            save=records.append,
            progress=progress,
            cancel=cancel,
        )

    assert stopped.value.kind is StorageErrorKind.CANCELLED
    assert records and records[-1].object("donnees/sejours.csv") is not None


async def test_transfer_pressed_again_on_a_done_step_only_checks_the_objects(
    tmp_path: Path, proxy: S3FaultProxy, bucket: str
) -> None:
    hosted_project(tmp_path)
    app = make_app(tmp_path, portal=session_portal())
    async with app.run_test(size=SHARE_SIZE) as pilot:
        screen = await open_share(app, pilot)
        fill(screen, proxy.url, bucket, ANY_SECRET)
        await transfer(pilot, screen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert projects.read_project(tmp_path).record(StepId.SHARE_WITH_HDH).status is (
            StepStatus.DONE
        )
        screen = await open_share(app, pilot)
        proxy.clear()

        await pilot.press("ctrl+t")
        await until(pilot, lambda: not screen.busy, every=SHARE_POLL)

        assert "6 fichiers vérifiés" in status(screen)
    # The objects checked, and their public URLs asked as anyone would: nothing sent.
    operations = {r.operation for r in proxy.seen()}
    assert "HeadObject" in operations and operations <= {"HeadObject", "GetObject"}
    release = projects.read_project(tmp_path)
    assert release.record(StepId.SHARE_WITH_HDH).status is StepStatus.DONE
    assert AuditAction.UNDONE not in {e.action for e in release.audit}


def test_an_empty_file_is_hosted_verified_and_downloadable(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    project = project_of(
        tmp_path, {"vide.csv": b"", "plein.csv": b"id\n1\n"}, ["vide.csv", "plein.csv"]
    )
    readable_by_anyone(s3_server, bucket)

    outcome = host(project, storage_config(s3_server, bucket))

    assert outcome.ok
    empty = outcome.record.object("vide.csv")
    assert empty is not None and empty.size == 0
    assert empty.sha256 == hashlib.sha256(b"").hexdigest()
    answer = httpx.get(empty.url)
    assert answer.status_code == 200 and answer.content == b""
