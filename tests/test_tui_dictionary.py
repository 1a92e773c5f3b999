"""The data dictionary screen: the columns read from the files, a description typed for the
highlighted one and written to publish/, found again on reopening; a partner's dictionary file
taken in by column name; unwritten descriptions never dropped by Esc without asking."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from textual.widgets import DataTable, Input, Static

from hdh_wizard.core.steps import StepId
from hdh_wizard.ui.screens.dialogs import ConfirmDialog
from hdh_wizard.ui.screens.dictionary import DictionaryScreen

from .tui_helpers import make_app, make_demo_project, until

DICTIONARY = "publish/dictionnaire-des-variables.csv"


def _description(folder: Path, name: str) -> str:
    text = (folder / DICTIONARY).read_text(encoding="utf-8")
    return next(
        r["description"] for r in csv.DictReader(io.StringIO(text)) if r["variable"] == name
    )


async def _open(app: object, pilot: object) -> DictionaryScreen:
    screen = DictionaryScreen()
    app.push_screen(screen)  # type: ignore[attr-defined]
    await until(pilot, lambda: screen.draft is not None and not screen.busy)  # type: ignore[arg-type]
    return screen


def _row_of(screen: DictionaryScreen, name: str) -> int:
    assert screen.draft is not None
    return next(i for i, v in enumerate(screen.draft.variables) if v.name == name)


async def test_a_description_typed_for_a_column_is_written_and_found_again(
    tmp_path: Path,
) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot)
        table = screen.query_one(DataTable)
        assert table.row_count == 12
        table.move_cursor(row=_row_of(screen, "breslow_mm"))
        await pilot.pause()
        assert "breslow_mm" in str(screen.query_one("#dictionary-column", Static).render())
        screen.query_one("#dictionary-description", Input).focus()
        await pilot.press(*"Épaisseur de Breslow")
        screen.query_one("#dictionary-unit", Input).focus()
        await pilot.press("m", "m")
        assert screen.dirty
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not screen.busy and not screen.dirty)
        result = str(screen.query_one("#dictionary-write-result", Static).render())
        assert "publish/dictionnaire-des-variables.csv" in result
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, DictionaryScreen))

        again = await _open(app, pilot)
        assert again.draft is not None
        breslow = again.draft.variables[_row_of(again, "breslow_mm")]
        assert (breslow.description, breslow.unit) == ("Épaisseur de Breslow", "mm")
    assert _description(tmp_path, "breslow_mm") == "Épaisseur de Breslow"


async def test_descriptions_are_taken_from_the_partners_dictionary_file(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    (tmp_path / "dico.csv").write_bytes(
        "Variable;Libellé\nsexe;Sexe déclaré\ninconnue;Rien\n".encode("cp1252")
    )
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot)
        screen.query_one("#dictionary-paste-path", Input).value = "dico.csv"
        screen.query_one("#dictionary-paste-path", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: not screen.busy)
        assert screen.draft is not None
        assert screen.draft.variables[_row_of(screen, "sexe")].description == "Sexe déclaré"
        message = str(screen.query_one("#dictionary-paste-result", Static).render())
        assert "1 colonne" in message and "1 description" in message


async def test_a_bad_dictionary_file_is_said_beside_its_field(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot)
        screen.query_one("#dictionary-paste-path", Input).value = "notes.csv"
        screen.query_one("#dictionary-paste").focus()  # below the table: scrolled to
        await pilot.press("enter")
        await until(pilot, lambda: not screen.busy)
        message = str(screen.query_one("#dictionary-paste-result", Static).render())
        assert "n'a pas de colonne reconnue" in message
        assert not (tmp_path / DICTIONARY).exists()


async def test_escape_asks_before_dropping_unwritten_descriptions(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot)
        screen.query_one("#dictionary-description", Input).focus()
        await pilot.press("x")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("escape")  # the question's own Esc: stay
        await until(pilot, lambda: app.screen is screen)
        assert screen.dirty
        assert screen.query_one("#dictionary-description", Input).value == "x"


async def test_the_dictionary_opens_from_the_deposit_documentation_and_says_its_state(
    tmp_path: Path,
) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_step(StepId.DEPOSIT)
        await pilot.pause()
        step = app.screen
        state = step.query_one("#doc-dictionary-state", Static)
        assert "pas encore écrit" in str(state.render())
        step.query_one("#doc-dictionary").focus()
        await pilot.press("enter")  # the real button, as a partner presses it
        await until(pilot, lambda: isinstance(app.screen, DictionaryScreen))
        screen = app.screen
        assert isinstance(screen, DictionaryScreen)
        await until(pilot, lambda: screen.draft is not None and not screen.busy)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not screen.busy and (tmp_path / DICTIONARY).exists())
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is step)
        assert "écrit et à jour" in str(state.render())
