"""`hdh-wizard keys`: what is stored and forgetting it, against the real Secret Service and on a
server without a keyring — never a value printed, exit codes 0 / 1 / 2."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import SecretService

from hdh_wizard.cli.main import main
from hdh_wizard.services.secrets import SecretKind, SecretStore
from tests.keyring_helpers import (
    DEMO,
    DEMO_KEY,
    NEEDS_SECRET_SERVICE,
    PROD_KEY,
    PRODUCTION,
    S3,
    STORAGE_SECRET,
    SecretServiceSession,
)

VALUES = (DEMO_KEY, PROD_KEY, STORAGE_SECRET)


def run_keys(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The installed command, in a fresh process: keyring picks its backend as for a user."""
    result = subprocess.run(
        [sys.executable, "-m", "hdh_wizard", "keys", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    for value in VALUES:
        assert value not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture
def desktop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretServiceSession]:
    """A desktop session whose keyring holds the keys the wizard stored for three addresses."""
    with SecretServiceSession(tmp_path / "home") as session:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session.address)
        session.start()
        store = SecretStore(environ={}, backend=SecretService.Keyring())
        store.save(SecretKind.API_KEY, DEMO, DEMO_KEY)
        store.save(SecretKind.API_KEY, PRODUCTION, PROD_KEY)
        store.save(SecretKind.STORAGE_SECRET, S3, STORAGE_SECRET)
        yield session


@pytest.fixture
def headless_server(tmp_path: Path) -> dict[str, str]:
    """A server without a desktop: no D-Bus session, so no Secret Service."""
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(tmp_path)}


# --- with the system keyring ---------------------------------------------------------------------


@NEEDS_SECRET_SERVICE
def test_keys_list_shows_the_stored_addresses_and_never_a_value(
    desktop: SecretServiceSession,
) -> None:
    result = run_keys(env=desktop.environ())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Trousseau du système : SecretService Keyring",
        "Clés enregistrées (3) :",
        f"  • {DEMO} — clé d'API",
        f"  • {PRODUCTION} — clé d'API",
        f"  • {S3} — secret du stockage",
    ]
    english = run_keys("list", "--lang", "en", env=desktop.environ())
    assert "Stored keys (3):" in english.stdout and f"{S3} — storage secret" in english.stdout


@NEEDS_SECRET_SERVICE
def test_keys_forget_one_address_then_all_then_nothing_is_left(
    desktop: SecretServiceSession,
) -> None:
    env = desktop.environ()
    forgotten = run_keys("forget", "Demo.Data.Gouv.fr/", env=env)
    assert forgotten.returncode == 0, forgotten.stderr
    assert f"Oubliée : clé d'API de {DEMO}" in forgotten.stdout

    again = run_keys("forget", DEMO, env=env)
    assert again.returncode == 1
    assert f"Rien n'est enregistré pour {DEMO}." in again.stderr

    everything = run_keys("forget", "--all", env=env)
    assert everything.returncode == 0, everything.stderr
    assert f"Oubliée : clé d'API de {PRODUCTION}" in everything.stdout
    assert f"Oubliée : secret du stockage de {S3}" in everything.stdout

    listing = run_keys("list", env=env)
    assert listing.returncode == 0
    assert "Aucune clé n'est enregistrée dans le trousseau." in listing.stdout
    assert [a for a in desktop.items() if a["service"].startswith("hdh-wizard")] == []
    assert run_keys("forget", "--all", env=env).stdout.endswith("Aucune clé n'était enregistrée.\n")


@NEEDS_SECRET_SERVICE
def test_forgetting_says_that_the_environment_variable_still_gives_a_key(
    desktop: SecretServiceSession,
) -> None:
    env = {**desktop.environ(), "HDH_WIZARD_API_KEY": DEMO_KEY}
    result = run_keys("forget", DEMO, env=env)
    assert result.returncode == 0
    assert (
        "HDH_WIZARD_API_KEY reste définie : retirez-la (unset HDH_WIZARD_API_KEY)" in result.stdout
    )
    listing = run_keys(env=env)
    assert "HDH_WIZARD_API_KEY est définie : c'est elle qui sert" in listing.stdout


@NEEDS_SECRET_SERVICE
def test_a_locked_keyring_is_explained_with_exit_code_1(desktop: SecretServiceSession) -> None:
    desktop.lock_default_collection()
    result = run_keys("list", "--lang", "en", env=desktop.environ())
    assert result.returncode == 1
    assert "The system keyring is locked and could not be unlocked" in result.stderr
    assert "HDH_WIZARD_API_KEY" in result.stderr


# --- without a keyring ---------------------------------------------------------------------------


def test_on_a_headless_server_keys_says_there_is_no_keyring_and_gives_the_fallbacks(
    headless_server: dict[str, str],
) -> None:
    result = run_keys(env=headless_server)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Aucun trousseau du système n'est disponible ici" in result.stderr
    assert "read -rs HDH_WIZARD_API_KEY && export HDH_WIZARD_API_KEY" in result.stderr
    assert "taper la clé à chaque session" in result.stderr
    assert list(Path(headless_server["HOME"]).rglob("*")) == []


def test_a_disabled_keyring_is_named_as_such(headless_server: dict[str, str]) -> None:
    env = {**headless_server, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    result = run_keys("forget", "--all", "--lang", "en", env=env)
    assert result.returncode == 1
    assert "The keyring has been disabled" in result.stderr


def test_on_a_headless_server_the_environment_variable_is_acknowledged_never_shown(
    headless_server: dict[str, str],
) -> None:
    result = run_keys(env={**headless_server, "HDH_WIZARD_API_KEY": PROD_KEY})
    assert "La variable d'environnement HDH_WIZARD_API_KEY est définie" in result.stdout
    assert result.returncode == 1  # still no keyring to list


# --- usage errors: exit code 2, nothing touched --------------------------------------------------


@pytest.mark.usefixtures("french_cli_in_tmp_path")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["forget"], "indiquez l'adresse dont oublier les clés, ou --all pour toutes"),
        (["forget", DEMO, "--all"], "indiquez une adresse ou --all, pas les deux"),
        (["list", DEMO], "list ne prend ni adresse ni --all"),
        (
            ["forget", "ftp://files.example.org"],
            "« ftp://files.example.org » n'est pas une adresse",
        ),
    ],
)
def test_a_misused_keys_command_is_a_usage_error(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", *args]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.usefixtures("french_cli_in_tmp_path")
def test_an_unknown_keys_action_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as leaving:
        main(["keys", "erase"])
    assert leaving.value.code == 2
    assert "'erase'" in capsys.readouterr().err
