"""The data.gouv.fr steps' flows, without a screen: the one sequence the screens' workers and
`hdh-wizard publish` both run, against the real udata run locally."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.portal_records import dataset_of
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows import deposit, references
from hdh_wizard.flows.port import REOPENED_FROM, FlowContext, ProjectStore
from hdh_wizard.flows.publish_all import PublishAll, PublishStop, Said
from hdh_wizard.inspect.deposit_files import deposit_files
from hdh_wizard.services.datagouv.session import PortalSession
from tests.portal_helpers import keyed_portal, planned_release
from tests.tui_helpers import ALICE
from tests.udata_local.server import UdataServer


def context(folder: Path) -> FlowContext:
    project = projects.open_project(folder, None, datetime.now(UTC))[0]
    return FlowContext(ProjectStore(project), ALICE, lambda: datetime.now(UTC))


def publish_all(folder: Path, portal: PortalSession, said: list[Said]) -> FlowContext:
    ctx = context(folder)
    PublishAll(
        ctx=ctx,
        portal=portal,
        folder=folder,
        describe=lambda _local, _digests: "fichier de test",
        confirm_production=lambda _host: False,
        say=said.append,
    ).run()
    return ctx


@pytest.fixture
def folder(tmp_path: Path, udata_server: UdataServer) -> Path:
    planned_release(tmp_path, udata_server)
    return tmp_path


def test_the_screen_and_the_command_reopen_a_done_deposit_the_same_way(
    folder: Path, udata_server: UdataServer
) -> None:
    said: list[Said] = []
    ctx = publish_all(folder, keyed_portal(udata_server), said)
    assert ctx.release.record(StepId.DEPOSIT).status is StepStatus.DONE
    assert "publish.deposited" in [s.key for s in said]

    # Nothing changed: nothing to redo, said, and the deposit stays done.
    said.clear()
    ctx = publish_all(folder, keyed_portal(udata_server), said)
    assert "publish.deposit_up_to_date" in [s.key for s in said]
    assert ctx.release.record(StepId.PUBLICATION).status is StepStatus.DONE


def test_a_done_step_is_reopened_from_the_one_rule(folder: Path, udata_server: UdataServer) -> None:
    ctx = publish_all(folder, keyed_portal(udata_server), [])
    assert deposit.reopen(ctx)  # as the screen does before redoing it
    assert ctx.release.record(StepId.DEPOSIT).status not in REOPENED_FROM
    assert dataset_of(ctx.release) is not None  # its outputs are kept
    assert ctx.release.record(StepId.PUBLICATION).status is StepStatus.STALE


def test_the_deposit_checks_come_in_one_order(folder: Path) -> None:
    release = projects.read_project(folder)
    with pytest.raises(PublishStop) as stop:
        deposit.check(release, [("doc.check.title", {})], ["absent.csv"])
    assert stop.value.key == "publish.stop.documentation_incomplete"
    with pytest.raises(PublishStop) as stop:
        deposit.check(release, [], ["absent.csv"])
    assert stop.value.key == "publish.stop.missing_files"
    files, missing = deposit_files(release, folder)
    assert files and not missing
    assert deposit.check(release, [], missing)  # the organization's id


def test_nothing_hosted_is_said_before_the_staff_role_is_asked(folder: Path) -> None:
    release = projects.read_project(folder)
    with pytest.raises(PublishStop) as stop:
        references.check(release, ())
    assert stop.value.key == "publish.stop.nothing_hosted"
    with pytest.raises(PublishStop) as stop:
        references.require_staff(ALICE)
    assert stop.value.key == "publish.stop.references_staff"


def test_a_deposit_without_a_key_stops_with_the_key_message(folder: Path) -> None:
    from tests.portal_helpers import session_portal

    with pytest.raises(PublishStop) as stop:
        publish_all(folder, session_portal(), [])
    assert stop.value.key == "publish.stop.no_key"
    assert workflow.status_of(projects.read_project(folder), StepId.DEPOSIT) is not StepStatus.DONE
