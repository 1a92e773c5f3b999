"""The focus stays on the button pressed, and each action's result shows beside its button:
"Ajouter les mots clés suggérés" (deposit, against the real local udata), "Tirer l'échantillon"
(prepare the data) and "Tester la connexion" (share with HDH, against the local S3 server)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.containers import VerticalScroll
from textual.widgets import Button, DataTable, Input, Static

from hdh_wizard.core.steps import StepId
from hdh_wizard.ui.steps.deposit import DepositStepScreen
from hdh_wizard.ui.steps.prepare_data import PrepareDataStepScreen
from tests import prepare_helpers
from tests.portal_helpers import keyed_portal, release_ready_for_portal, session_portal
from tests.s3_local import ANY_SECRET
from tests.storage_helpers import SHARE_POLL, SHARE_SIZE, fill, hosted_project, open_share
from tests.tui_helpers import make_app, until
from tests.udata_local.server import UdataServer


def form_scroll(screen: object) -> float:
    return float(screen.query_one("#step-form", VerticalScroll).scroll_y)  # type: ignore[attr-defined]


def scroll_settled(screen: object) -> Callable[[], bool]:
    """A condition for `until`: the form's scroll no longer moves (its animation, scrolling to
    the focused widget, is over)."""
    last = [-1.0]

    def settled() -> bool:
        now = form_scroll(screen)
        same, last[0] = now == last[0], now
        return same

    return settled


async def test_adding_the_suggested_tags_keeps_the_focus_on_the_button(
    tmp_path: Path, udata_server: UdataServer
) -> None:
    release_ready_for_portal(tmp_path, udata_server)
    app = make_app(tmp_path, portal=keyed_portal(udata_server))
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_step(StepId.DEPOSIT)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DepositStepScreen)
        await until(pilot, lambda: screen.lists is not None)
        button = screen.query_one("#doc-add-tags", Button)
        button.focus()
        await until(pilot, scroll_settled(screen), every=0.2)
        scrolled = form_scroll(screen)
        assert scrolled > 0  # the button is below the fold at 120×36

        await pilot.press("enter")
        await pilot.pause()

        assert "hdh" in screen.query_one("#doc-tags", Input).value
        assert screen.focused is button
        await until(pilot, scroll_settled(screen), every=0.2)
        assert form_scroll(screen) == scrolled
        advice = str(screen.query_one("#doc-tag-advice", Static).render())
        assert advice  # the result, beside the button
        # The next key goes on from the button, not from the top of the form.
        await pilot.press("tab")
        await pilot.pause()
        assert screen.focused is not None and screen.focused.id != "doc-title"
        assert form_scroll(screen) >= scrolled - 1


async def test_drawing_the_sample_keeps_the_focus_on_its_button(tmp_path: Path) -> None:
    prepare_helpers.hosted_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_step(StepId.PREPARE_DATA)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PrepareDataStepScreen)
        await until(pilot, lambda: bool(screen.choices.tables) and not screen.working)
        screen.query_one("#prep-size", Input).value = "40"
        screen.query_one("#prep-seed", Input).value = "2026"
        button = screen.query_one("#prep-sample", Button)
        button.focus()
        await pilot.pause()
        scrolled = form_scroll(screen)
        assert scrolled > 0

        await pilot.press("enter")
        await pilot.pause()
        await until(pilot, lambda: not screen.working and bool(screen.preparation.files))
        # Given back once the results are laid out.
        await until(pilot, lambda: screen.focused is button)
        # Where it was, not at the top: the button in view.
        form = screen.query_one("#step-form", VerticalScroll)
        await until(pilot, lambda: form.region.contains_region(button.region))
        assert form_scroll(screen) > 0
        result = str(screen.query_one("#prep-sample-result", Static).render())
        assert "graine 2026" in result
        result_y = screen.query_one("#prep-sample-result").region.y
        assert 0 < result_y - button.region.y <= 4  # right under the button


async def test_the_connection_result_shows_under_its_button_not_under_the_files(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    hosted_project(tmp_path)
    app = make_app(tmp_path, portal=session_portal())
    async with app.run_test(size=SHARE_SIZE) as pilot:
        screen = await open_share(app, pilot)
        fill(screen, s3_server, bucket, ANY_SECRET)
        button = screen.query_one("#storage-test", Button)
        button.focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen.connection is not None, every=SHARE_POLL)
        await pilot.pause()

        result = screen.query_one("#storage-test-result", Static)
        assert "Connexion réussie" in str(result.render())
        assert screen.focused is button
        files = screen.query_one("#hosting-files", DataTable)
        assert button.region.y < result.region.y < files.region.y
        assert "Connexion réussie" not in str(screen.query_one("#hosting-status", Static).render())
