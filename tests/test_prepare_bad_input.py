"""Preparing the data, attacked: a demanding data manager's workflow and hostile input.

A hand-edited state, a table rewritten after it was split (the anonymity step redone), two tables
of the same name, too many values, hostile values and dialects, a full disk while installing, a
run killed or the app quit mid-split, symbolic links and `..` in the slides' mapping table.
Each test names the procedure; what cannot be fixed is a strict xfail saying why.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, Select, Static

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.hosting_records import PreparedFile, PreparedKind
from hdh_wizard.core.preparation import (
    FolderSplitSettings,
    Preparation,
    parse_fraction,
    parse_sample_request,
    parse_seed,
    parse_threshold,
    parts_count,
    preparation_of,
    step_checks,
    suggest_threshold,
)
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect import preparation as prep
from hdh_wizard.inspect.preparation import (
    STAGING_PREFIX,
    choices,
    count_values,
    drop_prepared,
    missing_outputs,
    planned_names,
    sample_into_publish,
    split_folder_into_publish,
    split_into_publish,
    versions,
)
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.safe_names import WINDOWS_RESERVED
from hdh_wizard.inspect.split import MAX_PARTS, HashingWriter, split_table
from hdh_wizard.ui.steps.prepare_data import PrepareDataStepScreen
from tests.prepare_helpers import SLIDE_ID, STAGE, TABLE, hosted_project, rows_of, table_of
from tests.tui_helpers import ALICE, NOW, make_app, until

SIZE = (140, 60)


def _split(folder: Path, stored: str, column: int, threshold: int | None = None) -> Preparation:
    release = projects.read_project(folder)
    table = table_of(release, folder, stored)
    return split_into_publish(release, folder, Preparation(), table, column, threshold, Progress())


def _publish_also(folder: Path, stored: str, content: bytes) -> Any:
    """A table added to the published files later (the formats step committed again)."""
    (folder / stored).parent.mkdir(parents=True, exist_ok=True)
    (folder / stored).write_bytes(content)
    release = projects.read_project(folder)
    entries = list(release.record(StepId.INTEROPERABILITY).outputs["publish"])
    entries.append({"path": stored, "kind": "csv", "size": len(content), "sha256": ""})
    return workflow.commit_step(release, StepId.INTEROPERABILITY, {"publish": entries}, ALICE, NOW)


def _publish_listing(folder: Path) -> dict[str, bytes]:
    publish = folder / "publish"
    return {p.name: p.read_bytes() for p in sorted(publish.iterdir()) if p.is_file()}


# --- a hand-edited state -------------------------------------------------------------------------


def test_a_hand_edited_state_never_makes_a_new_split_remove_the_source_or_a_file_outside(
    tmp_path: Path,
) -> None:
    project = tmp_path / "projet"
    project.mkdir()
    outside = tmp_path / "precieux.txt"
    outside.write_text("precious")
    release = hosted_project(project)
    table = table_of(release, project)
    source = (project / TABLE).read_bytes()
    bogus = Preparation(
        files=(
            PreparedFile("../precieux.txt", PreparedKind.PART, 8, "", TABLE, "X", 1),
            PreparedFile(str(outside), PreparedKind.PART, 8, "", TABLE, "Z", 1),
            PreparedFile(TABLE, PreparedKind.PART, 8, "", TABLE, "Y", 1),
        )
    )
    split_into_publish(release, project, bogus, table, STAGE, None, Progress())
    assert outside.read_text() == "precious"
    assert (project / TABLE).read_bytes() == source
    sample_of = Preparation(files=(PreparedFile(TABLE, PreparedKind.SAMPLE, 8, "", TABLE),))
    sample_into_publish(
        release,
        project,
        sample_of,
        table,
        size=5,
        fraction=None,
        seed=1,
        stratify_column_index=None,
        progress=Progress(),
    )
    assert (project / TABLE).read_bytes() == source


def test_a_published_file_the_state_lists_as_a_part_is_never_removed(tmp_path: Path) -> None:
    kept = b"k\nkeep\n"
    release = hosted_project(tmp_path, {"publish/cohorte_melanome__ancien.csv": kept})
    bogus = Preparation(
        files=(
            PreparedFile(
                "publish/cohorte_melanome__ancien.csv", PreparedKind.PART, 7, "", TABLE, "a", 1
            ),
        )
    )
    table = table_of(release, tmp_path)
    split_into_publish(release, tmp_path, bogus, table, STAGE, None, Progress())
    assert (tmp_path / "publish" / "cohorte_melanome__ancien.csv").read_bytes() == kept


def test_a_hand_edited_folder_output_never_removes_the_data_folder(tmp_path: Path) -> None:
    release = hosted_project(tmp_path)
    table, folder = table_of(release, tmp_path), choices(release, tmp_path).folders[0]
    slides = sorted(p.name for p in (tmp_path / "donnees" / "lames").iterdir())
    for output in ("donnees", "publish", "."):
        bogus = Preparation(
            folders=(FolderSplitSettings("donnees/lames", TABLE, "id", "stade", output, 1),)
        )
        split_folder_into_publish(
            release, tmp_path, bogus, folder, table, SLIDE_ID, STAGE, Progress()
        )
        assert (tmp_path / TABLE).is_file()
        assert sorted(p.name for p in (tmp_path / "donnees" / "lames").iterdir()) == slides


def test_a_hand_edited_record_naming_files_outside_the_project_reads_without_them() -> None:
    outputs: dict[str, Any] = {
        "files": [
            {"path": "../../etc/passwd", "kind": "part", "size": 1, "source": "t.csv"},
            {"path": "/etc/passwd", "kind": "sample", "size": 1, "source": "t.csv"},
            {"path": "C:/Windows/x.csv", "kind": "part", "size": 1, "source": "t.csv"},
            {"path": "publish/t__I.csv", "kind": "part", "size": 1, "source": "t.csv"},
        ],
        "folders": [
            {
                "folder": "lames",
                "mapping": "t.csv",
                "file_column": "id",
                "value_column": "stade",
                "output": "../..",
            }
        ],
    }
    preparation = Preparation.from_outputs(outputs)
    assert [f.path for f in preparation.files] == ["publish/t__I.csv"]
    assert preparation.folders == ()


def test_a_hand_edited_sample_it_could_not_draw_again_reads_as_none() -> None:
    good = {"seed": 1, "size": 5, "rows": 5, "source_rows": 9}
    base = {"table": "t.csv", "sample": good}
    assert Preparation.from_outputs({"tables": [base]}).table("t.csv").sample is not None
    for bad in (
        {**good, "size": None},  # neither size nor share
        {**good, "fraction": 0.5},  # both
        {**good, "size": None, "fraction": 5.0},
        {**good, "size": -3},
        {**good, "seed": -1},
        {**good, "seed": 2**64},
        {**good, "seed": "42"},
    ):
        outputs = {"tables": [{**base, "sample": bad}]}
        assert Preparation.from_outputs(outputs).table("t.csv").sample is None, bad


def test_a_file_listed_twice_by_hand_is_read_once() -> None:
    item = {"path": "publish/t__I.csv", "kind": "part", "size": 3, "source": "t.csv"}
    preparation = Preparation.from_outputs({"files": [item, item, {**item, "size": 9}]})
    assert len(preparation.files) == 1 and preparation.files[0].size == 3
    assert preparation.to_outputs()["total_bytes"] == 3


def test_a_table_removed_after_the_screen_listed_it_is_said_unreadable(tmp_path: Path) -> None:
    release = hosted_project(tmp_path)
    table = table_of(release, tmp_path)
    (tmp_path / TABLE).unlink()
    with pytest.raises(HdhWizardError) as raised:
        split_into_publish(release, tmp_path, Preparation(), table, STAGE, None, Progress())
    assert raised.value.key == "prepare.error.unreadable"
    assert not (tmp_path / "publish").exists() or not list((tmp_path / "publish").iterdir())


# --- the data change after the split --------------------------------------------------------------


def test_a_table_rewritten_after_its_split_shows_its_prepared_files_as_outdated(
    tmp_path: Path,
) -> None:
    release = hosted_project(tmp_path)
    table = table_of(release, tmp_path)
    prepared = split_into_publish(release, tmp_path, Preparation(), table, STAGE, None, Progress())
    prepared = sample_into_publish(
        release,
        tmp_path,
        prepared,
        table,
        size=10,
        fraction=None,
        seed=3,
        stratify_column_index=None,
        progress=Progress(),
    )
    release = workflow.commit_step(release, StepId.PREPARE_DATA, prepared.to_outputs(), ALICE, NOW)
    assert prepared.outdated(versions(choices(release, tmp_path))) == []
    # The anonymity step is redone: the published table is rewritten (one column coarser).
    path = tmp_path / TABLE
    path.write_text(path.read_text(encoding="utf-8").replace(",F,", ",X,"), encoding="utf-8")
    release = workflow.commit_step(release, StepId.ANONYMITY, {"redone": True}, ALICE, NOW)
    assert release.record(StepId.PREPARE_DATA).status is StepStatus.STALE
    now = versions(choices(release, tmp_path))
    assert prepared.outdated(now) == [TABLE]
    checks = step_checks(prepared, missing_outputs(tmp_path, prepared), prepared.outdated(now))
    assert [c.key for c in checks if not c.ok] == ["prepare.check.current"]
    # Split and sample again: current again.
    table = table_of(release, tmp_path)
    again = split_into_publish(release, tmp_path, prepared, table, STAGE, None, Progress())
    assert again.outdated(now) == [TABLE]  # the sample is still the old table's
    again = sample_into_publish(
        release,
        tmp_path,
        again,
        table,
        size=10,
        fraction=None,
        seed=3,
        stratify_column_index=None,
        progress=Progress(),
    )
    assert again.outdated(now) == []
    assert again.to_outputs() == Preparation.from_outputs(again.to_outputs()).to_outputs()


def test_a_table_no_longer_published_shows_its_prepared_files_as_outdated(tmp_path: Path) -> None:
    release = hosted_project(tmp_path)
    prepared = _split(tmp_path, TABLE, STAGE)
    assert prepared.outdated({}) == [TABLE]
    assert prepared.outdated(versions(choices(release, tmp_path))) == []


def test_slides_recleaned_after_grouping_show_the_folders_as_outdated(tmp_path: Path) -> None:
    release = hosted_project(tmp_path)
    table, folder = table_of(release, tmp_path), choices(release, tmp_path).folders[0]
    grouped = split_folder_into_publish(
        release, tmp_path, Preparation(), folder, table, SLIDE_ID, STAGE, Progress()
    )
    assert grouped.outdated(versions(choices(release, tmp_path))) == []
    slide = sorted((tmp_path / "donnees" / "lames").iterdir())[0]
    slide.write_bytes(slide.read_bytes() + b"label removed")
    assert grouped.outdated(versions(choices(release, tmp_path))) == ["donnees/lames"]


# --- names ----------------------------------------------------------------------------------------


def test_two_tables_of_the_same_name_in_two_folders_are_both_split_and_sampled(
    tmp_path: Path,
) -> None:
    # 2019/sejours.csv and 2020/sejours.csv: common, and neither may be renamed by then.
    content = b"id,stade\n1,I\n2,II\n"
    hosted_project(
        tmp_path,
        {"donnees/2019/sejours.csv": content, "donnees/2020/sejours.csv": content + b"3,I\n"},
    )
    release = projects.read_project(tmp_path)
    first_table = table_of(release, tmp_path, "donnees/2019/sejours.csv")
    second_table = table_of(release, tmp_path, "donnees/2020/sejours.csv")
    counts = count_values(second_table, 1, Progress())
    planned = planned_names(second_table, counts, None, choices(release, tmp_path).tables)
    prepared = Preparation()
    for table in (first_table, second_table):
        prepared = split_into_publish(release, tmp_path, prepared, table, 1, None, Progress())
        prepared = sample_into_publish(
            release,
            tmp_path,
            prepared,
            table,
            size=2,
            fraction=None,
            seed=1,
            stratify_column_index=None,
            progress=Progress(),
        )
    names = sorted(Path(f.path).name for f in prepared.files)
    assert names == [
        "2019_sejours__I.csv",
        "2019_sejours__II.csv",
        "2019_sejours__echantillon.csv",
        "2020_sejours__I.csv",
        "2020_sejours__II.csv",
        "2020_sejours__echantillon.csv",
    ]
    assert {Path(f.path).name for f in prepared.split_files(second_table.stored)} == {
        planned["I"],
        planned["II"],
    }
    assert [f.rows for f in prepared.split_files(second_table.stored)] == [2, 1]
    assert missing_outputs(tmp_path, prepared) == []
    # Split again: the same names, nothing left behind.
    again = split_into_publish(release, tmp_path, prepared, first_table, 1, None, Progress())
    assert again.files == prepared.files or set(again.files) == set(prepared.files)
    assert len(list((tmp_path / "publish").iterdir())) == 6


def test_a_table_split_before_a_namesake_was_published_leaves_no_orphan_part(
    tmp_path: Path,
) -> None:
    content = b"id,stade\n1,I\n2,II\n"
    release = hosted_project(tmp_path, {"donnees/a/sejours.csv": content})
    table = table_of(release, tmp_path, "donnees/a/sejours.csv")
    first = split_into_publish(release, tmp_path, Preparation(), table, 1, None, Progress())
    assert {Path(f.path).name for f in first.files} == {"sejours__I.csv", "sejours__II.csv"}
    release = _publish_also(tmp_path, "donnees/b/sejours.csv", content)
    table = table_of(release, tmp_path, "donnees/a/sejours.csv")
    again = split_into_publish(release, tmp_path, first, table, 1, None, Progress())
    assert {Path(f.path).name for f in again.files} == {"a_sejours__I.csv", "a_sejours__II.csv"}
    left = sorted(p.name for p in (tmp_path / "publish").iterdir())
    assert left == ["a_sejours__I.csv", "a_sejours__II.csv"]  # the old names removed


def test_two_slide_folders_of_the_same_name_are_both_grouped(tmp_path: Path) -> None:
    hosted_project(tmp_path)
    copy = tmp_path / "donnees" / "autre" / "lames"
    shutil.copytree(tmp_path / "donnees" / "lames", copy)
    release = projects.read_project(tmp_path)
    entries = list(release.record(StepId.INTEROPERABILITY).outputs["publish"])
    size = sum(p.stat().st_size for p in copy.iterdir())
    entries.append({"path": "donnees/autre/lames", "kind": "tiff", "size": size, "sha256": ""})
    release = workflow.commit_step(
        release, StepId.INTEROPERABILITY, {"publish": entries}, ALICE, NOW
    )
    table = table_of(release, tmp_path)
    prepared = Preparation()
    for folder in choices(release, tmp_path).folders:
        prepared = split_folder_into_publish(
            release, tmp_path, prepared, folder, table, SLIDE_ID, STAGE, Progress()
        )
    assert sorted(f.output for f in prepared.folders) == [
        "publish/autre_lames__stade_pronostique",
        "publish/donnees_lames__stade_pronostique",
    ]
    assert all(f.placed == 3 for f in prepared.folders)
    assert missing_outputs(tmp_path, prepared) == []


def test_a_part_differing_from_a_published_file_by_case_only_is_refused(tmp_path: Path) -> None:
    # On a macOS or Windows disk (and once downloaded there) T__a.csv and t__a.csv are one file.
    release = hosted_project(
        tmp_path, {"publish/t.csv": b"k\na\nb\n", "publish/T__A.csv": b"k\nkeep\n"}
    )
    table = table_of(release, tmp_path, "publish/t.csv")
    with pytest.raises(HdhWizardError) as raised:
        split_into_publish(release, tmp_path, Preparation(), table, 0, None, Progress())
    assert raised.value.key == "prepare.error.name_taken"
    assert not (tmp_path / "publish" / "t__a.csv").exists()


def test_hostile_values_give_safe_distinct_names_and_every_row_once(tmp_path: Path) -> None:
    values = [
        ".",
        "..",
        "   ",
        "",
        "Stade I",
        "stade i",
        "STADE I",
        "../../etc",
        "CON",
        "nul.txt",
        "a/b\\c",
        "é",
        "e",
        "\u202e\u0007",
        "x" * 300,
        "vide",
        "echantillon",
        "autres",
        "-rf",
    ]
    rows = "".join(f'{i},"{v}"\n' for i, v in enumerate(values * 2))
    hosted_project(tmp_path, {"donnees/h.csv": ("id,v\n" + rows).encode()})
    prepared = _split(tmp_path, "donnees/h.csv", 1)
    files = prepared.split_files("donnees/h.csv")
    names = [Path(f.path).name for f in files]
    assert len({n.casefold() for n in names}) == len(names)
    for file, name in zip(files, names, strict=True):
        assert file.path == f"publish/{name}"
        assert not name.startswith((".", "-")) and ".." not in name and len(name) <= 255
        value_name = name.removeprefix("h__").removesuffix(".csv")
        assert len(value_name) <= 80 and value_name.upper() not in WINDOWS_RESERVED
        assert name.isascii() and not value_name.startswith(("-", "."))
        assert (tmp_path / file.path).is_file()
    assert sum(f.rows or 0 for f in files) == len(values) * 2
    (empty,) = [f for f in files if f.kind is PreparedKind.EMPTY]
    assert empty.rows == 4  # "" and "   ", twice each


def test_values_differing_by_case_only_stay_apart_on_a_case_insensitive_disk(
    tmp_path: Path,
) -> None:
    hosted_project(tmp_path, {"donnees/c.csv": b"id,stade\n1,Stade I\n2,stade i\n3,Stade I\n"})
    prepared = _split(tmp_path, "donnees/c.csv", 1)
    by_value = {f.value: Path(f.path).name for f in prepared.split_files("donnees/c.csv")}
    assert by_value["Stade I"].casefold() != by_value["stade i"].casefold()
    assert [r["id"] for r in rows_of(tmp_path / "publish" / by_value["Stade I"])] == ["1", "3"]


def test_a_column_of_only_empty_values_gives_one_vide_file(tmp_path: Path) -> None:
    hosted_project(tmp_path, {"donnees/e.csv": b'id,v\n1,\n2,   \n3,""\n'})
    prepared = _split(tmp_path, "donnees/e.csv", 1)
    (only,) = prepared.split_files("donnees/e.csv")
    assert only.kind is PreparedKind.EMPTY and only.rows == 3
    assert only.path == "publish/e__vide.csv"


# --- too many values ------------------------------------------------------------------------------


def test_a_column_of_all_distinct_values_is_refused_and_a_threshold_suggested(
    tmp_path: Path,
) -> None:
    values = [f"v{i}" for i in range(1500) for _ in range(i % 4 + 1)]
    content = "id,v\n" + "".join(f"{n},{v}\n" for n, v in enumerate(values))
    release = hosted_project(tmp_path, {"donnees/d.csv": content.encode()})
    table = table_of(release, tmp_path, "donnees/d.csv")
    with pytest.raises(HdhWizardError) as raised:
        split_into_publish(release, tmp_path, Preparation(), table, 1, None, Progress())
    assert raised.value.key == "prepare.error.too_many_values"
    assert "Regroupez les valeurs rares" in raised.value.message(_catalogue())
    assert not (tmp_path / "publish").exists() or not _publish_listing(tmp_path)
    counts = [(c.value, c.rows) for c in count_values(table, 1, Progress())]
    threshold = suggest_threshold(counts, MAX_PARTS)
    assert threshold is not None and parts_count(counts, threshold) <= MAX_PARTS
    assert parts_count(counts, threshold - 1) > MAX_PARTS
    prepared = split_into_publish(release, tmp_path, Preparation(), table, 1, threshold, Progress())
    files = prepared.split_files("donnees/d.csv")
    assert len(files) <= MAX_PARTS and sum(f.rows or 0 for f in files) == len(values)
    assert suggest_threshold([("a", 1), ("b", 2)], MAX_PARTS) is None


# --- dialects -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "\ufeffid,stade,note\n1,I,a\n2,II,b\n3,I,c\n".encode(),
        b"id;stade;note\r\n1;I;a\r\n2;II;b\r\n3;I;c\r\n",
        b'id,stade,note\n1,I,"a\nsur deux lignes"\n2,II,"b, ""cit\xc3\xa9"""\n3,I,c\n',
        "id,stade,note\n1,I,é\n2,II,b\n3,I,c\n".encode("cp1252"),
    ],
    ids=["bom", "semicolon-crlf", "quoted-newlines", "cp1252"],
)
def test_any_readable_dialect_gives_conformant_parts_with_every_row(
    tmp_path: Path, content: bytes
) -> None:
    hosted_project(tmp_path, {"donnees/t.csv": content})
    prepared = _split(tmp_path, "donnees/t.csv", 1)
    seen: Counter[str] = Counter()
    for file in prepared.split_files("donnees/t.csv"):
        data = (tmp_path / file.path).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf") and b"\r\n" not in data.replace(b'\r\n"', b"")
        parsed = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
        assert list(parsed[0]) == ["id", "stade", "note"]
        assert {r["stade"] for r in parsed} == {file.value} and len(parsed) == file.rows
        seen.update(r["id"] for r in parsed)
    assert seen == Counter({"1": 1, "2": 1, "3": 1})


