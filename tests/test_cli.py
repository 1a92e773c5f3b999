"""The `hdh-wizard` command: help, version, status, demo, restore-backup, and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hdh_wizard import __version__
from hdh_wizard.cli.main import main
from hdh_wizard.core.state_file import STATE_FILE_NAME

from .tui_helpers import make_demo_project


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hdh_wizard", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )


def test_help_is_french_by_default_and_lists_the_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "usage :" in result.stdout
    for command in ("status", "demo", "restore-backup"):
        assert command in result.stdout
    assert "Health Data Hub" in result.stdout


def test_help_in_english_with_lang() -> None:
    result = run_cli("--lang", "en", "--help")
    assert "usage:" in result.stdout
    assert "prints the steps" in result.stdout


def test_help_does_not_import_the_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from hdh_wizard.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('textual', 'numpy', 'tifffile', 'polars') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_version() -> None:
    result = run_cli("--version")
    assert result.stdout.strip() == f"hdh-wizard {__version__}"


def test_unknown_option_is_a_usage_error_with_exit_code_2() -> None:
    result = run_cli("status", "--jsn")
    assert result.returncode == 2
    assert "erreur d'utilisation" in result.stderr


def test_status_prints_the_checklist(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    result = run_cli("status", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "I. Prérequis" in result.stdout
    assert "Contractualisation avec le Health Data Hub" in result.stdout
    assert "Prochaine étape : Anonymat des données" in result.stdout
    assert "1 Go = 1 000 000 000 octets" in result.stdout


def test_status_json_has_stable_ids(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    result = run_cli("status", str(tmp_path), "--json")
    doc = json.loads(result.stdout)
    assert doc["route"] == "direct"
    assert doc["next_step"] == "anonymity"
    assert doc["threshold_bytes"] == 10**9
    deposit = next(s for s in doc["steps"] if s["id"] == "deposit")
    assert deposit["number"] == "4"
    assert set(deposit["blocked_by"]) == {"contract", "organization", "anonymity", "volume"}


def test_status_without_project_says_so(tmp_path: Path) -> None:
    result = run_cli("status", str(tmp_path))
    assert result.returncode == 1
    assert "Aucun projet" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_on_a_broken_state_file_names_the_line(tmp_path: Path) -> None:
    (tmp_path / STATE_FILE_NAME).write_text("schema_version: 1\nname: [oops\n", encoding="utf-8")
    result = run_cli("status", str(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "ligne" in result.stderr


def test_demo_creates_a_project_without_opening(tmp_path: Path) -> None:
    result = run_cli("demo", "--no-open", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "hdh-wizard-demo"
    assert (folder / STATE_FILE_NAME).exists()
    assert (folder / "donnees" / "cohorte_melanome.csv").exists()
    again = run_cli("demo", "--no-open", cwd=tmp_path)
    assert again.returncode == 0


def test_restore_backup_puts_the_previous_state_back(tmp_path: Path) -> None:
    project = make_demo_project(tmp_path)
    from hdh_wizard import project as projects

    projects.save(project, project.release)
    state = tmp_path / STATE_FILE_NAME
    state.write_text("name: [broken\n", encoding="utf-8")
    assert main(["restore-backup", str(tmp_path)]) == 0
    assert projects.read_project(tmp_path).name == "Cohorte test"
    assert list(tmp_path.glob(f"{STATE_FILE_NAME}.broken-*"))


def test_second_wizard_on_the_same_project_is_refused(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    from hdh_wizard.project import acquire_lock

    lock = acquire_lock(tmp_path)
    try:
        result = run_cli(str(tmp_path))
    finally:
        lock.release()
    assert result.returncode == 1
    assert "déjà ouvert" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_main_returns_one_on_user_errors(tmp_path: Path, lang: str) -> None:
    assert main(["--lang", lang, "status", str(tmp_path / "nowhere")]) == 1


def test_an_internal_error_is_reported_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_demo_project(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("HOME", str(tmp_path))

    def broken(*_: object, **__: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr("hdh_wizard.cli.status.print_status", broken)
    assert main(["status", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "erreur interne inattendue" in err
    report = Path(err.split(" dans ")[1].split(" :")[0])
    assert "RuntimeError: boom" in report.read_text(encoding="utf-8")
