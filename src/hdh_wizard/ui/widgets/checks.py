"""The "what is checked" panel of a step screen."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from hdh_wizard.core.checks import Check
from hdh_wizard.i18n.catalogue import Catalogue


class ChecksPanel(Static):
    def __init__(self, cat: Catalogue, *, id: str | None = "checks") -> None:
        super().__init__(id=id)
        self._cat = cat

    def show(self, checks: list[Check]) -> None:
        text = Text()
        text.append(self._cat.t("step.checks_title") + "\n", style="bold")
        for check in checks:
            mark, style = ("✓", "green") if check.ok else ("✗", "red")
            text.append(f"{mark} ", style=style)
            text.append(self._cat.t(check.key, **check.params) + "\n")
        self.update(text)
