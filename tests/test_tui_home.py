"""The checklist home screen, driven with Textual's Pilot."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Environment, Route, StepStatus
from hdh_wizard.core.steps import StepId
from hdh_wizard.core.volume import commit_volume, summarize_volume
from hdh_wizard.demo.generate import create_demo_data
from hdh_wizard.i18n.catalogue import Lang
from hdh_wizard.ui.help_texts import help_markdown
from hdh_wizard.ui.screens.help import HelpScreen
from hdh_wizard.ui.screens.home import HomeScreen
from hdh_wizard.ui.screens.identity import IdentityDialog
from hdh_wizard.ui.steps.contract import ContractStepScreen
from hdh_wizard.ui.widgets.checklist import Checklist

from .layout_helpers import screen_text, widget_text
from .tui_helpers import ALICE, NOW, make_app, make_demo_project, until


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


# --- real terminal sizes, the next step, the handover, the route preview ----------------------


def _words_in_order(phrase: str, text: str) -> bool:
    """Every word of `phrase`, in order, in `text` (a title may wrap onto the next line)."""
    rest = text.split()
    for word in phrase.split():
        if word not in rest:
            return False
        rest = rest[rest.index(word) + 1 :]
    return True


def _big_project(tmp_path: Path) -> projects.Project:
    """The demo files and a 1.2 GB table (sparse: no disk used), nothing measured yet."""
    paths = create_demo_data(tmp_path)
    big = tmp_path / "donnees" / "grande_table.csv"
    with big.open("wb") as handle:
        handle.truncate(1_200_000_000)
    return projects.create_project(tmp_path, "Grande base", ALICE, [*paths, big], NOW)


async def test_at_80x24_the_titles_are_whole_and_the_identity_key_is_shown(
    tmp_path: Path,
) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        checklist = app.screen.query_one(Checklist)
        shown = widget_text(app, checklist)
        for step_id in (StepId.CONTRACT, StepId.ACCOUNT, StepId.ORGANIZATION):
            assert _words_in_order(app.cat.t(f"step.{step_id}.title"), shown), step_id
        key_bar = screen_text(app).splitlines()[-1]
        for key, label in (("?", "help"), ("q", "quit"), ("i", "identity"), ("f", "files")):
            assert f"{key} {app.cat.t(f'key.{label}')}" in key_bar
        await pilot.press("end")  # the last step, recommended
        await pilot.pause()
        shown = widget_text(app, checklist)
        co_admin = app.cat.t("step.co_admin.title")
        assert _words_in_order(f"{co_admin} ({app.cat.t('requirement.recommended')})", shown)


async def test_keys_left_out_of_a_narrow_key_bar_still_work(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert f"r {app.cat.t('key.route')}" not in screen_text(app).splitlines()[-1]
        await pilot.press("r")
        await pilot.pause()
        assert "Cas 2" in _static_text(app, "#banner-route")
    assert "**r**" in help_markdown("home", Lang.FR)


async def test_the_next_step_is_named_in_words_and_the_cursor_moves_apart(
    tmp_path: Path,
) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        marker = app.cat.t("checklist.next")
        lines = [line for line in screen_text(app).splitlines() if marker in line]
        assert len(lines) == 1 and app.cat.t("step.anonymity.title") in lines[0]
        assert "▶" not in screen_text(app)
        await pilot.press("down", "down")
        await pilot.pause()
        checklist = app.screen.query_one(Checklist)
        assert checklist.highlighted_option is not None
        assert checklist.highlighted_option.id != StepId.ANONYMITY.value
        lines = [line for line in screen_text(app).splitlines() if marker in line]
        assert len(lines) == 1 and app.cat.t("step.anonymity.title") in lines[0]


async def test_the_home_says_who_acts_next_and_what_they_will_need(tmp_path: Path) -> None:
    project = make_demo_project(tmp_path)
    release = workflow.commit_step(project.release, StepId.CONTRACT, {}, ALICE, NOW)
    release = workflow.commit_step(release, StepId.ANONYMITY, {}, ALICE, NOW)
    release = workflow.commit_step(release, StepId.INTEROPERABILITY, {}, ALICE, NOW)
    release = workflow.record_volume(release, 2_000_000_000, ALICE, NOW)
    release = workflow.commit_step(release, StepId.VOLUME, {}, ALICE, NOW)
    release = workflow.skip_step(release, StepId.PREPARE_DATA, "Déjà découpée", ALICE, NOW)
    projects.save(project, release)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        # HDH staff's turn: who is at the keyboard is asked first; Enter keeps Alice.
        await until(pilot, lambda: isinstance(app.screen, IdentityDialog))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        banner = _static_text(app, "#handover")
        assert "Prochaine étape : équipe HDH" in banner
        assert app.cat.t("step.share_with_hdh.title") in banner
        assert "il lui faudra les accès au stockage du HDH" in banner
        # Alice is at the keyboard: what she can do while HDH staff shares the files.
        assert f"vous pouvez faire : {app.cat.t('step.account.title')}" in banner


async def test_the_handover_follows_the_work_done(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.cat.t("step.anonymity.title") in _static_text(app, "#handover")
        assert "pour vous (partenaire)" in _static_text(app, "#handover")
        # The anonymity step committed (as its screen does), the home shown again.
        assert app.apply(lambda r: workflow.commit_step(r, StepId.ANONYMITY, {}, ALICE, NOW))
        home = app.screen
        assert isinstance(home, HomeScreen)
        home.show_release()
        await pilot.pause()
        assert app.cat.t("step.interoperability.title") in _static_text(app, "#handover")


async def test_a_big_base_previews_route_two_from_its_files_before_the_volume_step(
    tmp_path: Path,
) -> None:
    _big_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        route = _static_text(app, "#banner-route")
        assert "Cas 2" in route
        assert "aperçu" in route  # still a preview: the volume step decides
        checklist = app.screen.query_one(Checklist)
        ids = [checklist.get_option_at_index(i).id for i in range(checklist.option_count)]
        assert StepId.SHARE_WITH_HDH.value in ids
