"""What-if generalisation: coarser quasi-identifiers, the measures recomputed, the copy written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.risk.analysis import Choice, assess, scan_table
from hdh_wizard.inspect.risk.export import export_table
from hdh_wizard.inspect.risk.generalise import (
    OTHERS,
    Coarsening,
    ColumnRule,
    check_rules,
    generalise,
    rule_from_state,
)
from hdh_wizard.inspect.risk.measures import measure_risk
from hdh_wizard.inspect.risk.tables import open_tables


def column_after(
    values: list[str | None], coarsening: Coarsening, count: int = 0
) -> list[str | None]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String}).lazy()
    out = generalise(frame, [ColumnRule("v", coarsening, count)]).collect()
    return out.get_column("v").to_list()


def test_ages_fall_into_5_and_10_year_bands_and_unreadable_ages_stay() -> None:
    ages = ["0", "4", "5", "34", "99", "100", "NA", None, "41,5"]
    assert column_after(ages, Coarsening.AGE_5) == [
        "0-4", "0-4", "5-9", "30-34", "95-99", "100-104", "NA", None, "40-44",
    ]  # fmt: skip
    assert column_after(["34", "70"], Coarsening.AGE_10) == ["30-39", "70-79"]


def test_dates_in_iso_or_day_first_reduce_to_the_month_or_the_year() -> None:
    dates = ["2014-03-09", "09/03/2014", "2014-03-09T10:22:00", "inconnue", None]
    assert column_after(dates, Coarsening.MONTH) == [
        "2014-03", "2014-03", "2014-03", "inconnue", None,
    ]  # fmt: skip
    assert column_after(dates[:2], Coarsening.YEAR) == ["2014", "2014"]


def test_postal_and_commune_codes_reduce_to_the_departement_corsica_and_overseas_included() -> None:
    codes = ["75012", "06000", "20000", "20290", "2A004", "2B033", "97411", "98800", "Paris"]
    assert column_after(codes, Coarsening.DEPARTEMENT) == [
        "75", "06", "2A", "2B", "2A", "2B", "974", "988", "Paris",
    ]  # fmt: skip


def test_rare_values_are_grouped_or_suppressed_below_the_count() -> None:
    values = ["C43"] * 3 + ["C44"] * 2 + ["D03", None]
    assert column_after(values, Coarsening.GROUP_RARE, 3) == ["C43"] * 3 + [OTHERS] * 3 + [None]
    assert column_after(values, Coarsening.SUPPRESS_RARE, 2) == ["C43"] * 3 + ["C44"] * 2 + [
        None,
        None,
    ]


def test_a_dropped_column_leaves_the_table_and_the_others_keep_their_order() -> None:
    frame = pl.DataFrame({"nom": ["A"], "age": ["30"], "sexe": ["F"]}).lazy()
    out = generalise(frame, [ColumnRule("nom", Coarsening.DROP)]).collect()
    assert out.columns == ["age", "sexe"]


def test_rules_naming_unknown_columns_twice_the_same_or_a_count_below_two_are_refused() -> None:
    with pytest.raises(HdhWizardError, match="unknown_columns"):
        check_rules([ColumnRule("ville", Coarsening.DROP)], ["age"])
    with pytest.raises(HdhWizardError, match="two_rules"):
        check_rules(
            [ColumnRule("age", Coarsening.AGE_5), ColumnRule("age", Coarsening.DROP)], ["age"]
        )
    with pytest.raises(HdhWizardError, match="min_count"):
        check_rules([ColumnRule("age", Coarsening.GROUP_RARE, 1)], ["age"])
    with pytest.raises(HdhWizardError, match=r"risk\.error\.rule"):
        rule_from_state({"column": "age", "rule": "age_7"})


def test_a_rule_survives_the_state_file() -> None:
    rule = ColumnRule("diag", Coarsening.GROUP_RARE, 10)
    assert rule_from_state(rule.to_state()) == rule


def cohort(tmp_path: Path) -> Path:
    """40 patients: exact ages and dates single them out; bands and years do not."""
    lines = ["nom,age,sexe,date_diagnostic,code_postal,stade"]
    for i in range(40):
        age = 30 + i % 20  # exact ages 30..49: two 10-year bands
        day = f"{1 + i % 28:02d}/0{1 + i % 9}/2014"
        lines.append(
            f"Patient{i},{age},{'FM'[i % 2]},{day},750{i % 20:02d},{'I' if i % 3 else 'II'}"
        )
    path = tmp_path / "cohorte.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_generalising_raises_k_and_the_original_is_measured_side_by_side(tmp_path: Path) -> None:
    path = cohort(tmp_path)
    rules = (
        ColumnRule("nom", Coarsening.DROP),
        ColumnRule("age", Coarsening.AGE_10),
        ColumnRule("date_diagnostic", Coarsening.YEAR),
        ColumnRule("code_postal", Coarsening.DEPARTEMENT),
    )
    choice = Choice(("age", "sexe", "date_diagnostic", "code_postal"), ("stade",), 5, rules)
    with open_tables(path, "cohorte.csv") as (table,):
        risk = assess(table, scan_table(table), choice)
    assert risk.original.k == 1
    assert risk.published is not None
    assert risk.published.k == 10  # 2 bands × 2 sexes × 1 year × 1 département
    assert risk.published.records == risk.original.records == 40
    assert "nom" not in risk.published_columns
    assert not risk.direct_left


def test_the_generalised_copy_is_written_to_publish_and_the_original_is_untouched(
    tmp_path: Path,
) -> None:
    path = cohort(tmp_path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    choice = Choice(
        ("age", "sexe"),
        rules=(ColumnRule("nom", Coarsening.DROP), ColumnRule("age", Coarsening.AGE_10)),
    )
    publish = tmp_path / "publish"
    with open_tables(path, "donnees/cohorte.csv") as (table,):
        exported = export_table(table, choice, publish, records=40)
    assert exported.output == publish / "donnees_cohorte_anonymise.csv"
    assert exported.rows == 40
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    written = pl.read_csv(exported.output, infer_schema=False)
    assert written.columns == ["age", "sexe", "date_diagnostic", "code_postal", "stade"]
    assert set(written["age"]) == {"30-39", "40-49"}
    assert exported.sha256 == hashlib.sha256(exported.output.read_bytes()).hexdigest()
    assert [p.name for p in publish.iterdir()] == ["donnees_cohorte_anonymise.csv"]


def test_a_copy_that_would_lose_records_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    path = cohort(tmp_path)
    publish = tmp_path / "publish"
    with (
        open_tables(path, "cohorte.csv") as tables,
        pytest.raises(HdhWizardError, match="rows_differ"),
    ):
        export_table(tables[0], Choice(("age",)), publish, records=41)
    assert list(publish.iterdir()) == []


def test_measures_after_grouping_rare_diagnoses(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"sexe": ["F"] * 6, "diag": ["C43", "C43", "C43", "C44", "D03", "C50"]}
    ).lazy()
    grouped = generalise(frame, [ColumnRule("diag", Coarsening.GROUP_RARE, 2)])
    m = measure_risk(grouped, ["sexe", "diag"])
    assert (m.classes, m.k) == (2, 3)


def test_two_tables_whose_names_flatten_alike_get_two_copies(tmp_path: Path) -> None:
    first, second = _write_ages(tmp_path / "a b.csv"), _write_ages(tmp_path / "a_b.csv")
    publish = tmp_path / "publish"
    with open_tables(first, "a b.csv") as (table,):
        one = export_table(table, Choice(("age",)), publish, records=3)
    with open_tables(second, "a_b.csv") as (table,):
        two = export_table(table, Choice(("age",)), publish, records=3, taken={one.output})
    assert one.output.name == "a_b_anonymise.csv"
    assert two.output.name == "a_b_anonymise-2.csv"
    assert one.output.exists() and two.output.exists()


def _write_ages(path: Path) -> Path:
    path.write_text("age\n30\n31\n32\n", encoding="utf-8")
    return path


def test_unpadded_dates_with_a_time_and_postal_codes_read_as_numbers_are_reduced() -> None:
    assert column_after(["5/3/2020 10:30", "2020-03-05T10:30:00"], Coarsening.YEAR) == [
        "2020",
        "2020",
    ]
    assert column_after(["1000", "6000", "75012"], Coarsening.DEPARTEMENT) == ["01", "06", "75"]
