"""Preparing a hosted release's data: split and sample into publish/, replacing the previous run,
never a published file; the record round-trips through the state; typed values are checked."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.hosting_records import PreparedFile, PreparedKind, files_to_host
from hdh_wizard.core.preparation import (
    FolderSplitSettings,
    Preparation,
    SampleSettings,
    SplitSettings,
    TablePreparation,
    parse_fraction,
    parse_sample_request,
    parse_seed,
    parse_threshold,
    parts_count,
    preparation_of,
    step_checks,
)
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.preparation import (
    choices,
    count_values,
    missing_outputs,
    planned_names,
    sample_into_publish,
    split_folder_into_publish,
    split_into_publish,
    table_columns,
)
from hdh_wizard.inspect.progress import Cancelled, Progress
from tests.prepare_helpers import SLIDE_ID, STAGE, TABLE, hosted_project, rows_of, table_of
from tests.tui_helpers import ALICE, NOW

# --- the record and the typed values -------------------------------------------------------------


def test_the_record_round_trips_and_keeps_each_tables_files_apart() -> None:
    part = PreparedFile("publish/a__I.csv", PreparedKind.PART, 10, "a" * 64, "a.csv", "I", 3)
    other = PreparedFile("publish/b__I.csv", PreparedKind.PART, 10, "b" * 64, "b.csv", "I", 3)
    sample = PreparedFile("publish/a__echantillon.csv", PreparedKind.SAMPLE, 5, "c" * 64, "a.csv")
    folder = PreparedFile("publish/lames__stade/I", PreparedKind.FOLDER, 7, "", "a.csv", "I")
    preparation = (
        Preparation()
        .with_split("a.csv", SplitSettings("stade", 2, 5, 3), [part])
        .with_split("b.csv", SplitSettings("stade", 0, None, 3), [other])
        .with_sample("a.csv", SampleSettings(42, 2, None, "stade", 2, 3, 2), sample)
        .with_folder_split(
            FolderSplitSettings("lames", "a.csv", "id", "stade", "publish/lames__stade", 1),
            [folder],
        )
    )
    again = Preparation.from_outputs(preparation.to_outputs())
    assert again == preparation
    assert again.split_files("a.csv") == (part,)
    assert again.sample_file("a.csv") == sample
    assert again.folder_files("publish/lames__stade") == (folder,)
    replaced = again.with_split("a.csv", SplitSettings("sexe", 1, None, 3), [])
    assert replaced.split_files("a.csv") == () and replaced.split_files("b.csv") == (other,)
    assert replaced.table("a.csv").sample is not None  # the sample stays


def test_a_hand_edited_record_reads_what_it_can() -> None:
    outputs: dict[str, Any] = {
        "files": [{"path": "x", "kind": "weird", "size": 1}, "nope"],
        "tables": [{"table": 3}, {"table": "a.csv", "split": {"column": 1}, "sample": []}],
        "folders": [{"folder": "l"}],
    }
    assert Preparation.from_outputs(outputs) == Preparation((TablePreparation("a.csv"),))
    assert Preparation.from_outputs({}) == Preparation()


@pytest.mark.parametrize(
    ("text", "expected"), [("", None), (" 5 ", 5), ("1\u202f000", 1000), ("2", 2)]
)
def test_the_threshold_is_empty_or_a_count_of_two_or_more(text: str, expected: int | None) -> None:
    assert parse_threshold(text) == expected


@pytest.mark.parametrize("text", ["1", "0", "-3", "2.5", "beaucoup"])
def test_a_bad_threshold_is_refused_with_its_message(text: str) -> None:
    with pytest.raises(HdhWizardError) as raised:
        parse_threshold(text)
    assert raised.value.key == "prepare.error.min_count"


def test_the_sample_is_asked_by_size_or_by_share_in_french_or_english_writing() -> None:
    assert parse_sample_request("200", "") == (200, None)
    assert parse_sample_request("", "0,1") == (None, 0.1)
    assert parse_fraction("10 %") == pytest.approx(0.1)
    assert parse_fraction("1") == 1.0
    for size, share, key in [
        ("", "", "prepare.error.size_or_fraction"),
        ("10", "0.1", "prepare.error.size_or_fraction"),
        ("0", "", "prepare.error.sample_size"),
        ("dix", "", "prepare.error.sample_size"),
        ("", "1,5", "prepare.error.sample_fraction"),
        ("", "0", "prepare.error.sample_fraction"),
        ("", "nan", "prepare.error.sample_fraction"),
    ]:
        with pytest.raises(HdhWizardError) as raised:
            parse_sample_request(size, share)
        assert raised.value.key == key


def test_the_seed_is_a_whole_number_up_to_64_bits() -> None:
    assert parse_seed(" 42 ") == 42
    assert parse_seed(str(2**64 - 1)) == 2**64 - 1
    for bad in ("-1", str(2**64), "abc", ""):
        with pytest.raises(HdhWizardError):
            parse_seed(bad)


def test_the_number_of_files_counts_the_empty_value_and_one_others_file() -> None:
    counts = [("I", 50), ("II", 30), ("III", 3), ("IV", 1), (None, 4)]
    assert parts_count(counts, None) == 5
    assert parts_count(counts, 5) == 4  # I, II, vide, autres
    assert parts_count(counts, 100) == 2  # vide, autres


def test_the_checks_want_a_prepared_file_still_on_disk() -> None:
    empty = step_checks(Preparation(), [])
    assert [c.ok for c in empty] == [False, True, True]
    gone = step_checks(
        Preparation(files=(PreparedFile("p", PreparedKind.PART, 1, "", "a"),)), ["p"]
    )
    assert [c.ok for c in gone] == [True, False, True]


# --- the work on a release -----------------------------------------------------------------------


def test_the_published_tables_and_folders_are_offered(tmp_path: Path) -> None:
    release = hosted_project(tmp_path, {"publish/autre.csv": b"a,b\n1,2\n"})
    found = choices(release, tmp_path)
    assert [t.stored for t in found.tables] == [TABLE, "publish/autre.csv"]
    assert [f.stored for f in found.folders] == ["donnees/lames"]
    assert found.tables[0].size == (tmp_path / TABLE).stat().st_size
    assert table_columns(found.tables[0])[STAGE] == "stade_pronostique"


def test_split_writes_one_checked_file_per_stage_into_publish(tmp_path: Path) -> None:
    release = hosted_project(tmp_path)
    table = table_of(release, tmp_path)
    preparation = split_into_publish(
        release, tmp_path, Preparation(), table, STAGE, None, Progress()
    )
    source = rows_of(tmp_path / TABLE)
    stages = Counter(row["stade_pronostique"] for row in source)
    files = preparation.split_files(TABLE)
    assert {f.value: f.rows for f in files} == dict(stages)
    assert sum(f.rows or 0 for f in files) == len(source)
    for file in files:
        path = tmp_path / file.path
        assert file.path.startswith("publish/cohorte_melanome__")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == file.sha256
        assert path.stat().st_size == file.size
        assert {row["stade_pronostique"] for row in rows_of(path)} == {file.value}
    settings = preparation.table(TABLE).split
    assert settings == SplitSettings("stade_pronostique", STAGE, None, len(source), table.version)
    assert not [p for p in (tmp_path / "publish").iterdir() if p.name.startswith(".")]


def test_splitting_again_removes_the_previous_parts_of_that_table_only(tmp_path: Path) -> None:
    release = hosted_project(tmp_path, {"publish/autre.csv": b"k,v\nx,1\ny,2\n"})
    table, other = table_of(release, tmp_path), table_of(release, tmp_path, "publish/autre.csv")
    preparation = split_into_publish(
        release, tmp_path, Preparation(), table, STAGE, None, Progress()
    )
    preparation = split_into_publish(release, tmp_path, preparation, other, 0, None, Progress())
    by_stage = {f.path for f in preparation.split_files(TABLE)}
    preparation = split_into_publish(release, tmp_path, preparation, table, 1, None, Progress())
    by_sex = {f.path for f in preparation.split_files(TABLE)}
    assert not any((tmp_path / p).exists() for p in by_stage - by_sex)
    assert all((tmp_path / f.path).exists() for f in preparation.files)
    assert len(preparation.split_files("publish/autre.csv")) == 2
    assert (tmp_path / "publish" / "autre.csv").exists()
    assert missing_outputs(tmp_path, preparation) == []


def test_rare_values_are_grouped_and_the_counts_still_add_up(tmp_path: Path) -> None:
    content = b"id,stade\n" + b"".join(
        f"{i},{s}\n".encode() for i, s in enumerate(["I"] * 6 + ["II"] * 2 + ["III"] + [""])
    )
    release = hosted_project(tmp_path, {"donnees/petit.csv": content})
    table = table_of(release, tmp_path, "donnees/petit.csv")
    preparation = split_into_publish(release, tmp_path, Preparation(), table, 1, 3, Progress())
    kinds = {f.kind: f.rows for f in preparation.split_files("donnees/petit.csv")}
    assert kinds == {PreparedKind.PART: 6, PreparedKind.OTHERS: 3, PreparedKind.EMPTY: 1}


def test_a_part_never_replaces_a_published_file(tmp_path: Path) -> None:
    # publish/t__a.csv is published, and splitting publish/t.csv on "a" would write it.
    release = hosted_project(
        tmp_path, {"publish/t.csv": b"k\na\nb\n", "publish/t__a.csv": b"k\nkeep\n"}
    )
    table = table_of(release, tmp_path, "publish/t.csv")
    with pytest.raises(HdhWizardError) as raised:
        split_into_publish(release, tmp_path, Preparation(), table, 0, None, Progress())
    assert raised.value.key == "prepare.error.name_taken"
    assert (tmp_path / "publish" / "t__a.csv").read_bytes() == b"k\nkeep\n"
    assert not (tmp_path / "publish" / "t__b.csv").exists()


def test_a_malformed_table_names_its_line_and_writes_nothing(tmp_path: Path) -> None:
    release = hosted_project(tmp_path, {"donnees/casse.csv": b"a,b\n1,2\n3,4,5\n6,7\n"})
    table = table_of(release, tmp_path, "donnees/casse.csv")
    with pytest.raises(HdhWizardError) as raised:
        split_into_publish(release, tmp_path, Preparation(), table, 0, None, Progress())
    assert raised.value.key == "prepare.error.ragged_row"
    assert raised.value.params["line"] == 3
    publish = tmp_path / "publish"
    assert not publish.exists() or not list(publish.iterdir())


def test_a_cancelled_split_leaves_the_previous_parts(tmp_path: Path) -> None:
    release = hosted_project(tmp_path)
    table = table_of(release, tmp_path)
    preparation = split_into_publish(
        release, tmp_path, Preparation(), table, STAGE, None, Progress()
    )
    before = sorted(p.name for p in (tmp_path / "publish").iterdir())
    stopped = Progress()
    stopped.cancel()
    with pytest.raises(Cancelled):
        split_into_publish(release, tmp_path, preparation, table, 1, None, stopped)
    assert sorted(p.name for p in (tmp_path / "publish").iterdir()) == before


def test_the_sample_is_reproducible_from_its_recorded_seed(tmp_path: Path) -> None:
    release = hosted_project(tmp_path)
    table = table_of(release, tmp_path)

    def draw(seed: int) -> tuple[Preparation, bytes]:
        prepared = sample_into_publish(
            release,
            tmp_path,
            Preparation(),
            table,
            size=40,
            fraction=None,
            seed=seed,
            stratify_column_index=STAGE,
            progress=Progress(),
        )
        file = prepared.sample_file(TABLE)
        assert file is not None
        return prepared, (tmp_path / file.path).read_bytes()

    first, content = draw(1234)
    _, same = draw(1234)
    _, other = draw(99)
    assert content == same and content != other
    file = first.sample_file(TABLE)
    assert file is not None and file.path == "publish/cohorte_melanome__echantillon.csv"
    assert file.rows == 40 and file.sha256 == hashlib.sha256(content).hexdigest()
    settings = first.table(TABLE).sample
    assert settings is not None and settings.seed == 1234 and settings.stratify_column
    stages = {row["stade_pronostique"] for row in rows_of(tmp_path / file.path)}
    assert stages == {"I", "II", "III", "IV"}


def test_slides_are_grouped_by_stage_from_the_table(tmp_path: Path) -> None:
    release = hosted_project(tmp_path)
    found = choices(release, tmp_path)
    table, folder = table_of(release, tmp_path), found.folders[0]
    preparation = split_folder_into_publish(
        release, tmp_path, Preparation(), folder, table, SLIDE_ID, STAGE, Progress()
    )
    settings = preparation.folder_split("donnees/lames")
    assert settings is not None and settings.placed == 3
    assert settings.output == "publish/lames__stade_pronostique"
    assert settings.missing == 800 - 3  # rows whose slide is not in the demo
    stage_of = {row["id_lame"]: row["stade_pronostique"] for row in rows_of(tmp_path / TABLE)}
    slides = sorted((tmp_path / "donnees" / "lames").iterdir())
    for slide in slides:
        placed = tmp_path / settings.output / stage_of[slide.stem] / slide.name
        assert placed.read_bytes() == slide.read_bytes()
    files = preparation.folder_files(settings.output)
    assert sum(f.size for f in files) == sum(s.stat().st_size for s in slides)
    assert all(f.kind is PreparedKind.FOLDER and f.source == TABLE for f in files)


def test_committed_preparation_joins_the_files_to_host(tmp_path: Path) -> None:
    release = hosted_project(tmp_path)
    table = table_of(release, tmp_path)
    preparation = split_into_publish(
        release, tmp_path, Preparation(), table, STAGE, None, Progress()
    )
    release = workflow.commit_step(
        release, StepId.PREPARE_DATA, preparation.to_outputs(), ALICE, NOW
    )
    hosted = dict(files_to_host(release))
    assert all(hosted[f.path] == f.size for f in preparation.files)
    assert preparation_of(release) == preparation


def test_the_planned_names_are_the_names_the_split_writes(tmp_path: Path) -> None:
    values = ["Stade I", "stade i", "../../etc", "CON", "", "rare"] * 2 + ["x" * 300] * 2
    content = "k,v\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values)) + "99,seul\n"
    release = hosted_project(tmp_path, {"donnees/hostile.csv": content.encode()})
    table = table_of(release, tmp_path, "donnees/hostile.csv")
    counts = count_values(table, 1, Progress())
    planned = planned_names(table, counts, 2)
    preparation = split_into_publish(release, tmp_path, Preparation(), table, 1, 2, Progress())
    written = {f.value or f.kind.value: Path(f.path).name for f in preparation.files}
    assert {v: planned[v] for v in {"Stade I", "stade i", "../../etc", "CON"}} == {
        v: written[v] for v in {"Stade I", "stade i", "../../etc", "CON"}
    }
    assert planned[None] == written["empty"] and planned["seul"] == written["others"]
    assert all("/" not in name and ".." not in name for name in planned.values())


def test_a_slide_cleaned_by_the_anonymity_step_is_grouped_as_its_clean_copy(
    tmp_path: Path,
) -> None:
    hosted_project(tmp_path)
    slide = sorted((tmp_path / "donnees" / "lames").iterdir())[0]
    clean = tmp_path / "publish" / f"propre_{slide.name}"
    clean.parent.mkdir(parents=True, exist_ok=True)
    clean.write_bytes(b"II*\x00 cleaned copy")
    stored = f"donnees/lames/{slide.name}"
    replacement = {"source": stored, "path": f"publish/{clean.name}", "size": 18}
    release = workflow.commit_step(
        projects.read_project(tmp_path),
        StepId.ANONYMITY,
        {"replacements": [replacement]},
        ALICE,
        NOW,
    )
    table, folder = table_of(release, tmp_path), choices(release, tmp_path).folders[0]
    preparation = split_folder_into_publish(
        release, tmp_path, Preparation(), folder, table, SLIDE_ID, STAGE, Progress()
    )
    settings = preparation.folder_split("donnees/lames")
    assert settings is not None
    placed = list((tmp_path / settings.output).rglob(slide.name))
    assert [p.read_bytes() for p in placed] == [clean.read_bytes()]
    assert slide.read_bytes() != clean.read_bytes()  # the original is untouched


def test_grouping_the_slides_again_replaces_the_previous_folders(tmp_path: Path) -> None:
    release = hosted_project(tmp_path)
    table, folder = table_of(release, tmp_path), choices(release, tmp_path).folders[0]
    by_stage = split_folder_into_publish(
        release, tmp_path, Preparation(), folder, table, SLIDE_ID, STAGE, Progress()
    )
    by_sex = split_folder_into_publish(
        release, tmp_path, by_stage, folder, table, SLIDE_ID, 1, Progress()
    )
    assert not (tmp_path / "publish" / "lames__stade_pronostique").exists()
    settings = by_sex.folder_split("donnees/lames")
    assert settings is not None and settings.output == "publish/lames__sexe"
    assert {f.value for f in by_sex.files} <= {"F", "M"}
    assert len(by_sex.folders) == 1 and missing_outputs(tmp_path, by_sex) == []


def test_a_mapping_column_naming_no_file_is_explained(tmp_path: Path) -> None:
    release = hosted_project(tmp_path)
    table, folder = table_of(release, tmp_path), choices(release, tmp_path).folders[0]
    with pytest.raises(HdhWizardError) as raised:
        split_folder_into_publish(
            release, tmp_path, Preparation(), folder, table, 0, STAGE, Progress()
        )
    assert raised.value.key == "prepare.error.no_file_placed"
    assert not (tmp_path / "publish").exists() or not list((tmp_path / "publish").iterdir())
