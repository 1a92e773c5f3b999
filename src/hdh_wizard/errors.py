"""Every failure a user can cause is one of these, carrying a catalogue key and its parameters.

The CLI and the TUI each render them in one place (`cli.main` and `ui.app`), in the user's language.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hdh_wizard.i18n.catalogue import Catalogue


class HdhWizardError(Exception):
    """Base of the errors shown to users: `key` names the message in the catalogue."""

    key: str = "error.unexpected"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(f"{self.key} {params}")

    def message(self, cat: Catalogue) -> str:
        return cat.t(self.key, **self.params)


class StateFileError(HdhWizardError):
    """The state file cannot be used as it is; `backup` is set when a backup could be restored."""

    def __init__(self, key: str, *, path: Path, backup: Path | None = None, **params: Any) -> None:
        self.path = path
        self.backup = backup
        super().__init__(key, file=str(path), **params)


class ProjectLockedError(HdhWizardError):
    key = "error.project_locked"


class StepError(HdhWizardError):
    """A step action that the model refuses (not available, not skippable…)."""


class ProjectError(HdhWizardError):
    """Creating or opening a project folder failed."""
