"""The contract step screen: the pattern every step screen follows."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Checkbox, Input, Markdown

from hdh_wizard import project as projects
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.steps import StepId
from hdh_wizard.ui.screens.home import HomeScreen
from hdh_wizard.ui.steps.contract import ContractStepScreen
from hdh_wizard.ui.widgets.checks import ChecksPanel

from .tui_helpers import make_app, make_demo_project


async def _open_contract(app: object, pilot: object) -> ContractStepScreen:
    app.open_step(StepId.CONTRACT)  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, ContractStepScreen)
    return screen


def _fill(screen: ContractStepScreen, **values: str) -> None:
    for name, value in values.items():
        screen.query_one(f"#{name}", Input).value = value


async def test_contract_screen_quotes_the_guide(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await _open_contract(app, pilot)
        markdown = screen.query_one(Markdown)
        assert "Contractualisation" in markdown.source


async def test_contract_commit_is_refused_until_every_check_passes(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await _open_contract(app, pilot)
        _fill(screen, reference="HDH-OD-2024-017", signed_on="31/02/2024")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ContractStepScreen)
        panel = str(screen.query_one(ChecksPanel).render())
        assert "✗ Date de signature valide" in panel
        assert "✓ Référence du contrat" in panel
    assert projects.read_project(tmp_path).record(StepId.CONTRACT).status is StepStatus.TODO


async def test_contract_commit_writes_the_state(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await _open_contract(app, pilot)
        _fill(
            screen,
            reference="HDH-OD-2024-017",
            signed_on="15/01/2024",
            partner_signatory="Dr Claire Petit, directrice",
            hdh_signatory="Jean Durand, HDH",
        )
        screen.query_one("#confirmed", Checkbox).value = True
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    saved = projects.read_project(tmp_path)
    record = saved.record(StepId.CONTRACT)
    assert record.status is StepStatus.DONE
    assert record.outputs["signed_on"] == "2024-01-15"
    assert record.outputs["hdh_signatory"] == "Jean Durand, HDH"
    assert saved.audit[-1].action.value == "committed"
    # Each commit refreshes the release dossier kept for HDH.
    dossier = (tmp_path / "rapport" / "dossier-ouverture.html").read_text(encoding="utf-8")
    assert "HDH-OD-2024-017" in dossier


async def test_contract_draft_is_kept_and_reloaded(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_contract(app, pilot)
        _fill(screen, reference="HDH-OD-2024-017", signed_on="15/01/2024")
        await pilot.press("ctrl+d")
        await pilot.pause()
    saved = projects.read_project(tmp_path)
    assert saved.record(StepId.CONTRACT).status is StepStatus.IN_PROGRESS
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_contract(app, pilot)
        assert screen.query_one("#reference", Input).value == "HDH-OD-2024-017"
        assert screen.query_one("#signed_on", Input).value == "15/01/2024"


async def test_contract_screen_fits_80x24_with_the_guide_folded_above(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_contract(app, pilot)
        assert screen.has_class("-narrow")
        assert not screen.query_one("#step-help").display  # folded: the form keeps the rows
        await pilot.press("f1")
        await pilot.pause()
        assert screen.query_one("#step-help").display
