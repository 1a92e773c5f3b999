"""`hdh-wizard restore-backup DIR`: put the previous state back, keeping the broken file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.present.presenters import restored_message
from hdh_wizard.project import acquire_lock, restore_project_backup


def restore(cat: Catalogue, folder: Path) -> int:
    lock = acquire_lock(folder)
    try:
        kept = restore_project_backup(folder, datetime.now(UTC))
    finally:
        lock.release()
    print(restored_message(cat, kept))
    return 0
