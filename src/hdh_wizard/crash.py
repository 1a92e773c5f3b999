"""Crashes, in one place: a report with no secret in it, under the user's state folder.

Every way the program can fail on a bug (a command, a screen, a worker thread, a callback, the
start-up) ends here. The report holds the traceback without local variables (they hold what the
user typed, keys included), with every secret the session knows redacted in all its forms
(`hdh_wizard.redact`); each crash gets its own file (time and process id), so a second crash never
overwrites the first one's report. The caller says where it is, in the interface language, and
exits with `CRASH_EXIT_CODE`.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import traceback
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from hdh_wizard import __version__
from hdh_wizard.redact import redact

CRASH_EXIT_CODE = 3
APP_NAME = "hdh-wizard"
# The environment variables whose values are secrets (services.secrets.ENV_VARS, named here too so
# that a crash before anything is imported still redacts them).
SECRET_VARIABLES = ("HDH_WIZARD_API_KEY", "HDH_WIZARD_STORAGE_SECRET")


# The secret values this process has handled (typed, read from the keyring or the environment).
# Process-wide on purpose: a crash can happen anywhere, in any thread, before or after the object
# that held a secret is gone, and its report must still redact it. Values only, never written.
_known_secrets: set[str] = set()


def remember_secret(value: str) -> None:
    """Note a secret this process handles, so that no crash report can ever contain it."""
    if value and value.strip():
        _known_secrets.add(value)


def known_secrets() -> set[str]:
    return set(_known_secrets) | environment_secrets()


def crash_folder() -> Path:
    """Where the reports go: the user's state folder (`~/.local/state/hdh-wizard/crashes`)."""
    from platformdirs import user_state_path

    return user_state_path(APP_NAME) / "crashes"


def environment_secrets(environ: Mapping[str, str] | None = None) -> set[str]:
    source = os.environ if environ is None else environ
    return {value for name in SECRET_VARIABLES if (value := source.get(name, "").strip())}


def report_text(error: BaseException, secrets: Iterable[str]) -> str:
    """The report's content: versions, command line and traceback, every secret redacted."""
    lines = [
        f"{APP_NAME} {__version__}",
        f"Python {platform.python_version()} on {platform.platform()}",
        f"{datetime.now(UTC).isoformat(timespec='seconds')} pid {os.getpid()}",
        "command: " + " ".join(sys.argv),
        "",
        "".join(traceback.format_exception(error)),
    ]
    known = set(secrets) | known_secrets()
    return redact("\n".join(lines), known)


def write_crash_report(
    error: BaseException, secrets: Iterable[str], *, folder: Path | None = None
) -> Path | None:
    """Write the report of `error` and return its path; None if no folder could take it."""
    text = report_text(error, secrets)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidates = [folder] if folder is not None else [crash_folder(), Path(tempfile.gettempdir())]
    for place in candidates:
        try:
            place.mkdir(parents=True, exist_ok=True, mode=0o700)
            return _write_new(place, f"crash-{stamp}-{os.getpid()}", text)
        except OSError:
            continue
    return None


def _write_new(folder: Path, stem: str, text: str) -> Path:
    """A new file (never an existing one, never through a link), readable by its owner only."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for number in range(1, 100):
        path = folder / (f"{stem}.log" if number == 1 else f"{stem}-{number}.log")
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        return path
    raise FileExistsError(folder)
