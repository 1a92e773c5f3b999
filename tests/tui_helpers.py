"""Shared set-up for the TUI tests: a demo project at a fixed time, opened in the app."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hdh_wizard import project as projects
from hdh_wizard.core.enums import Role
from hdh_wizard.core.release import Person
from hdh_wizard.demo.generate import create_demo_data
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.datagouv.session import PortalSession
from hdh_wizard.ui.app import HdhWizardApp

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
ALICE = Person("Alice Martin", Role.PARTNER)
STAFF = Person("Hugo Bernard", Role.HDH_STAFF)


def make_demo_project(folder: Path) -> projects.Project:
    paths = create_demo_data(folder)
    return projects.create_project(folder, "Cohorte test", ALICE, paths, NOW)


def make_app(
    folder: Path, lang: Lang = Lang.FR, portal: PortalSession | None = None
) -> HdhWizardApp:
    return HdhWizardApp(folder, load_catalogue(lang), clock=lambda: NOW, portal=portal)
