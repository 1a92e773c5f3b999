"""Counts and names read as French: "1 fichier", "0 fichier déposé", "compte d'Alice Martin".

Every message of the catalogue that writes a word after a count placeholder (named by the
convention of `catalogue.COUNT_NAMES`: `count`, `n`, `…_count`, `records`, `rows`…) must let the
number choose the word, as gettext's ngettext does; each is rendered with 0, 1 and 2 in both
languages and its grammar checked.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from types import SimpleNamespace

import pytest

from hdh_wizard.i18n import catalogue as catalogue_module
from hdh_wizard.i18n.catalogue import (
    CatalogueError,
    Lang,
    elide,
    is_count_placeholder,
    is_singular,
    load_catalogue,
    plural_placeholders,
)

RAW = catalogue_module._raw_catalogue()

# Words that may follow a number without agreeing with it (prepositions, units, invariable nouns).
AGREEMENT_FREE = {
    Lang.FR: {"sur", "au", "à", "de", "des", "en", "et", "ou", "pour", "par", "dans"}
    | {"fois", "mois", "ans"},
    Lang.EN: {"of", "out", "in", "at", "and", "or", "to", "for", "per", "by", "over", "from"}
    | {"than", "such", "more"}
    # English adjectives and participles do not agree: "2 unique", "1 expected".
    | {"unique", "empty", "expected", "written", "examined", "created", "updated", "removed"},
}
# (key, placeholder) pairs whose value is not a number in that message, though its name says so.
NOT_A_COUNT = {("risk.choices.error.format", "expected")}


def _fields(template: str) -> list[tuple[str, str, str]]:
    """(literal text before, field name, format spec) of each field, in order."""
    return [
        (literal, name, spec or "")
        for literal, name, spec, _ in string.Formatter().parse(template)
        if name is not None
    ]


def _bare_counts_followed_by_a_word(key: str, template: str, lang: Lang) -> list[str]:
    """'{count} fichiers' (a word after a bare count), '(s)' markers: what does not agree."""
    problems = [marker for marker in ("(s)", "(es)", "(x)") if marker in template]
    parts = list(string.Formatter().parse(template))
    for index, (_, name, spec, _) in enumerate(parts):
        if not name or spec or not is_count_placeholder(name) or (key, name) in NOT_A_COUNT:
            continue
        following = parts[index + 1] if index + 1 < len(parts) else None
        if following is None:
            continue
        literal, next_name, next_spec = following[0], following[1], following[2] or ""
        if literal.strip() == "" and next_name == name and next_spec.startswith("plural:"):
            continue  # "{count} {count:plural:fichier|fichiers}"
        word = re.match(r"[ \u00a0]+([^\W\d_]+)", literal)
        if word and word.group(1).lower() not in AGREEMENT_FREE[lang]:
            problems.append(f"{{{name}}} {word.group(1)}")
    return problems


COUNTED = sorted(
    key
    for key, texts in RAW.items()
    if any(
        is_count_placeholder(name)
        for text in texts.values()
        for _, name, _, _ in string.Formatter().parse(text)
        if name
    )
)


def test_the_catalogue_has_messages_with_counts_and_count_aware_ones() -> None:
    assert len(COUNTED) > 50
    assert sum(1 for key in COUNTED if plural_placeholders(RAW[key]["fr"])) > 40


@pytest.mark.parametrize("lang", list(Lang))
@pytest.mark.parametrize("key", COUNTED)
def test_every_word_after_a_count_agrees_with_it(key: str, lang: Lang) -> None:
    assert _bare_counts_followed_by_a_word(key, RAW[key][lang.value], lang) == []


def _render(key: str, lang: Lang, n: int) -> str:
    names = {name for _, name, _ in _fields(RAW[key][lang.value])}
    params = {
        name: n if is_count_placeholder(name) and (key, name) not in NOT_A_COUNT else f"<{name}>"
        for name in names
    }
    return load_catalogue(lang).t(key, **params)


# "1 fichiers", "0 enregistrements", "1 files": a plural right after a singular number.
_PLURAL_AFTER = {
    Lang.FR: re.compile(r"(?<![\d,.])([01]) ([^\W\d_]+[sx])\b"),
    Lang.EN: re.compile(r"(?<![\d,.])(1) ([^\W\d_]+[^\Ws]s)\b"),  # not "class", "address"
}
_NOT_PLURALS = {"fois", "mois", "cas", "pas", "plus", "sous", "is", "has", "was", "does", "its"}


@pytest.mark.parametrize("lang", list(Lang))
@pytest.mark.parametrize("key", COUNTED)
def test_every_message_with_a_count_reads_right_with_0_1_and_2(key: str, lang: Lang) -> None:
    for n in (0, 1, 2):
        text = _render(key, lang, n)
        assert "{" not in text and "(s)" not in text
        wrong = [
            f"{number} {word}"
            for number, word in _PLURAL_AFTER[lang].findall(text)
            if word.lower() not in _NOT_PLURALS | AGREEMENT_FREE[lang]
        ]
        assert wrong == [], text


# --- the forms themselves ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "french", "english"),
    [
        (0, "0 fichier déposé", "0 files deposited"),
        (1, "1 fichier déposé", "1 file deposited"),
        (2, "2 fichiers déposés", "2 files deposited"),
        ("16\u202f500\u202f000", "16\u202f500\u202f000 fichiers déposés", None),
        ("1,5", "1,5 fichier déposé", None),
        ("≈ 1", "≈ 1 fichier déposé", "≈ 1 file deposited"),
    ],
)
def test_the_number_chooses_the_singular_or_the_plural(
    n: object, french: str, english: str | None, messages: Path
) -> None:
    _write(
        messages,
        "a.yaml",
        "k:\n"
        '  fr: "{count} {count:plural:fichier déposé|fichiers déposés}"\n'
        '  en: "{count} {count:plural:file deposited|files deposited}"\n',
    )
    assert load_catalogue(Lang.FR).t("k", count=n) == french
    if english is not None:
        assert load_catalogue(Lang.EN).t("k", count=n) == english


def test_french_takes_the_singular_below_two_and_english_only_for_one() -> None:
    assert [is_singular(n, Lang.FR) for n in (0, 1, 1.5, 2, 10)] == [True, True, True, False, False]
    assert [is_singular(n, Lang.EN) for n in (0, 1, 1.5, 2, 10)] == [
        False,
        True,
        False,
        False,
        False,
    ]
    assert not is_singular("beaucoup", Lang.FR)  # not a number: the plural


@pytest.mark.parametrize(
    ("word", "name", "expected"),
    [
        ("de", "Alice Martin", "d'Alice Martin"),
        ("de", "Émilie", "d'Émilie"),
        ("de", "Bob Durand", "de Bob Durand"),
        ("le", "outil", "l'outil"),
        ("que", "Yves", "qu'Yves"),
    ],
)
def test_de_before_a_vowel_is_elided(word: str, name: str, expected: str) -> None:
    assert elide(word, name) == expected


def test_the_key_check_names_the_account_owner_with_elision() -> None:
    params = {"organizations": "HDH", "masked": "…1234", "source": "trousseau"}
    fr = load_catalogue(Lang.FR)
    assert "compte d'Alice Martin" in fr.t("account.verified", name="Alice Martin", **params)
    assert "compte de Bob" in fr.t("account.verified", name="Bob", **params)


def test_no_label_repeats_itself() -> None:
    fr = load_catalogue(Lang.FR)
    assert fr.t("doc.quality.criterion.update_fulfilled_in_time") != "Mise à jour à jour"
    repeated = re.compile(r"\b(\w+ \w+ \w+)\b \1\b")
    assert [k for k, v in RAW.items() if repeated.search(v["fr"])] == []


# --- a broken form is refused at load time ---------------------------------------------------


@pytest.fixture
def messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    folder = tmp_path / "messages"
    folder.mkdir()
    monkeypatch.setattr(catalogue_module, "resources", SimpleNamespace(files=lambda _: tmp_path))
    catalogue_module._raw_catalogue.cache_clear()
    load_catalogue.cache_clear()
    yield folder
    catalogue_module._raw_catalogue.cache_clear()
    load_catalogue.cache_clear()


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    "form",
    ["{count:plural:fichier}", "{count:plural:a|b|c}", "{name:elide:d'}"],
)
def test_a_broken_form_is_refused(messages: Path, form: str) -> None:
    name = "name" if "elide" in form else "count"
    _write(messages, "a.yaml", f'k:\n  fr: "{{{name}}} {form}"\n  en: "{{{name}}}"\n')
    with pytest.raises(CatalogueError, match=name):
        load_catalogue(Lang.FR)


def test_a_new_message_with_a_bare_count_is_caught() -> None:
    caught = _bare_counts_followed_by_a_word("k", "{count} fichiers déposés", Lang.FR)
    assert caught == ["{count} fichiers"]
    assert _bare_counts_followed_by_a_word("k", "{n} fichier(s)", Lang.FR) != []
    assert _bare_counts_followed_by_a_word("k", "{records} sur {total}", Lang.FR) == []
    fine = "{count} {count:plural:fichier|fichiers}"
    assert _bare_counts_followed_by_a_word("k", fine, Lang.FR) == []


def test_no_message_hedges_its_plural_with_parentheses() -> None:
    hedged = sorted(k for k, v in RAW.items() if any("(s)" in t or "(es)" in t for t in v.values()))
    assert hedged == []


# Placeholders that hold a person's name: "de" before them is elided ("compte d'Alice").
PERSON_NAMES = ("name", "invitee", "user", "signer")


def test_every_de_before_a_person_s_name_is_elided() -> None:
    bare = re.compile(r"\b[Dd]e \{(" + "|".join(PERSON_NAMES) + r")\}")
    assert sorted(k for k, v in RAW.items() if bare.search(v["fr"])) == []
    fr = load_catalogue(Lang.FR)
    assert fr.t("home.portal.invitation_pending", invitee="Ève").startswith("Invitation d'Ève :")
    assert "Invitation d'Élise" in fr.t("home.portal.invitation_accepted", invitee="Élise")
    assert "Invitation de Bob" in fr.t("home.portal.invitation_accepted", invitee="Bob")
