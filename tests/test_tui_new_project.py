"""Starting a release in the TUI: name, folder, data files, identity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.errors import NoWidget
from textual.widgets import Button, Input, Static

from hdh_wizard import project as projects
from hdh_wizard.core.enums import Role
from hdh_wizard.demo.generate import create_demo_data
from hdh_wizard.ui.screens.home import HomeScreen
from hdh_wizard.ui.screens.new_project import NewProjectScreen
from hdh_wizard.ui.widgets.file_picker import FilePicker

from .tui_helpers import ALICE, NOW, make_app, until


async def test_new_project_flow_creates_the_state_and_opens_the_checklist(
    tmp_path: Path,
) -> None:
    create_demo_data(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, NewProjectScreen)
        screen.query_one("#project-name", Input).value = "Cohorte VisioMel"
        path_field = screen.query_one("#file-path", Input)
        path_field.value = str(tmp_path / "donnees" / "cohorte_melanome.csv")
        path_field.focus()
        await pilot.press("enter")
        path_field.value = str(tmp_path / "donnees" / "lames")
        await pilot.press("enter")
        await pilot.pause()
        assert len(screen.query_one(FilePicker).chosen) == 2
        screen.query_one("#actor-name", Input).value = "Hugo Bernard"
        screen.query_one("#role-hdh_staff").scroll_visible(animate=False)
        await pilot.pause()
        await pilot.click("#role-hdh_staff")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    release = projects.read_project(tmp_path)
    assert release.name == "Cohorte VisioMel"
    assert [f.path for f in release.files] == ["donnees/cohorte_melanome.csv", "donnees/lames"]
    assert release.actor.role is Role.HDH_STAFF
    assert release.audit[0].action.value == "created"


async def test_new_project_refuses_a_missing_name_and_unknown_path(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        path_field = screen.query_one("#file-path", Input)
        path_field.value = str(tmp_path / "nulle-part.csv")
        path_field.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "Introuvable" in str(screen.query_one("#file-error", Static).render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, NewProjectScreen)
        assert "nom" in str(screen.query_one("#new-error", Static).render())
    assert not projects.has_project(tmp_path)


async def test_new_project_refuses_the_project_folder_itself_as_data(tmp_path: Path) -> None:
    create_demo_data(tmp_path)
    (tmp_path / "autre").mkdir()
    projects.create_project(tmp_path / "autre", "Autre", ALICE, [], NOW)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.query_one("#project-name", Input).value = "Cohorte"
        screen.query_one("#actor-name", Input).value = "Alice"
        path_field = screen.query_one("#file-path", Input)
        path_field.value = str(tmp_path / "autre")
        path_field.focus()
        await pilot.press("enter")
        await pilot.press("ctrl+s")
        await pilot.pause()
        messages = " ".join(n.message for n in app._notifications)
        assert "dossier d'un projet" in messages
        assert isinstance(app.screen, NewProjectScreen)
    assert not projects.has_project(tmp_path)


def _widgets_in_view(app: Any) -> set[Any]:
    """What the terminal shows, cell by cell (every widget drawn somewhere on it)."""
    width, height = app.size
    found = set()
    for y in range(height):
        for x in range(0, width, 2):
            try:
                widget, _ = app.screen.get_widget_at(x, y)
            except NoWidget:
                continue
            found.update([widget, *widget.ancestors])
    return found


async def test_a_refused_creation_shows_why_next_to_the_field_in_error_at_80x24(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, NewProjectScreen))
        screen = app.screen
        screen.query_one("#actor-name", Input).value = "Alice"
        screen.query_one("#create", Button).focus()  # down by the buttons, as after Tab
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = screen.query_one("#new-error", Static)
        name = screen.query_one("#project-name", Input)
        assert str(error.render()) == app.cat.t("error.project_name_required")
        await until(pilot, lambda: {error, name} <= _widgets_in_view(app))
        assert name.has_focus
        await pilot.press(*"Cohorte")  # typing goes where the error pointed
        assert name.value == "Cohorte"


async def test_a_refused_identity_is_shown_next_to_it_at_80x24(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, NewProjectScreen))
        screen = app.screen
        screen.query_one("#project-name", Input).value = "Cohorte"
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = screen.query_one("#new-error", Static)
        actor = screen.query_one("#actor-name", Input)
        assert str(error.render()) == app.cat.t("identity.name_required")  # "Indiquez votre nom."
        await until(pilot, lambda: {error, actor} <= _widgets_in_view(app))
        assert actor.has_focus
