"""The anonymity step screen: roles proposed, what-if generalisation, justification, attestation."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Input, Select, Static, TextArea

from hdh_wizard import project as projects
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.steps import StepId
from hdh_wizard.inspect.risk.analysis import Criterion
from hdh_wizard.inspect.risk.identifiers import Role
from hdh_wizard.ui.app import HdhWizardApp
from hdh_wizard.ui.steps.anonymity import AnonymityStepScreen

from .tui_helpers import make_app, make_demo_project, until

SIZE = (140, 60)


async def _open(app: HdhWizardApp, pilot: Pilot[None]) -> AnonymityStepScreen:
    app.open_step(StepId.ANONYMITY)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, AnonymityStepScreen)
    await until(pilot, lambda: bool(screen.risks) and not screen.working)
    return screen


def _text(screen: AnonymityStepScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def _select_column(screen: AnonymityStepScreen, column: str) -> None:
    table = screen.query_one("#risk-columns", DataTable)
    table.move_cursor(row=table.get_row_index(column))


async def _idle(pilot: Pilot[None], screen: AnonymityStepScreen) -> None:
    """Edits are locked while copies are written, as the partner sees the fields disabled."""
    await until(pilot, lambda: not screen.writing)


async def test_the_demo_table_is_scanned_roles_proposed_and_measured(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        assert [ref.name for ref in screen.refs] == ["donnees/cohorte_melanome.csv"]
        scan = screen.scans["donnees/cohorte_melanome.csv"]
        assert scan.roles["sexe"] is Role.QUASI
        assert scan.roles["stade_pronostique"] is Role.SENSITIVE
        assert len(screen.images) == 3
        measures = screen.query_one("#risk-measures", DataTable)
        assert measures.row_count > 5
        risk = screen.risks["donnees/cohorte_melanome.csv"]
        assert risk.original.records == 800
        # The demo's lone patient from Lozère, with an exact date of diagnosis: singled out.
        assert not risk.excluded(Criterion.SINGLING_OUT)
        criterion = _text(screen, "#criterion-singling_out")
        assert "Individualisation" in criterion and "non exclue" in criterion


async def test_generalising_measures_side_by_side_and_writes_the_copy_to_publish(
    tmp_path: Path,
) -> None:
    make_demo_project(tmp_path)
    original = (tmp_path / "donnees" / "cohorte_melanome.csv").read_bytes()
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        await _idle(pilot, screen)
        _select_column(screen, "date_diagnostic")
        await pilot.pause()
        await _idle(pilot, screen)
        screen.query_one("#risk-rule", Select).value = "year"
        await pilot.pause()
        name = "donnees/cohorte_melanome.csv"
        # Measures shown are always those of the current choice: gone until measured again.
        measured = next(c for c in screen.step_checks() if c.key == "risk.check.measured")
        if name in screen.risks:  # a slow machine: the live measure already ran
            assert screen.risks[name].choice == screen.choices[name]
        else:
            assert not measured.ok
        await _idle(pilot, screen)
        _select_column(screen, "age_diagnostic")
        await pilot.pause()
        await _idle(pilot, screen)
        screen.query_one("#risk-rule", Select).value = "age_10"
        await pilot.pause()
        await _idle(pilot, screen)
        _select_column(screen, "departement")
        await pilot.pause()
        await _idle(pilot, screen)
        screen.query_one("#risk-min-count", Input).value = "20"
        await _idle(pilot, screen)
        screen.query_one("#risk-rule", Select).value = "group_rare"
        # A small table is measured again by itself once the edits pause.
        # Three rules on top of the proposed removals (id_patient, id_lame: persistent ids).
        wanted = {"date_diagnostic", "age_diagnostic", "departement"}
        await until(
            pilot,
            lambda: (
                name in screen.risks
                and wanted <= {r.column for r in screen.risks[name].choice.rules}
            ),
        )
        risk = screen.risks[name]
        assert {(r.column, r.coarsening.value, r.min_count) for r in risk.choice.rules} >= {
            ("date_diagnostic", "year", 0),
            ("age_diagnostic", "age_10", 0),
            ("departement", "group_rare", 20),
        }
        assert risk.published is not None
        assert risk.published.classes < risk.original.classes
        assert risk.published.unique_records < risk.original.unique_records
        rows = screen.query_one("#risk-measures", DataTable)
        assert str(rows.get_row_at(0)[2]) != "—"  # the "after" column is filled
        screen.query_one("#risk-export").press()
        copy = tmp_path / "publish" / "donnees_cohorte_melanome_anonymise.csv"
        await until(pilot, lambda: name in screen.replacements and not screen.working)
        assert copy.exists()
        assert (tmp_path / "donnees" / "cohorte_melanome.csv").read_bytes() == original
        header = copy.read_text("utf-8").splitlines()[0]
        assert "date_diagnostic" in header


async def test_commit_needs_justifications_and_the_attestation_then_writes_the_report(
    tmp_path: Path,
) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, AnonymityStepScreen)  # refused: nothing justified yet
        for criterion in Criterion:
            screen.query_one(f"#justify-{criterion.value}", TextArea).text = (
                f"Justification du critère {criterion.value} : accès restreint, données "
                "agrégées par le consortium, risque jugé négligeable avec des moyens raisonnables."
            )
        screen.query_one("#attest-role", Input).value = "Responsable des données"
        screen.query_one("#attest-organization", Input).value = "Consortium VisioMel"
        await pilot.pause()
        failing = [c.key for c in screen.all_checks() if not c.ok]
        # The proposed removals (id_patient, id_lame) hold only once the copy is written.
        assert failing == ["risk.check.copies", "risk.check.attestation"]
        screen.query_one("#risk-export").press()
        name = "donnees/cohorte_melanome.csv"
        await until(pilot, lambda: name in screen.replacements and not screen.working)
        failing = [c.key for c in screen.all_checks() if not c.ok]
        assert failing == ["risk.check.attestation"]  # not confirmed yet
        screen.query_one("#attest-confirm", Checkbox).value = True
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, AnonymityStepScreen)
    release = projects.read_project(tmp_path)
    record = release.record(StepId.ANONYMITY)
    assert record.status is StepStatus.DONE
    outputs = record.outputs
    assert outputs["attestation"]["organization"] == "Consortium VisioMel"
    assert outputs["attestation"]["name"] == "Alice Martin"
    assert outputs["criteria"]["singling_out"]["excluded"] is False
    assert "accès restreint" in outputs["criteria"]["singling_out"]["justification"]
    table = outputs["tables"][0]
    assert table["table"] == "donnees/cohorte_melanome.csv"
    assert table["original"]["records"] == 800
    assert sorted(outputs["documents"]) == [
        "rapport/analyse-risque-reidentification.html",
        "rapport/analyse-risque-reidentification.md",
    ]
    report = (tmp_path / "rapport" / "analyse-risque-reidentification.md").read_text("utf-8")
    assert "Consortium VisioMel" in report


async def test_a_draft_brings_back_roles_rules_and_justifications(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        await _idle(pilot, screen)
        _select_column(screen, "age_diagnostic")
        await pilot.pause()
        await _idle(pilot, screen)
        screen.query_one("#role-other").press()
        await pilot.pause()
        await _idle(pilot, screen)
        screen.query_one("#risk-rule", Select).value = "age_5"
        await pilot.pause()
        screen.query_one("#justify-inference", TextArea).text = "Stade : diffusé par catégories."
        await pilot.press("ctrl+d")
        await pilot.pause()
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        choice = screen.choices["donnees/cohorte_melanome.csv"]
        assert "age_diagnostic" not in choice.quasi
        assert [r.coarsening.value for r in choice.rules if r.column == "age_diagnostic"] == [
            "age_5"
        ]
        text = screen.query_one("#justify-inference", TextArea).text
        assert text == "Stade : diffusé par catégories."


async def test_the_slide_with_a_label_gets_a_clean_copy_to_publish_instead(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        dirty = [image for image in screen.images if image.findings]
        assert len(dirty) == 1
        rules = {f.rule.value for f in dirty[0].findings}
        assert {"label_image", "date_in_text"} <= rules
        assert "03/12/21" not in _text(screen, "#risk-images")  # masked: 99/99/99
        assert screen.query_one("#risk-clean-images").display
        screen.query_one("#risk-clean-images").press()
        await until(pilot, lambda: dirty[0].path in screen.replacements and not screen.working)
        copy = screen.replacements[dirty[0].path].output
        assert copy.parent == tmp_path / "publish" and copy.exists()
        assert copy.name == Path(dirty[0].path).name  # the slide keeps its name
        # The button stays where it was (with the focus); pressed again, it says why not.
        screen.query_one("#risk-clean-images").press()
        await pilot.pause()
        assert "déjà" in _text(screen, "#risk-clean-result")
        report = screen.report()
        assert report is not None and not report.images_left


async def test_a_removed_column_stays_removed_and_copies_come_back_with_the_draft(
    tmp_path: Path,
) -> None:
    make_demo_project(tmp_path)
    name = "donnees/cohorte_melanome.csv"
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        await _idle(pilot, screen)
        _select_column(screen, "id_patient")
        await pilot.pause()
        await _idle(pilot, screen)
        screen.query_one("#role-direct").press()
        await pilot.pause()
        await _idle(pilot, screen)
        screen.query_one("#risk-min-count", Input).value = "²"  # AZERTY's first key: no crash
        await pilot.pause()
        assert "id_patient" in screen.choices[name].dropped
        await until(pilot, lambda: name in screen.risks and not screen.working)
        screen.query_one("#risk-export").press()
        await until(pilot, lambda: name in screen.replacements and not screen.working)
        await pilot.press("ctrl+d")
        await pilot.pause()
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        copy = screen.replacements[name].output
        assert copy.exists()
        assert "id_patient" not in copy.read_text("utf-8").splitlines()[0]
        await _idle(pilot, screen)
        _select_column(screen, "sexe")
        await pilot.pause()
        await _idle(pilot, screen)
        screen.query_one("#role-other").press()  # a new choice: the old copy is withdrawn
        await pilot.pause()
        assert name not in screen.replacements
        assert not copy.exists()


async def test_a_found_solution_applied_with_enter_becomes_the_rules_and_excludes_singling_out(
    tmp_path: Path,
) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    name = "donnees/cohorte_melanome.csv"
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        assert not screen.risks[name].excluded(Criterion.SINGLING_OUT)
        screen.query_one("#risk-search").press()
        await until(pilot, lambda: name in screen.searches and not screen.working)
        found = screen.searches[name]
        assert found.result.solutions and found.result.optimal
        solutions = screen.query_one("#risk-solutions", DataTable)
        assert solutions.display and solutions.row_count == len(found.result.solutions)
        assert "prouvée optimale" in _text(screen, "#risk-search-status")
        solutions.focus()
        solutions.move_cursor(row=0)
        await pilot.press("enter")
        best = found.result.solutions[0]
        wanted = set(found.rules_of(best))
        await until(
            pilot,
            lambda: name in screen.risks and wanted <= set(screen.risks[name].choice.rules),
        )
        risk = screen.risks[name]
        assert risk.final.k >= 11 and risk.final.k == best.smallest
        assert risk.excluded(Criterion.SINGLING_OUT)
        assert risk.excluded(Criterion.INFERENCE)  # the search meets the inference bound too
        assert solutions.row_count == len(found.result.solutions)  # the others stay on offer


async def test_a_search_edited_away_is_not_shown_for_the_new_choice(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    name = "donnees/cohorte_melanome.csv"
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        screen.query_one("#risk-search").press()
        await until(pilot, lambda: name in screen.searches and not screen.working)
        _select_column(screen, "sexe")
        screen.query_one("#role-other").press()
        await pilot.pause()
        assert name not in screen.searches
        assert not screen.query_one("#risk-solutions", DataTable).display


async def test_leaving_an_untouched_measured_step_asks_nothing_and_a_role_changed_asks(
    tmp_path: Path,
) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        await pilot.pause()
        # The scan proposed roles and measured them: no work of the partner's to lose.
        assert not screen.has_unsaved_changes()
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, AnonymityStepScreen))

        screen = await _open(app, pilot)
        _select_column(screen, "site_primaire")
        await pilot.pause()
        screen.query_one("#role-quasi").press()
        await until(pilot, lambda: screen.has_unsaved_changes())
        await pilot.press("escape")
        await until(pilot, lambda: type(app.screen).__name__ == "LeaveDialog")
