"""Open the Textual app on a project folder, holding its lock for the whole session."""

from __future__ import annotations

from pathlib import Path

from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.project import acquire_lock


def run_tui(cat: Catalogue, folder: Path) -> int:
    lock = acquire_lock(folder) if folder.is_dir() else None
    from hdh_wizard.ui.app import HdhWizardApp

    app = HdhWizardApp(folder, cat, lock=lock)
    try:
        app.run()
    finally:
        if lock is not None:
            lock.release()
    return 0
