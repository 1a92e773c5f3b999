"""Set-up shared by the tests that send a hosted release to S3 ("share with HDH"): a release with
a table, slides, a multipart image, a notice and a prepared sample; the storage details staff
type; the share screen's controls."""

from __future__ import annotations

import hashlib
import random
import threading
from pathlib import Path

import keyring.backends.fail
from textual.pilot import Pilot
from textual.widgets import Input, Static

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.hosting_records import PreparedFile, PreparedKind, TransferRecord
from hdh_wizard.core.release import Person
from hdh_wizard.core.steps import StepId
from hdh_wizard.services.secrets import SecretStore
from hdh_wizard.services.storage import MultipartState, StorageConfig
from hdh_wizard.ui.app import HdhWizardApp
from hdh_wizard.ui.steps.share_with_hdh import ShareWithHdhStepScreen
from tests.s3_local import ANY_KEY_ID, ANY_SECRET
from tests.tui_helpers import ALICE, NOW, STAFF, until

MiB = 1024 * 1024
PART = 5 * MiB  # S3's smallest part
PREFIX = "open-data/cohorte-melanome/"
BIG = "donnees/irm_volume.tiff"  # 3 parts of PART
EXPECTED_PATHS = [
    "donnees/sejours.csv",
    "lames/stade_I/lame_01.tiff",
    "lames/stade_II/lame_02.tiff",
    BIG,
    "notice.pdf",
    "publish/echantillon.csv",
]
SHARE_SIZE = (130, 50)
SHARE_POLL = 0.05  # the share screen's tests catch a transfer between two parts: look often


def hosted_project(folder: Path, actor: Person = STAFF) -> projects.Project:
    """A release over 1 Go (the route forced: the files here are small), its prerequisites done,
    with a table, a folder of slides (and a hidden file), a multipart image, a notice and the
    sample the preparation made."""
    data = folder / "donnees"
    data.mkdir(parents=True)
    (data / "sejours.csv").write_text("id;stade\n1;I\n2;II\n3;I\n", encoding="utf-8")
    (data / "irm_volume.tiff").write_bytes(random.Random(3).randbytes(2 * PART + 4321))
    for stage, name in (("stade_I", "lame_01.tiff"), ("stade_II", "lame_02.tiff")):
        (folder / "lames" / stage).mkdir(parents=True)
        (folder / "lames" / stage / name).write_bytes(random.Random(name).randbytes(3000))
    (folder / "lames" / ".DS_Store").write_bytes(b"hidden")
    (folder / "notice.pdf").write_bytes(b"%PDF-1.4 notice\n")
    paths = [
        data / "sejours.csv",
        folder / "lames",
        data / "irm_volume.tiff",
        folder / "notice.pdf",
    ]
    project = projects.create_project(folder, "Cohorte mélanome", ALICE, paths, NOW)
    (folder / "publish").mkdir()
    sample = folder / "publish" / "echantillon.csv"
    sample.write_text("id;stade\n1;I\n", encoding="utf-8")
    prepared = PreparedFile(
        "publish/echantillon.csv",
        PreparedKind.SAMPLE,
        sample.stat().st_size,
        hashlib.sha256(sample.read_bytes()).hexdigest(),
        "donnees/sejours.csv",
        rows=1,
    )
    release = project.release
    for step in (StepId.ANONYMITY, StepId.INTEROPERABILITY):
        release = workflow.commit_step(release, step, {}, ALICE, NOW)
    release = workflow.record_volume(release, 5_000_000_000, ALICE, NOW)
    release = workflow.commit_step(release, StepId.VOLUME, {}, ALICE, NOW)
    release = workflow.commit_step(release, StepId.CONTRACT, {}, STAFF, NOW)
    release = workflow.commit_step(
        release, StepId.PREPARE_DATA, {"files": [prepared.to_outputs()]}, ALICE, NOW
    )
    return projects.save(project, workflow.set_actor(release, actor))


def storage_config(endpoint: str, bucket: str, public_base_url: str = "") -> StorageConfig:
    return StorageConfig(endpoint, "", bucket, PREFIX, ANY_KEY_ID, public_base_url)


class Saved:
    """What the run asked to keep in the state, in order."""

    def __init__(self, cancel_after_parts: int | None = None) -> None:
        self.records: list[TransferRecord] = []
        self.cancel = threading.Event()
        self.cancel_after_parts = cancel_after_parts

    def __call__(self, record: TransferRecord) -> None:
        self.records.append(record)
        state = MultipartState.from_dict(record.uploads.get(BIG))
        limit = self.cancel_after_parts
        if state is not None and limit is not None and state.done_parts >= limit:
            self.cancel.set()

    def parts_recorded(self) -> list[int]:
        counts = []
        for record in self.records:
            state = MultipartState.from_dict(record.uploads.get(BIG))
            counts.append(state.done_parts if state else 0)
        return counts


def secrets(secret: str = ANY_SECRET) -> SecretStore:
    backend = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]
    environ = {"HDH_WIZARD_STORAGE_SECRET": secret} if secret else {}
    return SecretStore(environ=environ, backend=backend)


def project_with_details(folder: Path, endpoint: str, bucket: str, actor: Person = STAFF) -> None:
    """What the wizard leaves for the command: the details HDH staff typed, as a draft."""
    project = hosted_project(folder, actor)
    details = StorageConfig(endpoint, "", bucket, PREFIX, ANY_KEY_ID).to_dict()
    release = workflow.save_draft(
        project.release,
        StepId.SHARE_WITH_HDH,
        TransferRecord(details).to_outputs(),
        actor,
        NOW,
    )
    projects.save(project, release)


async def open_share(app: HdhWizardApp, pilot: Pilot[None]) -> ShareWithHdhStepScreen:
    app.open_step(StepId.SHARE_WITH_HDH)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ShareWithHdhStepScreen)
    screen.transfer_part_size = PART  # 3 parts for the image: a multipart upload, quickly
    screen.transfer_workers = 2
    # the keyring was looked at
    await until(pilot, lambda: screen.keyring is not None, every=SHARE_POLL)
    return screen


def fill(screen: ShareWithHdhStepScreen, endpoint: str, bucket: str, secret: str = "") -> None:
    values = {
        "storage-endpoint": endpoint,
        "storage-region": "",
        "storage-bucket": bucket,
        "storage-prefix": PREFIX,
        "storage-access-key": ANY_KEY_ID,
        "storage-public-url": "",
        "storage-secret": secret,
    }
    for widget_id, value in values.items():
        screen.query_one(f"#{widget_id}", Input).value = value


def text_of(screen: ShareWithHdhStepScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def status(screen: ShareWithHdhStepScreen) -> str:
    return text_of(screen, "#hosting-status")


async def transfer(pilot: Pilot[None], screen: ShareWithHdhStepScreen) -> None:
    await pilot.press("ctrl+t")  # the transfer starts there, and may end at once
    await until(pilot, lambda: not screen.running, every=SHARE_POLL)
