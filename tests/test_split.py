"""Splitting a release's table into one CSV per value, and slides into one folder per value."""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import os
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.inspect import split as split_module
from hdh_wizard.inspect.progress import Cancelled, Progress
from hdh_wizard.inspect.split import (
    PartKind,
    ValueCount,
    split_files_by_table,
    split_table,
    split_values,
)

HOSTILE_VALUES = [
    "../../etc",
    "CON",
    "nul.txt",
    "x" * 300,
    "Stade Ⅲ",
    "\u00e9",  # é composed (NFC)
    "e\u0301",  # é decomposed (NFD)
    "/",
    "\\",
    "ligne 1\nligne 2",
    "\u202eabc\u202c",
    "A",
    "a",
    "vide",
    "autres",
    "echantillon",
]


def write_csv(path: Path, header: list[str], rows: list[list[str]], **options: str) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=options.get("ending", "\n"), **_dialect(options))
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(options.get("encoding", "utf-8")))
    return path


def _dialect(options: dict[str, str]) -> dict[str, str]:
    return {"delimiter": options["delimiter"]} if "delimiter" in options else {}


def read_rows(path: Path) -> list[tuple[str, ...]]:
    """A CSV's records as Python's csv module reads them (header dropped)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [tuple(row) for row in list(csv.reader(handle))[1:]]


def outputs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def error_text(error: HdhWizardError) -> str:
    return error.message(load_catalogue(Lang.EN))


@pytest.fixture
def stays(tmp_path: Path) -> Path:
    rows = [
        [str(n), ["I", "II", "III", "IV"][n % 4], f"libellé {n}, détail", str(40 + n % 50)]
        for n in range(200)
    ]
    return write_csv(tmp_path / "sejours.csv", ["id", "stade", "libelle", "age"], rows)


# --- values and counts ------------------------------------------------------------------------


def test_values_are_listed_with_their_counts_most_frequent_first(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "t.csv",
        ["id", "stade"],
        [["1", "II"], ["2", "I"], ["3", "II"], ["4", ""], ["5", "   "], ["6", "II"], ["7", "I"]],
    )
    assert split_values(source, 1) == [
        ValueCount("II", 3),
        ValueCount("I", 2),
        ValueCount(None, 2),  # the empty value after the others of the same count
    ]


# --- splitting a table ------------------------------------------------------------------------


def test_split_writes_one_file_per_value_whose_rows_add_up_to_the_source(
    stays: Path, tmp_path: Path
) -> None:
    publish = tmp_path / "publish"
    result = split_table(stays, 1, publish)
    assert result.source_rows == 200
    assert [p.path.name for p in result.parts] == [
        "sejours__I.csv",
        "sejours__II.csv",
        "sejours__III.csv",
        "sejours__IV.csv",
    ]
    assert sum(p.rows for p in result.parts) == 200
    assert outputs(publish) == [p.path for p in result.parts]  # no scratch left behind
    source_rows = read_rows(stays)
    for part in result.parts:
        rows = read_rows(part.path)
        assert len(rows) == part.rows == 50
        assert {row[1] for row in rows} == set(part.values)
        # in the source's order, every column copied as written
        assert rows == [row for row in source_rows if row[1] == part.values[0]]


def test_each_part_reports_the_size_and_checksum_of_its_written_file(
    stays: Path, tmp_path: Path
) -> None:
    for part in split_table(stays, 1, tmp_path / "publish").parts:
        data = part.path.read_bytes()
        assert part.size == len(data)
        assert part.sha256 == hashlib.sha256(data).hexdigest()


def test_empty_and_blank_values_go_to_their_own_file(tmp_path: Path) -> None:
    source = tmp_path / "t.csv"
    source.write_text('id,stade\n1,I\n2,\n3,""\n4,"   "\n5,I\n', encoding="utf-8")
    result = split_table(source, 1, tmp_path / "out")
    empty = result.parts[0]
    assert empty.kind is PartKind.EMPTY and empty.path.name == "t__vide.csv"
    assert [row[0] for row in read_rows(empty.path)] == ["2", "3", "4"]
    assert result.parts[1].values == ("I",) and result.parts[1].rows == 2


def test_rare_values_are_grouped_into_autres_when_asked(tmp_path: Path) -> None:
    rows = [[str(n), "fréquent"] for n in range(10)] + [["10", "rare A"], ["11", "rare B"]]
    rows += [["12", "rare A"], ["13", ""]]
    source = write_csv(tmp_path / "t.csv", ["id", "v"], rows)
    result = split_table(source, 1, tmp_path / "out", group_rare_below=3)
    kinds = [(p.kind, p.values, p.rows, p.path.name) for p in result.parts]
    assert kinds == [
        (PartKind.EMPTY, (), 1, "t__vide.csv"),
        (PartKind.VALUE, ("fréquent",), 10, "t__frequent.csv"),
        (PartKind.OTHERS, ("rare A", "rare B"), 3, "t__autres.csv"),
    ]
    assert sorted(r[0] for r in read_rows(result.parts[2].path)) == ["10", "11", "12"]


def test_hostile_values_get_safe_distinct_names_inside_the_folder(tmp_path: Path) -> None:
    rows = [[str(n), value] for n, value in enumerate(HOSTILE_VALUES)]
    rows += [["98", ""], ["99", "   "]]
    source = write_csv(tmp_path / "t.csv", ["id", "valeur"], rows)
    out = tmp_path / "publish"
    result = split_table(source, 1, out)
    names = [p.path.name for p in result.parts]
    assert len({n.casefold() for n in names}) == len(names)  # macOS, Windows: case-blind
    for part in result.parts:
        assert part.path.parent == out  # nothing written elsewhere (../../etc)
        assert part.path.name.isascii() and len(part.path.name.encode()) <= 160
        assert part.rows == len(read_rows(part.path))
    written = outputs(tmp_path)
    assert written == sorted([source, *(p.path for p in result.parts)])
    by_value = {p.values[0]: p for p in result.parts if p.kind is PartKind.VALUE}
    assert set(by_value) == set(HOSTILE_VALUES)  # NFC and NFD é: two values, two files
    assert by_value["CON"].path.name == "t__CON_.csv"
    assert by_value["../../etc"].path.name == "t__etc.csv"
    assert by_value["vide"].path.name == "t__vide-2.csv"  # the empty values' file is t__vide
    assert by_value["autres"].path.name == "t__autres-2.csv"
    assert by_value["echantillon"].path.name == "t__echantillon-2.csv"  # the sample's
    renamed = {p.values[0] for p in result.parts if p.renamed}
    assert {"a", "vide", "autres", "echantillon"} <= renamed
    assert len({by_value["\u00e9"].path, by_value["e\u0301"].path}) == 2
    assert read_rows(by_value["ligne 1\nligne 2"].path) == [("9", "ligne 1\nligne 2")]
    assert result.parts[0].kind is PartKind.EMPTY and result.parts[0].rows == 2


def test_columns_named_like_patterns_are_split_by_position(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "t.csv",
        ["*", "^a.*$", "a"],
        [["1", "x", "p"], ["2", "y", "q"], ["3", "x", "r"]],
    )
    result = split_table(source, 1, tmp_path / "out")
    assert [(p.values, p.rows) for p in result.parts] == [(("x",), 2), (("y",), 1)]
    header = result.parts[0].path.read_text(encoding="utf-8").splitlines()[0]
    assert header == "*,^a.*$,a"
    assert split_values(source, 0)[0].rows == 1


def test_the_parts_of_a_legacy_csv_are_conformant(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "export.csv",
        ["id", "région", "note"],
        [["1", "Île-de-France", "12,5"], ["2", "Réunion", "a;b"], ["3", "Île-de-France", ""]],
        delimiter=";",
        ending="\r\n",
        encoding="cp1252",
    )
    result = split_table(source, 1, tmp_path / "out")
    ile = next(p for p in result.parts if p.values == ("Île-de-France",))
    assert ile.path.name == "export__Ile-de-France.csv"
    data = ile.path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data
    assert data.decode("utf-8") == 'id,région,note\n1,Île-de-France,"12,5"\n3,Île-de-France,\n'


def test_blank_lines_are_not_records(tmp_path: Path) -> None:
    source = tmp_path / "t.csv"
    source.write_text("id,v\n1,a\n\n2,b\n\n", encoding="utf-8")
    result = split_table(source, 1, tmp_path / "out")
    assert result.source_rows == 2
    assert [p.kind for p in result.parts] == [PartKind.VALUE, PartKind.VALUE]
    assert split_values(source, 1) == [ValueCount("a", 1), ValueCount("b", 1)]


def test_rows_of_empty_fields_are_records_when_the_file_has_no_blank_line(
    tmp_path: Path,
) -> None:
    source = tmp_path / "t.csv"
    source.write_text("id,v\n1,a\n,\n2,\n,\n3,a\n", encoding="utf-8")
    result = split_table(source, 1, tmp_path / "out")
    assert result.source_rows == 5
    empty = result.parts[0]
    assert empty.kind is PartKind.EMPTY
    assert empty.path.read_text(encoding="utf-8") == "id,v\n,\n2,\n,\n"  # in the file's order
    assert split_values(source, 1) == [ValueCount(None, 3), ValueCount("a", 2)]


def test_with_a_blank_line_rows_of_nulls_are_dropped_as_the_risk_measures_do(
    tmp_path: Path,
) -> None:
    source = tmp_path / "t.csv"
    source.write_text("id,v\n1,a\n,\n\n2,\n3,a\n", encoding="utf-8")
    result = split_table(source, 1, tmp_path / "out")
    assert result.source_rows == 3
    assert [(p.kind, p.rows) for p in result.parts] == [(PartKind.EMPTY, 1), (PartKind.VALUE, 2)]
    assert split_values(source, 1) == [ValueCount("a", 2), ValueCount(None, 1)]


def test_a_second_split_replaces_its_files_and_leaves_the_others(
    stays: Path, tmp_path: Path
) -> None:
    out = tmp_path / "publish"
    out.mkdir()
    (out / "README.md").write_text("garder", encoding="utf-8")
    first = split_table(stays, 1, out)
    second = split_table(stays, 1, out)
    assert [p.sha256 for p in first.parts] == [p.sha256 for p in second.parts]
    assert (out / "README.md").read_text(encoding="utf-8") == "garder"
    assert len(outputs(out)) == 5


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["I", "II", "", "  ", "é", "e\u0301", "A", "a", "x,y", 'q"q', "n\nl"]),
            # Control characters make a file binary for the inspection: left out.
            st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
        ),
        min_size=1,
        max_size=40,
    ),
    rare=st.sampled_from([None, 2, 3]),
)
def test_split_then_concatenated_gives_back_the_source_rows(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str]], rare: int | None
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    table = [[str(n), key, text] for n, (key, text) in enumerate(rows)]
    source = write_csv(folder / "t.csv", ["id", "k", "texte"], table)
    expected = Counter(pl.read_csv(source, infer_schema=False).rows())
    result = split_table(source, 1, folder / "out", group_rare_below=rare)
    found: Counter[tuple[str | None, ...]] = Counter()
    for part in result.parts:
        found.update(pl.read_csv(part.path, infer_schema=False).rows())
    assert found == expected
    assert sum(p.rows for p in result.parts) == result.source_rows == len(rows)


# --- what goes wrong --------------------------------------------------------------------------


def test_a_ragged_line_is_named(tmp_path: Path) -> None:
    source = tmp_path / "t.csv"
    source.write_text("id,v\n1,a\n2,b\n3,c,extra\n4,d\n", encoding="utf-8")
    with pytest.raises(HdhWizardError) as caught:
        split_table(source, 1, tmp_path / "out")
    assert caught.value.key == "prepare.error.ragged_row"
    assert caught.value.params["line"] == 4
    assert "line 4" in error_text(caught.value)
    assert not (tmp_path / "out").exists() or not outputs(tmp_path / "out")


def test_a_quote_never_closed_is_named(tmp_path: Path) -> None:
    source = tmp_path / "t.csv"
    source.write_text('id,v\n1,a\n2,"b"c\n3,d\n', encoding="utf-8")
    with pytest.raises(HdhWizardError) as caught:
        split_values(source, 1)
    assert caught.value.key == "prepare.error.unclosed_quote"
    assert caught.value.params["line"] == 3


def test_bytes_that_are_not_utf8_further_on_are_named(tmp_path: Path) -> None:
    source = tmp_path / "t.csv"
    head = "".join(f"{n},valeur {n}\n" for n in range(30_000))  # past the sniffed beginning
    source.write_bytes(b"id,v\n" + head.encode() + b"30000,d\xe9c\xe8s\n")
    with pytest.raises(HdhWizardError) as caught:
        split_table(source, 1, tmp_path / "out")
    assert caught.value.key == "prepare.error.bad_encoding"
    assert caught.value.params["line"] == 30_002


@pytest.mark.parametrize("index", [2, -1, 99])
def test_an_unknown_column_is_a_typed_error(stays: Path, tmp_path: Path, index: int) -> None:
    source = write_csv(tmp_path / "t.csv", ["id", "v"], [["1", "a"]])
    with pytest.raises(HdhWizardError) as caught:
        split_table(source, index, tmp_path / "out")
    assert caught.value.key == "prepare.error.unknown_column"
    assert "has 2" in error_text(caught.value)


@pytest.mark.parametrize("content", [b"", b"id,v\n", b"id,v\n\n\n"])
def test_an_empty_table_is_a_typed_error(tmp_path: Path, content: bytes) -> None:
    source = tmp_path / "t.csv"
    source.write_bytes(content)
    with pytest.raises(HdhWizardError) as caught:
        split_table(source, 0, tmp_path / "out")
    assert caught.value.key == "prepare.error.empty_table"
    assert not (tmp_path / "out").exists() or not outputs(tmp_path / "out")


def test_a_table_without_header_or_not_csv_is_refused(tmp_path: Path) -> None:
    numbers = write_csv(tmp_path / "n.csv", ["1", "2"], [["3", "4"]])
    with pytest.raises(HdhWizardError) as caught:
        split_values(numbers, 0)
    assert caught.value.key == "prepare.error.no_header"
    image = tmp_path / "i.csv"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(HdhWizardError) as caught:
        split_values(image, 0)
    assert caught.value.key == "prepare.error.not_csv"


def test_an_unwritable_destination_is_a_typed_error(stays: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "un-fichier"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(HdhWizardError) as caught:
        split_table(stays, 1, blocker / "publish")
    assert caught.value.key == "prepare.error.not_writable"
    assert "no partial file" in error_text(caught.value)


class FillingDisk:
    """A file on a disk that fills up after a few hundred bytes."""

    written = 0

    def __init__(self, real: io.BufferedWriter) -> None:
        self.real = real

    def write(self, data: memoryview) -> int:
        FillingDisk.written += len(data)
        if FillingDisk.written > 200:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.real.write(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


def test_a_full_disk_midway_leaves_no_partial_output(
    stays: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = split_module.HashingWriter.__init__

    def on_a_small_disk(self: split_module.HashingWriter, *args: object) -> None:
        original(self, *args)  # type: ignore[arg-type]
        self._file = FillingDisk(self._file)  # type: ignore[assignment]

    monkeypatch.setattr(split_module.HashingWriter, "__init__", on_a_small_disk)
    out = tmp_path / "publish"
    with pytest.raises(HdhWizardError) as caught:
        split_table(stays, 1, out)
    assert caught.value.key == "prepare.error.not_writable"
    assert caught.value.params["detail"] == "No space left on device"
    assert outputs(out) == [] and list(out.iterdir()) == []


class CancelAfter(Progress):
    """A user who presses cancel once some bytes are written."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def advance(self, nbytes: int) -> None:
        if self.done_bytes + nbytes > self.limit:
            self.cancel()
        super().advance(nbytes)


