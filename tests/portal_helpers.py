"""Set-up shared by the data.gouv.fr tests: a demo release aimed at the local udata."""

from __future__ import annotations

import uuid
from pathlib import Path

import keyring.backends.fail

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Environment
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.core.volume import commit_volume, summarize_release
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.session import PortalSession
from hdh_wizard.services.secrets import SecretStore
from tests.tui_helpers import ALICE, NOW, make_demo_project
from tests.udata_local.server import PARTNER, UdataServer


def session_portal(chunk_size: int | None = None) -> PortalSession:
    """Keys kept in memory only: the tests never touch the machine's keyring."""
    backend = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]
    return PortalSession(SecretStore(environ={}, backend=backend), chunk_size=chunk_size)


def release_ready_for_portal(folder: Path, server: UdataServer) -> projects.Project:
    """The demo project, aimed at the local udata, with the prerequisites of the deposit done."""
    project = make_demo_project(folder)
    release = workflow.set_target(
        project.release, Environment.CUSTOM, ALICE, NOW, url=server.url, confirmed=True
    )
    release = prerequisites_done(release)
    return projects.save(project, release)


def prerequisites_done(release: Release) -> Release:
    release = workflow.commit_step(
        release, StepId.CONTRACT, {"reference": "HDH-OD-2026-001"}, ALICE, NOW
    )
    release = workflow.commit_step(
        release, StepId.ANONYMITY, {"note": "mesures faites"}, ALICE, NOW
    )
    release = workflow.commit_step(release, StepId.INTEROPERABILITY, {}, ALICE, NOW)
    return commit_volume(release, summarize_release(release), ALICE, NOW)


def new_organization(server: UdataServer, name: str | None = None) -> str:
    """An organization the partner administers, made directly on the server."""
    with DataGouvClient(server.url, PARTNER.api_key) as client:
        org = client.create_organization(
            name or f"Consortium test {uuid.uuid4().hex[:6]}",
            "Organisation créée pour les tests d'intégration de hdh-wizard.",
            acronym="CTEST",
        )
    return org.id
