"""Secrets: API keys kept in the real Secret Service (gnome-keyring on a private D-Bus), the
environment variable and the typed-each-session fallbacks where no keyring exists, and no secret
ever on disk in clear, in a message or in a repr."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import SecretService, chainer, fail, null
from keyring.errors import PasswordSetError

from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.secrets import (
    ENV_VARS,
    KeySource,
    Secret,
    SecretError,
    SecretKind,
    SecretNotSavedError,
    SecretStore,
    mask,
    normalize_url,
)
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

FR = load_catalogue(Lang.FR)
EN = load_catalogue(Lang.EN)


@pytest.fixture
def secret_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SecretServiceSession]:
    """The real Secret Service, for this test only; secretstorage in this process talks to it."""
    with SecretServiceSession(tmp_path / "home") as session:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session.address)
        session.start()
        yield session


def secret_service_store(environ: dict[str, str] | None = None) -> SecretStore:
    return SecretStore(environ=environ or {}, backend=SecretService.Keyring())


# --- the real Secret Service ----------------------------------------------------------------------


@NEEDS_SECRET_SERVICE
def test_a_key_saved_once_is_found_by_the_next_run_even_after_the_keyring_restarts(
    secret_service: SecretServiceSession,
) -> None:
    first_run = secret_service_store()
    status = first_run.status()
    assert status.available and status.reason_key == "secrets.reason.available"
    assert "SecretService" in status.backend
    assert (
        first_run.save(SecretKind.API_KEY, "https://Demo.Data.Gouv.FR/", DEMO_KEY)
        is KeySource.KEYRING
    )

    assert secret_service_store().get(SecretKind.API_KEY, DEMO) == Secret(
        DEMO_KEY, KeySource.KEYRING
    )
    secret_service.restart()
    next_day = secret_service_store()
    assert next_day.get(SecretKind.API_KEY, DEMO) == Secret(DEMO_KEY, KeySource.KEYRING)
    assert next_day.get(SecretKind.API_KEY, PRODUCTION) is None
    assert next_day.stored() == [(SecretKind.API_KEY, DEMO)]
    # Really in gnome-keyring, under the portal's URL, as another keyring tool would show it.
    entries = {(a["service"], a["username"]) for a in secret_service.items()}
    assert ("hdh-wizard/api_key", DEMO) in entries


@NEEDS_SECRET_SERVICE
def test_no_secret_is_written_in_clear_under_home(secret_service: SecretServiceSession) -> None:
    store = secret_service_store()
    store.save(SecretKind.API_KEY, DEMO, DEMO_KEY)
    store.save(SecretKind.STORAGE_SECRET, S3, STORAGE_SECRET)
    secret_service.stop()  # the daemon has written its keyring file
    keyring_files = list((secret_service.home / ".local" / "share" / "keyrings").glob("*.keyring"))
    assert keyring_files, "gnome-keyring should have written its (encrypted) keyring file"
    for secret in (DEMO_KEY, STORAGE_SECRET, DEMO_KEY[-12:], STORAGE_SECRET[-12:]):
        assert secret_service.files_holding(secret) == []


@NEEDS_SECRET_SERVICE
def test_forget_removes_one_portal_and_forget_all_every_entry_of_the_program(
    secret_service: SecretServiceSession,
) -> None:
    store = secret_service_store()
    store.save(SecretKind.API_KEY, DEMO, DEMO_KEY)
    store.save(SecretKind.API_KEY, PRODUCTION, PROD_KEY)
    store.save(SecretKind.STORAGE_SECRET, S3, STORAGE_SECRET)
    assert store.stored() == [
        (SecretKind.API_KEY, DEMO),
        (SecretKind.API_KEY, PRODUCTION),
        (SecretKind.STORAGE_SECRET, S3),
    ]

    assert store.forget(SecretKind.API_KEY, DEMO + "/") is True
    assert store.forget(SecretKind.API_KEY, DEMO) is False
    assert store.get(SecretKind.API_KEY, DEMO) is None
    assert secret_service_store().stored() == [
        (SecretKind.API_KEY, PRODUCTION),
        (SecretKind.STORAGE_SECRET, S3),
    ]

    assert secret_service_store().forget_all() == [
        (SecretKind.API_KEY, PRODUCTION),
        (SecretKind.STORAGE_SECRET, S3),
    ]
    assert store.get(SecretKind.STORAGE_SECRET, S3) is None
    # Nothing of hdh-wizard is left in the keyring, not even its list of entries.
    assert [a for a in secret_service.items() if a["service"].startswith("hdh-wizard")] == []


@NEEDS_SECRET_SERVICE
def test_an_entry_deleted_with_another_tool_is_no_longer_listed(
    secret_service: SecretServiceSession,
) -> None:
    store = secret_service_store()
    store.save(SecretKind.API_KEY, DEMO, DEMO_KEY)
    store.save(SecretKind.API_KEY, PRODUCTION, PROD_KEY)
    SecretService.Keyring().delete_password("hdh-wizard/api_key", DEMO)  # as Seahorse would
    assert store.stored() == [(SecretKind.API_KEY, PRODUCTION)]


@NEEDS_SECRET_SERVICE
def test_a_key_typed_this_session_wins_then_the_environment_then_the_keyring(
    secret_service: SecretServiceSession,
) -> None:
    secret_service_store().save(SecretKind.API_KEY, DEMO, DEMO_KEY)
    environ = {"HDH_WIZARD_API_KEY": f"  {PROD_KEY}\n"}
    store = secret_service_store(environ)
    store.save(SecretKind.API_KEY, PRODUCTION, "udata_typed_this_session_only_0000", remember=False)
    # Typed and verified just now: it is the one the partner means.
    assert store.get(SecretKind.API_KEY, PRODUCTION) == Secret(
        "udata_typed_this_session_only_0000", KeySource.SESSION
    )
    assert store.get(SecretKind.API_KEY, DEMO) == Secret(PROD_KEY, KeySource.ENVIRONMENT)
    # The API key variable says nothing about the storage secret.
    assert store.get(SecretKind.STORAGE_SECRET, S3) is None
    environ["HDH_WIZARD_STORAGE_SECRET"] = STORAGE_SECRET
    assert store.get(SecretKind.STORAGE_SECRET, S3) == Secret(STORAGE_SECRET, KeySource.ENVIRONMENT)
    environ.clear()
    assert store.get(SecretKind.API_KEY, DEMO) == Secret(DEMO_KEY, KeySource.KEYRING)


def test_the_environment_key_goes_only_to_data_gouv_fr_or_the_portal_named() -> None:
    environ = {"HDH_WIZARD_API_KEY": PROD_KEY}
    store = SecretStore(environ=environ, backend=fail.Keyring())  # type: ignore[no-untyped-call]
    assert store.get(SecretKind.API_KEY, "https://www.data.gouv.fr") is not None
    assert store.get(SecretKind.API_KEY, "https://data.example.org") is None  # never sent there
    environ["HDH_WIZARD_API_URL"] = "https://data.example.org/"
    assert store.get(SecretKind.API_KEY, "https://data.example.org") == Secret(
        PROD_KEY, KeySource.ENVIRONMENT
    )
    assert store.get(SecretKind.API_KEY, "https://www.data.gouv.fr") is None


@NEEDS_SECRET_SERVICE
def test_a_key_not_to_remember_stays_in_memory_and_never_reaches_the_keyring(
    secret_service: SecretServiceSession,
) -> None:
    store = secret_service_store()
    assert store.save(SecretKind.API_KEY, DEMO, DEMO_KEY, remember=False) is KeySource.SESSION
    assert store.get(SecretKind.API_KEY, DEMO) == Secret(DEMO_KEY, KeySource.SESSION)
    assert secret_service_store().get(SecretKind.API_KEY, DEMO) is None
    assert [a for a in secret_service.items() if a["service"].startswith("hdh-wizard")] == []


@NEEDS_SECRET_SERVICE
def test_a_locked_keyring_is_reported_and_the_key_falls_back_to_this_session(
    secret_service: SecretServiceSession,
) -> None:
    secret_service_store().save(SecretKind.API_KEY, DEMO, DEMO_KEY)
    secret_service.lock_default_collection()  # no unlock window on this headless session

    store = secret_service_store()
    status = store.status()
    assert not status.available and status.reason_key == "secrets.reason.locked"
    assert store.get(SecretKind.API_KEY, DEMO) is None
    assert store.save(SecretKind.API_KEY, DEMO, PROD_KEY) is KeySource.SESSION
    assert store.get(SecretKind.API_KEY, DEMO) == Secret(PROD_KEY, KeySource.SESSION)
    assert store.stored() == []


@NEEDS_SECRET_SERVICE
def test_a_keyring_locked_while_the_wizard_runs_gives_a_clear_message_and_keeps_the_key(
    secret_service: SecretServiceSession,
) -> None:
    saving_run, reading_run = secret_service_store(), secret_service_store()
    assert saving_run.status().available and reading_run.status().available
    secret_service.lock_default_collection()

    with pytest.raises(SecretNotSavedError) as saving:
        saving_run.save(SecretKind.API_KEY, DEMO, DEMO_KEY)
    assert saving.value.key == "secrets.error.locked"
    message = saving.value.message(EN)
    assert "is locked" in message and "kept in memory for this session only" in message
    assert DEMO_KEY not in message + str(saving.value) + repr(saving.value)
    assert saving_run.get(SecretKind.API_KEY, DEMO) == Secret(DEMO_KEY, KeySource.SESSION)
    assert saving_run.status().reason_key == "secrets.reason.locked"  # probed again

    with pytest.raises(SecretError) as reading:
        reading_run.get(SecretKind.API_KEY, DEMO)
    assert reading.value.key == "secrets.error.locked"
    assert "est verrouillé : déverrouillez-le" in reading.value.message(FR)


@NEEDS_SECRET_SERVICE
def test_a_secret_service_without_an_open_keyring_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SecretServiceSession(tmp_path / "home") as session:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session.address)
        session.start(unlock=False)  # a remote login: the daemon runs, no password was given
        store = secret_service_store()
        status = store.status()
        assert not status.available
        assert status.reason_key == "secrets.reason.no_collection"
        assert store.save(SecretKind.API_KEY, DEMO, DEMO_KEY) is KeySource.SESSION
        assert session.files_holding(DEMO_KEY) == []


@NEEDS_SECRET_SERVICE
def test_the_secret_service_stopping_mid_run_is_an_error_without_the_secret(
    secret_service: SecretServiceSession,
) -> None:
    store = secret_service_store()
    assert store.status().available
    secret_service.stop()
    with pytest.raises(SecretNotSavedError) as saving:
        store.save(SecretKind.API_KEY, DEMO, DEMO_KEY)
    assert saving.value.key == "secrets.error.backend"
    text = saving.value.message(FR)
    assert text.startswith("La clé n'a pas pu être enregistrée dans le trousseau.")
    assert DEMO_KEY not in text + str(saving.value)
    assert store.get(SecretKind.API_KEY, DEMO) == Secret(DEMO_KEY, KeySource.SESSION)
    assert store.status().reason_key == "secrets.reason.error"


# --- no keyring: the fallbacks -------------------------------------------------------------------


@pytest.fixture
def clean_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME and XDG folders, to show that nothing is written anywhere."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share")):
        monkeypatch.setenv(name, str(home / sub))
    return home


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (fail.Keyring(), "secrets.reason.no_backend"),
        (null.Keyring(), "secrets.reason.disabled"),
    ],
    ids=["no-backend", "null-backend"],
)
def test_without_a_keyring_the_key_is_kept_in_memory_for_this_session_only(
    backend: KeyringBackend, reason: str, clean_home: Path
) -> None:
    store = SecretStore(environ={}, backend=backend)
    status = store.status()
    assert not status.available
    assert status.reason_key == reason
    assert FR.t(reason) and EN.t(reason)

    assert store.save(SecretKind.API_KEY, DEMO, f"{DEMO_KEY}\n") is KeySource.SESSION
    assert store.get(SecretKind.API_KEY, DEMO + "/") == Secret(DEMO_KEY, KeySource.SESSION)
    assert store.get(SecretKind.API_KEY, PRODUCTION) is None
    assert store.stored() == []
    # A new run (a new store) knows nothing: the key was typed for one session only.
    assert SecretStore(environ={}, backend=backend).get(SecretKind.API_KEY, DEMO) is None
    assert store.forget(SecretKind.API_KEY, DEMO) is True
    assert store.get(SecretKind.API_KEY, DEMO) is None
    assert list(clean_home.rglob("*")) == []


def test_without_a_keyring_the_environment_variable_gives_the_key(clean_home: Path) -> None:
    store = SecretStore(environ={"HDH_WIZARD_API_KEY": DEMO_KEY}, backend=fail.Keyring())
    assert store.get(SecretKind.API_KEY, PRODUCTION) == Secret(DEMO_KEY, KeySource.ENVIRONMENT)
    assert store.from_environment(SecretKind.STORAGE_SECRET) is None
    assert ENV_VARS[SecretKind.STORAGE_SECRET] == "HDH_WIZARD_STORAGE_SECRET"


def test_a_keyring_chainer_with_nothing_to_chain_means_no_keyring(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # keyring's own way to restrict the backends considered (init_backend(limit)).
    monkeypatch.setattr("keyring.backend._limit", lambda backend: False)
    store = SecretStore(environ={}, backend=chainer.ChainerBackend())
    assert store.status().reason_key == "secrets.reason.no_backend"
    assert store.save(SecretKind.API_KEY, DEMO, DEMO_KEY) is KeySource.SESSION


class _PlaintextFile:
    """Stands for keyrings.alt's PlaintextKeyring, which writes passwords in clear to a file."""

    __module__ = "keyrings.alt.file"

    def get_password(self, service: str, username: str) -> str | None:
        raise AssertionError("a plaintext keyring must not be used")

    set_password = delete_password = get_password


