"""Load the message catalogue and look strings up by key.

The catalogue is split by area (`messages/<area>.yaml`) so that each part of the program owns its
file; every key holds its French and English text side by side, so a missing translation shows.

Two forms make a message follow French grammar whatever is put in it:

- `{count:plural:fichier|fichiers}` writes the singular or the plural word for the number in
  `count`, the way gettext's ngettext chooses: French takes the singular for 0 and 1 (and 1,5),
  English for 1 only. The number itself is written by `{count}`:
  "{count} {count:plural:fichier|fichiers}". A form may hold the number too:
  "{count:plural:le fichier est|les {count} fichiers sont}".
- `{name:elide:de}` writes "de Bob" but "d'Alice": the word loses its last vowel before a vowel,
  as "de", "le", "la", "que" do in French. English texts simply leave it out.
"""

from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import yaml


class Lang(StrEnum):
    FR = "fr"
    EN = "en"


SCREEN_SUFFIX = ".tui"  # a message's wording on the TUI's screens (`Catalogue.on_screens`)


class CatalogueError(Exception):
    """A broken catalogue file: a programming error, caught by the tests."""


def detect_lang(explicit: str | None = None, environ: dict[str, str] | None = None) -> Lang:
    """French unless asked otherwise: `--lang`, then HDH_WIZARD_LANG, then an English locale."""
    env = os.environ if environ is None else environ
    for candidate in (explicit, env.get("HDH_WIZARD_LANG")):
        if candidate:
            return Lang.EN if candidate.lower().startswith("en") else Lang.FR
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):  # gettext's order
        value = env.get(var, "")
        if value:
            return Lang.EN if value.lower().startswith("en") else Lang.FR
    return Lang.FR


@dataclass(frozen=True)
class Catalogue:
    """Messages for one language; `t(key, **params)` formats one."""

    lang: Lang
    messages: dict[str, str]

    def t(self, key: str, **params: Any) -> str:
        try:
            template = self.messages[key]
        except KeyError:
            raise CatalogueError(f"unknown message key {key!r}") from None
        try:
            # Always formatted, so a forgotten parameter fails here, not on the user's screen.
            if ":" + PLURAL not in template and ":" + ELIDE not in template:
                return template.format(**params)  # the common case, at str.format's speed
            return _Formatter(self.lang).vformat(template, (), params)
        except (KeyError, IndexError) as exc:
            raise CatalogueError(f"message {key!r} needs parameter {exc}") from None

    def has(self, key: str) -> bool:
        return key in self.messages

    def on_screens(self) -> Catalogue:
        """The catalogue the TUI speaks with: where a message has a `<key>.tui` variant (its
        screen wording, which names buttons and steps instead of command-line options), that
        variant answers for `<key>`. The same error raised by the inspection then reads
        "--qi age,sexe" in the terminal and "marquez … comme quasi-identifiants" on a screen."""
        messages = {
            key: self.messages.get(key + SCREEN_SUFFIX, text) for key, text in self.messages.items()
        }
        return Catalogue(lang=self.lang, messages=messages)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


PLURAL = "plural:"
ELIDE = "elide:"


def plural_placeholders(template: str) -> set[str]:
    """The placeholders whose number chooses a word: `{count:plural:fichier|fichiers}`."""
    return {
        name
        for _, name, spec, _ in string.Formatter().parse(template)
        if name and spec and spec.startswith(PLURAL)
    }


def count_of(value: object) -> float | None:
    """The number in a count as given: 3, 2.5, or a formatted "16 500 000", "≈ 1,5"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = re.sub(r"[\s\u00a0\u202f≈~<>]", "", str(value)).replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def is_singular(value: object, lang: Lang) -> bool:
    """ngettext's choice: French 0 ≤ n < 2 ("0 fichier", "1 fichier"), English exactly 1."""
    number = count_of(value)
    if number is None:
        return False
    if lang is Lang.FR:
        return 0 <= abs(number) < 2
    return abs(number) == 1


_VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüœæAEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŒÆ")


def elide(word: str, following: str) -> str:
    """ "de" + "Alice" → "d'Alice"; "de" + "Bob" → "de Bob" (also "le", "la", "que")."""
    following = following.strip()
    if following[:1] in _VOWELS and word[-1:] in ("e", "a"):
        return f"{word[:-1]}'{following}"
    return f"{word} {following}"


