"""The message catalogue: every key in French and English, the language chosen for the user."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Actor, Environment, Group, Requirement, Role, Route, StepStatus
from hdh_wizard.i18n import catalogue as catalogue_module
from hdh_wizard.i18n.catalogue import (
    Catalogue,
    CatalogueError,
    Lang,
    detect_lang,
    load_catalogue,
    placeholders,
)

RAW = catalogue_module._raw_catalogue()
CORE = Path(workflow.__file__).parent  # hdh_wizard/core


# --- the shipped catalogue ------------------------------------------------------------------


def test_both_languages_hold_the_same_keys() -> None:
    fr, en = load_catalogue(Lang.FR), load_catalogue(Lang.EN)
    assert fr.lang is Lang.FR and en.lang is Lang.EN
    assert set(fr.messages) == set(en.messages) == set(RAW)
    assert len(RAW) > 100


@pytest.mark.parametrize("key", sorted(RAW))
def test_every_key_has_a_french_and_an_english_text_with_the_same_placeholders(key: str) -> None:
    texts = RAW[key]
    assert set(texts) == {"fr", "en"}
    assert texts["fr"].strip() and texts["en"].strip()
    assert placeholders(texts["fr"]) == placeholders(texts["en"])


def test_french_is_the_default_catalogue() -> None:
    assert load_catalogue() == load_catalogue(Lang.FR)
    assert load_catalogue().t("status.done") == "fait"
    assert load_catalogue(Lang.EN).t("status.done") == "done"


def test_a_message_is_formatted_with_its_parameters() -> None:
    cat = load_catalogue(Lang.EN)
    text = cat.t("error.step_not_available", step="deposit", blockers="contract, volume")
    assert text == 'Step "deposit" is not available yet: first finish contract, volume.'
    fr = load_catalogue(Lang.FR).t("environment.custom", url="https://data.example.org")
    assert fr == "portail personnalisé (https://data.example.org)"


def test_an_unknown_key_raises() -> None:
    cat = load_catalogue(Lang.FR)
    assert not cat.has("step.nowhere.title")
    with pytest.raises(CatalogueError, match=re.escape("step.nowhere.title")):
        cat.t("step.nowhere.title")
    with pytest.raises(CatalogueError):
        Catalogue(Lang.EN, {}).t("status.done", extra=1)


@pytest.mark.parametrize("params", [{}, {"step": "deposit"}])
def test_a_message_missing_its_parameters_is_a_catalogue_error(params: dict[str, str]) -> None:
    with pytest.raises(CatalogueError):
        load_catalogue(Lang.FR).t("error.step_not_available", **params)


def test_placeholders_are_the_named_fields_of_a_template() -> None:
    assert placeholders("{step} avant {blockers}, {{pas un champ}}") == {"step", "blockers"}
    assert placeholders("{size:>8} {count!r}") == {"size", "count"}
    assert placeholders("sans champ") == set()


# --- every label the model needs is there ---------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        *(f"status.{s.value}" for s in StepStatus),
        *(f"actor.{a.value}" for a in Actor),
        *(f"role.{r.value}" for r in Role),
        *(f"requirement.{r.value}" for r in Requirement),
        *(f"route.{r.value}" for r in Route),
        *(f"group.route.{r.value}" for r in Route),
        *(f"group.{g.value}" for g in Group if g is not Group.ROUTE),
        *(f"environment.{e.value}" for e in Environment),
    ],
)
def test_every_value_of_the_model_has_a_label(key: str) -> None:
    assert key in RAW


def _raised_step_errors() -> dict[str, set[str]]:
    """Every `StepError("key", name=...)` of the core, with the parameter names it passes."""
    raised: dict[str, set[str]] = {}
    for source in sorted(CORE.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "StepError"
            ):
                first = node.args[0]
                assert isinstance(first, ast.Constant), ast.dump(node)
                names = {k.arg for k in node.keywords if k.arg}
                assert raised.setdefault(str(first.value), names) == names, first.value
    return raised


RAISED = _raised_step_errors()


def test_the_refusals_of_the_core_are_found() -> None:
    assert RAISED["error.step_not_available"] == {"step", "blockers"}
    assert RAISED["error.reason_required"] == set()
    assert len(RAISED) >= 12


@pytest.mark.parametrize("lang", list(Lang))
@pytest.mark.parametrize("key", sorted(RAISED))
def test_every_refusal_of_the_core_has_a_message_with_exactly_its_parameters(
    key: str, lang: Lang
) -> None:
    assert key in RAW
    assert placeholders(RAW[key][lang.value]) == RAISED[key]
    text = load_catalogue(lang).t(key, **{p: f"<{p}>" for p in RAISED[key]})
    assert "{" not in text


# --- choosing the language ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("explicit", "environ", "expected"),
    [
        ("en", {}, Lang.EN),
        ("EN", {"HDH_WIZARD_LANG": "fr", "LANG": "fr_FR.UTF-8"}, Lang.EN),
        ("fr", {"HDH_WIZARD_LANG": "en", "LANG": "en_US.UTF-8"}, Lang.FR),
        (None, {"HDH_WIZARD_LANG": "en", "LANG": "fr_FR.UTF-8"}, Lang.EN),
        (None, {"HDH_WIZARD_LANG": "fr", "LANG": "en_US.UTF-8"}, Lang.FR),
        ("", {"HDH_WIZARD_LANG": "", "LANG": "en_US.UTF-8"}, Lang.EN),
        (None, {"LANG": "en_US.UTF-8"}, Lang.EN),
        (None, {"LANG": "en_GB"}, Lang.EN),
        (None, {"LANG": "fr_FR"}, Lang.FR),
        (None, {"LANG": "fr_FR.UTF-8"}, Lang.FR),
        (None, {"LANG": "C"}, Lang.FR),
        (None, {"LANG": "C.UTF-8"}, Lang.FR),
        (None, {"LANG": "POSIX"}, Lang.FR),
        (None, {"LANG": ""}, Lang.FR),
        (None, {}, Lang.FR),
        (None, {"LC_ALL": "en_US.UTF-8", "LANG": "fr_FR.UTF-8"}, Lang.EN),
        (None, {"LC_MESSAGES": "en_US.UTF-8", "LANG": "fr_FR.UTF-8"}, Lang.EN),
        (None, {"LC_ALL": "C", "LANG": "en_US.UTF-8"}, Lang.FR),
        (None, {"LANGUAGE": "en"}, Lang.EN),
    ],
)
def test_detect_lang(explicit: str | None, environ: dict[str, str], expected: Lang) -> None:
    assert detect_lang(explicit, environ) is expected


def test_detect_lang_reads_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for var in ("HDH_WIZARD_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    assert detect_lang() is Lang.FR
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert detect_lang() is Lang.EN
    monkeypatch.setenv("HDH_WIZARD_LANG", "fr")
    assert detect_lang() is Lang.FR


# --- a broken catalogue is caught at load time ----------------------------------------------


@pytest.fixture
def messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary `messages/` folder served in place of the package's own."""
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