# --- the sample's numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "share"), [("10,5 %", 0.105), ("1", 1.0), ("0,5", 0.5), ("\u00a010\u00a0%", 0.1)]
)
def test_a_share_is_read_in_french_or_english_writing(text: str, share: float) -> None:
    assert parse_fraction(text) == pytest.approx(share)


@pytest.mark.parametrize("text", ["0", "1,5", "150 %", "-0.1", "inf", "nan", "dix %"])
def test_a_share_outside_zero_to_one_is_refused(text: str) -> None:
    with pytest.raises(HdhWizardError) as raised:
        parse_fraction(text)
    assert raised.value.key == "prepare.error.sample_fraction"


def test_numbers_written_with_a_no_break_space_are_read() -> None:
    # A French keyboard (or a copy of a figure) gives 1 000 with U+00A0.
    assert parse_sample_request("1\u00a0000", "") == (1000, None)
    assert parse_seed("123\u00a0456") == 123456
    assert parse_threshold("1\u00a0000") == 1000


def test_huge_negative_or_odd_seeds_and_sizes_are_refused_with_their_message() -> None:
    for bad in ("-5", str(2**64), "1e9", "٣"):
        with pytest.raises(HdhWizardError) as raised:
            parse_seed(bad)
        assert raised.value.key == "prepare.error.seed"
    for bad in ("-5", "1e3", "١٢"):
        with pytest.raises(HdhWizardError) as raised:
            parse_sample_request(bad, "")
        assert raised.value.key == "prepare.error.sample_size"


