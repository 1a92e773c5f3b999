"""argparse's own error messages in the user's language.

argparse words its errors in English through `gettext` (its module-level `_` and `ngettext`).
While a command line is parsed, those two names are pointed at the catalogue, so that
"the following arguments are required: paths" reads "arguments obligatoires manquants : paths"
on a French screen. Messages argparse adds later fall back to its English.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from hdh_wizard.i18n.catalogue import Catalogue

# argparse's message ids (Python 3.11 to 3.13) and the catalogue key of each.
_KEYS = {
    "the following arguments are required: %s": "cli.argparse.required",
    "unrecognized arguments: %s": "cli.argparse.unrecognized",
    "invalid choice: %(value)r (choose from %(choices)s)": "cli.argparse.invalid_choice",
    "expected one argument": "cli.argparse.expected_one",
    "expected at most one argument": "cli.argparse.expected_at_most_one",
    "expected at least one argument": "cli.argparse.expected_at_least_one",
    "argument %(argument_name)s: %(message)s": "cli.argparse.argument",
    "invalid %(type)s value: %(value)r": "cli.argparse.invalid_type",
    "ambiguous option: %(option)s could match %(matches)s": "cli.argparse.ambiguous",
    "not allowed with argument %s": "cli.argparse.not_allowed_with",
    "ignored explicit argument %r": "cli.argparse.ignored_explicit",
    "one of the arguments %s is required": "cli.argparse.one_required",
    "unexpected option string: %s": "cli.argparse.unexpected_option",
}
_PLURAL_KEYS = {
    "expected %s argument": ("cli.argparse.expected_n_one", "cli.argparse.expected_n_many")
}


def translator(cat: Catalogue) -> tuple[Callable[[str], str], Callable[[str, str, int], str]]:
    """The `gettext` and `ngettext` that argparse should call for this catalogue."""

    def gettext(message: str) -> str:
        key = _KEYS.get(message)
        return cat.t(key) if key else message

    def ngettext(singular: str, plural: str, count: int) -> str:
        keys = _PLURAL_KEYS.get(singular)
        if keys is None:
            return singular if count == 1 else plural
        return cat.t(keys[0] if count == 1 else keys[1])

    return gettext, ngettext


@contextmanager
def argparse_in(cat: Catalogue) -> Iterator[None]:
    """argparse speaks the catalogue's language inside this block."""
    module: Any = argparse
    saved = module._, module.ngettext
    module._, module.ngettext = translator(cat)
    try:
        yield
    finally:
        module._, module.ngettext = saved
