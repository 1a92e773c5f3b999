"""`hdh-wizard keys [list]` and `hdh-wizard keys forget URL|--all`: the stored secrets, never shown.

Exit code 0 when done, 1 when there is no usable keyring, nothing stored for the address given or
the keyring fails, 2 on a usage error (forget without an address, an address that is not one).
"""

from __future__ import annotations

import sys

from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.services.secrets import (
    ENV_VARS,
    SecretError,
    SecretKind,
    SecretStore,
    normalize_url,
)

USAGE_ERROR = 2


def run_keys(
    cat: Catalogue,
    action: str,
    url: str | None,
    *,
    forget_all: bool,
    store: SecretStore | None = None,
) -> int:
    usage = _usage_problem(action, url, forget_all)
    if usage:
        print(f"hdh-wizard keys: {cat.t('cli.usage_error')} {cat.t(usage)}", file=sys.stderr)
        return USAGE_ERROR
    if url is not None:
        try:
            url = normalize_url(url)
        except SecretError as error:
            print(f"hdh-wizard: {error.message(cat)}", file=sys.stderr)
            return USAGE_ERROR
    store = store or SecretStore()
    status = store.status()
    if not status.available:
        _environment_notes(cat, store, action)
        print(_unavailable_text(cat, status.reason_key), file=sys.stderr)
        return 1
    print(cat.t("secrets.cli.backend", backend=status.backend))
    try:
        if action == "list":
            code = _list(cat, store)
        elif url is not None:
            code = _forget(cat, store, url)
        else:
            code = _forget_all(cat, store)
    except SecretError as error:
        print(f"hdh-wizard: {error.message(cat)}", file=sys.stderr)
        return 1
    _environment_notes(cat, store, action)
    return code


def _environment_notes(cat: Catalogue, store: SecretStore, action: str) -> None:
    """An environment variable wins over the keyring, and `forget` cannot unset it: say so."""
    for kind, variable in ENV_VARS.items():
        if store.from_environment(kind) is not None:
            key = "secrets.cli.env_set" if action == "list" else "secrets.cli.env_still_set"
            print(cat.t(key, variable=variable))


def _usage_problem(action: str, url: str | None, forget_all: bool) -> str:
    if action == "list" and (url is not None or forget_all):
        return "secrets.cli.list_takes_nothing"
    if action == "forget" and url is None and not forget_all:
        return "secrets.cli.forget_needs_target"
    if action == "forget" and url is not None and forget_all:
        return "secrets.cli.url_or_all"
    return ""


def _unavailable_text(cat: Catalogue, reason_key: str) -> str:
    advice = cat.t("secrets.fallback", variable=ENV_VARS[SecretKind.API_KEY])
    return cat.t("secrets.cli.unavailable", reason=cat.t(reason_key)) + "\n" + advice


def _list(cat: Catalogue, store: SecretStore) -> int:
    entries = store.stored()
    if not entries:
        print(cat.t("secrets.cli.none_stored"))
        return 0
    print(cat.t("secrets.cli.stored", count=len(entries)))
    for kind, where in entries:
        print(cat.t("secrets.cli.entry", url=where, kind=cat.t(f"secrets.kind.{kind.value}")))
    return 0


def _forget(cat: Catalogue, store: SecretStore, url: str) -> int:
    forgotten = [kind for kind in SecretKind if store.forget(kind, url)]
    for kind in forgotten:
        print(cat.t("secrets.cli.forgotten", kind=cat.t(f"secrets.kind.{kind.value}"), url=url))
    if not forgotten:
        print(cat.t("secrets.cli.nothing_for", url=url), file=sys.stderr)
        return 1
    return 0


def _forget_all(cat: Catalogue, store: SecretStore) -> int:
    forgotten = store.forget_all()
    for kind, where in forgotten:
        print(cat.t("secrets.cli.forgotten", kind=cat.t(f"secrets.kind.{kind.value}"), url=where))
    if not forgotten:
        print(cat.t("secrets.cli.nothing_to_forget"))
    return 0
