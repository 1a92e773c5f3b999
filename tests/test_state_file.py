"""The state file: round trip, readable layout, backup, secrets guard and schema migrations."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from hdh_wizard.core import lock as lock_module
from hdh_wizard.core import state_file as state_module
from hdh_wizard.core.enums import Role, StepStatus
from hdh_wizard.core.migrations import SCHEMA_VERSION, MigrationError, migrate
from hdh_wizard.core.release import Person, Release, StepRecord
from hdh_wizard.core.state_file import (
    backup_path,
    dump_release,
    load_release,
    looks_like_secret,
    release_from_document,
    release_to_dict,
    remove_leftover_temp_files,
    save_release,
)
from hdh_wizard.core.steps import STEPS, StepId
from hdh_wizard.errors import StateFileError
from hdh_wizard.i18n.catalogue import Lang, load_catalogue

PARTNER = Person("Élodie Martin", Role.PARTNER)
T1 = datetime(2026, 2, 1, 10, 30, tzinfo=UTC)


def with_outputs(release: Release, step_id: StepId, outputs: dict[str, Any]) -> Release:
    record = StepRecord(StepStatus.DONE, outputs, "", T1, PARTNER)
    return replace(release, steps={**release.steps, step_id: record})


# --- round trip ------------------------------------------------------------------------------


def test_release_in_every_status_survives_save_and_load(
    sample_release: Release, state_file_path: Path
) -> None:
    statuses = {record.status for record in sample_release.steps.values()}
    assert {StepStatus.DONE, StepStatus.SKIPPED, StepStatus.BLOCKED, StepStatus.STALE} <= statuses

    save_release(sample_release, state_file_path)

    assert load_release(state_file_path) == sample_release


def test_loaded_release_saves_to_the_same_text(
    sample_release: Release, state_file_path: Path
) -> None:
    save_release(sample_release, state_file_path)
    first = state_file_path.read_text(encoding="utf-8")

    save_release(load_release(state_file_path), state_file_path)

    assert state_file_path.read_text(encoding="utf-8") == first


def test_dates_in_other_timezones_come_back_as_the_same_instant(
    sample_release: Release, state_file_path: Path
) -> None:
    paris_summer = timezone(timedelta(hours=2))
    release = replace(sample_release, created_at=datetime(2026, 6, 1, 12, 0, tzinfo=paris_summer))

    save_release(release, state_file_path)
    loaded = load_release(state_file_path)

    assert loaded.created_at == release.created_at
    assert loaded.created_at.utcoffset() == timedelta(hours=2)


def test_untouched_steps_are_written_for_the_reader_but_not_loaded_back(
    sample_release: Release, state_file_path: Path
) -> None:
    save_release(sample_release, state_file_path)
    document = yaml.safe_load(state_file_path.read_text(encoding="utf-8"))

    assert list(document["steps"]) == [step.id.value for step in STEPS]
    assert document["steps"]["publication"]["status"] == "todo"
    assert StepId.PUBLICATION not in load_release(state_file_path).steps


def test_unknown_extra_keys_are_ignored(sample_release: Release, state_file_path: Path) -> None:
    document = release_to_dict(sample_release)
    document["comment_by_hand"] = "relu le 3 février"
    document["steps"]["contract"]["signature_scan"] = "contrat.pdf"
    document["audit"][0]["ip"] = "10.0.0.1"
    state_file_path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")

    assert load_release(state_file_path) == sample_release


def test_release_from_document_without_node_tree_reports_unknown_lines(
    sample_release: Release, tmp_path: Path
) -> None:
    document = release_to_dict(sample_release)
    del document["name"]

    with pytest.raises(StateFileError) as caught:
        release_from_document(document, path=tmp_path / "x.yaml")

    assert caught.value.key == "state.missing_field"
    assert caught.value.params["line"] == "?"


# --- a file a person can read ----------------------------------------------------------------


def test_state_file_is_readable_yaml_with_schema_version_first(
    sample_release: Release, state_file_path: Path
) -> None:
    save_release(sample_release, state_file_path)
    text = state_file_path.read_text(encoding="utf-8")

    assert text.splitlines()[0] == f"schema_version: {SCHEMA_VERSION}"
    top_keys = [line.split(":")[0] for line in text.splitlines() if re.match(r"^\w", line)]
    assert top_keys == [
        "schema_version",
        "name",
        "created_at",
        "actor",
        "target",
        "route_preview",
        "measured_bytes",
        "files",
        "steps",
        "audit",
    ]
    # Accents stay as they are, dates are ISO 8601 with their timezone, no line is folded.
    assert "name: Base mélanome — cohorte 2012-2016" in text
    assert "created_at: '2026-01-31T09:00:00+00:00'" in text
    assert "\\u" not in text and "\\x" not in text


def test_multi_line_texts_are_written_as_blocks(
    sample_release: Release, state_file_path: Path
) -> None:
    save_release(sample_release, state_file_path)
    text = state_file_path.read_text(encoding="utf-8")

    assert "notes: |\n        Âge regroupé par tranches de 5 ans.\n" in text


def test_long_texts_stay_on_one_line(sample_release: Release, state_file_path: Path) -> None:
    description = "Description du jeu de données. " * 40
    save_release(
        with_outputs(sample_release, StepId.DEPOSIT, {"description": description}), state_file_path
    )

    lines = state_file_path.read_text(encoding="utf-8").splitlines()

    assert any(description.strip() in line for line in lines)


# --- saving safely ---------------------------------------------------------------------------


def test_first_save_makes_no_backup(sample_release: Release, state_file_path: Path) -> None:
    save_release(sample_release, state_file_path)

    assert not backup_path(state_file_path).exists()


def test_backup_holds_the_previous_version_after_a_second_save(
    sample_release: Release, state_file_path: Path
) -> None:
    save_release(sample_release, state_file_path)
    previous_text = state_file_path.read_text(encoding="utf-8")
    newer = replace(sample_release, name="Base mélanome v2")

    save_release(newer, state_file_path)

    assert backup_path(state_file_path).read_text(encoding="utf-8") == previous_text
    assert load_release(backup_path(state_file_path)) == sample_release
    assert load_release(state_file_path) == newer


def test_save_leaves_no_temporary_file(sample_release: Release, state_file_path: Path) -> None:
    save_release(sample_release, state_file_path)
    save_release(sample_release, state_file_path)

    assert sorted(p.name for p in state_file_path.parent.iterdir()) == [
        "hdh-release.yaml",
        "hdh-release.yaml.bak",
    ]


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_save_keeps_the_permissions_chosen_for_the_file(
    sample_release: Release, state_file_path: Path
) -> None:
    save_release(sample_release, state_file_path)
    os.chmod(state_file_path, 0o640)

    save_release(sample_release, state_file_path)

    assert stat.S_IMODE(state_file_path.stat().st_mode) == 0o640


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="POSIX permissions, not root")
def test_save_in_a_read_only_folder_fails_clearly_and_keeps_the_old_file(
    sample_release: Release, state_file_path: Path
) -> None:
    save_release(sample_release, state_file_path)
    before = state_file_path.read_bytes()
    os.chmod(state_file_path.parent, 0o500)
    try:
        with pytest.raises(StateFileError) as caught:
            save_release(replace(sample_release, name="autre"), state_file_path)
    finally:
        os.chmod(state_file_path.parent, 0o700)

    assert caught.value.key == "state.save_failed"
    assert state_file_path.read_bytes() == before


# --- what must never be saved ----------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "apikey",
        "API-KEY",
        "X-API-KEY",
        "x_api_key",
        "apiKey",
        "secret",
        "client_secret",
        "Password",
        "token",
        "upload_token",
        "access_key",
        "aws_secret_access_key",
        "secretAccessKey",
        "secret-key",
    ],
)
def test_outputs_key_that_looks_like_a_secret_is_refused_before_writing(
    sample_release: Release, state_file_path: Path, key: str
) -> None:
    release = with_outputs(sample_release, StepId.ACCOUNT, {"portal": {"auth": [{key: "xyz"}]}})

    with pytest.raises(ValueError, match="keyring"):
        save_release(release, state_file_path)

    assert not state_file_path.exists()


@pytest.mark.parametrize(
    "key", ["keywords", "tokenized_columns", "secretariat", "access_url", "key", "api_url"]
)
def test_ordinary_keys_are_not_mistaken_for_secrets(key: str) -> None:
    assert not looks_like_secret(key)


@pytest.mark.parametrize(
    "value",
    [{1, 2}, (1, 2), datetime(2026, 1, 1, tzinfo=UTC), b"bytes", Path("a.csv")],
    ids=["set", "tuple", "datetime", "bytes", "path"],
)
def test_outputs_that_are_not_plain_yaml_data_are_refused(
    sample_release: Release, value: object
) -> None:
    with pytest.raises(ValueError, match="plain YAML data"):
        release_to_dict(with_outputs(sample_release, StepId.CONTRACT, {"value": value}))


def test_date_without_timezone_is_refused(sample_release: Release) -> None:
    with pytest.raises(ValueError, match="timezone"):
        release_to_dict(replace(sample_release, created_at=datetime(2026, 1, 31, 9, 0)))


def test_enum_values_in_outputs_are_stored_as_their_text(
    sample_release: Release, state_file_path: Path
) -> None:
    release = with_outputs(sample_release, StepId.DEPOSIT, {"status": StepStatus.DONE})
    save_release(release, state_file_path)

    outputs = load_release(state_file_path).record(StepId.DEPOSIT).outputs

    assert outputs == {"status": "done"}
    assert type(outputs["status"]) is str


# --- schema migrations -----------------------------------------------------------------------


def schema_0_document(release: Release) -> dict[str, Any]:
    """An imaginary first layout: the release's name was called `title`."""
    document = release_to_dict(release)
    document["schema_version"] = 0
    document["title"] = document.pop("name")
    return document


