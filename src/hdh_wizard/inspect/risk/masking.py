"""Values from a health table are never shown as they are: only their shape.

`mask("Jean Dupont")` is "Xxxx Xxxxxx" and `mask("06 12 34 56 78")` is "99 99 99 99 99": enough to
see what kind of value a column holds, nothing about whom. Used by every screen, report, log line
and snapshot that would otherwise show a value of an identifying column.
"""

from __future__ import annotations

MAX_SHOWN = 24  # longer values are cut: free text would otherwise show its whole layout


def mask(value: str) -> str:
    shape = "".join(_shape(char) for char in value[:MAX_SHOWN])
    return shape + ("…" if len(value) > MAX_SHOWN else "")


def _shape(char: str) -> str:
    if char.isdigit():
        return "9"
    if char.isalpha():
        return "X" if char.isupper() else "x"
    return char
