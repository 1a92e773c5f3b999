"""Broken state files: each gives a clear error (key, line, backup offer), never a traceback,
and restoring the backup keeps the broken file."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hdh_wizard.core.release import Release
from hdh_wizard.core.state_file import (
    backup_path,
    load_release,
    restore_backup,
    save_release,
)
from hdh_wizard.errors import StateFileError
from hdh_wizard.i18n.catalogue import Lang, load_catalogue

REPAIR_TIME = datetime(2026, 3, 2, 8, 15, 30, tzinfo=UTC)


@pytest.fixture
def saved(sample_release: Release, state_file_path: Path) -> str:
    """A good state file, saved once (so without a backup); its text."""
    save_release(sample_release, state_file_path)
    return state_file_path.read_text(encoding="utf-8")


def load_error(path: Path) -> StateFileError:
    with pytest.raises(StateFileError) as caught:
        load_release(path)
    error = caught.value
    # Every error renders in both languages: no placeholder is left without its value.
    for lang in Lang:
        message = error.message(load_catalogue(lang))
        assert str(path) in message
        assert not re.search(r"\{[a-z_]+\}", message)
    return error


def line_number(text: str, line: str, *, after: str | None = None) -> int:
    """The 1-based number of the first line equal to `line` (after the line `after`)."""
    lines = text.splitlines()
    start = lines.index(after) + 1 if after is not None else 0
    return lines.index(line, start) + 1


def edit(path: Path, old: str, new: str, *, count: int = 1) -> str:
    text = path.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, count)
    path.write_text(text, encoding="utf-8")
    return text


# --- hand edits ------------------------------------------------------------------------------


def test_tab_in_indentation_is_reported_at_its_line(state_file_path: Path, saved: str) -> None:
    text = edit(state_file_path, "  name: Karim Open Science\n", "\tname: Karim Open Science\n")

    error = load_error(state_file_path)

    assert error.key == "state.invalid_yaml"
    assert error.params["line"] == line_number(text, "\tname: Karim Open Science")
    assert "jamais de tabulations" in error.message(load_catalogue(Lang.FR))


def test_wrong_indentation_is_reported_at_its_line(state_file_path: Path, saved: str) -> None:
    text = edit(state_file_path, "  role: hdh_staff\ntarget:", " role: hdh_staff\ntarget:")

    error = load_error(state_file_path)

    assert error.key == "state.invalid_yaml"
    assert error.params["line"] == line_number(text, " role: hdh_staff")
    assert error.params["column"] == 2


def test_unclosed_quote_is_invalid_yaml(state_file_path: Path, saved: str) -> None:
    edit(state_file_path, "name: Base mélanome", "name: 'Base mélanome")

    assert load_error(state_file_path).key == "state.invalid_yaml"


def test_two_documents_in_one_file_is_invalid_yaml(state_file_path: Path, saved: str) -> None:
    state_file_path.write_text(saved + "---\nname: autre\n", encoding="utf-8")

    assert load_error(state_file_path).key == "state.invalid_yaml"


def test_python_object_tag_is_refused_not_run(state_file_path: Path, saved: str) -> None:
    edit(
        state_file_path,
        "measured_bytes: 2700000000",
        "measured_bytes: !!python/object:os.getcwd {}",
    )

    assert load_error(state_file_path).key == "state.invalid_yaml"


def test_unknown_status_value_names_field_line_and_choices(
    state_file_path: Path, saved: str
) -> None:
    text = edit(
        state_file_path, "  contract:\n    status: done", "  contract:\n    status: finished"
    )

    error = load_error(state_file_path)

    assert error.key == "state.invalid_value"
    assert error.params["field"] == "steps.contract.status"
    assert error.params["line"] == line_number(text, "    status: finished")
    assert error.params["value"] == '"finished"'
    assert "in_progress" in error.params["expected"]


def test_unknown_step_id_is_an_invalid_value(state_file_path: Path, saved: str) -> None:
    text = edit(state_file_path, "  contract:\n", "  contrat:\n")

    error = load_error(state_file_path)

    assert error.key == "state.invalid_value"
    assert error.params["field"] == "steps.contrat"
    assert error.params["line"] == line_number(text, "  contrat:")


def test_unknown_role_is_an_invalid_value(state_file_path: Path, saved: str) -> None:
    text = edit(state_file_path, "  role: hdh_staff\ntarget:", "  role: directeur\ntarget:")

    error = load_error(state_file_path)

    assert (error.key, error.params["field"]) == ("state.invalid_value", "actor.role")
    assert error.params["line"] == line_number(text, "  role: directeur")


def test_unknown_audit_action_points_at_the_entry(state_file_path: Path, saved: str) -> None:
    text = edit(state_file_path, "  action: skipped", "  action: ignored")

    error = load_error(state_file_path)

    assert error.key == "state.invalid_value"
    assert error.params["field"].startswith("audit[") and error.params["field"].endswith("].action")
    assert error.params["line"] == line_number(text, "  action: ignored")


def test_text_where_a_size_is_expected(state_file_path: Path, saved: str) -> None:
    text = edit(state_file_path, "measured_bytes: 2700000000", "measured_bytes: 2,7 Go")

    error = load_error(state_file_path)

    assert (error.key, error.params["field"]) == ("state.invalid_value", "measured_bytes")
    assert error.params["line"] == line_number(text, "measured_bytes: 2,7 Go")


def test_negative_file_size_is_an_invalid_value(state_file_path: Path, saved: str) -> None:
    edit(state_file_path, "size: 900000000", "size: -1")

    error = load_error(state_file_path)

    assert (error.key, error.params["field"]) == ("state.invalid_value", "files[2].size")


def test_date_without_timezone_is_an_invalid_value(state_file_path: Path, saved: str) -> None:
    edit(state_file_path, "created_at: '2026-01-31T09:00:00+00:00'", "created_at: 2026-01-31 09:00")

    error = load_error(state_file_path)

    assert (error.key, error.params["field"]) == ("state.invalid_value", "created_at")


def test_set_in_outputs_is_an_invalid_value(state_file_path: Path, saved: str) -> None:
    edit(state_file_path, "      k_anonymity: 5", "      k_anonymity: !!set {5: null}")

    error = load_error(state_file_path)

    assert error.key == "state.invalid_value"
    assert error.params["field"] == "steps.anonymity.outputs.k_anonymity"


def test_missing_name_is_reported_at_the_top(state_file_path: Path, saved: str) -> None:
    edit(state_file_path, "name: Base mélanome — cohorte 2012-2016\n", "")

    error = load_error(state_file_path)

    assert (error.key, error.params["field"], error.params["line"]) == (
        "state.missing_field",
        "name",
        1,
    )


def test_missing_step_status_names_the_step_line(state_file_path: Path, saved: str) -> None:
    text = edit(state_file_path, "  contract:\n    status: done\n", "  contract:\n")

    error = load_error(state_file_path)

    assert error.key == "state.missing_field"
    assert error.params["field"] == "steps.contract.status"
    assert error.params["line"] == line_number(text, "  contract:")


def test_missing_audit_field_names_the_entry_line(state_file_path: Path, saved: str) -> None:
    text = edit(
        state_file_path,
        "  actor: Élodie Martin\n  role: partner\n  action: created\n",
        "  actor: Élodie Martin\n  role: partner\n",
    )

    error = load_error(state_file_path)

    assert (error.key, error.params["field"]) == ("state.missing_field", "audit[1].action")
    assert error.params["line"] == line_number(text, "- at: '2026-01-31T09:00:00+00:00'")


def test_truncated_file_is_caught_by_its_missing_sections(
    state_file_path: Path, saved: str
) -> None:
    state_file_path.write_text(saved[: saved.index("audit:")], encoding="utf-8")

    error = load_error(state_file_path)

    assert (error.key, error.params["field"]) == ("state.missing_field", "audit")


# --- the wrong file, or no file --------------------------------------------------------------


def test_empty_file(state_file_path: Path) -> None:
    state_file_path.write_bytes(b"")

    assert load_error(state_file_path).key == "state.empty"


def test_file_with_only_comments_is_empty(state_file_path: Path) -> None:
    state_file_path.write_text("# rien ici\n\n", encoding="utf-8")

    assert load_error(state_file_path).key == "state.empty"


def test_binary_file_is_unreadable(state_file_path: Path) -> None:
    state_file_path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))

    error = load_error(state_file_path)

    assert error.key == "state.unreadable"
    assert "UTF-8" in error.params["reason"]


def test_control_characters_are_invalid_yaml_at_their_line(state_file_path: Path) -> None:
    state_file_path.write_bytes(b"schema_version: 1\nname: a\x00b\n")

    error = load_error(state_file_path)

    assert (error.key, error.params["line"], error.params["column"]) == ("state.invalid_yaml", 2, 8)


def test_directory_in_place_of_the_file_is_unreadable(state_file_path: Path) -> None:
    state_file_path.mkdir()

    assert load_error(state_file_path).key == "state.unreadable"


def test_missing_file_is_unreadable(state_file_path: Path) -> None:
    assert load_error(state_file_path).key == "state.unreadable"


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="POSIX permissions, not root")
def test_file_without_read_permission_is_unreadable(state_file_path: Path, saved: str) -> None:
    os.chmod(state_file_path, 0)

    assert load_error(state_file_path).key == "state.unreadable"


def test_list_at_top_level_is_not_a_mapping(state_file_path: Path) -> None:
    state_file_path.write_text("- schema_version: 1\n", encoding="utf-8")

    assert load_error(state_file_path).key == "state.not_a_mapping"


def test_missing_schema_version(state_file_path: Path, saved: str) -> None:
    edit(state_file_path, "schema_version: 1\n", "")

    error = load_error(state_file_path)

    assert (error.key, error.params["field"]) == ("state.missing_field", "schema_version")


@pytest.mark.parametrize("value", ["un", "1.0", "true", "null"])
def test_schema_version_that_is_not_a_whole_number(
    state_file_path: Path, saved: str, value: str
) -> None:
    edit(state_file_path, "schema_version: 1\n", f"schema_version: {value}\n")

    error = load_error(state_file_path)

    assert (error.key, error.params["field"], error.params["line"]) == (
        "state.invalid_value",
        "schema_version",
        1,
    )


def test_newer_schema_asks_to_update_the_wizard(state_file_path: Path, saved: str) -> None:
    edit(state_file_path, "schema_version: 1\n", "schema_version: 7\n")

    error = load_error(state_file_path)

    assert (error.key, error.params["found"], error.params["supported"]) == (
        "state.newer_schema",
        7,
        1,
    )
    assert "jour" in error.message(load_catalogue(Lang.FR))


# --- the backup ------------------------------------------------------------------------------


def test_backup_is_offered_when_it_loads(
    sample_release: Release, state_file_path: Path, saved: str
) -> None:
    save_release(replace(sample_release, name="v2"), state_file_path)
    state_file_path.write_text("name: [oops\n", encoding="utf-8")

    error = load_error(state_file_path)

    assert error.backup == backup_path(state_file_path)


def test_no_backup_offered_when_there_is_none(state_file_path: Path) -> None:
    state_file_path.write_text("name: [oops\n", encoding="utf-8")

    assert load_error(state_file_path).backup is None


def test_broken_backup_is_not_offered(state_file_path: Path) -> None:
    state_file_path.write_text("name: [oops\n", encoding="utf-8")
    backup_path(state_file_path).write_text("", encoding="utf-8")

    assert load_error(state_file_path).backup is None


def test_restore_backup_keeps_the_broken_file_and_puts_the_backup_back(
    sample_release: Release, state_file_path: Path, saved: str
) -> None:
    save_release(replace(sample_release, name="v2"), state_file_path)
    broken = b"name: [oops\n\xff"
    state_file_path.write_bytes(broken)

    kept = restore_backup(state_file_path, now=REPAIR_TIME)

    assert kept == state_file_path.with_name("hdh-release.yaml.broken-20260302T081530Z")
    assert kept.read_bytes() == broken
    assert load_release(state_file_path) == sample_release
    assert backup_path(state_file_path).read_text(encoding="utf-8") == saved


def test_restore_backup_twice_in_the_same_second_keeps_both_broken_files(
    state_file_path: Path, saved: str
) -> None:
    backup_path(state_file_path).write_text(saved, encoding="utf-8")
    state_file_path.write_text("broken: [1\n", encoding="utf-8")
    first = restore_backup(state_file_path, now=REPAIR_TIME)
    state_file_path.write_text("broken: [2\n", encoding="utf-8")

    second = restore_backup(state_file_path, now=REPAIR_TIME)

    assert first is not None and second is not None and first != second
    assert first.read_text(encoding="utf-8") == "broken: [1\n"
    assert second.read_text(encoding="utf-8") == "broken: [2\n"


def test_restore_backup_moves_a_directory_aside(state_file_path: Path, saved: str) -> None:
    backup_path(state_file_path).write_text(saved, encoding="utf-8")
    state_file_path.unlink()
    state_file_path.mkdir()
    (state_file_path / "inside.txt").write_text("gardé", encoding="utf-8")

    kept = restore_backup(state_file_path, now=REPAIR_TIME)

    assert kept is not None and (kept / "inside.txt").read_text(encoding="utf-8") == "gardé"
    assert state_file_path.read_text(encoding="utf-8") == saved


def test_restore_backup_when_the_state_file_is_gone(state_file_path: Path, saved: str) -> None:
    state_file_path.rename(backup_path(state_file_path))

    assert restore_backup(state_file_path, now=REPAIR_TIME) is None
    assert state_file_path.read_text(encoding="utf-8") == saved


def test_restore_without_backup_says_so(state_file_path: Path) -> None:
    state_file_path.write_text("broken: [\n", encoding="utf-8")

    with pytest.raises(StateFileError) as caught:
        restore_backup(state_file_path)

    assert caught.value.key == "state.no_backup"
    assert state_file_path.read_text(encoding="utf-8") == "broken: [\n"


def test_restore_refuses_a_broken_backup_and_changes_nothing(state_file_path: Path) -> None:
    state_file_path.write_text("broken: [\n", encoding="utf-8")
    backup_path(state_file_path).write_text("also: [broken\n", encoding="utf-8")

    with pytest.raises(StateFileError) as caught:
        restore_backup(state_file_path)

    assert caught.value.key == "state.backup_unusable"
    assert sorted(p.name for p in state_file_path.parent.iterdir()) == [
        "hdh-release.yaml",
        "hdh-release.yaml.bak",
    ]


@pytest.mark.parametrize(
    "outputs", ["&loop [*loop]", "&shared [1, 2]\n      copy: *shared"], ids=["self", "shared"]
)
def test_anchors_and_aliases_are_refused(state_file_path: Path, saved: str, outputs: str) -> None:
    text = edit(state_file_path, "      k_anonymity: 5", f"      k_anonymity: {outputs}")

    error = load_error(state_file_path)

    assert error.key == "state.invalid_yaml"
    assert error.params["line"] == line_number(
        text, f"      k_anonymity: {outputs.splitlines()[0]}"
    )


def test_absurdly_deep_nesting_is_invalid_yaml(state_file_path: Path, saved: str) -> None:
    edit(state_file_path, "      k_anonymity: 5", "      k_anonymity: " + "[" * 5000 + "]" * 5000)

    assert load_error(state_file_path).key == "state.invalid_yaml"
