"""The checklist home screen, driven with Textual's Pilot."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Environment, Route, StepStatus
from hdh_wizard.core.steps import StepId
from hdh_wizard.core.volume import commit_volume, summarize_volume
from hdh_wizard.i18n.catalogue import Lang
from hdh_wizard.ui.screens.help import HelpScreen
from hdh_wizard.ui.screens.home import HomeScreen
from hdh_wizard.ui.steps.contract import ContractStepScreen
from hdh_wizard.ui.widgets.checklist import Checklist

from .tui_helpers import ALICE, NOW, make_app, make_demo_project


def _static_text(app: object, selector: str) -> str:
    widget = app.screen.query_one(selector, Static)  # type: ignore[attr-defined]
    return str(widget.render())


async def test_resuming_opens_the_checklist_on_the_next_step(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        checklist = app.screen.query_one(Checklist)
        assert checklist.highlighted_option is not None
        assert checklist.highlighted_option.id == StepId.ANONYMITY.value
        assert "Cas 1" in _static_text(app, "#banner-route")
        assert "démonstration" in _static_text(app, "#banner-target")


async def test_arrows_and_enter_open_the_contract_step(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for _ in range(3):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ContractStepScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_help_opens_and_closes(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_q_quits(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test() as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_route_preview_switches_the_checklist_and_keeps_work(tmp_path: Path) -> None:
    project = make_demo_project(tmp_path)
    done = workflow.commit_step(project.release, StepId.CONTRACT, {}, ALICE, NOW)
    projects.save(project, done)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("r")
        await pilot.pause()
        checklist = app.screen.query_one(Checklist)
        ids = [checklist.get_option_at_index(i).id for i in range(checklist.option_count)]
        assert StepId.SHARE_WITH_HDH.value in ids
        assert StepId.DEPOSIT.value not in ids
        assert "Cas 2" in _static_text(app, "#banner-route")
    saved = projects.read_project(tmp_path)
    assert workflow.route_of(saved) is Route.HOSTED
    assert workflow.status_of(saved, StepId.CONTRACT) is StepStatus.DONE


async def test_skipping_needs_a_reason_and_is_saved(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        checklist = app.screen.query_one(Checklist)
        checklist.highlighted = checklist.get_option_index(StepId.CO_ADMIN.value)
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("enter")  # empty reason: refused, dialog stays
        await pilot.pause()
        assert "raison" in _static_text(app, "#reason-error").lower()
        await pilot.press(*"Pas de co-administration")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    saved = projects.read_project(tmp_path)
    assert saved.record(StepId.CO_ADMIN).status is StepStatus.SKIPPED
    assert saved.record(StepId.CO_ADMIN).reason == "Pas de co-administration"


async def test_skipping_a_required_step_is_refused_with_a_message(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)  # no reason asked for nothing
        messages = [n.message for n in app._notifications]
        assert any("obligatoire" in m for m in messages)
    saved = projects.read_project(tmp_path)
    assert saved.record(StepId.ANONYMITY).status is StepStatus.TODO


async def test_undo_asks_and_marks_dependents_stale(tmp_path: Path) -> None:
    project = make_demo_project(tmp_path)
    release = workflow.commit_step(project.release, StepId.INTEROPERABILITY, {}, ALICE, NOW)
    release = commit_volume(release, summarize_volume(release.files), ALICE, NOW)
    projects.save(project, release)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        checklist = app.screen.query_one(Checklist)
        checklist.highlighted = checklist.get_option_index(StepId.INTEROPERABILITY.value)
        await pilot.press("u")
        await pilot.pause()
        assert "Volumétrie" in str(app.screen.query_one(".dialog-question", Static).render())
        await pilot.click("#yes")
        await pilot.pause()
    saved = projects.read_project(tmp_path)
    assert saved.record(StepId.INTEROPERABILITY).status is StepStatus.TODO
    assert saved.record(StepId.VOLUME).status is StepStatus.STALE


async def test_production_target_needs_the_typed_confirmation(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("t")
        await pilot.pause()
        await pilot.click("#env-production")
        await pilot.click("#ok")
        await pilot.pause()
        assert "PRODUCTION" in _static_text(app, "#target-error")
        app.screen.query_one("#production-word").value = "PRODUCTION"  # type: ignore[attr-defined]
        await pilot.pause(0.3)  # a button ignores a second click during its 0.2 s press effect
        await pilot.click("#ok")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        banner = app.screen.query_one("#banner-target", Static)
        assert banner.has_class("-production")
    saved = projects.read_project(tmp_path)
    assert saved.target.environment is Environment.PRODUCTION


async def test_home_speaks_english_on_request(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path, Lang.EN)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "Route 1" in _static_text(app, "#banner-route")


async def test_broken_state_file_offers_the_backup_and_restores_it(tmp_path: Path) -> None:
    project = make_demo_project(tmp_path)
    projects.save(project, workflow.commit_step(project.release, StepId.CONTRACT, {}, ALICE, NOW))
    state = projects.state_path(tmp_path)
    state.write_text(state.read_text(encoding="utf-8").replace("name:", "name: [", 1))
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        message = _static_text(app, "#state-error-message")
        assert "mal formé à la ligne" in message
        await pilot.click("#restore")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    assert list(tmp_path.glob("hdh-release.yaml.broken-*"))
    restored = projects.read_project(tmp_path)
    assert restored.audit[-1].action.value == "backup_restored"


async def test_modified_files_are_announced_on_resume(tmp_path: Path) -> None:
    project = make_demo_project(tmp_path)
    release = workflow.commit_step(project.release, StepId.INTEROPERABILITY, {}, ALICE, NOW)
    projects.save(project, release)
    with (tmp_path / "donnees" / "cohorte_melanome.csv").open("a") as handle:
        handle.write("x\n")
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        messages = " ".join(n.message for n in app._notifications)
        assert "donnees/cohorte_melanome.csv" in messages
        assert "Interopérabilité" in messages


async def test_route_preview_on_a_step_of_one_route_only_keeps_working(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        checklist = app.screen.query_one(Checklist)
        checklist.highlighted = checklist.get_option_index(StepId.DEPOSIT.value)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        highlighted = app.screen.query_one(Checklist).highlighted_option
        assert highlighted is not None and highlighted.id == StepId.ANONYMITY.value
