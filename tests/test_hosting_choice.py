"""What HDH hosts once a table is split (route 2): the partner chooses the parts and the sample
only, or the whole table too, told what each costs; the flows, the screen and the headless
`transfer` (against the local S3 server) send what was chosen."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from textual.widgets import DataTable, RadioButton, RadioSet, Static

from hdh_wizard import project as projects
from hdh_wizard.cli.transfer import run_transfer
from hdh_wizard.core import workflow
from hdh_wizard.core.hosting_records import PreparedFile, PreparedKind, transfer_of
from hdh_wizard.core.preparation import preparation_of
from hdh_wizard.core.release import Person
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows import prepare
from hdh_wizard.flows.port import FlowContext, ProjectStore
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.i18n.formatting import format_size
from hdh_wizard.services.storage.hosting_choice import HostingChoice, hosting_costs
from hdh_wizard.ui.steps.prepare_data import PrepareDataStepScreen
from tests import prepare_helpers
from tests.portal_helpers import session_portal
from tests.storage_helpers import (
    PART,
    SHARE_SIZE,
    open_share,
    project_with_details,
    secrets,
)
from tests.tui_helpers import ALICE, NOW, STAFF, make_app, until

CAT = load_catalogue(Lang.FR)
TABLE = "donnees/sejours.csv"
PARTS = ("publish/sejours__I.csv", "publish/sejours__II.csv")


def context(folder: Path, actor: Person = ALICE) -> FlowContext:
    return FlowContext(
        ProjectStore(projects.open_project(folder, None, NOW)[0]), actor, lambda: NOW
    )


def split_the_table(folder: Path) -> None:
    """The storage helpers' release, its table split by stage (the sample is there already)."""
    project = projects.open_project(folder, None, NOW)[0]
    outputs = dict(project.release.record(StepId.PREPARE_DATA).outputs)
    files = list(outputs["files"])
    for path, stage in zip(PARTS, ("I", "II"), strict=True):
        written = folder / path
        written.write_text(f"id;stade\n1;{stage}\n", encoding="utf-8")
        content = written.read_bytes()
        part = PreparedFile(
            path,
            PreparedKind.PART,
            len(content),
            hashlib.sha256(content).hexdigest(),
            TABLE,
            rows=1,
            value=stage,
        )
        files.append(part.to_outputs())
    release = workflow.commit_step(
        project.release, StepId.PREPARE_DATA, {**outputs, "files": files}, ALICE, NOW
    )
    projects.save(project, release)


def test_each_choice_says_what_it_hosts() -> None:
    parts = [PreparedFile(p, PreparedKind.PART, 600_000_000, "", "t.csv", rows=1) for p in PARTS]
    sample = PreparedFile("publish/s.csv", PreparedKind.SAMPLE, 5_000_000, "", "t.csv", rows=1)
    costs = hosting_costs([("t.csv", 1_200_000_000), ("notice.pdf", 1_000)], [*parts, sample])
    assert costs.parts == 1_205_001_000  # the parts, the sample and the notice
    assert costs.whole == 1_200_000_000
    assert format_size(costs.parts, Lang.FR) == "1,2 Go"
    assert format_size(costs.whole_too, Lang.FR) == "2,4 Go"


