"""`hdh-wizard publish` on route 2 (over 1 Go), headless, against the real udata: the dataset
page, the hosted files referenced by URL (by HDH staff), the publication; then re-runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hdh_wizard import project as projects
from hdh_wizard.cli.publish import run_publish
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.hosting_records import hosted_objects, references_of
from hdh_wizard.core.portal_records import dataset_of
from hdh_wizard.core.steps import StepId
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.datagouv.client import DataGouvClient
from tests.portal_helpers import (
    SPLIT,
    hosted,
    hosted_release,
    keyed_portal,
    transfer_done,
)
from tests.tui_helpers import ALICE, NOW, STAFF
from tests.udata_local.server import PARTNER, UdataServer

CAT = load_catalogue(Lang.FR)


def server_dataset(server: UdataServer, folder: Path) -> dict[str, Any]:
    record = dataset_of(projects.read_project(folder))
    assert record is not None
    with DataGouvClient(server.url, PARTNER.api_key) as client:
        return client.dataset(record.dataset_id)


def test_staff_publish_makes_the_page_references_the_hosted_files_and_publishes_then_rerun_is_idle(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    hosted_release(tmp_path, udata_server)
    portal = keyed_portal(udata_server)

    assert run_publish(CAT, tmp_path, yes=False, portal=portal, actor=STAFF) == 0

    out = capsys.readouterr().out
    assert "Page du jeu de données : " in out
    assert "Références : 4 fichiers hébergés référencés et vérifiés (4 créés" in out
    assert "Publié : " in out
    release = projects.read_project(tmp_path)
    for step in (StepId.DATASET_PAGE, StepId.REFERENCE_URLS, StepId.PUBLICATION):
        assert release.record(step).status is StepStatus.DONE, step
    assert release.record(StepId.REFERENCE_URLS).updated_by == STAFF
    dataset = server_dataset(udata_server, tmp_path)
    assert dataset["private"] is False
    resources = dataset["resources"]
    assert isinstance(resources, list)
    assert sorted(r["url"] for r in resources) == sorted(o.url for o in SPLIT)
    assert all(r["filetype"] == "remote" for r in resources)
    record = references_of(release)
    assert record is not None and len(record.files) == 4
    assert PARTNER.api_key not in (tmp_path / "hdh-release.yaml").read_text()

    # Again, by the partner this time: everything holds, nothing is sent nor committed again.
    assert run_publish(CAT, tmp_path, yes=False, portal=portal, actor=ALICE) == 0
    assert "déjà référencés, vérifiés sur le serveur" in capsys.readouterr().out
    again = server_dataset(udata_server, tmp_path)
    assert [r["id"] for r in again["resources"]] == [r["id"] for r in resources]
    assert projects.read_project(tmp_path).steps == release.steps


def test_a_file_changed_on_hdh_storage_is_updated_in_place_by_the_next_staff_run(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    hosted_release(tmp_path, udata_server)
    portal = keyed_portal(udata_server)
    assert run_publish(CAT, tmp_path, yes=False, portal=portal, actor=STAFF) == 0
    before = references_of(projects.read_project(tmp_path))
    assert before is not None
    # Staff send the second part again, corrected: the transfer is committed anew.
    changed = hosted("publish/sejours__Stade_II.csv", 900_000_100, tag="corrigé")
    project = projects.open_project(tmp_path, None, NOW)[0]
    release = transfer_done(project.release, (SPLIT[0], changed, *SPLIT[2:]))
    projects.save(project, release)
    assert release.record(StepId.REFERENCE_URLS).status is StepStatus.STALE
    capsys.readouterr()

    assert run_publish(CAT, tmp_path, yes=False, portal=portal, actor=STAFF) == 0

    assert "(0 créé, 1 mis à jour, 0 retiré)" in capsys.readouterr().out
    release = projects.read_project(tmp_path)
    after = references_of(release)
    assert after is not None
    assert {f.resource_id for f in after.files} == {f.resource_id for f in before.files}
    assert release.record(StepId.REFERENCE_URLS).status is StepStatus.DONE
    assert release.record(StepId.PUBLICATION).status is StepStatus.DONE
    resources = server_dataset(udata_server, tmp_path)["resources"]
    assert isinstance(resources, list) and len(resources) == 4
    by_url = {r["url"]: r for r in resources}
    assert by_url[changed.url]["checksum"]["value"] == changed.sha256


def test_publish_by_the_partner_stops_at_the_references_and_says_hdh_staff_make_them(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    hosted_release(tmp_path, udata_server)

    assert run_publish(CAT, tmp_path, yes=True, portal=keyed_portal(udata_server)) == 1

    err = capsys.readouterr().err
    assert "équipe HDH" in err and "Alice Martin (partenaire)" in err and "« i »" in err
    release = projects.read_project(tmp_path)
    assert release.record(StepId.DATASET_PAGE).status is StepStatus.DONE  # the page is made
    assert release.record(StepId.REFERENCE_URLS).status is not StepStatus.DONE
    assert release.record(StepId.PUBLICATION).status is not StepStatus.DONE
    dataset = server_dataset(udata_server, tmp_path)
    assert dataset["private"] is True and dataset["resources"] == []


def test_publish_before_the_transfer_names_the_step_and_who_does_it(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    hosted_release(tmp_path, udata_server, transferred=False)

    assert run_publish(CAT, tmp_path, yes=True, portal=keyed_portal(udata_server), actor=STAFF) == 1

    err = capsys.readouterr().err
    assert "Partager la base avec le HDH" in err and "hdh-wizard transfer" in err
    release = projects.read_project(tmp_path)
    assert hosted_objects(release) == ()
    assert release.record(StepId.DATASET_PAGE).status is StepStatus.DONE
    assert release.record(StepId.PUBLICATION).status is not StepStatus.DONE


def test_a_reference_deleted_on_the_page_is_made_again_by_the_next_staff_run(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    hosted_release(tmp_path, udata_server)
    portal = keyed_portal(udata_server)
    assert run_publish(CAT, tmp_path, yes=False, portal=portal, actor=STAFF) == 0
    release = projects.read_project(tmp_path)
    record, dataset = references_of(release), dataset_of(release)
    assert record is not None and dataset is not None
    lost = record.files[0]
    with DataGouvClient(udata_server.url, PARTNER.api_key) as client:
        client.delete_resource(dataset.dataset_id, lost.resource_id)
    capsys.readouterr()

    # The partner's run sees the page no longer holds it, and leaves it to staff.
    assert run_publish(CAT, tmp_path, yes=False, portal=portal, actor=ALICE) == 1
    assert "équipe HDH" in capsys.readouterr().err
    assert run_publish(CAT, tmp_path, yes=False, portal=portal, actor=STAFF) == 0
    assert "(1 créé, 0 mis à jour, 0 retiré)" in capsys.readouterr().out
    remade = references_of(projects.read_project(tmp_path))
    assert remade is not None
    again = remade.file(lost.path)
    assert again is not None and again.resource_id != lost.resource_id
    urls = [r["url"] for r in server_dataset(udata_server, tmp_path)["resources"]]
    assert sorted(urls) == sorted(o.url for o in SPLIT)
    assert replace(again, resource_id=lost.resource_id) == lost