def test_a_valid_temporary_catalogue_loads_and_other_files_are_ignored(messages: Path) -> None:
    _write(messages, "a.yaml", 'hello:\n  fr: "Bonjour {name}"\n  en: "Hello {name}"\n')
    _write(messages, "README.txt", "not: [a catalogue")
    assert load_catalogue(Lang.EN).t("hello", name="Karim") == "Hello Karim"
    assert load_catalogue(Lang.FR).t("hello", name="Karim") == "Bonjour Karim"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('k:\n  fr: "Bonjour"\n', "exactly 'fr' and 'en'"),
        ('k:\n  fr: "Bonjour"\n  en: "Hello"\n  de: "Hallo"\n', "exactly 'fr' and 'en'"),
        ('k: "Bonjour"\n', "exactly 'fr' and 'en'"),
        ('k:\n  fr: "Étape {step}"\n  en: "Step {stpe}"\n', "placeholders differ"),
        ('k:\n  fr: "Étape {step} {blockers}"\n  en: "Step {step}"\n', "placeholders differ"),
        ("- a list\n- of texts\n", "expected a mapping"),
        ("", "expected a mapping"),
    ],
)
def test_a_broken_catalogue_is_refused(messages: Path, text: str, problem: str) -> None:
    _write(messages, "broken.yaml", text)
    with pytest.raises(CatalogueError, match=re.escape(problem)):
        load_catalogue(Lang.FR)