def test_a_sample_larger_than_the_table_is_the_whole_table(tmp_path: Path) -> None:
    release = hosted_project(tmp_path)
    table = table_of(release, tmp_path)
    prepared = sample_into_publish(
        release,
        tmp_path,
        Preparation(),
        table,
        size=10**19,
        fraction=None,
        seed=2**64 - 1,
        stratify_column_index=None,
        progress=Progress(),
    )
    file = prepared.sample_file(TABLE)
    assert file is not None and file.rows == 800
    assert (tmp_path / file.path).read_bytes() == (tmp_path / TABLE).read_bytes()


def test_a_stratified_sample_with_one_row_per_stratum_keeps_each_stratum(tmp_path: Path) -> None:
    content = b"id,v\n1,a\n2,b\n3,c\n4,\n"
    release = hosted_project(tmp_path, {"donnees/o.csv": content})
    table = table_of(release, tmp_path, "donnees/o.csv")
    prepared = sample_into_publish(
        release,
        tmp_path,
        Preparation(),
        table,
        size=4,
        fraction=None,
        seed=9,
        stratify_column_index=1,
        progress=Progress(),
    )
    file = prepared.sample_file("donnees/o.csv")
    assert file is not None
    assert (tmp_path / file.path).read_bytes() == content


def test_the_sample_is_drawn_again_identically_from_the_state_alone(tmp_path: Path) -> None:
    release = hosted_project(tmp_path)
    table = table_of(release, tmp_path)
    prepared = sample_into_publish(
        release,
        tmp_path,
        Preparation(),
        table,
        size=None,
        fraction=0.05,
        seed=987654321,
        stratify_column_index=STAGE,
        progress=Progress(),
    )
    release = workflow.commit_step(release, StepId.PREPARE_DATA, prepared.to_outputs(), ALICE, NOW)
    projects.save(projects.Project(tmp_path, release), release)
    recorded = preparation_of(projects.read_project(tmp_path))
    settings, file = recorded.table(TABLE).sample, recorded.sample_file(TABLE)
    assert settings is not None and file is not None
    (tmp_path / file.path).unlink()
    again = sample_into_publish(
        release,
        tmp_path,
        recorded,
        table,
        size=settings.size,
        fraction=settings.fraction,
        seed=settings.seed,
        stratify_column_index=settings.stratify_column_index,
        progress=Progress(),
    )
    redrawn = again.sample_file(TABLE)
    assert redrawn is not None and redrawn.sha256 == file.sha256 and redrawn.rows == 40