class _Formatter(string.Formatter):
    """`str.format` plus the plural and elision forms of the catalogue."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec.startswith(PLURAL):
            forms = format_spec[len(PLURAL) :].split("|")
            if len(forms) != 2:
                raise CatalogueError(f"a plural form needs 'singular|plural': {format_spec!r}")
            return forms[0] if is_singular(value, self.lang) else forms[1]
        if format_spec.startswith(ELIDE):
            return elide(format_spec[len(ELIDE) :], format(value))
        result: str = super().format_field(value, format_spec)
        return result


@cache
def _raw_catalogue() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    folder = resources.files("hdh_wizard.i18n").joinpath("messages")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.load(entry.read_text(encoding="utf-8"), Loader=_Loader)
        if not isinstance(data, dict):
            raise CatalogueError(f"{entry.name}: expected a mapping of keys")
        for key, texts in data.items():
            if key in merged:
                raise CatalogueError(f"{entry.name}: key {key!r} defined twice")
            if not isinstance(texts, dict) or set(texts) != {"fr", "en"}:
                raise CatalogueError(f"{entry.name}: {key!r} needs exactly 'fr' and 'en'")
            for lang, text in texts.items():
                if not isinstance(text, str) or not text.strip():
                    raise CatalogueError(f"{entry.name}: {key!r} has no {lang} text")
            if placeholders(texts["fr"]) != placeholders(texts["en"]):
                raise CatalogueError(f"{entry.name}: {key!r} placeholders differ between fr and en")
            for lang, text in texts.items():
                _check_forms(f"{entry.name}: {key!r} ({lang})", text)
            merged[str(key)] = {"fr": str(texts["fr"]), "en": str(texts["en"])}
    for key, texts in merged.items():
        if not key.endswith(SCREEN_SUFFIX):
            continue
        base = merged.get(key.removesuffix(SCREEN_SUFFIX))
        # The screen wording is formatted with the parameters given for the message it replaces.
        if base is None or not placeholders(texts["fr"]) <= placeholders(base["fr"]):
            raise CatalogueError(f"{key!r}: a screen wording needs its message, and no other field")
    return merged


def _check_forms(where: str, template: str) -> None:
    """A plural needs exactly two forms; an unknown `name:word:` form is a typo."""
    for _, name, spec, _ in string.Formatter().parse(template):
        if not name or not spec:
            continue
        if spec.startswith(PLURAL) and spec.count("|") != 1:
            raise CatalogueError(f"{where}: plural of {name!r} needs 'singular|plural'")
        if spec.startswith(ELIDE) and not spec[len(ELIDE) :].isalpha():
            raise CatalogueError(f"{where}: elision of {name!r} needs a word, as 'elide:de'")


# libyaml's parser when PyYAML was built with it: the catalogue is parsed at every start, and the
# pure-Python parser alone costs most of `hdh-wizard --help`. The constructor (and so the check
# of duplicate keys below) is the same Python code with either.
try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _Loader(_BaseLoader):
    """Refuses a key written twice in one file, which YAML would silently let the last win."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        duplicates = sorted({str(k) for k in keys if keys.count(k) > 1})
        if duplicates:
            raise CatalogueError(
                f"line {node.start_mark.line + 1}: keys written twice: " + ", ".join(duplicates)
            )
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


@cache
def load_catalogue(lang: Lang = Lang.FR) -> Catalogue:
    raw = _raw_catalogue()
    return Catalogue(lang=lang, messages={key: texts[lang.value] for key, texts in raw.items()})


# Placeholders that hold a number of things. A message that writes a word right after one of them
# ("{count} fichiers") must let the number choose it: "{count} {count:plural:fichier|fichiers}".
# The names are a convention (`n`, `count`, `…_count`, plus the nouns the catalogue counts with);
# tests/test_catalogue_plurals.py holds every message to it.
COUNT_NAMES = frozenset(
    {
        "n",
        "count",
        "records",
        "rows",
        "folders",
        "values",
        "classes",
        "written",
        "placed",
        "deduced",
        "suppressed",
        "evaluated",
        "settled",
        "lattice",
        "unique",
        "small",
        "matches",
        "nulls",
        "distinct",
        "length",
        "max",
        "min",
        "limit",
        "bytes",
        "budget",
        "k",
        "total",
        "found",
        "expected",
        "threshold",
        "default",
        "strict",
        "met",
        "images",
        "population",
        "shown",
    }
)


def is_count_placeholder(name: str) -> bool:
    return name in COUNT_NAMES or name.endswith("_count") or name.startswith("n_")