def test_the_headless_transfer_hosts_the_parts_and_the_sample_without_the_whole_table(
    tmp_path: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project_with_details(tmp_path, s3_server, bucket, actor=ALICE)
    split_the_table(tmp_path)
    ctx = context(tmp_path)
    assert prepare.hosting(ctx.release) is HostingChoice.WHOLE_TOO  # as before the choice
    assert prepare.choose_hosting(ctx, HostingChoice.PARTS)
    assert not prepare.choose_hosting(ctx, HostingChoice.PARTS)  # already the one kept
    # The choice reopened the finished step; done again, it keeps the choice.
    ctx.commit(StepId.PREPARE_DATA, ctx.release.record(StepId.PREPARE_DATA).outputs)
    release = projects.read_project(tmp_path)
    assert prepare.hosting(release) is HostingChoice.PARTS

    assert run_transfer(CAT, tmp_path, secrets=secrets(), part_size=PART, actor=STAFF) == 0
    hosted = {o.path for o in transfer_of(projects.read_project(tmp_path)).objects}  # type: ignore[union-attr]
    assert TABLE not in hosted
    assert set(PARTS) | {"publish/echantillon.csv"} <= hosted

    # The whole table too: the next transfer adds it, and only it.
    ctx = context(tmp_path)
    prepare.choose_hosting(ctx, HostingChoice.WHOLE_TOO)
    ctx.commit(StepId.PREPARE_DATA, ctx.release.record(StepId.PREPARE_DATA).outputs)
    capsys.readouterr()
    assert run_transfer(CAT, tmp_path, secrets=secrets(), part_size=PART, actor=STAFF) == 0
    record = transfer_of(projects.read_project(tmp_path))
    assert record is not None and TABLE in {o.path for o in record.objects}
    assert hosted < {o.path for o in record.objects}

    # And back to the parts: the record forgets the whole table.
    ctx = context(tmp_path)
    prepare.choose_hosting(ctx, HostingChoice.PARTS)
    ctx.commit(StepId.PREPARE_DATA, ctx.release.record(StepId.PREPARE_DATA).outputs)
    assert run_transfer(CAT, tmp_path, secrets=secrets(), part_size=PART, actor=STAFF) == 0
    record = transfer_of(projects.read_project(tmp_path))
    assert record is not None and {o.path for o in record.objects} == hosted


async def test_the_prepare_screen_offers_the_choice_with_its_sizes_and_keeps_it(
    tmp_path: Path,
) -> None:
    prepare_helpers.hosted_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 60)) as pilot:
        app.open_step(StepId.PREPARE_DATA)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PrepareDataStepScreen)
        await until(pilot, lambda: bool(screen.choices.tables) and not screen.working)
        assert not screen.query_one("#prep-hosting").display  # nothing split yet
        screen.query_one("#prep-column").value = prepare_helpers.STAGE  # type: ignore[attr-defined]
        await pilot.pause()
        await until(pilot, lambda: not screen.working)
        screen.query_one("#prep-split").press()  # type: ignore[attr-defined]
        await pilot.pause()
        await until(pilot, lambda: not screen.working and bool(screen.preparation.files))

        assert screen.query_one("#prep-hosting").display
        costs = prepare.costs(screen.release, screen.preparation)
        parts = screen.query_one("#prep-host-parts", RadioButton)
        whole = screen.query_one("#prep-host-whole", RadioButton)
        assert format_size(costs.parts, Lang.FR) in str(parts.label)
        assert format_size(costs.whole_too, Lang.FR) in str(whole.label)
        assert f"+{format_size(costs.whole, Lang.FR)}" in str(whole.label)
        assert whole.value and not parts.value  # what was done before the choice existed
        shown = projects.read_project(tmp_path).record(StepId.PREPARE_DATA).outputs
        assert "hosting" not in shown  # showing the choice chose nothing

        choice = screen.query_one("#prep-hosting", RadioSet)
        choice.focus()
        await pilot.press("up", "enter")
        await pilot.pause()
        assert parts.value and not whole.value
        assert screen.focused is choice  # the focus stays on the choice
        said = str(screen.query_one("#prep-host-result", Static).render())
        assert format_size(costs.parts, Lang.FR) in said
        assert prepare.hosting(projects.read_project(tmp_path)) is HostingChoice.PARTS

        await pilot.press("ctrl+s")
        await pilot.pause()

    release = projects.read_project(tmp_path)
    assert release.record(StepId.PREPARE_DATA).status.value == "done"
    assert prepare.hosting(release) is HostingChoice.PARTS
    assert preparation_of(release).files  # the parts kept with the choice


async def test_the_share_screen_lists_what_was_chosen_and_says_what_is_left_out(
    tmp_path: Path,
) -> None:
    project_with_details(tmp_path, "http://127.0.0.1:9", "seau")  # never reached
    split_the_table(tmp_path)
    ctx = context(tmp_path)
    prepare.choose_hosting(ctx, HostingChoice.PARTS)
    ctx.commit(StepId.PREPARE_DATA, ctx.release.record(StepId.PREPARE_DATA).outputs)
    app = make_app(tmp_path, portal=session_portal())
    async with app.run_test(size=SHARE_SIZE) as pilot:
        screen = await open_share(app, pilot)
        table = screen.query_one("#hosting-files", DataTable)
        listed = {str(key.value) for key in table.rows}
        assert TABLE not in listed and set(PARTS) <= listed
        summary = str(screen.query_one("#hosting-summary", Static).render())
        assert (
            f"Non hébergé, au choix du partenaire (étape « Préparer les données ») : {TABLE}"
            in (summary)
        )