_PlaintextFile.__name__ = _PlaintextFile.__qualname__ = "PlaintextKeyring"


def test_a_keyring_writing_in_clear_is_refused() -> None:
    store = SecretStore(environ={}, backend=cast(KeyringBackend, _PlaintextFile()))
    status = store.status()
    assert not status.available and status.reason_key == "secrets.reason.plaintext"
    assert store.save(SecretKind.API_KEY, DEMO, DEMO_KEY) is KeySource.SESSION


class _RefusingKeyring:
    """A keyring that refuses to store a key (too long for it, say), echoing what it was given
    in its error, as some do; it stores short texts such as the wizard's index of entries."""

    name = "Refusing Keyring"

    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.saved.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if service != "hdh-wizard/index":
            raise PasswordSetError(f"cannot store {password!r} for {username}")
        self.saved[service, username] = password

    def delete_password(self, service: str, username: str) -> None:
        raise AssertionError("nothing to delete")


def test_a_keyring_error_never_carries_the_secret_and_the_key_is_kept_for_the_session() -> None:
    store = SecretStore(environ={}, backend=cast(KeyringBackend, _RefusingKeyring()))
    assert store.status().available
    with pytest.raises(SecretNotSavedError) as saving:
        store.save(SecretKind.API_KEY, DEMO, DEMO_KEY)
    error = saving.value
    texts = [error.message(FR), error.message(EN), str(error), repr(error), repr(error.params)]
    assert all(DEMO_KEY not in text for text in texts)
    assert "Refusing Keyring" in error.message(FR) and "PasswordSetError" in error.message(FR)
    assert mask(DEMO_KEY) in error.message(FR)  # where the backend echoed it, only masked
    assert error.__cause__ is None and error.__suppress_context__
    assert store.get(SecretKind.API_KEY, DEMO) == Secret(DEMO_KEY, KeySource.SESSION)
    assert store.stored() == []  # listed in the index, but not in the keyring: not claimed