# --- the disk -------------------------------------------------------------------------------------


def test_a_move_failing_while_installing_puts_the_previous_split_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = hosted_project(tmp_path)
    table = table_of(release, tmp_path)
    first = split_into_publish(release, tmp_path, Preparation(), table, STAGE, None, Progress())
    before = _publish_listing(tmp_path)
    publish = tmp_path / "publish"
    real = os.replace
    installed: list[str] = []

    def full_disk(src: Any, dst: Any) -> None:
        source, target = Path(src), Path(dst)
        if target.parent == publish and source.parent.name != ".replaced":
            if installed:  # the second part to move in fails
                raise OSError(28, "No space left on device", str(target))
            installed.append(target.name)
        real(src, dst)

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(HdhWizardError) as raised:
        split_into_publish(release, tmp_path, first, table, 1, None, Progress())
    monkeypatch.setattr(os, "replace", real)
    assert raised.value.key == "prepare.error.not_writable"
    assert installed  # it did fail half-way
    assert _publish_listing(tmp_path) == before
    assert not [p for p in publish.iterdir() if p.name.startswith(".")]
    assert missing_outputs(tmp_path, first) == []


def test_a_disk_full_while_writing_the_parts_leaves_the_previous_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = hosted_project(tmp_path)
    table = table_of(release, tmp_path)
    first = split_into_publish(release, tmp_path, Preparation(), table, STAGE, None, Progress())
    before = _publish_listing(tmp_path)
    real_write = HashingWriter.write
    written: list[int] = []

    def full(self: HashingWriter, data: bytes) -> int:
        if written:
            self.failure = OSError(28, "No space left on device")
            raise self.failure
        written.append(len(data))
        return real_write(self, data)

    monkeypatch.setattr(HashingWriter, "write", full)
    with pytest.raises(HdhWizardError) as raised:
        split_into_publish(release, tmp_path, first, table, 1, None, Progress())
    monkeypatch.setattr(HashingWriter, "write", real_write)
    assert raised.value.key == "prepare.error.not_writable"
    assert "No space left" in raised.value.params["detail"]
    assert _publish_listing(tmp_path) == before
    assert not [p for p in (tmp_path / "publish").iterdir() if p.name.startswith(".")]
    assert missing_outputs(tmp_path, first) == []


