"""The "share with HDH" screen against a local S3: details prepared by the partner (who cannot
commit), a bad bucket explained then a good connection, the transfer with its progress, each file
verified and its URL shown, commit by HDH staff; a cancelled transfer resumed in a new session
without resending parts; leaving and quitting guarded; an object altered behind our back caught.
The secret key is never in the state file nor on the screen."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import cast

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from textual.widgets import Button, Checkbox, DataTable, Input

from hdh_wizard import project as projects
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.hosting_records import TransferRecord, transfer_of
from hdh_wizard.core.steps import StepId
from hdh_wizard.services.datagouv.session import PortalSession
from hdh_wizard.services.secrets import SecretStore, normalize_url
from hdh_wizard.services.storage import MultipartState
from hdh_wizard.ui.app import HdhWizardApp
from hdh_wizard.ui.screens.dialogs import ConfirmDialog
from hdh_wizard.ui.steps.share_with_hdh import ShareWithHdhStepScreen
from hdh_wizard.ui.widgets.checks import ChecksPanel
from tests.portal_helpers import session_portal
from tests.s3_local import ANY_KEY_ID, ANY_SECRET, S3FaultProxy, raw_client
from tests.storage_helpers import (
    BIG,
    EXPECTED_PATHS,
    PREFIX,
    SHARE_POLL,
    SHARE_SIZE,
    fill,
    hosted_project,
    open_share,
    status,
    text_of,
    transfer,
)
from tests.tui_helpers import ALICE, STAFF, make_app, until


def connection_result(screen: ShareWithHdhStepScreen) -> str:
    """What the connection test said, under its button."""
    return text_of(screen, "#storage-test-result")


def state_text(folder: Path) -> str:
    return (folder / "hdh-release.yaml").read_text(encoding="utf-8")


def assert_secret_nowhere(app: HdhWizardApp, folder: Path) -> None:
    assert ANY_SECRET not in state_text(folder)
    assert ANY_SECRET[-10:] not in state_text(folder)
    shown = app.export_screenshot()
    assert ANY_SECRET not in shown and ANY_SECRET[:-4] not in shown


async def test_the_partner_prepares_the_details_as_a_draft_but_cannot_commit(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    hosted_project(tmp_path, actor=ALICE)
    app = make_app(tmp_path, portal=session_portal())
    async with app.run_test(size=SHARE_SIZE) as pilot:
        screen = await open_share(app, pilot)
        note = text_of(screen, "#hosting-staff")
        assert "partenaire" in note and "« i »" in note
        fill(screen, s3_server, bucket, ANY_SECRET)
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen  # refused: the checks say why
        assert "équipe HDH" in str(screen.query_one(ChecksPanel).render())
        assert_secret_nowhere(app, tmp_path)
    release = projects.read_project(tmp_path)
    record = release.record(StepId.SHARE_WITH_HDH)
    assert record.status is StepStatus.IN_PROGRESS
    saved = transfer_of(release)
    assert saved is not None and saved.storage["bucket"] == bucket
    assert saved.storage["key_id"] == ANY_KEY_ID and saved.storage["prefix"] == PREFIX
    assert ANY_SECRET not in state_text(tmp_path)


async def test_staff_test_the_connection_transfer_verify_and_commit(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    hosted_project(tmp_path)
    app = make_app(tmp_path, portal=session_portal())
    async with app.run_test(size=SHARE_SIZE) as pilot:
        screen = await open_share(app, pilot)
        assert "Pas de trousseau" in text_of(screen, "#hosting-keyring")
        assert "équipe HDH (Hugo Bernard)" in text_of(screen, "#hosting-staff")
        fill(screen, s3_server, "pas-de-tel-bucket", ANY_SECRET)
        screen.query_one("#storage-test", Button).press()
        await pilot.pause()
        await until(pilot, lambda: screen.connection is not None, every=SHARE_POLL)
        assert "compartiment (bucket) indiqué n'existe pas" in connection_result(screen)
        assert screen.typed_secret() == ANY_SECRET  # not kept: it was not accepted

        screen.query_one("#storage-bucket", Input).value = bucket
        await pilot.pause()
        assert screen.connection is None  # other details: to be tested again
        screen.query_one("#storage-test", Button).press()
        await pilot.pause()
        await until(pilot, lambda: screen.connection is not None, every=SHARE_POLL)
        assert "Connexion réussie" in connection_result(screen)
        assert screen.typed_secret() == ""  # kept for the session, never shown again
        assert "cette session seulement" in text_of(screen, "#hosting-keyring")
        assert screen.remote and all(v is None for v in screen.remote.values())

        await transfer(pilot, screen)

        assert "Transfert terminé : 6 fichiers" in status(screen)
        urls = text_of(screen, "#hosting-result")
        assert f"{s3_server}/{bucket}/{PREFIX}donnees/irm_volume.tiff" in urls
        assert all(c.ok for c in screen.checked.values()) and len(screen.checked) == 6
        table_states = [
            screen.query_one("#hosting-files", DataTable).get_cell(p, "state")
            for p in EXPECTED_PATHS
        ]
        assert table_states == ["vérifié ✓"] * 6
        # The bucket is not open to the public: said now, before the references refuse it.
        await until(
            pilot, lambda: "au public" in text_of(screen, "#hosting-public"), every=SHARE_POLL
        )
        public = text_of(screen, "#hosting-public")
        assert "adresses ne donnent pas le fichier au public" in public
        assert "notice.pdf » : refusé au public (erreur 403)" in public
        assert_secret_nowhere(app, tmp_path)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, ShareWithHdhStepScreen)
    release = projects.read_project(tmp_path)
    record = release.record(StepId.SHARE_WITH_HDH)
    assert record.status is StepStatus.DONE and record.updated_by == STAFF
    done = TransferRecord.from_outputs(record.outputs)
    assert done is not None and done.done_by == "Hugo Bernard" and done.uploads == {}
    assert [o.path for o in done.objects] == EXPECTED_PATHS
    assert ANY_SECRET not in state_text(tmp_path)


async def test_a_cancelled_transfer_resumes_in_a_new_session_without_resending_parts(
    tmp_path: Path, proxy: S3FaultProxy, bucket: str
) -> None:
    hosted_project(tmp_path)
    portal = session_portal()  # the same run's memory keeps the secret between the sessions
    proxy.delay("UploadPart", 0.3)

    def big_upload() -> MultipartState | None:
        record = transfer_of(projects.read_project(tmp_path))
        raw = record.uploads.get(BIG) if record else None
        return MultipartState.from_dict(raw)

    app = make_app(tmp_path, portal=portal)
    async with app.run_test(size=SHARE_SIZE) as pilot:
        screen = await open_share(app, pilot)
        screen.transfer_workers = 1  # one part at a time: the cancel lands before the last
        fill(screen, proxy.url, bucket, ANY_SECRET)
        await pilot.press("ctrl+t")
        await until(
            pilot, lambda: (s := big_upload()) is not None and s.done_parts >= 1, every=SHARE_POLL
        )
        assert "Ensemble : fichier 4/6" in text_of(screen, "#hosting-overall-text")
        screen.query_one("#storage-cancel", Button).press()
        await until(pilot, lambda: not screen.running, every=SHARE_POLL)
        assert "annulé" in status(screen)
        assert "sur 3 " in status(screen) and "déjà sur le stockage" in status(screen)
    saved = big_upload()
    assert saved is not None and 1 <= saved.done_parts < 3
    recorded = {number for number, _, _ in saved.parts}
    assert proxy.wait_idle()
    on_server = set(proxy.part_numbers(ok_only=True))
    proxy.clear()

    again = make_app(tmp_path, portal=portal)
    async with again.run_test(size=SHARE_SIZE) as pilot:
        screen = await open_share(again, pilot)
        assert screen.query_one("#storage-bucket", Input).value == bucket  # from the state
        assert screen.known is not None  # the secret, from this run's memory
        cell = screen.query_one("#hosting-files", DataTable).get_cell(BIG, "state")
        assert cell == f"{saved.done_parts}/3 morceaux"
        await transfer(pilot, screen)
        assert "Transfert terminé" in status(screen)

    sent_again = proxy.part_numbers()
    assert sorted(sent_again) == sorted({1, 2, 3} - on_server)
    assert not recorded & set(sent_again)
    assert not proxy.seen("CreateMultipartUpload")
    # The files before the image were not sent again; those after it were sent now.
    put = sorted(r.path.rsplit(PREFIX, 1)[1] for r in proxy.seen("PutObject"))  # in parallel
    assert put == ["notice.pdf", "publish/echantillon.csv"]
    record = transfer_of(projects.read_project(tmp_path))
    assert record is not None and [o.path for o in record.objects] == EXPECTED_PATHS


async def test_leaving_or_quitting_during_a_transfer_is_guarded(
    tmp_path: Path, proxy: S3FaultProxy, bucket: str
) -> None:
    hosted_project(tmp_path)
    proxy.delay("UploadPart", 3.0)  # a slow link: the transfer lasts several seconds
    app = make_app(tmp_path, portal=session_portal())
    async with app.run_test(size=SHARE_SIZE) as pilot:
        screen = await open_share(app, pilot)
        screen.transfer_workers = 1
        fill(screen, proxy.url, bucket, ANY_SECRET)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: screen.running, every=SHARE_POLL)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen  # not left: the transfer goes on
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.click("#no")
        await pilot.pause()
        assert app.screen is screen and screen.running
        screen.query_one("#storage-cancel", Button).press()
        await until(pilot, lambda: not screen.running, every=SHARE_POLL)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not screen


async def test_an_object_altered_behind_our_back_fails_verification_and_is_sent_again(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    hosted_project(tmp_path)
    app = make_app(tmp_path, portal=session_portal())
    async with app.run_test(size=SHARE_SIZE) as pilot:
        screen = await open_share(app, pilot)
        fill(screen, s3_server, bucket, ANY_SECRET)
        await transfer(pilot, screen)
        await pilot.press("ctrl+s")  # done by staff
        await pilot.pause()
        assert projects.read_project(tmp_path).record(StepId.SHARE_WITH_HDH).status is (
            StepStatus.DONE
        )
        # Someone rewrites a slide on the storage, keeping its size and our metadata.
        slide = "lames/stade_I/lame_01.tiff"
        record = transfer_of(projects.read_project(tmp_path))
        assert record is not None
        hosted = record.object(slide)
        assert hosted is not None
        raw_client(s3_server).put_object(
            Bucket=bucket,
            Key=hosted.key,
            Body=random.Random(0).randbytes(hosted.size),
            Metadata={"sha256": hosted.sha256},
        )
        screen = await open_share(app, pilot)
        screen.query_one("#storage-full-read", Checkbox).toggle()
        screen.query_one("#storage-verify", Button).press()
        await until(pilot, lambda: screen.checked, every=SHARE_POLL)
        await until(pilot, lambda: not screen.busy, every=SHARE_POLL)
        assert "1 fichier n'est pas conforme" in status(screen)
        assert slide in status(screen) and "Relu en entier" in status(screen)
        release = projects.read_project(tmp_path)
        assert release.record(StepId.SHARE_WITH_HDH).status is StepStatus.IN_PROGRESS
        reopened = transfer_of(release)
        assert reopened is not None and reopened.object(slide) is None
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen  # not all hosted: refused

        await transfer(pilot, screen)

        assert "Transfert terminé" in status(screen)
        body = raw_client(s3_server).get_object(Bucket=bucket, Key=hosted.key)["Body"].read()
        assert body == (tmp_path / slide).read_bytes()


class MemoryKeyring:
    """A desktop keyring, in memory: what the secret store writes there can be looked at."""

    name = "Memory Keyring"

    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.saved.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.saved[service, username] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.saved.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


def keyring_portal(backend: MemoryKeyring) -> PortalSession:
    return PortalSession(SecretStore(environ={}, backend=cast(KeyringBackend, backend)))


async def test_the_secret_goes_to_the_keyring_and_the_next_session_uses_it(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    hosted_project(tmp_path)
    backend = MemoryKeyring()
    app = make_app(tmp_path, portal=keyring_portal(backend))
    async with app.run_test(size=SHARE_SIZE) as pilot:
        screen = await open_share(app, pilot)
        assert "trousseau du système (Memory Keyring)" in text_of(screen, "#hosting-keyring")
        fill(screen, s3_server, bucket, ANY_SECRET)
        await pilot.press("ctrl+d")  # the details as a draft, for the next session
        screen.query_one("#storage-test", Button).press()
        await pilot.pause()
        await until(pilot, lambda: screen.connection is not None, every=SHARE_POLL)
        assert "Connexion réussie" in connection_result(screen)
        config = screen.config()
    where = normalize_url(config.secret_url)
    assert backend.saved[("hdh-wizard/storage_secret", where)] == ANY_SECRET
    assert ANY_SECRET not in state_text(tmp_path)

    again = make_app(tmp_path, portal=keyring_portal(backend))
    async with again.run_test(size=SHARE_SIZE) as pilot:
        screen = await open_share(again, pilot)
        await until(pilot, lambda: screen.known is not None, every=SHARE_POLL)
        shown = text_of(screen, "#hosting-keyring")
        assert "Clé secrète connue : ••••••••" in shown and "(trousseau du système)" in shown
        await transfer(pilot, screen)  # nothing typed: the keyring's secret is used
        assert "Transfert terminé" in status(screen)
        screen.query_one("#storage-forget", Button).press()
        await until(pilot, lambda: screen.known is None, every=SHARE_POLL)
        assert "Clé secrète oubliée" in status(screen)
        assert_secret_nowhere(again, tmp_path)
    assert ("hdh-wizard/storage_secret", where) not in backend.saved


def test_the_screen_is_the_one_the_checklist_opens() -> None:
    from hdh_wizard.ui.steps.registry import SCREENS

    # Screens are made inside a running app only (their key bindings are translated then).
    assert SCREENS[StepId.SHARE_WITH_HDH] is ShareWithHdhStepScreen


async def test_quitting_during_a_transfer_stops_it_after_the_parts_under_way(
    tmp_path: Path, proxy: S3FaultProxy, bucket: str
) -> None:
    hosted_project(tmp_path)
    proxy.delay("UploadPart", 1.0)
    app = make_app(tmp_path, portal=session_portal())
    async with app.run_test(size=SHARE_SIZE) as pilot:
        screen = await open_share(app, pilot)
        screen.transfer_workers = 1
        fill(screen, proxy.url, bucket, ANY_SECRET)
        await pilot.press("ctrl+t")
        await until(
            pilot,
            lambda: screen.record is not None and BIG in screen.record.uploads,
            every=SHARE_POLL,
        )
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.click("#yes")
        await pilot.pause()
    deadline = time.monotonic() + 10
    while any(t.name.startswith("hdh-storage") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the transfer went on after quitting"
        time.sleep(0.1)
    assert proxy.wait_idle()
    assert len(proxy.part_numbers()) < 3  # stopped before the image's last part
    record = transfer_of(projects.read_project(tmp_path))
    assert record is not None and BIG in record.uploads  # the next run resumes it
