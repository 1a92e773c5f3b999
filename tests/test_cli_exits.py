"""Honest exits: the wizard refuses to run without a terminal, and argparse speaks French."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hdh_wizard.cli.main import main
from hdh_wizard.core.lock import LOCK_FILE_NAME, ProjectLock
from tests.tui_helpers import make_demo_project

ROOT = Path(__file__).resolve().parent.parent


def test_without_a_terminal_the_wizard_refuses_and_names_the_headless_commands(
    tmp_path: Path,
) -> None:
    project = tmp_path / "projet"
    make_demo_project(project)
    out = tmp_path / "out.txt"
    with out.open("w") as stream:
        done = subprocess.run(
            [sys.executable, "-m", "hdh_wizard", str(project)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=stream,
            stderr=subprocess.STDOUT,
            timeout=60,
            check=False,
            env={"HDH_WIZARD_LANG": "fr", "PATH": "/usr/bin:/bin"},
        )
    text = out.read_text(encoding="utf-8")
    assert done.returncode == 2
    assert "terminal" in text and "hdh-wizard status" in text
    assert "\x1b[" not in text  # no escape codes written into the file
    with ProjectLock(project):  # the lock was not kept
        pass
    assert (project / LOCK_FILE_NAME).exists()


@pytest.mark.usefixtures("french_cli_in_tmp_path")
def test_argparse_errors_are_in_french(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "arguments obligatoires manquants : paths" in err
    assert "the following arguments" not in err


@pytest.mark.usefixtures("french_cli_in_tmp_path")
def test_argparse_errors_stay_english_with_lang_en(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--lang", "en", "risk", "x.csv", "--bogus"])
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


@pytest.mark.usefixtures("french_cli_in_tmp_path")
def test_an_invalid_choice_is_explained_in_french(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["keys", "oublier"])
    assert "choix invalide : 'oublier'" in capsys.readouterr().err


@pytest.mark.usefixtures("french_cli_in_tmp_path")
def test_the_demo_says_it_was_created_only_when_the_wizard_does_not_open_over_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["demo", str(tmp_path / "a"), "--no-open"]) == 0
    assert "démonstration" in capsys.readouterr().out
    monkeypatch.setattr("hdh_wizard.cli.tui.run_tui", lambda cat, folder: 0)
    assert main(["demo", str(tmp_path / "b")]) == 0
    # The wizard opened over the terminal: a line printed before it shows only once it is left.
    assert capsys.readouterr().out == ""
    assert (tmp_path / "b" / "hdh-release.yaml").is_file()