def test_cancel_midway_leaves_no_partial_output(stays: Path, tmp_path: Path) -> None:
    out = tmp_path / "publish"
    progress = CancelAfter(300)
    with pytest.raises(Cancelled):
        split_table(stays, 1, out, progress=progress)
    assert list(out.iterdir()) == []
    assert progress.done_bytes > 0


def test_cancel_before_start_stops_the_value_count(stays: Path) -> None:
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        split_values(stays, 1, progress=progress)


def test_a_column_with_too_many_values_is_refused_with_advice(
    stays: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(split_module, "MAX_PARTS", 20)
    out = tmp_path / "out"
    with pytest.raises(HdhWizardError) as caught:
        split_table(stays, 0, out)  # 200 ids
    assert caught.value.key == "prepare.error.too_many_values"
    assert "autres" in error_text(caught.value)
    assert list(out.iterdir()) == []
    grouped = split_table(stays, 3, out, group_rare_below=5)  # 50 ages of 4 rows: all rare
    assert [p.kind for p in grouped.parts] == [PartKind.OTHERS]


@pytest.mark.parametrize("count", [0, 1, -3, True])
def test_a_rare_threshold_below_two_is_refused(stays: Path, tmp_path: Path, count: int) -> None:
    with pytest.raises(HdhWizardError) as caught:
        split_table(stays, 1, tmp_path / "out", group_rare_below=count)
    assert caught.value.key == "prepare.error.min_count"


# --- slides into folders ----------------------------------------------------------------------


@pytest.fixture
def slides(tmp_path: Path) -> Path:
    root = tmp_path / "lames"
    (root / "lot2").mkdir(parents=True)
    for name in [
        "s1.tif",
        "s2.tif",
        "s3.tif",
        "lot2/s4.tif",
        "lot2/orpheline.tif",
        "Lame n°5.tiff",
    ]:
        (root / name).write_bytes(name.encode() * 100)
    (root / ".DS_Store").write_bytes(b"x")
    return root


def test_slides_are_grouped_into_one_folder_per_stage_by_hard_links(
    slides: Path, tmp_path: Path
) -> None:
    table = write_csv(
        tmp_path / "correspondance.csv",
        ["lame", "stade"],
        [
            ["s1.tif", "Stade Ⅲ"],
            ["s2", "Stade I"],  # without extension
            ["lot2/s4.tif", "Stade Ⅲ"],
            ["Lame n°5.tiff", ""],
            ["absente.tif", "Stade I"],
            ["../../etc/passwd", "CON"],
            ["", "Stade I"],
        ],
    )
    out = tmp_path / "publish" / "lames"
    result = split_files_by_table(table, 0, 1, slides, out)
    placed = {(f.path.relative_to(out).as_posix(), f.value) for f in result.files}
    assert placed == {
        ("Stade_III/s1.tif", "Stade Ⅲ"),
        ("Stade_III/s4.tif", "Stade Ⅲ"),
        ("Stade_I/s2.tif", "Stade I"),
        ("vide/Lame_n_5.tiff", None),
    }
    for file in result.files:
        assert file.linked and file.path.stat().st_ino == file.source.stat().st_ino
        assert file.sha256 == hashlib.sha256(file.source.read_bytes()).hexdigest()
        assert file.size == file.source.stat().st_size
    assert result.missing == ("absente.tif",)
    assert result.unlisted == ("lot2/orpheline.tif", "s3.tif")
    assert result.refused == ("../../etc/passwd",)
    assert result.rows_without_file == 1
    assert [(f.value, f.path.name, f.files) for f in result.folders] == [
        (None, "vide", 1),
        ("Stade I", "Stade_I", 1),
        ("Stade Ⅲ", "Stade_III", 2),
    ]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no scratch left


def test_slides_are_copied_when_hard_links_are_impossible(
    slides: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def other_disk(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(split_module.os, "link", other_disk)
    table = write_csv(tmp_path / "m.csv", ["lame", "stade"], [["s1.tif", "I"], ["s2.tif", "II"]])
    result = split_files_by_table(table, 0, 1, slides, tmp_path / "out")
    assert [f.linked for f in result.files] == [False, False]
    for file in result.files:
        assert file.path.read_bytes() == file.source.read_bytes()
        assert file.path.stat().st_ino != file.source.stat().st_ino


def test_ambiguous_and_conflicting_slides_are_reported(slides: Path, tmp_path: Path) -> None:
    (slides / "lot3").mkdir()
    (slides / "lot3" / "s4.tif").write_bytes(b"autre")
    table = write_csv(
        tmp_path / "m.csv",
        ["stade", "lame"],
        [["I", "s4.tif"], ["I", "s1.tif"], ["II", "s1.tif"], ["I", "s1.tif"]],
    )
    result = split_files_by_table(table, 1, 0, slides, tmp_path / "out", link=False)
    assert result.ambiguous == ("s4.tif",)
    assert result.conflicting == ("s1.tif",)
    assert sorted(f.path.parent.name for f in result.files) == ["I", "II"]


def test_hostile_stage_values_make_safe_folders(slides: Path, tmp_path: Path) -> None:
    table = write_csv(
        tmp_path / "m.csv",
        ["lame", "stade"],
        [["s1.tif", "../../etc"], ["s2.tif", "CON"], ["s3.tif", "con"], ["lot2/s4.tif", "vide"]],
    )
    out = tmp_path / "out"
    result = split_files_by_table(table, 0, 1, slides, out, checksums=False)
    assert sorted(f.path.relative_to(out).as_posix() for f in result.files) == [
        "CON_/s2.tif",
        "con_-2/s3.tif",
        "etc/s1.tif",
        "vide-2/s4.tif",
    ]
    assert all(f.sha256 == "" for f in result.files)
    assert all(out in f.path.parents for f in result.files)


def test_files_split_refuses_overlapping_folders_and_a_missing_root(
    slides: Path, tmp_path: Path
) -> None:
    table = write_csv(tmp_path / "m.csv", ["lame", "stade"], [["s1.tif", "I"]])
    with pytest.raises(HdhWizardError) as caught:
        split_files_by_table(table, 0, 1, slides, slides / "par-stade")
    assert caught.value.key == "prepare.error.folders_overlap"
    with pytest.raises(HdhWizardError) as caught:
        split_files_by_table(table, 0, 1, tmp_path / "nulle-part", tmp_path / "out")
    assert caught.value.key == "prepare.error.not_a_folder"
    with pytest.raises(HdhWizardError) as caught:
        split_files_by_table(table, 1, 1, slides, tmp_path / "out")
    assert caught.value.key == "prepare.error.same_column"


def test_cancelled_files_split_leaves_nothing(slides: Path, tmp_path: Path) -> None:
    table = write_csv(tmp_path / "m.csv", ["lame", "stade"], [["s1.tif", "I"], ["s2.tif", "II"]])
    out = tmp_path / "out"
    progress = CancelAfter(700)
    with pytest.raises(Cancelled):
        split_files_by_table(table, 0, 1, slides, out, link=False, progress=progress)
    assert list(out.iterdir()) == []
    assert sorted(os.listdir(slides)) == [
        ".DS_Store",
        "Lame n°5.tiff",
        "lot2",
        "s1.tif",
        "s2.tif",
        "s3.tif",
    ]