def test_a_publish_folder_not_writable_is_explained_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = hosted_project(tmp_path)
    table = table_of(release, tmp_path)
    first = split_into_publish(release, tmp_path, Preparation(), table, STAGE, None, Progress())
    before = _publish_listing(tmp_path)
    real_mkdir = Path.mkdir

    def refused(self: Path, *args: Any, **kwargs: Any) -> None:
        if self.name.startswith(STAGING_PREFIX):  # (chmod would not stop root)
            raise PermissionError(13, "Permission denied", str(self))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refused)
    with pytest.raises(HdhWizardError) as raised:
        split_into_publish(release, tmp_path, first, table, 1, None, Progress())
    monkeypatch.setattr(Path, "mkdir", real_mkdir)
    assert raised.value.key == "prepare.error.not_writable"
    assert "Permission denied" in raised.value.message(_catalogue())
    assert _publish_listing(tmp_path) == before


def test_a_staging_folder_left_by_a_killed_run_is_removed_by_the_next(tmp_path: Path) -> None:
    hosted_project(tmp_path)
    left = tmp_path / "publish" / f"{STAGING_PREFIX}dead0000"
    (left / "1").mkdir(parents=True)
    (left / "1" / "part-0.csv").write_bytes(b"id\n1\n" * 1000)
    _split(tmp_path, TABLE, STAGE)
    assert not left.exists()
    assert not [p for p in (tmp_path / "publish").iterdir() if p.name.startswith(".")]


