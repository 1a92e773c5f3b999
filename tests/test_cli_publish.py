"""`hdh-wizard publish`: the data.gouv.fr steps from the state, headless, against the real udata."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from frictionless import Resource, Schema

from hdh_wizard import project as projects
from hdh_wizard.cli.publish import run_publish
from hdh_wizard.core.enums import Environment, StepStatus
from hdh_wizard.core.portal_records import dataset_of
from hdh_wizard.core.steps import StepId
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.datagouv.client import DataGouvClient
from tests.portal_helpers import (
    keyed_portal,
    planned_release,
    session_portal,
)
from tests.tui_helpers import NOW
from tests.udata_local.server import PARTNER, UdataServer

CAT = load_catalogue(Lang.FR)


@pytest.fixture
def folder(tmp_path: Path, udata_server: UdataServer) -> Path:
    planned_release(tmp_path, udata_server)
    return tmp_path


def test_publish_deposits_verifies_and_publishes_then_a_rerun_changes_nothing(
    folder: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    portal = keyed_portal(udata_server, chunk_size=64 * 1024)
    assert run_publish(CAT, folder, yes=False, portal=portal) == 0
    out = capsys.readouterr().out
    assert "Compte : Alice Martin" in out
    assert "6 fichiers déposés et vérifiés" in out  # 4 data files, the dictionary, 1 schema
    assert "Publié : " in out
    release = projects.read_project(folder)
    for step in (StepId.ACCOUNT, StepId.ORGANIZATION, StepId.DEPOSIT, StepId.PUBLICATION):
        assert release.record(step).status is StepStatus.DONE, step
    record = dataset_of(release)
    assert record is not None
    with DataGouvClient(udata_server.url, PARTNER.api_key) as client:
        dataset = client.dataset(record.dataset_id)
    assert dataset["private"] is False
    assert len(dataset["resources"]) == 6
    documentation = {r["title"]: r for r in dataset["resources"] if r["type"] == "documentation"}
    assert set(documentation) == {
        "dictionnaire-des-variables.csv",
        "donnees-cohorte_melanome.schema.json",
    }
    # The page's order: the data first, the documentation last.
    assert [r["type"] for r in dataset["resources"]][-2:] == ["documentation"] * 2
    # The schema as the server serves it accepts the published table (Frictionless' own check).
    schema_url = documentation["donnees-cohorte_melanome.schema.json"]["url"]
    descriptor = httpx.get(schema_url, timeout=30).json()
    report = Resource(
        path="donnees/cohorte_melanome.csv",
        basepath=str(folder),
        schema=Schema.from_descriptor(descriptor),
    ).validate()
    assert report.valid, [e.message for t in report.tasks for e in t.errors]
    state = (folder / "hdh-release.yaml").read_text()
    assert PARTNER.api_key not in state and PARTNER.api_key[-12:] not in state

    assert run_publish(CAT, folder, yes=False, portal=portal) == 0
    assert "déjà sur le serveur" in capsys.readouterr().out
    with DataGouvClient(udata_server.url, PARTNER.api_key) as client:
        again = client.dataset(record.dataset_id)
    assert [r["id"] for r in again["resources"]] == [r["id"] for r in dataset["resources"]]
    assert dataset_of(projects.read_project(folder)) == record


def test_publish_without_a_key_says_how_to_give_one(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_publish(CAT, folder, yes=True, portal=session_portal()) == 1
    err = capsys.readouterr().err
    assert "HDH_WIZARD_API_KEY" in err
    assert projects.read_project(folder).record(StepId.DEPOSIT).status is not StepStatus.DONE


def test_a_first_publication_in_production_needs_the_host_confirmed(
    folder: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # The local server stands in for www.data.gouv.fr: the target says production.
    project = projects.open_project(folder, None, NOW)[0]
    target = replace(project.release.target, environment=Environment.PRODUCTION)
    projects.save(project, replace(project.release, target=target))
    portal = keyed_portal(udata_server)
    assert run_publish(CAT, folder, yes=False, portal=portal) == 1  # no terminal to ask on
    assert "--yes" in capsys.readouterr().err
    release = projects.read_project(folder)
    assert release.record(StepId.DEPOSIT).status is StepStatus.DONE  # the draft is deposited
    assert release.record(StepId.PUBLICATION).status is not StepStatus.DONE
    record = dataset_of(release)
    assert record is not None
    with DataGouvClient(udata_server.url, PARTNER.api_key) as client:
        assert client.dataset(record.dataset_id)["private"] is True
    assert run_publish(CAT, folder, yes=True, portal=portal) == 0
    assert projects.read_project(folder).record(StepId.PUBLICATION).status is StepStatus.DONE
