"""The tabular check of delimited text: bad inputs, dialects, column profiles, line numbers.

Each test writes a small file in `tmp_path`, checks it the way the interoperability step does
(`inspect_file` on an `InventoryEntry`, or `check_delimited` directly), and asserts the problem
codes, the physical line numbers (1-based, header included) and the profiles.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hdh_wizard.inspect.byte_scan import CHUNK as HASH_CHUNK
from hdh_wizard.inspect.csv_check import check_delimited
from hdh_wizard.inspect.csv_profile import INFER_ROWS
from hdh_wizard.inspect.inspection import InventoryEntry, inspect_file
from hdh_wizard.inspect.kinds import FileKind
from hdh_wizard.inspect.report import (
    ColumnProfile,
    ColumnType,
    FileReport,
    Problem,
    Severity,
    TableReport,
    Verdict,
)


def _entry(path: Path) -> InventoryEntry:
    info = path.stat()
    return InventoryEntry(path, path.name, info.st_size, info.st_mtime_ns)


def _inspect(path: Path) -> FileReport:
    return inspect_file(_entry(path))


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _codes(report: FileReport) -> set[str]:
    return {p.code for p in report.problems}


def _problem(problems: tuple[Problem, ...], code: str) -> Problem:
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, f"expected one {code!r}, got {[p.code for p in problems]}"
    return found[0]


def _table(report: FileReport) -> TableReport:
    assert report.table is not None, report.problems
    return report.table


def _column(report: FileReport, name: str) -> ColumnProfile:
    (column,) = [c for c in _table(report).columns if c.name == name]
    return column


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")}


# --- bad inputs: a clear problem, no exception, nothing written -----------------------------


def test_empty_file_is_reported_empty_and_nothing_is_written(tmp_path: Path) -> None:
    path = _write(tmp_path, "vide.csv", b"")
    before = _snapshot(tmp_path)
    report = _inspect(path)
    assert report.kind is FileKind.EMPTY
    assert _problem(report.problems, "empty_file").severity is Severity.BLOCKING
    assert report.verdict is Verdict.NOT_FIXABLE
    assert _snapshot(tmp_path) == before


def test_empty_file_checked_as_a_table_says_it_has_no_rows(tmp_path: Path) -> None:
    path = _write(tmp_path, "vide.csv", b"")
    result = check_delimited(path)
    assert "no_rows" in {p.code for p in result.problems}
    assert result.counts.sha256 == hashlib.sha256(b"").hexdigest()


def test_header_only_file_is_reported_without_data_rows(tmp_path: Path) -> None:
    path = _write(tmp_path, "entete.csv", b"id,nom,age\n")
    before = _snapshot(tmp_path)
    report = _inspect(path)
    assert report.kind is FileKind.TEXT
    assert _problem(report.problems, "header_only").severity is Severity.BLOCKING
    assert _table(report).rows == 0
    assert [c.name for c in _table(report).columns] == ["id", "nom", "age"]
    assert report.verdict is Verdict.NOT_FIXABLE
    assert _snapshot(tmp_path) == before


def test_nul_byte_is_reported_with_its_physical_line(tmp_path: Path) -> None:
    # Line 2-3 is one quoted field spanning two lines: the NUL is on physical line 4.
    path = _write(tmp_path, "nul.csv", b'a,b\n"deux\nlignes",2\n3,\x004\n5,6\n')
    report = _inspect(path)
    problem = _problem(report.problems, "nul_bytes")
    assert problem.lines == (4,)
    assert problem.total == 1
    assert problem.severity is Severity.BLOCKING
    assert report.verdict is Verdict.NOT_FIXABLE


def test_nul_byte_far_in_the_file_is_counted_across_read_chunks(tmp_path: Path) -> None:
    rows = 1_500_000  # 6 MB of rows: beyond the diagnosis' 4 MiB chunk
    path = _write(tmp_path, "nul_loin.csv", b"a,b\n" + b"1,2\n" * rows + b"3,\x004\n5,6\n")
    problem = _problem(check_delimited(path).problems, "nul_bytes")
    assert problem.lines == (rows + 2,)


@pytest.mark.parametrize(
    "data",
    [b"a,b\r\n1,2\n3,4\r\n", b"a,b\n1,2\r\n3,4\r\n", b"a,b\r\n1,2\r\n3,4\n"],
    ids=["crlf-lf-crlf", "lf-then-crlf", "crlf-then-lf"],
)
def test_mixed_line_endings_are_reported_as_mixed_and_fixable(tmp_path: Path, data: bytes) -> None:
    report = _inspect(_write(tmp_path, "mixte.csv", data))
    problem = _problem(report.problems, "line_endings")
    assert problem.params["ending"] == "mixed"
    assert problem.severity is Severity.FIXABLE
    assert _table(report).dialect is not None
    assert _table(report).dialect.line_ending == "mixed"  # type: ignore[union-attr]
    assert report.verdict is Verdict.FIXABLE


def test_lf_lines_then_a_crlf_line_far_in_the_file_are_mixed(tmp_path: Path) -> None:
    body = b"".join(b"%d,2\n" % i for i in range(2_000_000))  # > one 16 MiB hash chunk
    path = _write(tmp_path, "mixte_loin.csv", b"a,b\n" + body + b"x,y\r\n")
    assert path.stat().st_size > HASH_CHUNK
    problem = _problem(check_delimited(path).problems, "line_endings")
    assert problem.params["ending"] == "mixed"


def test_crlf_cut_by_the_hash_chunk_boundary_is_still_crlf(tmp_path: Path) -> None:
    header = b"a,b\r\n"
    first = b"1," + b"x" * (HASH_CHUNK - 1 - len(header) - 2) + b"\r\n"
    data = header + first + b"2,y\r\n3,z\r\n"
    assert data[HASH_CHUNK - 1 : HASH_CHUNK + 1] == b"\r\n"
    problem = _problem(check_delimited(_write(tmp_path, "crlf.csv", data)).problems, "line_endings")
    assert problem.params["ending"] == "CRLF"


@pytest.mark.slow
def test_ten_thousand_columns_are_all_profiled_and_conform(tmp_path: Path) -> None:
    names = ",".join(f"c{i}" for i in range(10_000))
    rows = "".join(",".join(str(i + r) for i in range(10_000)) + "\n" for r in range(3))
    report = _inspect(_write(tmp_path, "large.csv", f"{names}\n{rows}".encode()))
    table = _table(report)
    assert len(table.columns) == 10_000
    assert table.rows == 3
    assert table.columns[-1].name == "c9999"
    assert table.columns[-1].type is ColumnType.INTEGER
    assert (table.columns[-1].minimum, table.columns[-1].maximum) == ("9999", "10001")
    assert report.verdict is Verdict.CONFORM, report.problems


def test_a_single_50_mb_quoted_field_is_read_without_crashing(tmp_path: Path) -> None:
    field = b"x" * 25_000_000 + b", \n" + b"y" * 25_000_000  # delimiter and newline inside
    data = b'id,texte\n1,"' + field + b'"\n'
    path = _write(tmp_path, "ligne.csv", data)
    report = _inspect(path)
    table = _table(report)
    assert table.rows == 1
    assert [c.name for c in table.columns] == ["id", "texte"]
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    assert report.verdict is Verdict.CONFORM, report.problems


def test_conformant_file_has_no_problem(tmp_path: Path) -> None:
    report = _inspect(_write(tmp_path, "bon.csv", b"id,nom\n1,Ana\n2,Bob\n"))
    assert report.problems == ()
    assert report.verdict is Verdict.CONFORM
    dialect = _table(report).dialect
    assert dialect is not None
    assert (dialect.encoding, dialect.delimiter, dialect.line_ending, dialect.bom) == (
        "utf-8",
        ",",
        "\n",
        False,
    )


# --- dialects -------------------------------------------------------------------------------


def test_windows_1252_semicolon_crlf_is_fixable_on_each_count(tmp_path: Path) -> None:
    data = "nom;ville;poids\r\nAndré;Orléans;12\r\nHélène;Sète;13\r\n".encode("cp1252")
    assert b"\xe9" in data
    result = check_delimited(_write(tmp_path, "windows.csv", data))
    problems = result.problems
    assert _problem(problems, "encoding_not_utf8").params["encoding"] == "Windows-1252"
    assert _problem(problems, "delimiter").params["delimiter"] == ";"
    assert _problem(problems, "line_endings").params["ending"] == "CRLF"
    for code in ("encoding_not_utf8", "delimiter", "line_endings"):
        assert _problem(problems, code).severity is Severity.FIXABLE
    assert not any(p.severity is Severity.BLOCKING for p in problems)
    assert result.table is not None and result.table.dialect is not None
    assert result.table.dialect.encoding == "cp1252"
    assert result.table.rows == 2
    assert [c.name for c in result.table.columns] == ["nom", "ville", "poids"]


def test_windows_1252_values_are_profiled_with_their_accents(tmp_path: Path) -> None:
    data = "service;diagnostic\r\nCancérologie;Sète\r\nCancèrologie;Sété\r\n".encode("cp1252")
    report = _inspect(_write(tmp_path, "windows.csv", data))
    service = _column(report, "service")
    assert service.examples == ("Cancérologie", "Cancèrologie")
    assert service.distinct == 2
    assert _column(report, "diagnostic").minimum == "Sète"


def test_an_identifying_column_shows_only_the_shape_of_its_values(tmp_path: Path) -> None:
    data = b"nom,date_naissance,stade\nDupont,12/03/1954,II\nMartin,01/10/1961,III\n"
    report = _inspect(_write(tmp_path, "patients.csv", data))
    nom, naissance = _column(report, "nom"), _column(report, "date_naissance")
    assert nom.masked and naissance.masked
    assert set(nom.examples) == {"Xxxxxx"}
    assert (nom.minimum, nom.maximum) == ("Xxxxxx", "Xxxxxx")
    assert set(naissance.examples) == {"99/99/9999"}
    assert "Dupont" not in repr(report) and "1954" not in repr(report)
    assert _column(report, "stade").examples == ("II", "III")


def test_latin_1_is_named_when_a_byte_windows_1252_leaves_undefined_appears(
    tmp_path: Path,
) -> None:
    data = b"a,b\n\x81x,\xe9\n"
    problem = _problem(_inspect(_write(tmp_path, "latin.csv", data)).problems, "encoding_not_utf8")
    assert problem.params["encoding"] == "Latin-1 (ISO-8859-1)"


def test_utf8_file_with_a_late_windows_1252_byte_names_its_line_and_offset(
    tmp_path: Path,
) -> None:
    head = "id,nom\n" + "".join(f"{i},Hélène\n" for i in range(20_000))  # > the sniffed 256 KiB
    data = head.encode() + "99999,André\n".encode("cp1252")
    report = _inspect(_write(tmp_path, "mixte.csv", data))
    problem = _problem(report.problems, "invalid_utf8")
    assert problem.lines == (20_002,)
    assert problem.total == 1
    assert problem.params["offsets"] == str(data.index(b"\xe9"))


def test_bom_is_fixable_and_not_part_of_the_first_column_name(tmp_path: Path) -> None:
    report = _inspect(_write(tmp_path, "bom.csv", b"\xef\xbb\xbfid,nom\n1,Ana\n"))
    assert _problem(report.problems, "bom").severity is Severity.FIXABLE
    assert report.verdict is Verdict.FIXABLE
    assert [c.name for c in _table(report).columns] == ["id", "nom"]
    assert _table(report).dialect is not None
    assert _table(report).dialect.bom is True  # type: ignore[union-attr]


def test_ragged_rows_short_and_long_are_reported_with_their_line_numbers(
    tmp_path: Path,
) -> None:
    data = b"a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n13,14,15\n"
    report = _inspect(_write(tmp_path, "inegal.csv", data))
    problem = _problem(report.problems, "ragged_rows")
    assert problem.lines == (3, 5)
    assert problem.total == 2
    assert problem.params == {"expected": 3, "details": "3 (2), 5 (4)"}
    assert report.verdict is Verdict.NOT_FIXABLE


def test_short_rows_alone_are_found_by_counting_delimiters(tmp_path: Path) -> None:
    # polars pads short rows with nulls without complaint: only the delimiter count tells.
    data = b"a,b,c\n1,2,3\n4,5\n6,7,8\n9\n"
    problem = _problem(_inspect(_write(tmp_path, "courtes.csv", data)).problems, "ragged_rows")
    assert problem.lines == (3, 5)
    assert problem.params["details"] == "3 (2), 5 (1)"


def test_short_and_long_rows_whose_delimiters_add_up_are_still_found(tmp_path: Path) -> None:
    data = b"a,b,c\n1,2\n4,5,6,7\n6,7,8\n"  # one delimiter missing, one too many
    problem = _problem(_inspect(_write(tmp_path, "compense.csv", data)).problems, "ragged_rows")
    assert problem.lines == (2, 3)


def test_ragged_row_after_a_quoted_field_spanning_lines_names_the_physical_line(
    tmp_path: Path,
) -> None:
    # The quoted field takes lines 2 to 4; the short row is on physical line 5, not row 3.
    data = b'a,b,c\n"une\nvaleur, sur\ntrois lignes",2,3\n4,5\n6,7,8\n'
    problem = _problem(_inspect(_write(tmp_path, "guillemets.csv", data)).problems, "ragged_rows")
    assert problem.lines == (5,)
    assert problem.total == 1


def test_ragged_row_line_numbers_count_crlf_inside_quotes(tmp_path: Path) -> None:
    data = b'a,b,c\r\n"x\r\ny",2,3\r\n4,5\r\n6,7,8\r\n'
    problem = _problem(_inspect(_write(tmp_path, "crlf.csv", data)).problems, "ragged_rows")
    assert problem.lines == (4,)


def test_many_ragged_rows_list_the_first_ten_and_count_them_all(tmp_path: Path) -> None:
    rows = b"".join(b"1,2,3\n" if i % 2 else b"4,5\n" for i in range(50))  # 25 short rows
    problem = _problem(
        _inspect(_write(tmp_path, "beaucoup.csv", b"a,b,c\n" + rows)).problems, "ragged_rows"
    )
    assert problem.lines == (2, 4, 6, 8, 10, 12, 14, 16, 18, 20)
    assert problem.total == 25


def test_unclosed_quote_is_reported_with_the_line_it_opens_on(tmp_path: Path) -> None:
    data = b'a,b\nx,y\nz,"abc\nw,v\n'
    report = _inspect(_write(tmp_path, "guillemet.csv", data))
    assert report.verdict is Verdict.NOT_FIXABLE
    problem = _problem(report.problems, "unclosed_quote")
    assert problem.lines == (3,)


def test_unclosed_quote_is_blocking_and_raises_nothing(tmp_path: Path) -> None:
    report = _inspect(_write(tmp_path, "guillemet.csv", b'a,b\n1,2\n3,"abc\n5,6\n'))
    assert report.verdict is Verdict.NOT_FIXABLE
    assert any(p.severity is Severity.BLOCKING for p in report.problems)


def test_duplicate_header_names_are_named_and_blocking(tmp_path: Path) -> None:
    report = _inspect(_write(tmp_path, "doublons.csv", b"id,nom,id,age,nom\n1,a,2,3,b\n"))
    problem = _problem(report.problems, "duplicate_header")
    assert problem.params["names"] == "id, nom"
    assert problem.severity is Severity.BLOCKING
    assert report.verdict is Verdict.NOT_FIXABLE


# --- column profiles ------------------------------------------------------------------------


def test_day_first_dates_are_fixable_when_a_day_is_above_twelve(tmp_path: Path) -> None:
    data = b"id,date_entree\n1,01/02/2020\n2,24/09/2018\n3,05/11/2019\n"
    report = _inspect(_write(tmp_path, "dates.csv", data))
    problem = _problem(report.problems, "dates_day_first")
    assert problem.params["column"] == "date_entree"
    assert problem.severity is Severity.FIXABLE
    column = _column(report, "date_entree")
    assert column.type is ColumnType.DATE_DAY_FIRST
    assert (column.minimum, column.maximum) == ("2018-09-24", "2020-02-01")
    assert report.verdict is Verdict.FIXABLE


def test_day_above_twelve_only_after_the_sample_still_tells_day_first(tmp_path: Path) -> None:
    rows = "".join(f"{i},{1 + i % 12:02d}/{1 + i % 12:02d}/2020\n" for i in range(INFER_ROWS + 500))
    data = f"id,d\n{rows}{INFER_ROWS + 500},25/12/2020\n".encode()
    report = _inspect(_write(tmp_path, "dates.csv", data))
    assert _column(report, "d").type is ColumnType.DATE_DAY_FIRST
    assert "dates_day_first" in _codes(report)


def test_dates_with_every_day_at_most_twelve_are_ambiguous_and_left_alone(
    tmp_path: Path,
) -> None:
    data = b"id,d\n1,01/02/2020\n2,12/11/2019\n3,03/04/2018\n"
    report = _inspect(_write(tmp_path, "dates.csv", data))
    problem = _problem(report.problems, "dates_ambiguous")
    assert problem.params["column"] == "d"
    assert problem.severity is Severity.INFO
    assert _column(report, "d").type is ColumnType.DATE_AMBIGUOUS
    assert "dates_day_first" not in _codes(report)
    assert report.verdict is Verdict.CONFORM


def test_month_first_dates_are_kept_as_text(tmp_path: Path) -> None:
    data = b"id,d\n1,01/02/2020\n2,09/24/2018\n"
    report = _inspect(_write(tmp_path, "dates_us.csv", data))
    assert _column(report, "d").type is ColumnType.TEXT
    assert not {"dates_day_first", "dates_ambiguous"} & _codes(report)


def test_decimal_comma_is_recognised_and_fixable(tmp_path: Path) -> None:
    data = b"id;poids\n1;12,5\n2;3,25\n3;4\n"
    report = _inspect(_write(tmp_path, "virgule.csv", data))
    problem = _problem(report.problems, "decimal_comma")
    assert problem.params["column"] == "poids"
    assert problem.severity is Severity.FIXABLE
    column = _column(report, "poids")
    assert column.type is ColumnType.DECIMAL_COMMA
    assert (column.minimum, column.maximum) == ("3.25", "12.5")
    assert column.unparsed == 0


def test_integers_with_na_after_the_sample_stay_integers_with_an_unparsed_count(
    tmp_path: Path,
) -> None:
    rows = "".join(f"{i},x{i}\n" for i in range(INFER_ROWS + 5))
    data = f"n,k\n{rows}NA,y\nNA,z\nNA,w\n"
    report = _inspect(_write(tmp_path, "na.csv", data.encode()))
    column = _column(report, "n")
    assert column.type is ColumnType.INTEGER
    assert column.unparsed == 3
    assert column.nulls == 0
    assert (column.minimum, column.maximum) == ("0", str(INFER_ROWS + 4))
    problem = _problem(report.problems, "values_not_matching_type")
    assert problem.params == {"column": "n", "type": "integer"}
    assert problem.total == 3
    assert _table(report).rows == INFER_ROWS + 8
    assert report.verdict is Verdict.CONFORM


def test_duplicate_rows_are_counted(tmp_path: Path) -> None:
    data = b"a,b\n1,2\n1,2\n3,4\n1,2\n3,4\n5,6\n"
    report = _inspect(_write(tmp_path, "doublons.csv", data))
    assert _table(report).duplicate_rows == 3
    assert _table(report).duplicate_rows_counted is True
    assert _problem(report.problems, "duplicate_rows").total == 3


def test_fully_empty_column_is_profiled_empty_and_reported(tmp_path: Path) -> None:
    data = b"a,vide,c\n1,,3\n4,,6\n7,,9\n"
    report = _inspect(_write(tmp_path, "vide.csv", data))
    column = _column(report, "vide")
    assert column.type is ColumnType.EMPTY
    assert column.nulls == 3
    problem = _problem(report.problems, "empty_column")
    assert problem.params["column"] == "vide"
    assert problem.severity is Severity.INFO
    assert report.verdict is Verdict.CONFORM


def test_sha256_equals_hashlib_on_a_file_larger_than_one_read_chunk(tmp_path: Path) -> None:
    data = b"id,valeur\n" + b"".join(b"%d,%d\n" % (i, i * 7) for i in range(1_700_000))
    assert len(data) > HASH_CHUNK
    path = _write(tmp_path, "gros.csv", data)
    expected = hashlib.sha256(data).hexdigest()
    assert _inspect(path).sha256 == expected
    counts = check_delimited(path).counts
    assert (counts.sha256, counts.size) == (expected, len(data))


def test_blank_lines_are_not_counted_as_data_rows(tmp_path: Path) -> None:
    report = _inspect(_write(tmp_path, "blanc.csv", b"a,b\n1,2\n\n"))
    assert _table(report).rows == 1
    assert _column(report, "a").nulls == 0


def test_cr_only_line_endings_are_fixable_not_a_header_only_file(tmp_path: Path) -> None:
    report = _inspect(_write(tmp_path, "mac.csv", b"a,b\r1,2\r3,4\r"))
    assert _problem(report.problems, "line_endings").params["ending"] == "CR"
    assert "header_only" not in _codes(report)
    assert _table(report).rows == 2
    assert report.verdict is Verdict.FIXABLE