def test_an_empty_key_is_refused() -> None:
    store = SecretStore(environ={}, backend=fail.Keyring())
    with pytest.raises(SecretError) as empty:
        store.save(SecretKind.API_KEY, DEMO, " \n")
    assert empty.value.message(FR) == "La clé est vide : collez-la en entier."


# --- what may be shown ---------------------------------------------------------------------------


def test_a_udata_key_is_shown_as_its_label_and_last_four_characters() -> None:
    assert mask(DEMO_KEY) == "udata_••••••••Jf3a"
    assert mask(f" {STORAGE_SECRET}\n") == "••••••••EKEY"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("udata_0123456789abcdef01", "udata_••••••••"),
        ("udata_short", "••••••••"),
        ("abc", "••••••••"),
        ("x" * 23, "••••••••"),
        ("", ""),
    ],
)
def test_a_short_secret_shows_none_of_its_random_characters(value: str, shown: str) -> None:
    assert mask(value) == shown


def test_a_mask_never_reveals_the_length() -> None:
    assert len(mask(DEMO_KEY)) == len(mask(DEMO_KEY + "0123456789"))


def test_a_secret_s_repr_and_str_are_masked() -> None:
    secret = Secret(DEMO_KEY, KeySource.KEYRING)
    for shown in (repr(secret), str(secret), f"{secret}", repr([secret]), repr({"k": secret})):
        assert DEMO_KEY not in shown
        assert mask(DEMO_KEY) in shown
    assert secret.masked == mask(DEMO_KEY)