# --- slides ---------------------------------------------------------------------------------------


def test_symlinks_and_dotdot_in_the_slide_mapping_never_reach_outside(tmp_path: Path) -> None:
    project = tmp_path / "projet"
    project.mkdir()
    secret = tmp_path / "secret.tif"
    secret.write_bytes(b"II*\x00 not to publish")
    release = hosted_project(project, {"donnees/map.csv": b"id,stade\n"})
    lames = project / "donnees" / "lames"
    slides = sorted(p.stem for p in lames.iterdir())
    (lames / "lien.tif").symlink_to(secret)
    (lames / "dossier_lien").symlink_to(tmp_path, target_is_directory=True)
    mapping = "id,stade\nlien.tif,I\n../../secret.tif,I\n../secret.tif,II\n/etc/passwd,III\n"
    mapping += "dossier_lien/secret.tif,I\n" + "".join(f"{stem},I\n" for stem in slides)
    (project / "donnees" / "map.csv").write_text(mapping, encoding="utf-8")
    folder = choices(release, project).folders[0]
    table = table_of(release, project, "donnees/map.csv")
    prepared = split_folder_into_publish(
        release, project, Preparation(), folder, table, 0, 1, Progress()
    )
    settings = prepared.folder_split("donnees/lames")
    assert settings is not None
    assert settings.refused == 3 and settings.missing == 2  # the links are no files
    published = [p for p in (project / "publish").rglob("*") if p.is_file()]
    assert published and all(p.read_bytes() != secret.read_bytes() for p in published)
    assert all(not p.is_symlink() for p in (project / "publish").rglob("*"))


def test_a_hand_edited_anonymity_record_never_places_a_file_from_outside(tmp_path: Path) -> None:
    project = tmp_path / "projet"
    project.mkdir()
    secret = tmp_path / "secret.tif"
    secret.write_bytes(b"II*\x00 not to publish")
    hosted_project(project)
    slide = sorted((project / "donnees" / "lames").iterdir())[0]
    replacement = {"source": f"donnees/lames/{slide.name}", "path": str(secret), "size": 1}
    release = workflow.commit_step(
        projects.read_project(project),
        StepId.ANONYMITY,
        {"replacements": [replacement, {**replacement, "path": "../secret.tif"}]},
        ALICE,
        NOW,
    )
    table, folder = table_of(release, project), choices(release, project).folders[0]
    prepared = split_folder_into_publish(
        release, project, Preparation(), folder, table, SLIDE_ID, STAGE, Progress()
    )
    assert prepared.folders[0].placed == 3
    published = [p for p in (project / "publish").rglob("*") if p.is_file()]
    assert all(p.read_bytes() != secret.read_bytes() for p in published)


# --- the screen -----------------------------------------------------------------------------------


async def _open(pilot: Pilot[None]) -> PrepareDataStepScreen:
    app = pilot.app
    app.open_step(StepId.PREPARE_DATA)  # type: ignore[attr-defined]
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, PrepareDataStepScreen)
    await until(pilot, lambda: bool(screen.choices.tables) and not screen.working)
    await until(pilot, lambda: len(screen.query_one("#prep-column", Select)._options) > 1)
    return screen


async def test_the_screen_warns_of_too_many_files_before_splitting(tmp_path: Path) -> None:
    content = "id,v\n" + "".join(f"{i},v{i}\n" for i in range(1200)) + "1200,v0\n1201,v1\n"
    hosted_project(tmp_path, {"donnees/d.csv": content.encode()})
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        screen.query_one("#prep-table", Select).value = "donnees/d.csv"
        await until(pilot, lambda: len(screen.query_one("#prep-column", Select)._options) == 3)
        screen.query_one("#prep-column", Select).value = 1
        await until(pilot, lambda: ("donnees/d.csv", 1) in screen.counts and not screen.working)
        await pilot.pause()
        summary = str(screen.query_one("#prep-values-summary", Static).render())
        assert "Au-delà de 1\u202f000 fichiers" in summary and "sous 2 lignes" in summary
        screen.query_one("#prep-threshold", Input).value = "2"
        await pilot.pause()
        summary = str(screen.query_one("#prep-values-summary", Static).render())
        assert "Au-delà" not in summary and "3 fichiers" in summary


async def test_a_rewritten_table_is_flagged_on_the_screen_and_blocks_the_commit(
    tmp_path: Path,
) -> None:
    hosted_project(tmp_path)
    prepared = _split(tmp_path, TABLE, STAGE)
    release = workflow.record_progress(
        projects.read_project(tmp_path), StepId.PREPARE_DATA, prepared.to_outputs(), NOW
    )
    projects.save(projects.Project(tmp_path, release), release)
    path = tmp_path / TABLE
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        failed = [c.key for c in screen.all_checks() if not c.ok]
        assert "prepare.check.current" in failed
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert projects.read_project(tmp_path).record(StepId.PREPARE_DATA).status is not (
        StepStatus.DONE
    )


