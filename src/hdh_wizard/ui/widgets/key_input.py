"""The field an API key is pasted into: hidden, and forgiving of what comes along with a copy."""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class KeyInput(Input):
    """A key copied with the line above it, or spaces and a line break around it, is still the
    key: Textual's Input would keep only the first line of a paste (here, an empty one)."""

    def __init__(self, *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(password=True, placeholder=placeholder, id=id)

    def _on_paste(self, event: events.Paste) -> None:
        key = "".join(event.text.split())  # an API key holds no whitespace
        if key:
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(key)
            else:
                self.replace(key, *selection)
        event.stop()
        event.prevent_default()  # else Input's own paste handler inserts the first line again
