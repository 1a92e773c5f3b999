"""Load the message catalogue and look strings up by key.

The catalogue is split by area (`messages/<area>.yaml`) so that each part of the program owns its
file; every key holds its French and English text side by side, so a missing translation shows.
"""

from __future__ import annotations

import os
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
            return template.format(**params)
        except (KeyError, IndexError) as exc:
            raise CatalogueError(f"message {key!r} needs parameter {exc}") from None

    def has(self, key: str) -> bool:
        return key in self.messages


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


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
            merged[str(key)] = {"fr": str(texts["fr"]), "en": str(texts["en"])}
    return merged


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