def rename_title_to_name(document: dict[str, Any]) -> dict[str, Any]:
    document["name"] = document.pop("title")
    return document


def test_older_schema_is_migrated_when_loaded(
    sample_release: Release, state_file_path: Path
) -> None:
    text = yaml.safe_dump(schema_0_document(sample_release), allow_unicode=True, sort_keys=False)
    state_file_path.write_text(text, encoding="utf-8")

    loaded = load_release(state_file_path, migrations={0: rename_title_to_name})

    assert loaded == sample_release
    # Loading never rewrites the file: the next save does, in the current schema.
    assert state_file_path.read_text(encoding="utf-8") == text
    save_release(loaded, state_file_path)
    assert state_file_path.read_text(encoding="utf-8").startswith("schema_version: 1\n")


def test_migrated_document_errors_point_at_lines_of_the_file_as_written(
    sample_release: Release, state_file_path: Path
) -> None:
    document = schema_0_document(sample_release)
    document["route_preview"] = "par avion"
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    state_file_path.write_text(text, encoding="utf-8")

    with pytest.raises(StateFileError) as caught:
        load_release(state_file_path, migrations={0: rename_title_to_name})

    expected_line = text.splitlines().index("route_preview: par avion") + 1
    assert caught.value.key == "state.invalid_value"
    assert caught.value.params["line"] == expected_line


