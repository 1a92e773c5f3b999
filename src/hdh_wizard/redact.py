"""Secrets out of any text before it is shown or written.

A secret reaches a text in more shapes than the one typed: an error may quote it (`repr`, escaped
line breaks, bytes), a server may echo it URL-encoded (`%2F` or `%2f`), and a header check that
refuses a key holding a line break splits it in pieces. Every place that shows or writes a text
that may hold one (the API client's errors, the storage's errors, crash reports) redacts through
here, so the shapes are listed once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "•" * 8
# Below this, a "secret" is too short to tell from ordinary words: replacing it would garble the
# text and protect nothing (no real key or storage secret is this short).
MIN_SECRET_LENGTH = 4
_MIN_PIECE_LENGTH = 6
_PERCENT = re.compile(r"(%[0-9A-F]{2})")


def secret_forms(secret: str) -> set[str]:
    """Every shape of `secret` worth looking for, longest first when sorted by the caller."""
    value = secret.strip()
    if len(value) < MIN_SECRET_LENGTH:
        return set()
    forms = {
        value,
        secret,
        repr(value)[1:-1],
        repr(value.encode("utf-8"))[2:-1],
        quote(value),
        quote(value, safe=""),
        quote_plus(value),
    }
    forms.update(piece for piece in value.split() if len(piece) >= _MIN_PIECE_LENGTH)
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def redact(text: str, secrets: Iterable[str], mask: str = MASK) -> str:
    """`text` with every form of every secret replaced by `mask`: never shown, not even in part."""
    forms: set[str] = set()
    for secret in secrets:
        if secret:
            forms.update(secret_forms(secret))
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, mask)
        if "%" in form:  # URL-encoded: hexadecimal digits in either case
            pattern = "".join(
                f"%(?i:{piece[1:]})" if _PERCENT.fullmatch(piece) else re.escape(piece)
                for piece in _PERCENT.split(form)
            )
            text = re.sub(pattern, mask, text)
    return text
