"""What the state file could not give back is refused where it is typed (the command line, the
forms) and again at the save; what is read from it or from the disk is printed escaped."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Static

from hdh_wizard import project as projects
from hdh_wizard.cli.main import _name, main
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.release import DataFile, Person, Release, StepRecord
from hdh_wizard.core.state_file import (
    NAME_MAX,
    PERSON_MAX,
    UnsavableValueError,
    check_name,
    release_to_dict,
    save_release,
)
from hdh_wizard.core.steps import StepId
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.inspect.fingerprint import FileChange, FileChangeKind
from hdh_wizard.present.presenters import printable, resume_lines
from hdh_wizard.project import ResumeReport
from hdh_wizard.ui.screens.home import HomeScreen
from hdh_wizard.ui.screens.identity import IdentityDialog
from hdh_wizard.ui.screens.new_project import NewProjectScreen

from .conftest import build_sample_release
from .tui_helpers import ALICE, make_app, make_demo_project

FR = load_catalogue(Lang.FR)
EN = load_catalogue(Lang.EN)


def make_release() -> Release:
    return build_sample_release()


# --- the save ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "key"),
    [
        (lambda r: replace(r, name="Cohorte\n2012"), "name", "forbidden_character"),
        (lambda r: replace(r, name="   "), "name", "empty_value"),
        (lambda r: replace(r, name="x" * (NAME_MAX + 1)), "name", "value_too_long"),
        (
            lambda r: replace(r, actor=Person("Élodie\x1b[2J", r.actor.role)),
            "actor.name",
            "forbidden_character",
        ),
        (
            lambda r: replace(r, files=(*r.files, DataFile("a\x00b", 1, 1, "fp"))),
            f"files[{len(make_release().files) + 1}].path",
            "forbidden_character",
        ),
        (
            lambda r: replace(r, files=(DataFile("ok.csv", 2**63, 1, "fp"),)),
            "files[1].size",
            "invalid_value",
        ),
        (
            lambda r: replace(
                r, steps={**r.steps, StepId.CONTRACT: StepRecord(StepStatus.DONE, reason="?")}
            ),
            "steps.contract.reason",
            "invalid_value",
        ),
        (
            lambda r: replace(
                r, steps={**r.steps, StepId.CONTRACT: StepRecord(outputs={"n": float("inf")})}
            ),
            "steps.contract.outputs.n",
            "invalid_value",
        ),
    ],
    ids=["line-break", "blank", "too-long", "escape", "nul-path", "size", "reason", "infinity"],
)
def test_the_save_refuses_what_the_load_would_refuse_naming_the_field(
    tmp_path: Path, change: object, field: str, key: str
) -> None:
    release = change(make_release())  # type: ignore[operator]
    path = tmp_path / "hdh-release.yaml"

    with pytest.raises(UnsavableValueError) as caught:
        save_release(release, path)

    assert not path.exists()
    error = caught.value
    assert isinstance(error, ValueError)  # callers that catch ValueError still do
    assert error.key == f"state.unsaved_{key}"
    assert error.params["field"] == field
    for cat in (FR, EN):
        message = error.message(cat)
        assert field in message
        assert "\x1b" not in message and "\x00" not in message


def test_a_real_release_is_saved_as_before() -> None:
    release_to_dict(make_release())


# --- the command line ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("staff", "said"),
    [
        ("a\nb", "U+000A"),
        ("Élodie\x1b[31m", "U+001B"),
        ("\t", "U+0009"),
        (" ", "donnez votre nom"),
        ("", "donnez votre nom"),
        ("x" * (PERSON_MAX + 1), f"{PERSON_MAX} au plus"),
    ],
)
@pytest.mark.parametrize("command", ["publish", "transfer"])
def test_staff_names_the_state_file_could_not_hold_are_refused_by_the_parser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, staff: str, said: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--lang", "fr", command, str(tmp_path), "--staff", staff])

    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--staff" in err and said in err
    assert "\x1b" not in err


def test_a_staff_name_with_extra_spaces_is_joined() -> None:
    assert _name(FR)("  Élodie   Martin ") == "Élodie Martin"
    assert check_name("Élodie Martin", "--staff") == "Élodie Martin"


# --- the forms ------------------------------------------------------------------------------


async def test_the_new_project_form_refuses_names_the_state_file_could_not_hold(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, NewProjectScreen)
        error = screen.query_one("#new-error", Static)
        name = screen.query_one("#project-name", Input)
        actor = screen.query_one("#actor-name", Input)
        for project_name, person, said in [
            ("Cohorte\x1b[2J [/]", "Alice", "U+001B"),
            ("x" * (NAME_MAX + 1), "Alice", f"{NAME_MAX} au plus"),
            ("Cohorte [/] 2012", "Alice\x07 [b]", "U+0007"),
            ("Cohorte [/] 2012", "y" * (PERSON_MAX + 1), f"{PERSON_MAX} au plus"),
        ]:
            name.value = project_name
            actor.value = person
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, NewProjectScreen)
            assert said in str(error.render())
        assert not projects.has_project(tmp_path)

        actor.value = "Alice [Martin]"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    release = projects.read_project(tmp_path)
    assert (release.name, release.actor.name) == ("Cohorte [/] 2012", "Alice [Martin]")


async def test_the_identity_dialog_refuses_names_the_state_file_could_not_hold(
    tmp_path: Path,
) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        app.push_screen(IdentityDialog(ALICE))
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, IdentityDialog)
        dialog.query_one("#actor-name", Input).value = "Alice\x1b]0;titre\x07"
        dialog.query_one("#ok", Button).press()
        await pilot.pause()
        assert app.screen is dialog
        assert "U+001B" in str(dialog.query_one("#identity-error", Static).render())

        dialog.query_one("#actor-name", Input).value = "Alice [/] Martin"
        dialog.query_one("#ok", Button).press()
        await pilot.pause()
        assert app.screen is not dialog


# --- printed paths ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("donnees/patients.csv", "donnees/patients.csv"),
        ("Cohorte [/] é 🩺", "Cohorte [/] é 🩺"),
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("ligne 1\nligne 2", "ligne 1\\nligne 2"),
        ("Icon\r", "Icon\\r"),
        ("tab\tulé", "tab\\tulé"),
        ("\x9b31m", "\\x9b31m"),
        ("\u202etxt.exe", "\\u202etxt.exe"),
        ("x\u2028y", "x\\u2028y"),
    ],
)
def test_printable_shows_control_characters_escaped(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_resume_lines_print_changed_paths_escaped() -> None:
    changed = DataFile("donnees/\x1b]0;pwned\x07.csv", 1, 1, "fp")
    gone = DataFile("donnees/ligne\nfausse.csv", 1, 1, "fp")
    report = ResumeReport(
        changes=(
            FileChange(changed, FileChangeKind.MODIFIED),
            FileChange(gone, FileChangeKind.MISSING),
        )
    )

    text = "\n".join(resume_lines(FR, report))

    assert "\x1b" not in text and "\x07" not in text
    assert "donnees/\\x1b]0;pwned\\x07.csv" in text
    assert "donnees/ligne\\nfausse.csv" in text
    assert len(text.splitlines()) == 2


def test_status_prints_what_the_state_holds_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_demo_project(tmp_path)
    record = StepRecord(StepStatus.SKIPPED, reason="pas utile\rfaux")
    release = replace(project.release, steps={**project.release.steps, StepId.CONTRACT: record})
    save_release(release, project.state_path)

    assert main(["--lang", "fr", "status", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    assert "\r" not in out and "\x1b" not in out
    assert "pas utile\\rfaux" in out