def test_migrations_run_one_schema_at_a_time_in_order() -> None:
    seen: list[int] = []

    def step(n: int) -> Any:
        def run(document: dict[str, Any]) -> dict[str, Any]:
            assert document["schema_version"] == n
            seen.append(n)
            return {**document, f"added_by_{n}": True}

        return run

    result = migrate({"schema_version": 1}, 1, {3: step(3), 1: step(1), 2: step(2)}, target=4)

    assert seen == [1, 2, 3]
    assert result == {
        "schema_version": 4,
        "added_by_1": True,
        "added_by_2": True,
        "added_by_3": True,
    }


def test_migration_leaves_the_callers_document_untouched() -> None:
    original = {"schema_version": 0, "title": "x", "nested": {"a": 1}}

    def mutate(document: dict[str, Any]) -> dict[str, Any]:
        document["nested"]["a"] = 2
        return document

    migrate(original, 0, {0: mutate}, target=1)

    assert original == {"schema_version": 0, "title": "x", "nested": {"a": 1}}


def test_missing_migration_step_is_a_clear_error() -> None:
    with pytest.raises(MigrationError, match="no migration from schema 1 to 2") as caught:
        migrate({"schema_version": 0}, 0, {0: lambda d: d, 2: lambda d: d}, target=3)

    assert (caught.value.found, caught.value.missing, caught.value.target) == (0, 1, 3)


def test_missing_migration_step_when_loading_names_the_file(
    sample_release: Release, state_file_path: Path
) -> None:
    text = yaml.safe_dump(schema_0_document(sample_release), allow_unicode=True)
    state_file_path.write_text(text, encoding="utf-8")

    with pytest.raises(StateFileError) as caught:
        load_release(state_file_path)  # the real table has no migration from schema 0

    assert caught.value.key == "state.migration_missing"
    assert caught.value.params["found"] == 0
    assert caught.value.params["missing"] == 0
    assert caught.value.params["file"] == str(state_file_path)


def test_failing_migration_is_reported_not_raised(
    sample_release: Release, state_file_path: Path
) -> None:
    text = yaml.safe_dump(schema_0_document(sample_release), allow_unicode=True)
    state_file_path.write_text(text, encoding="utf-8")

    def broken(document: dict[str, Any]) -> dict[str, Any]:
        return {"name": document["nom"]}  # KeyError

    with pytest.raises(StateFileError) as caught:
        load_release(state_file_path, migrations={0: broken})

    assert caught.value.key == "state.migration_failed"
    assert "KeyError" in caught.value.params["reason"]


# --- messages --------------------------------------------------------------------------------


def test_every_state_message_key_used_is_in_the_catalogue_in_both_languages() -> None:
    sources = Path(state_module.__file__).read_text(encoding="utf-8") + Path(
        lock_module.__file__
    ).read_text(encoding="utf-8")
    used = set(re.findall(r'"(state\.[a-z_]+)"', sources))

    assert len(used) >= 12
    for lang in Lang:
        catalogue = load_catalogue(lang)
        assert {key for key in used if not catalogue.has(key)} == set()


def test_dump_release_is_the_saved_text(sample_release: Release, state_file_path: Path) -> None:
    save_release(sample_release, state_file_path)

    assert state_file_path.read_text(encoding="utf-8") == dump_release(sample_release)


def test_leftover_temporary_files_of_interrupted_saves_can_be_swept(
    sample_release: Release, state_file_path: Path
) -> None:
    save_release(sample_release, state_file_path)
    folder = state_file_path.parent
    leftovers = [
        folder / ".hdh-release.yaml.4242.0badc0de.tmp",
        folder / ".hdh-release.yaml.bak.4242.0badc0de.tmp",
    ]
    kept = [folder / "notes.tmp", folder / ".other.yaml.4242.0badc0de.tmp"]
    for file in leftovers + kept:
        file.write_text("partial", encoding="utf-8")

    removed = remove_leftover_temp_files(state_file_path)

    assert sorted(removed) == sorted(leftovers)
    assert all(file.exists() for file in kept)
    assert load_release(state_file_path) == sample_release
