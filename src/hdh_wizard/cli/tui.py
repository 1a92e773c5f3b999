"""Open the Textual app on a project folder, holding its lock for the whole session."""

from __future__ import annotations

import sys
from pathlib import Path

from hdh_wizard.cli.main import tell_crash
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.project import acquire_lock


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

    app = HdhWizardApp(folder, cat, lock=lock)
    try:
        app.run()
    finally:
        if lock is not None:
            lock.release()
    if app.crashed:
        return tell_crash(cat, app.crash_report)
    return app.return_code or 0
