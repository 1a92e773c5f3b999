"""A help page: the Markdown text of a topic (`help/<topic>.<lang>.md`)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Markdown

from hdh_wizard.ui.base import WizardScreen
from hdh_wizard.ui.help_texts import help_markdown


class HelpScreen(WizardScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "key.back"),
        Binding("q", "close", "key.back", show=False),
        Binding("question_mark", "close", "key.back", show=False),
    ]

    def __init__(self, topic: str) -> None:
        super().__init__(id="help")
        self._topic = topic

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(help_markdown(self._topic, self.cat.lang))
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
