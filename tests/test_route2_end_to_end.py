"""Route 2 from start to finish, with the real servers: the partner prepares the data (split by
prognostic stage, a seeded sample), HDH staff transfer everything to the storage (a local S3
server) with `hdh-wizard transfer --staff`, then `hdh-wizard publish` references each hosted file on
the dataset page (the real udata) and publishes it — once HDH opened the bucket to the public:
every URL on the page gives the file's bytes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from hdh_wizard import project as projects
from hdh_wizard.cli.publish import run_publish
from hdh_wizard.cli.transfer import run_transfer
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.hosting_records import (
    FileRole,
    TransferRecord,
    hosted_objects,
    prepared_files,
    references_of,
)
from hdh_wizard.core.preparation import Preparation
from hdh_wizard.core.steps import StepId
from hdh_wizard.inspect.preparation import (
    choices,
    sample_into_publish,
    split_into_publish,
    table_columns,
)
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.storage import StorageConfig
from tests.portal_helpers import (
    FR,
    hosted_release,
    keyed_portal,
)
from tests.s3_local import ANY_KEY_ID, new_bucket, raw_client
from tests.storage_helpers import (
    secrets,
)
from tests.tui_helpers import ALICE, NOW, STAFF
from tests.udata_local.server import PARTNER, UdataServer

SEED = 20261129


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def prepare_by_stage(folder: Path) -> None:
    """What the partner does at "prepare the data": split the cohort by stage, draw a sample."""
    project = projects.open_project(folder, None, NOW)[0]
    release = workflow.undo_step(project.release, StepId.PREPARE_DATA, ALICE, NOW)[0]
    (table,) = [t for t in choices(release, folder).tables if t.stored.endswith(".csv")][:1]
    stage = table_columns(table).index("stade_pronostique")
    preparation = split_into_publish(release, folder, Preparation(), table, stage, 5, Progress())
    preparation = sample_into_publish(
        release,
        folder,
        preparation,
        table,
        size=50,
        fraction=None,
        seed=SEED,
        stratify_column_index=stage,
        progress=Progress(),
    )
    release = workflow.commit_step(
        release, StepId.PREPARE_DATA, preparation.to_outputs(), ALICE, NOW
    )
    projects.save(project, release)


def open_to_the_public(endpoint: str, bucket: str) -> None:
    """What HDH does to its open-data bucket: anyone may read it (a bucket policy)."""
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


def storage_details_typed(folder: Path, endpoint: str, bucket: str) -> None:
    """HDH staff typed the connection details in the wizard (the secret stays in the keyring)."""
    project = projects.open_project(folder, None, NOW)[0]
    details = StorageConfig(endpoint, "", bucket, "cohorte/2026/", ANY_KEY_ID).to_dict()
    release = workflow.save_draft(
        project.release, StepId.SHARE_WITH_HDH, TransferRecord(details).to_outputs(), STAFF, NOW
    )
    projects.save(project, workflow.set_actor(release, ALICE))


def test_a_hosted_release_goes_from_prepared_files_to_a_published_page_of_working_urls(
    tmp_path: Path,
    udata_server: UdataServer,
    s3_server: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hosted_release(tmp_path, udata_server, transferred=False)
    prepare_by_stage(tmp_path)
    prepared = prepared_files(projects.read_project(tmp_path))
    assert any(f.role is FileRole.SAMPLE for f in prepared)
    assert len([f for f in prepared if f.role is FileRole.DATA]) >= 2

    bucket = new_bucket(s3_server)
    storage_details_typed(tmp_path, s3_server, bucket)
    assert run_transfer(FR, tmp_path, secrets=secrets(), actor=STAFF) == 0
    _, err = capsys.readouterr()
    assert "9 adresses ne donnent pas le fichier au public" in err  # said at once to staff
    assert "refusé au public (erreur 403)" in err
    release = projects.read_project(tmp_path)
    assert release.record(StepId.SHARE_WITH_HDH).status is StepStatus.DONE
    hosted = {o.path: o for o in hosted_objects(release)}
    assert {f.path for f in prepared} <= set(hosted)

    # The bucket is not open to the public yet: the page would hold dead links. Nothing is sent.
    portal = keyed_portal(udata_server)
    assert run_publish(FR, tmp_path, yes=False, portal=portal, actor=STAFF) == 1
    out, err = capsys.readouterr()
    assert "ne donnent pas le fichier à tout le monde" in out + err
    assert "refusé au public (erreur 403)" in out + err
    stopped = projects.read_project(tmp_path)
    assert stopped.record(StepId.REFERENCE_URLS).status is StepStatus.TODO
    assert references_of(stopped) is None

    open_to_the_public(s3_server, bucket)
    assert run_publish(FR, tmp_path, yes=False, portal=portal, actor=STAFF) == 0
    release = projects.read_project(tmp_path)
    for step in (StepId.DATASET_PAGE, StepId.REFERENCE_URLS, StepId.PUBLICATION):
        assert release.record(step).status is StepStatus.DONE, step
    references = references_of(release)
    assert references is not None
    with DataGouvClient(udata_server.url, PARTNER.api_key) as client:
        dataset = client.dataset(references.dataset_id)
    assert dataset["private"] is False
    resources = {r["url"]: r for r in dataset["resources"]}
    assert set(resources) == {o.url for o in hosted.values()}

    # Anyone can download each file from its URL and check it against the page's checksum.
    for obj in hosted.values():
        resource = resources[obj.url]
        body = httpx.get(obj.url, timeout=30).raise_for_status().content
        local = (tmp_path / obj.path).read_bytes()
        assert sha256_of(body) == sha256_of(local) == resource["checksum"]["value"], obj.path
        assert resource["filesize"] == len(local)
        if obj.role is FileRole.SAMPLE:
            assert "chantillon" in resource["title"]
    out, err = capsys.readouterr()
    assert "Publié" in out
    state = (tmp_path / "hdh-release.yaml").read_text(encoding="utf-8")
    assert PARTNER.api_key not in state + out + err
