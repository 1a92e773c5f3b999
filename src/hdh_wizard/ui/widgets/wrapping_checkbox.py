"""A checkbox whose label wraps under itself: an attestation the signer reads whole.

Textual's checkbox keeps its label on one line and cuts it at the screen's edge; this one takes
the width it is given and as many lines as its label needs, the lines after the first indented
under the first word.
"""

from __future__ import annotations

from textual.content import Content
from textual.geometry import Size
from textual.widgets import Checkbox

_LABEL_PAD = 2  # one space each side of the label, as Textual's toggle draws it


class WrappingCheckbox(Checkbox):
    """A `Checkbox` for long labels (styled in app.tcss: full width, auto height)."""

    def _label_width(self, width: int) -> int:
        button = self._button.cell_length
        return max(1, width - button - _LABEL_PAD)

    def _label_lines(self, width: int) -> list[Content]:
        return self._label.wrap(self._label_width(width)) or [Content("")]

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._label_lines(width))

    def render(self) -> Content:
        width = self.content_region.width or self.size.width
        label_style = self.get_visual_style("toggle--label")
        button = self._button
        indent = " " * button.cell_length
        lines = []
        for number, line in enumerate(self._label_lines(width)):
            text = line.pad(1, 1).stylize_before(label_style)
            lines.append(Content.assemble(button if number == 0 else indent, text))
        return Content("\n").join(lines)
