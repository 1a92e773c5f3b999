"""`hdh-wizard demo`: a project on synthetic data, to try every step without real patients."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hdh_wizard.core.enums import Role
from hdh_wizard.core.release import Person
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.project import acquire_lock, create_project, has_project


def ensure_demo_project(
    cat: Catalogue, folder: Path, now: datetime | None = None, *, announce: bool = True
) -> bool:
    """Create the demo project in `folder` unless one is there; True when it was created.

    `announce`: say so on the terminal. Not when the wizard opens next: the line would only
    show once the wizard is left, long after the creation it speaks of."""
    if has_project(folder):
        return False
    from hdh_wizard.demo.generate import create_demo_data

    folder.mkdir(parents=True, exist_ok=True)
    lock = acquire_lock(folder)
    try:
        paths = create_demo_data(folder)
        create_project(
            folder,
            cat.t("demo.release_name"),
            Person(cat.t("demo.actor_name"), Role.PARTNER),
            paths,
            now or datetime.now(UTC),
        )
    finally:
        lock.release()
    if announce:
        print(cat.t("demo.created", folder=str(folder)))
    return True
