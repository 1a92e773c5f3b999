"""API keys and storage secrets: the system keyring, or the environment, or this run's memory.

A key is pasted once, verified by the caller, then stored with `keyring` under the portal's URL
(service `hdh-wizard/<kind>`, user name the normalised URL). Where no keyring backend exists (a
headless server), `status()` says why and the caller offers the fallbacks: the environment
variable (`HDH_WIZARD_API_KEY`, `HDH_WIZARD_STORAGE_SECRET`) or a key typed each session, kept in
memory only. Nothing here writes a file, and no exception text ever holds a secret value.

`keyring` is imported only when a store first talks to it, so that `hdh-wizard --help` stays fast.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from hdh_wizard.crash import remember_secret
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Catalogue

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

# The environment's API key is sent only to these hosts, unless HDH_WIZARD_API_URL names another.
DATA_GOUV_HOSTS = frozenset({"demo.data.gouv.fr", "www.data.gouv.fr"})
API_URL_VAR = "HDH_WIZARD_API_URL"
SERVICE_PREFIX = "hdh-wizard"
# keyring cannot list its entries portably (Keychain, Credential Locker and Secret Service differ),
# so the (kind, URL) pairs this program stored are kept in one more keyring entry. It lives with
# the secrets it describes: nothing on disk at all, it goes when the keyring is reset, and it works
# on every backend. It is written before the secret, so no stored secret is ever left unlisted.
INDEX_SERVICE = f"{SERVICE_PREFIX}/index"
INDEX_USER = "entries"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"[\w.\-]+|\[[0-9a-f:.]+\]")
_KNOWN_PREFIX = re.compile(r"[A-Za-z]{2,10}_")  # udata_…, ghp_…: a fixed label, not random
_MASK = "•" * 8
_DETAIL_LIMIT = 300
_T = TypeVar("_T")


class SecretKind(StrEnum):
    API_KEY = "api_key"
    STORAGE_SECRET = "storage_secret"


class KeySource(StrEnum):
    KEYRING = "keyring"
    ENVIRONMENT = "environment"
    SESSION = "session"


ENV_VARS: Mapping[SecretKind, str] = {
    SecretKind.API_KEY: "HDH_WIZARD_API_KEY",
    SecretKind.STORAGE_SECRET: "HDH_WIZARD_STORAGE_SECRET",
}


def mask(value: str) -> str:
    """What may be shown of a secret after entry: its fixed label and last 4 characters at most.

    `udata_` keys are `udata_` + a long random token (udata itself shows their first 14
    characters); the last 4 are shown only when at least 20 random ones remain hidden, and the
    length is never revealed.
    """
    text = value.strip()
    if not text:
        return ""
    label = _KNOWN_PREFIX.match(text)
    prefix = label.group() if label else ""
    body = text[len(prefix) :]
    if len(body) < 24:
        return (prefix if len(body) >= 16 else "") + _MASK
    return f"{prefix}{_MASK}{body[-4:]}"


@dataclass(frozen=True, repr=False)
class Secret:
    """A secret and where it came from; its repr (hence logs and tracebacks) shows it masked."""

    value: str
    source: KeySource

    @property
    def masked(self) -> str:
        return mask(self.value)

    def __repr__(self) -> str:
        return f"Secret(value={self.masked!r}, source={self.source.value!r})"


@dataclass(frozen=True)
class KeyringStatus:
    """Whether secrets can be kept in the system keyring; `reason_key` says why (catalogue key)."""

    available: bool
    backend: str
    reason_key: str


class SecretError(HdhWizardError):
    """The keyring refused or failed, or a URL is unusable. Never carries a secret value."""

    key = "secrets.error.backend"


class SecretNotSavedError(SecretError):
    """The keyring could not store the key: it is kept in memory for this session meanwhile."""

    def message(self, cat: Catalogue) -> str:
        return cat.t("secrets.error.not_saved", reason=super().message(cat))


def normalize_url(url: str) -> str:
    """The keyring user name of a portal: scheme, lower-case host, port unless default, path
    without trailing slash. No user, query or fragment. `demo.data.gouv.fr` means https."""
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise SecretError("secrets.error.bad_url", url=_displayable(url)) from None
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if scheme not in _DEFAULT_PORTS or not _HOST.fullmatch(host) or " " in parts.path:
        raise SecretError("secrets.error.bad_url", url=_displayable(url))
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def _displayable(url: str) -> str:
    """A URL as typed, for a message: without a user:password part, and not a whole page long."""
    return re.sub(r"//[^/@]*@", "//", url.strip())[:200]


def _service(kind: SecretKind) -> str:
    return f"{SERVICE_PREFIX}/{kind.value}"


class SecretStore:
    """The wizard's secrets for one run. Share one store: its session memory is its own.

    `get` looks in the environment variable first, then this session's memory, then the keyring.
    """

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        backend: KeyringBackend | None = None,
    ) -> None:
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self._backend = backend
        self._session: dict[tuple[SecretKind, str], str] = {}
        self._status: KeyringStatus | None = None
        # Screens call from worker threads, and the index is read, changed, then written.
        self._lock = threading.Lock()

    # --- the keyring's state --------------------------------------------------------------------

    def status(self, *, refresh: bool = False) -> KeyringStatus:
        """Whether a usable keyring exists; probed once (reading the index), then remembered.

        On a desktop, probing a locked keyring asks the user to unlock it, as any use would.
        """
        if self._status is None or refresh:
            self._status = self._probe()
        return self._status

    def _probe(self) -> KeyringStatus:
        try:
            backend = self._keyring()
        except Exception:  # a bad PYTHON_KEYRING_BACKEND or keyring config, a broken install
            return KeyringStatus(False, "-", "secrets.reason.error")
        effective, reason = _judge(backend)
        name = _backend_name(effective)
        if reason:
            return KeyringStatus(False, name, reason)
        try:
            backend.get_password(INDEX_SERVICE, INDEX_USER)
        except Exception as exc:
            return KeyringStatus(False, name, _reason_of(exc))
        return KeyringStatus(True, name, "secrets.reason.available")

    def _keyring(self) -> KeyringBackend:
        if self._backend is None:
            import keyring

            self._backend = keyring.get_keyring()
        return self._backend

    # --- the secrets ----------------------------------------------------------------------------

    def get(self, kind: SecretKind, url: str) -> Secret | None:
        """The secret for this portal: the one typed this session (it was just verified), then
        the environment variable, then the keyring.

        Raises `SecretError` when a keyring exists but cannot be read (locked, gone).
        """
        where = normalize_url(url)
        if (kind, where) in self._session:
            return Secret(self._session[kind, where], KeySource.SESSION)
        from_env = self.from_environment(kind, url)
        if from_env is not None:
            return from_env
        if not self.status().available:
            return None
        value = self._call(lambda b: b.get_password(_service(kind), where))
        if not value:
            return None
        remember_secret(value)
        return Secret(value, KeySource.KEYRING)

    def from_environment(self, kind: SecretKind, url: str | None = None) -> Secret | None:
        """The secret given by `HDH_WIZARD_API_KEY` / `HDH_WIZARD_STORAGE_SECRET`.

        The API key goes only to data.gouv.fr (demo and www), or to the one portal named by
        `HDH_WIZARD_API_URL`: a project aimed at another address must not receive it.
        """
        value = self._environ.get(ENV_VARS[kind], "").strip()
        if not value:
            return None
        if kind is SecretKind.API_KEY and url is not None and not self._env_key_goes_to(url):
            return None
        remember_secret(value)
        return Secret(value, KeySource.ENVIRONMENT)

    def env_key_withheld(self, url: str) -> bool:
        """Whether `HDH_WIZARD_API_KEY` is set but not sent to `url` (neither data.gouv.fr nor
        the portal `HDH_WIZARD_API_URL` names): what to tell a user who set it."""
        value = self._environ.get(ENV_VARS[SecretKind.API_KEY], "").strip()
        return bool(value) and not self._env_key_goes_to(url)

    def _env_key_goes_to(self, url: str) -> bool:
        bound = self._environ.get(API_URL_VAR, "").strip()
        try:
            if bound:
                return normalize_url(bound) == normalize_url(url)
            return urlsplit(normalize_url(url)).hostname in DATA_GOUV_HOSTS
        except SecretError:
            return False

    def save(self, kind: SecretKind, url: str, value: str, *, remember: bool = True) -> KeySource:
        """Keep a (verified) secret: in the keyring when one is available and `remember`, else in
        this session's memory only. Returns where it went.

        If the keyring fails while writing, the secret is kept in memory and
        `SecretNotSavedError` says so.
        """
        secret = value.strip()  # a pasted key often brings a newline or spaces along
        if not secret:
            raise SecretError("secrets.error.empty")
        remember_secret(secret)
        where = normalize_url(url)
        if not remember or not self.status().available:
            self._session[kind, where] = secret
            return KeySource.SESSION
        try:
            with self._lock:
                index = self._read_index()
                if (kind, where) not in index:
                    self._write_index(index | {(kind, where)})
                self._call(lambda b: b.set_password(_service(kind), where, secret), secret)
        except SecretError as error:
            self._session[kind, where] = secret
            raise SecretNotSavedError(error.key, **error.params) from None
        self._session.pop((kind, where), None)  # the keyring's copy is now the one
        return KeySource.KEYRING

    def forget(self, kind: SecretKind, url: str) -> bool:
        """Forget this portal's secret, in memory and in the keyring. True if there was one.

        The environment variable, if set, is not ours to clear: callers say so.
        """
        where = normalize_url(url)
        found = self._session.pop((kind, where), None) is not None
        if not self.status().available:
            return found
        with self._lock:
            index = self._read_index()
            found = self._delete(_service(kind), where) or found
            if (kind, where) in index:
                self._write_index(index - {(kind, where)})
        return found

    def forget_all(self) -> list[tuple[SecretKind, str]]:
        """Forget every secret this program stored, in memory and in the keyring; returns them."""
        forgotten = set(self._session)
        self._session.clear()
        if self.status().available:
            with self._lock:
                for kind, where in sorted(self._read_index()):
                    if self._delete(_service(kind), where):
                        forgotten.add((kind, where))
                self._delete_index()
        return sorted(forgotten)

    def stored(self) -> list[tuple[SecretKind, str]]:
        """What the keyring holds for this program, without the values (sorted by kind and URL).

        Entries removed by another tool (Seahorse, Keychain Access) are left out.
        """
        if not self.status().available:
            return []
        with self._lock:
            index = self._read_index()
        return [(kind, where) for kind, where in sorted(index) if self._exists(kind, where)]

    # --- keyring calls, each turning a failure into a SecretError --------------------------

    def _call(self, operation: Callable[[KeyringBackend], _T], secret: str | None = None) -> _T:
        backend = self._keyring()
        try:
            return operation(backend)
        except Exception as exc:
            self._status = None  # the keyring changed under us: probe again next time
            raise _error_of(exc, backend, secret) from None

    def _exists(self, kind: SecretKind, where: str) -> bool:
        return self._call(lambda b: b.get_password(_service(kind), where)) is not None

    def _delete(self, service: str, user: str) -> bool:
        """Remove one keyring entry; False when there was none."""
        from keyring.errors import PasswordDeleteError

        def delete(backend: KeyringBackend) -> bool:
            try:
                backend.delete_password(service, user)
            except PasswordDeleteError:
                return False
            return True

        return self._call(delete)

    def _read_index(self) -> set[tuple[SecretKind, str]]:
        text = self._call(lambda b: b.get_password(INDEX_SERVICE, INDEX_USER))
        try:
            entries = json.loads(text)["entries"] if text else []
            return {(SecretKind(kind), str(where)) for kind, where in entries}
        except (ValueError, TypeError, KeyError):
            return set()  # damaged by hand: the secrets are still there, only unlisted

    def _write_index(self, entries: set[tuple[SecretKind, str]]) -> None:
        if not entries:
            self._delete_index()
            return
        text = json.dumps({"version": 1, "entries": [[k.value, w] for k, w in sorted(entries)]})
        self._call(lambda b: b.set_password(INDEX_SERVICE, INDEX_USER, text))

    def _delete_index(self) -> None:
        self._delete(INDEX_SERVICE, INDEX_USER)


def _judge(backend: KeyringBackend) -> tuple[KeyringBackend, str]:
    """The backend that would do the work, and why it cannot ("" when it can)."""
    from keyring.backends import chainer, fail, null

    if isinstance(backend, chainer.ChainerBackend):
        chained = list(backend.backends)
        if not chained:
            return backend, "secrets.reason.no_backend"
        backend = chained[0]  # the chainer writes to the first one that accepts
    if isinstance(backend, fail.Keyring):
        return backend, "secrets.reason.no_backend"
    if isinstance(backend, null.Keyring):
        return backend, "secrets.reason.disabled"
    kind = type(backend)
    if kind.__module__.startswith("keyrings.alt") and "Plaintext" in kind.__name__:
        return backend, "secrets.reason.plaintext"  # would write the keys in clear in a file
    return backend, ""


def _backend_name(backend: KeyringBackend) -> str:
    try:
        return str(backend.name)
    except Exception:  # a third-party backend with an odd name property
        return type(backend).__name__


def _reason_of(exc: BaseException) -> str:
    from keyring.errors import InitError, KeyringLocked, NoKeyringError

    if isinstance(exc, KeyringLocked):
        return "secrets.reason.locked"
    if isinstance(exc, InitError):
        return "secrets.reason.no_collection"
    if isinstance(exc, NoKeyringError):
        return "secrets.reason.no_backend"
    return "secrets.reason.error"


def _error_of(exc: BaseException, backend: KeyringBackend, secret: str | None) -> SecretError:
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if secret:
        detail = detail.replace(secret, mask(secret))
    key = _ERROR_OF_REASON[_reason_of(exc)]
    return SecretError(key, backend=_backend_name(backend), detail=detail[:_DETAIL_LIMIT])


_ERROR_OF_REASON = {
    "secrets.reason.locked": "secrets.error.locked",
    "secrets.reason.no_collection": "secrets.error.no_collection",
    "secrets.reason.no_backend": "secrets.error.no_backend",
    "secrets.reason.error": "secrets.error.backend",
}