async def test_quitting_during_a_split_leaves_publish_and_the_state_agreeing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hosted_project(tmp_path)
    first = _split(tmp_path, TABLE, STAGE)
    release = workflow.record_progress(
        projects.read_project(tmp_path), StepId.PREPARE_DATA, first.to_outputs(), NOW
    )
    projects.save(projects.Project(tmp_path, release), release)
    real_split = split_table
    started = threading.Event()
    finished = threading.Event()

    def slow_split(*args: Any, **kwargs: Any) -> Any:
        result = real_split(*args, **kwargs)
        progress: Progress = kwargs["progress"]
        started.set()
        deadline = time.monotonic() + 8  # a big table: long enough to quit meanwhile
        while time.monotonic() < deadline and not progress.cancelled:
            time.sleep(0.02)
        finished.set()
        return result

    monkeypatch.setattr(prep, "split_table", slow_split)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        screen.query_one("#prep-column", Select).value = 1
        await until(pilot, lambda: (TABLE, 1) in screen.counts and not screen.working)
        screen.query_one("#prep-split", Button).press()
        await until(pilot, lambda: started.is_set())
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert finished.wait(15)
    publish = tmp_path / "publish"
    for _ in range(100):  # the worker's thread ends after the app
        if not [p for p in publish.iterdir() if p.name.startswith(STAGING_PREFIX)]:
            break
        time.sleep(0.1)
    recorded = preparation_of(projects.read_project(tmp_path))
    assert missing_outputs(tmp_path, recorded) == []
    on_disk = {f"publish/{p.name}" for p in publish.iterdir() if not p.name.startswith(".")}
    assert on_disk == {f.path for f in recorded.files}


def _catalogue() -> Any:
    from hdh_wizard.i18n.catalogue import load_catalogue

    return load_catalogue()


async def test_splitting_again_after_the_commit_never_leaves_the_state_listing_old_files(
    tmp_path: Path,
) -> None:
    # Split, commit; come back days later, split on another column, quit without committing.
    hosted_project(tmp_path)
    prepared = _split(tmp_path, TABLE, STAGE)
    release = workflow.commit_step(
        projects.read_project(tmp_path), StepId.PREPARE_DATA, prepared.to_outputs(), ALICE, NOW
    )
    projects.save(projects.Project(tmp_path, release), release)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        screen.query_one("#prep-column", Select).value = 1
        await until(pilot, lambda: (TABLE, 1) in screen.counts and not screen.working)
        screen.query_one("#prep-split", Button).press()
        await pilot.pause()
        await until(pilot, lambda: not screen.working)
        await pilot.press("ctrl+q")
        await pilot.pause()
    release = projects.read_project(tmp_path)
    recorded = preparation_of(release)
    assert {f.value for f in recorded.split_files(TABLE)} == {"F", "M"}
    assert missing_outputs(tmp_path, recorded) == []
    # Not done with files it did not check: the step is open again, to be committed.
    assert release.record(StepId.PREPARE_DATA).status is StepStatus.IN_PROGRESS


async def test_a_hand_edited_state_opens_the_screen_without_a_traceback(tmp_path: Path) -> None:
    hosted_project(tmp_path)
    prepared = _split(tmp_path, TABLE, STAGE)
    outputs = prepared.to_outputs()
    sample = {"path": "publish/cohorte_melanome__echantillon.csv", "kind": "sample", "size": 1}
    outputs["files"] += [{**sample, "source": TABLE}, "nope", {"path": 3}]
    outputs["tables"] = [
        {
            "table": TABLE,
            "split": {
                "column": "absente",
                "column_index": 99,
                "source_rows": -1,
                "group_rare_below": 1,
            },
            "sample": {"seed": 5, "rows": 1, "source_rows": 1},  # neither size nor share
        },
        {
            "table": "donnees/absente.csv",
            "split": {"column": "x", "column_index": 0, "source_rows": 1},
        },
    ]
    outputs["folders"] = [
        {
            "folder": "donnees/absent",
            "mapping": TABLE,
            "file_column": "a",
            "value_column": "b",
            "output": "publish/absent__b",
        }
    ]
    release = workflow.record_progress(
        projects.read_project(tmp_path), StepId.PREPARE_DATA, outputs, NOW
    )
    projects.save(projects.Project(tmp_path, release), release)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await pilot.pause()
        assert "seed" not in str(screen.query_one("#prep-sample-result", Static).render())
        failed = [c.key for c in screen.all_checks() if not c.ok]
        assert "prepare.check.present" in failed  # the sample file listed is not there
        screen.query_one("#prep-column", Select).value = STAGE
        await until(pilot, lambda: (TABLE, STAGE) in screen.counts and not screen.working)
        screen.query_one("#prep-threshold", Input).value = ""
        screen.query_one("#prep-split", Button).press()
        await pilot.pause()
        await until(pilot, lambda: not screen.working)
        assert screen.last_error == ""


async def test_what_is_typed_for_the_next_sample_survives_a_split(tmp_path: Path) -> None:
    hosted_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        screen.query_one("#prep-column", Select).value = STAGE
        await until(pilot, lambda: (TABLE, STAGE) in screen.counts and not screen.working)
        screen.query_one("#prep-size", Input).value = "40"
        screen.query_one("#prep-seed", Input).value = "77"
        screen.query_one("#prep-sample", Button).press()
        await pilot.pause()
        await until(pilot, lambda: not screen.working)
        screen.query_one("#prep-size", Input).value = "100"
        screen.query_one("#prep-seed", Input).value = "5"
        screen.query_one("#prep-split", Button).press()
        await pilot.pause()
        await until(pilot, lambda: not screen.working)
        assert screen.last_error == ""
        assert screen.query_one("#prep-size", Input).value == "100"
        assert screen.query_one("#prep-seed", Input).value == "5"