def test_a_key_defined_in_two_files_is_refused(messages: Path) -> None:
    _write(messages, "a.yaml", 'k:\n  fr: "un"\n  en: "one"\n')
    _write(messages, "b.yaml", 'k:\n  fr: "deux"\n  en: "two"\n')
    with pytest.raises(CatalogueError, match="defined twice"):
        load_catalogue(Lang.FR)


def test_a_key_defined_twice_in_one_file_is_refused(messages: Path) -> None:
    _write(messages, "a.yaml", 'k:\n  fr: "un"\n  en: "one"\nk:\n  fr: "deux"\n  en: "two"\n')
    with pytest.raises(CatalogueError, match="written twice"):
        load_catalogue(Lang.FR)


@pytest.mark.parametrize("english", ['""', '"   "', ""])
def test_a_missing_translation_is_refused(messages: Path, english: str) -> None:
    _write(messages, "a.yaml", f'k:\n  fr: "Bonjour"\n  en: {english}\n')
    with pytest.raises(CatalogueError, match="'k'"):
        load_catalogue(Lang.FR)


def test_every_literal_key_looked_up_in_the_program_exists() -> None:
    package = CORE.parent
    used = {
        (source.relative_to(package).as_posix(), key)
        for source in package.rglob("*.py")
        for key in re.findall(r'\bt\(\s*"([a-z0-9_.]+)"', source.read_text("utf-8"))
    }
    assert len(used) > 20
    assert {(where, key) for where, key in used if key not in RAW} == set()


# --- the screens' own wording ---------------------------------------------------------------

_OPTION = re.compile(r"(?:^|[\s«(\"`])--[a-z]|hdh-wizard (?:check|convert|risk|transfer|publish)\b")
# Messages raised by the inspection, the core or the services, which the screens show too.
SHOWN_ON_SCREENS = (
    "risk.error.no_quasi_identifiers",
    "risk.error.ragged_row",
    "inspect.problem.encoding_uncertain",
)


# Documents written to files (the risk report tells how to replay it with `risk --choices`).
DOCUMENTS = ("risk_document.py", "dictionary_document.py")


def _looked_up_by_screens() -> set[str]:
    package = CORE.parent
    return {
        key
        for folder in ("ui", "present")
        for source in (package / folder).rglob("*.py")
        if source.name not in DOCUMENTS
        for key in re.findall(r'\bt\(\s*"([a-z0-9_.]+)"', source.read_text("utf-8"))
    }


def test_a_message_a_screen_shows_does_not_speak_of_the_command_line() -> None:
    shown = _looked_up_by_screens() | set(SHOWN_ON_SCREENS)
    assert len(shown) > 100
    screens = load_catalogue(Lang.FR).on_screens()
    cli_words = sorted(k for k in shown if k in RAW and _OPTION.search(screens.messages[k]))
    assert cli_words == []


@pytest.mark.parametrize("lang", list(Lang))
def test_the_screens_read_their_own_wording_and_the_terminal_the_options(lang: Lang) -> None:
    cli = load_catalogue(lang)
    screens = cli.on_screens()
    assert "--qi" in cli.t("risk.error.no_quasi_identifiers", table="t.csv")
    on_screen = screens.t("risk.error.no_quasi_identifiers", table="t.csv")
    assert "--" not in on_screen and "t.csv" in on_screen
    variants = [k for k in RAW if k.endswith(".tui")]
    assert len(variants) >= 4
    for variant in variants:
        base = variant.removesuffix(".tui")
        assert screens.messages[base] == RAW[variant][lang.value]
        assert not _OPTION.search(RAW[variant][lang.value]), variant
    assert screens.t("status.done") == cli.t("status.done")


def test_a_screen_wording_needing_another_field_is_refused(messages: Path) -> None:
    _write(messages, "a.yaml", 'k:\n  fr: "{a}"\n  en: "{a}"\nk.tui:\n  fr: "{b}"\n  en: "{b}"\n')
    with pytest.raises(CatalogueError, match="screen wording"):
        load_catalogue(Lang.FR)
