"""Open the Textual app on a project folder, holding its lock for the whole session.

Quitting is prompt: the app runs its thread workers on daemon threads (`detach_workers`), which
its screens cancelled on closing; once the app has exited, the state is saved (every save is
atomic) and the lock released, the work still running gets a short grace to reach its next
cancel point, and nothing else keeps the process (`_leave_promptly`).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from hdh_wizard.cli.main import tell_crash
from hdh_wizard.core.exit_guard import unfinished
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.project import acquire_lock

GRACE_SECONDS = 1.0  # for cancelled work to stop at its next cancel point


def has_terminal() -> bool:
    """The wizard draws on a terminal and reads its keys: both ends must be one."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def run_tui(cat: Catalogue, folder: Path) -> int:
    """Run the wizard; its exit code: 0 when the user quits, 1 when it could not open the
    project, `CRASH_EXIT_CODE` after a crash (its report already written, and named here)."""
    lock = acquire_lock(folder) if folder.is_dir() else None  # a held project is said first
    if not has_terminal():
        # Without a terminal the app would wait for keys forever, holding the lock, and write
        # escape codes into a file: point to what runs without one instead.
        if lock is not None:
            lock.release()
        print(f"hdh-wizard: {cat.t('cli.no_terminal')}", file=sys.stderr)
        return 2
    from hdh_wizard.ui.app import HdhWizardApp

    app = HdhWizardApp(folder, cat, lock=lock, detach_workers=True)
    try:
        app.run()
    finally:
        if lock is not None:
            lock.release()
    code = tell_crash(cat, app.crash_report) if app.crashed else app.return_code or 0
    _leave_promptly(code)
    return code


def _leave_promptly(code: int) -> None:
    """Give work still running (cancelled with its screen) a short grace; then, if some thread
    that the interpreter would wait for is still busy (a library's own thread pool in the middle
    of a read or an upload), end the process now rather than minutes later. Everything the user
    must keep is already on disk: the state is saved atomically and the lock released."""
    wait_for_unfinished()
    deadline = time.monotonic() + GRACE_SECONDS
    while _busy_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    if any(not t.daemon for t in _busy_threads()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def wait_for_unfinished() -> None:
    """Files and the state that lists them are written together (`core.exit_guard`)."""
    while unfinished():
        time.sleep(0.05)


def _busy_threads() -> list[threading.Thread]:
    main = threading.main_thread()
    return [t for t in threading.enumerate() if t is not main and t.is_alive()]