# --- the keyring's user name: the portal's URL ---------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("https://demo.data.gouv.fr", DEMO),
        ("https://Demo.Data.Gouv.FR/", DEMO),
        ("HTTPS://demo.data.gouv.fr:443", DEMO),
        ("demo.data.gouv.fr", DEMO),
        ("  https://www.data.gouv.fr/?lang=fr#top ", PRODUCTION),
        ("https://user:password@www.data.gouv.fr", PRODUCTION),
        ("http://127.0.0.1:7000/", "http://127.0.0.1:7000"),
        ("http://localhost:80", "http://localhost"),
        ("https://s3.hdh.example.org:9000/releases/", S3),
        ("https://S3.hdh.example.org:9000/Releases", "https://s3.hdh.example.org:9000/Releases"),
        ("http://[::1]:7000", "http://[::1]:7000"),
    ],
)
def test_a_portal_url_is_normalised(typed: str, normal: str) -> None:
    assert normalize_url(typed) == normal


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "ftp://demo.data.gouv.fr", "https://", "https://demo data", "http://h:99999"],
)
def test_an_unusable_url_is_a_clear_error(typed: str) -> None:
    with pytest.raises(SecretError) as bad:
        normalize_url(typed)
    assert bad.value.message(FR).endswith("donnez-la sous la forme https://demo.data.gouv.fr.")


def test_an_unusable_url_s_message_never_repeats_a_password() -> None:
    with pytest.raises(SecretError) as bad:
        normalize_url("ftp://alice:hunter2@files.example.org")
    assert "hunter2" not in bad.value.message(EN)
