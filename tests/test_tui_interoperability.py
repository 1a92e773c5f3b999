"""The interoperability step screen: inventory, verdicts, conversion with progress, commit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static

from hdh_wizard import project as projects
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.steps import StepId
from hdh_wizard.ui.steps import interoperability
from hdh_wizard.ui.steps.interoperability import InteroperabilityStepScreen
from tests.tui_helpers import make_app, make_demo_project, until


async def _open(app: object, pilot: object) -> InteroperabilityStepScreen:
    app.open_step(StepId.INTEROPERABILITY)  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, InteroperabilityStepScreen)
    return screen


async def test_interoperability_lists_every_file_with_its_verdict(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await _open(app, pilot)
        await until(pilot, lambda: screen.reports)
        table = screen.query_one(DataTable)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert any(name.endswith("cohorte_melanome.csv") for name in names)
        assert any(name.endswith(".tif") or name.endswith(".tiff") for name in names)
        detail = str(screen.query_one("#file-detail", Static).render())
        assert "SHA-256" in detail


async def test_interoperability_converts_then_commits_the_files_to_publish(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    csv_path = tmp_path / "donnees" / "cohorte_melanome.csv"
    original = csv_path.read_bytes()
    french = original.replace(b",", b";").replace(b"\n", b"\r\n")
    csv_path.write_bytes(french)
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await _open(app, pilot)
        await until(pilot, lambda: screen.reports)
        assert any(r.verdict.value == "fixable" for r in screen.reports)
        await pilot.click("#convert")
        await until(pilot, lambda: screen.outputs)
        assert (tmp_path / "publish" / "donnees_cohorte_melanome.csv").exists()
        assert csv_path.read_bytes() == french  # the original is untouched
        await pilot.press("ctrl+s")
        await pilot.pause()
    release = projects.read_project(tmp_path)
    record = release.record(StepId.INTEROPERABILITY)
    assert record.status is StepStatus.DONE
    published = [f["path"] for f in record.outputs["publish"]]
    assert "publish/donnees_cohorte_melanome.csv" in published
    assert "donnees/cohorte_melanome.csv" not in published
    assert all(len(f["sha256"]) == 64 for f in record.outputs["publish"])


async def test_interoperability_cancel_removes_the_copies_already_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_demo_project(tmp_path)
    csv_path = tmp_path / "donnees" / "cohorte_melanome.csv"
    csv_path.write_bytes(csv_path.read_bytes().replace(b",", b";"))
    real_convert = interoperability.convert

    def convert_then_cancel(*args: Any, **kwargs: Any) -> Any:
        written = real_convert(*args, **kwargs)  # a copy exists…
        args[3].cancel()  # …when the user presses cancel, before the copies are re-checked
        return written

    monkeypatch.setattr(interoperability, "convert", convert_then_cancel)
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await _open(app, pilot)
        await until(pilot, lambda: screen.reports)
        await pilot.click("#convert")
        await until(pilot, lambda: not screen.query_one("#interop-work").display)
        assert screen.outputs == []
        publish = tmp_path / "publish"
        assert not publish.exists() or not any(publish.iterdir())
