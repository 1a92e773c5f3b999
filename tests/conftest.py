"""Shared fixtures: a realistic release in every step status, and a project's state file path."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Environment, Role
from hdh_wizard.core.release import DataFile, Person, Release
from hdh_wizard.core.state_file import STATE_FILE_NAME
from hdh_wizard.core.steps import StepId
from tests.tmux_helpers import tmux_session  # noqa: F401 - a fixture for the terminal tests
from tests.udata_local.server import UdataServer

if TYPE_CHECKING:
    from tests.s3_local import S3FaultProxy

T0 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
PARTNER = Person("Élodie Martin", Role.PARTNER)
STAFF = Person("Karim Open Science", Role.HDH_STAFF)


def build_sample_release() -> Release:
    """A hosted-route release with steps done, in progress, skipped, blocked and stale."""
    clock = iter(T0 + timedelta(minutes=n) for n in range(100))
    files = (
        DataFile("donnees/patients.csv", 1_800_000_000, 1_767_171_600_000_000_000, "sha256:ab12"),
        DataFile(
            "donnees/images/IRM 001.tiff", 900_000_000, 1_767_171_700_123_456_789, "sha256:cd"
        ),
    )
    release = workflow.new_release("Base mélanome — cohorte 2012-2016", PARTNER, next(clock), files)
    release = workflow.commit_step(
        release,
        StepId.ANONYMITY,
        {
            "criteria": {"singling_out": True, "linkability": True, "inference": False},
            "k_anonymity": 5,
            "risk": 0.02,
            "attested_by": "Élodie Martin",
            "notes": "Âge regroupé par tranches de 5 ans.\nCodes postaux tronqués.\n",
            "empty": "",
            "removed_columns": ["nom", "prénom", "date_naissance"],
            "reviewed": None,
        },
        PARTNER,
        next(clock),
    )
    release = workflow.commit_step(
        release, StepId.INTEROPERABILITY, {"formats": ["csv", "tiff"]}, PARTNER, next(clock)
    )
    release = workflow.record_volume(release, 2_700_000_000, PARTNER, next(clock))
    release = workflow.commit_step(
        release, StepId.VOLUME, {"total_bytes": 2_700_000_000}, PARTNER, next(clock)
    )
    release = workflow.commit_step(
        release,
        StepId.CONTRACT,
        {"signed_on": "2026-01-15", "reference": "HDH-2026-042"},
        STAFF,
        next(clock),
    )
    release = workflow.skip_step(
        release,
        StepId.PREPARE_DATA,
        "Base déjà découpée par stade pronostique",
        PARTNER,
        next(clock),
    )
    release = workflow.block_step(
        release, StepId.ACCOUNT, "En attente de la DSI", PARTNER, next(clock)
    )
    release = workflow.save_draft(
        release, StepId.CO_ADMIN, {"invited": "karim@example.org"}, STAFF, next(clock)
    )
    # Reopening interoperability makes the volume, which relied on it, stale.
    release, _ = workflow.undo_step(release, StepId.INTEROPERABILITY, PARTNER, next(clock))
    return workflow.set_target(release, Environment.PRODUCTION, STAFF, next(clock), confirmed=True)


@pytest.fixture(autouse=True)
def _crash_reports_stay_in_the_tests(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash report written by a test goes under pytest's folder, not the user's state."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.getbasetemp() / "state"))


@pytest.fixture
def sample_release() -> Release:
    return build_sample_release()


@pytest.fixture
def state_file_path(tmp_path: Path) -> Path:
    """Where a project's state file lives: the project folder is `tmp_path`."""
    return tmp_path / STATE_FILE_NAME


@pytest.fixture
def french_cli_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A neutral environment (French is the default) with `tmp_path` as the working folder,
    as a partner runs the headless commands in their project."""
    for name in ("HDH_WIZARD_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def udata_server() -> Iterator[UdataServer]:
    """The real data.gouv.fr backend on 127.0.0.1, started once per test session."""
    server = UdataServer()
    server.start()
    yield server
    server.remove()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A local S3 server (moto) on 127.0.0.1, started once per test session: its endpoint URL."""
    from tests.s3_local import LocalS3  # moto is slow to import: only for the tests using it

    server = LocalS3().start()
    yield server.url
    server.stop()


@pytest.fixture
def bucket(s3_server: str) -> str:
    """A new, empty bucket on the local S3 server."""
    from tests.s3_local import new_bucket

    return new_bucket(s3_server)


@pytest.fixture
def proxy(s3_server: str) -> Iterator[S3FaultProxy]:
    """The local S3 server behind a proxy that counts requests and injects faults."""
    from tests.s3_local import S3FaultProxy

    with S3FaultProxy(s3_server) as running:
        yield running