def test_the_files_of_a_table_no_longer_published_can_be_given_up(tmp_path: Path) -> None:
    release = hosted_project(tmp_path, {"donnees/t.csv": b"id,v\n1,a\n2,b\n"})
    prepared = _split(tmp_path, "donnees/t.csv", 1)
    prepared = split_into_publish(
        release, tmp_path, prepared, table_of(release, tmp_path), STAGE, None, Progress()
    )
    (tmp_path / "donnees" / "t.csv").unlink()  # no longer there (or no longer published)
    now = versions(choices(release, tmp_path))
    assert prepared.outdated(now) == ["donnees/t.csv"]
    after = drop_prepared(release, tmp_path, prepared, prepared.outdated(now))
    assert after.outdated(now) == [] and after.split_files("donnees/t.csv") == ()
    assert after.split_files(TABLE) == prepared.split_files(TABLE)
    assert not (tmp_path / "publish" / "t__a.csv").exists()
    assert missing_outputs(tmp_path, after) == []
    assert [c.ok for c in step_checks(after, [], after.outdated(now))] == [True, True, True]


def test_giving_up_never_removes_a_published_file_the_state_lists(tmp_path: Path) -> None:
    release = hosted_project(tmp_path, {"publish/autre.csv": b"k\n1\n"})
    bogus = Preparation(
        files=(PreparedFile("publish/autre.csv", PreparedKind.PART, 4, "", "gone.csv", "1", 1),)
    )
    after = drop_prepared(release, tmp_path, bogus, ["gone.csv"])
    assert after.files == () and (tmp_path / "publish" / "autre.csv").read_bytes() == b"k\n1\n"


async def test_the_screen_offers_to_give_up_the_files_of_a_changed_table(tmp_path: Path) -> None:
    hosted_project(tmp_path)
    prepared = _split(tmp_path, TABLE, STAGE)
    release = workflow.record_progress(
        projects.read_project(tmp_path), StepId.PREPARE_DATA, prepared.to_outputs(), NOW
    )
    projects.save(projects.Project(tmp_path, release), release)
    path = tmp_path / TABLE
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await pilot.pause()
        drop = screen.query_one("#prep-drop", Button)
        assert drop.display and "ont changé" in str(screen.query_one("#prep-all", Static).render())
        drop.press()
        await pilot.pause()
        assert app.screen is not screen  # asked first
        app.screen.query_one("#yes", Button).press()
        await pilot.pause()
        await until(pilot, lambda: not screen.working and not screen.preparation.files)
        assert not drop.display
    assert preparation_of(projects.read_project(tmp_path)).files == ()
    assert not [p for p in (tmp_path / "publish").iterdir() if p.suffix == ".csv"]


async def test_quitting_while_the_parts_are_moved_in_still_records_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past the last cancel point (the parts being moved into publish/), quitting cannot stop
    # the run: its result must still reach the state.
    hosted_project(tmp_path)
    real_install = prep._install
    moving = threading.Event()
    finished = threading.Event()

    def slow_install(*args: Any, **kwargs: Any) -> None:
        real_install(*args, **kwargs)
        moving.set()
        time.sleep(3.0)  # a slow disk: the app is quit meanwhile
        finished.set()

    monkeypatch.setattr(prep, "_install", slow_install)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        screen.query_one("#prep-column", Select).value = STAGE
        await until(pilot, lambda: (TABLE, STAGE) in screen.counts and not screen.working)
        screen.query_one("#prep-split", Button).press()
        await until(pilot, moving.is_set)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert finished.wait(15)

    def agreeing() -> bool:
        recorded = preparation_of(projects.read_project(tmp_path))
        on_disk = {f"publish/{p.name}" for p in (tmp_path / "publish").iterdir()}
        listed = {f.path for f in recorded.files}
        return bool(listed) and {p for p in on_disk if not p.startswith("publish/.")} == listed

    for _ in range(50):  # the worker's thread ends after the app
        if agreeing():
            break
        time.sleep(0.1)
    assert agreeing()


def test_a_slide_removed_from_a_grouped_folder_is_noticed(tmp_path: Path) -> None:
    release = hosted_project(tmp_path)
    table, folder = table_of(release, tmp_path), choices(release, tmp_path).folders[0]
    grouped = split_folder_into_publish(
        release, tmp_path, Preparation(), folder, table, SLIDE_ID, STAGE, Progress()
    )
    assert missing_outputs(tmp_path, grouped) == []
    settings = grouped.folders[0]
    placed = next(p for p in (tmp_path / settings.output).rglob("*") if p.is_file())
    placed.unlink()
    assert missing_outputs(tmp_path, grouped) == [f"{settings.output}/{placed.parent.name}"]


def test_a_hand_edited_finished_record_never_sends_a_file_outside_the_project() -> None:
    from hdh_wizard.core.hosting_records import prepared_files
    from hdh_wizard.core.release import StepRecord

    release = workflow.new_release("r", ALICE, NOW)
    outputs = {"files": [{"path": "../../etc/passwd", "kind": "part", "size": 1}]}
    record = StepRecord(StepStatus.DONE, outputs, "", NOW, ALICE)
    release = replace(release, steps={**release.steps, StepId.PREPARE_DATA: record})
    assert prepared_files(release) == ()
