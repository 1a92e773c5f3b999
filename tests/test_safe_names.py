"""File names made from a table's values: safe on every system the files travel to."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hdh_wizard.inspect.safe_names import (
    MAX_NAME_BYTES,
    WINDOWS_RESERVED,
    safe_file_name,
    safe_name,
    transliterate,
    unique_names,
)

SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

HOSTILE = [
    "../../etc",
    "..",
    ".",
    "/",
    "\\",
    "a/b\\c",
    "CON",
    "con",
    "nul.txt",
    "LPT9.tar.gz",
    "COM1",
    "",
    "   ",
    "x" * 300,
    "é" * 300,
    "Stade Ⅲ",
    "e\u0301",
    "é",
    "ligne 1\nligne 2",
    "tab\there",
    "\u202eabc\u202c",
    "\u200fעברית\u200e",
    "日本語",
    ".hidden",
    "-rf",
    "trailing. ",
    "a\x00b",
    "\x07\x1b[31m",
    "C:\\Windows",
    "~",
    "$HOME",
]


def assert_portable(name: str, max_bytes: int = MAX_NAME_BYTES) -> None:
    assert SAFE.fullmatch(name), name
    assert ".." not in name
    assert not name.endswith((".", " "))
    assert len(name.encode("utf-8")) <= max_bytes
    assert name.partition(".")[0].upper() not in WINDOWS_RESERVED


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_gives_one_portable_path_component(value: str) -> None:
    name = safe_name(value)
    assert_portable(name)
    assert safe_name(name) == name  # idempotent: a safe name is kept


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_file_name_gives_a_portable_file_name(value: str) -> None:
    assert_portable(safe_file_name(value))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Stade Ⅲ", "Stade_III"),
        ("Œdème aigu", "OEdeme_aigu"),
        ("é", "e"),
        ("e\u0301", "e"),
        ("Straße", "Strasse"),
        ("../../etc", "etc"),
        ("CON", "CON_"),
        ("nul.txt", "nul_txt"),
        ("1.5 mg", "1.5_mg"),
        ("a..b", "a.b"),
        ("ligne 1\nligne 2", "ligne_1_ligne_2"),
        ("\u202eabc\u202c", "abc"),
    ],
)
def test_accents_are_transliterated_and_separators_flattened(value: str, expected: str) -> None:
    assert safe_name(value) == expected


def test_a_value_with_nothing_latin_is_named_by_a_stable_hash() -> None:
    first, second = safe_name("日本語"), safe_name("中文")
    assert first.startswith("valeur-") and second.startswith("valeur-")
    assert first != second
    assert safe_name("日本語") == first  # the same from one run to the next
    assert safe_name("   ").startswith("valeur-")


def test_a_long_value_is_cut_on_a_character_within_the_byte_limit() -> None:
    name = safe_name("Tumeur maligne " * 30, max_bytes=40)
    assert len(name) <= 40 and name.startswith("Tumeur_maligne")
    assert not name.endswith("_")


def test_a_file_keeps_its_extension() -> None:
    assert safe_file_name("Lame n°1.TIFF") == "Lame_n_1.TIFF"
    assert safe_file_name("slide 01.ome.tif") == "slide_01.ome.tif"
    assert safe_file_name("../../secret.tif") == "secret.tif"
    assert safe_file_name("nul.txt") == "nul_.txt"
    assert safe_file_name("nul_.txt") == "nul_.txt"
    long = safe_file_name("x" * 300 + ".tiff", max_bytes=60)
    assert long.endswith(".tiff") and len(long) <= 60


def test_names_that_differ_only_by_case_or_accents_get_numbered() -> None:
    values = ["A", "a", "é", "e\u0301", "e"]
    names = unique_names(values)
    assert names == ["A", "a-2", "e", "e-2", "e-3"]
    assert len({n.casefold() for n in names}) == len(values)


def test_taken_names_are_avoided_without_regard_to_case() -> None:
    assert unique_names(["Vide", "autres", "x"], taken=("vide", "autres")) == [
        "Vide-2",
        "autres-2",
        "x",
    ]


def test_a_numbered_name_still_fits_the_limit() -> None:
    names = unique_names(["y" * 100, "y" * 101, "Y" * 102], max_bytes=20)
    assert names == ["y" * 20, "y" * 18 + "-2", "Y" * 18 + "-3"]


def test_numbered_file_names_keep_their_extension() -> None:
    assert unique_names(["x.tif", "X.tif", "x.TIF"], file_names=True) == [
        "x.tif",
        "X-2.tif",
        "x-3.TIF",
    ]


@given(st.text(max_size=200))
def test_any_text_gives_a_portable_idempotent_name(value: str) -> None:
    name = safe_name(value)
    assert_portable(name)
    assert safe_name(name) == name


@given(st.lists(st.text(max_size=40), max_size=30))
def test_unique_names_never_collide_without_regard_to_case(values: list[str]) -> None:
    names = unique_names(values, taken=("vide",))
    assert len(names) == len(values)
    folded = [n.casefold() for n in names]
    assert len(set(folded)) == len(folded)
    assert "vide" not in folded
    for name in names:
        assert_portable(name)


def test_transliteration_leaves_other_scripts_for_the_caller() -> None:
    assert transliterate("Ⅲ") == "III"
    assert unicodedata.is_normalized("NFKD", transliterate("ça"))
    assert transliterate("日本") == "日本"
