"""A table's risk analysis: roles proposed, the partner's edits, the three criteria, the state."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Role as PersonRole
from hdh_wizard.core.release import DataFile, Person
from hdh_wizard.core.steps import StepId
from hdh_wizard.core.volume import published_files, summarize_release
from hdh_wizard.inspect.risk.analysis import (
    Choice,
    Criterion,
    assess,
    choice_from_state,
    choice_to_state,
    default_choice,
    role_in,
    scan_table,
    with_role,
    with_rule,
)
from hdh_wizard.inspect.risk.generalise import Coarsening, ColumnRule
from hdh_wizard.inspect.risk.identifiers import Role
from hdh_wizard.inspect.risk.linkability import LinkReason
from hdh_wizard.inspect.risk.tables import Table, is_table, open_tables

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
PARTNER = Person("Camille Martin", PersonRole.PARTNER)


def patients(rows: int = 60) -> Table:
    """Names and exact dates of birth next to coarse, well-mixed attributes."""
    frame = pl.DataFrame(
        {
            "nom": [f"Patient{i}" for i in range(rows)],
            "date_naissance": [
                f"{1 + i % 28:02d}/{1 + i % 12:02d}/19{50 + i % 40}" for i in range(rows)
            ],
            "sexe": ["F" if i % 2 else "M" for i in range(rows)],
            "age": [str(40 + i % 3) for i in range(rows)],
            "stade": [["I", "II", "III"][i % 5 % 3] for i in range(rows)],
        }
    )
    return Table("cohorte.csv", frame.lazy())


def test_direct_identifiers_are_proposed_for_removal_and_the_rest_measured() -> None:
    table = patients()
    scan = scan_table(table)
    assert scan.roles["nom"] is Role.DIRECT
    assert scan.roles["sexe"] is Role.QUASI
    assert scan.roles["stade"] is Role.SENSITIVE
    choice = default_choice(scan)
    assert "nom" in choice.dropped
    assert "sexe" in choice.quasi and "stade" in choice.sensitive


def test_a_name_column_left_in_the_table_keeps_singling_out_and_linkability_open() -> None:
    table = patients()
    scan = scan_table(table)
    risk = assess(table, scan, Choice(("sexe", "age"), ("stade",)))
    assert risk.original.k >= 5  # the measures alone would exclude singling out…
    assert "nom" in risk.direct_left  # …but a column still names everyone
    assert not risk.excluded(Criterion.SINGLING_OUT)
    assert not risk.excluded(Criterion.LINKABILITY)


def test_removing_names_and_dates_of_birth_excludes_the_three_criteria() -> None:
    table = patients(120)
    scan = scan_table(table)
    rules = (ColumnRule("nom", Coarsening.DROP), ColumnRule("date_naissance", Coarsening.DROP))
    risk = assess(table, scan, Choice(("sexe", "age"), ("stade",), rules=rules))
    assert risk.published is not None
    assert risk.published.k == 20  # 2 sexes × 3 ages over 120 records: above the threshold 11
    assert risk.direct_left == ()
    assert risk.links == ()
    assert all(risk.excluded(c) for c in Criterion)


def test_exact_dates_and_persistent_identifiers_are_named_for_linkability() -> None:
    frame = pl.DataFrame(
        {
            "id_sejour": [f"S{i:06d}" for i in range(50)],
            "date_entree": [f"2014-03-{1 + i % 28:02d}" for i in range(50)],
            "sexe": ["F"] * 50,
        }
    ).lazy()
    table = Table("sejours.csv", frame)
    risk = assess(table, scan_table(table), Choice(("sexe",)))
    reasons = {(link.column, link.reason) for link in risk.links}
    assert ("id_sejour", LinkReason.PERSISTENT_ID) in reasons
    assert ("date_entree", LinkReason.EXACT_DATE) in reasons
    assert ("sexe", LinkReason.PERSISTENT_ID) not in reasons


def test_inference_is_not_excluded_when_no_sensitive_attribute_is_named() -> None:
    table = patients()
    risk = assess(
        table, scan_table(table), Choice(("sexe",), rules=(ColumnRule("nom", Coarsening.DROP),))
    )
    assert not risk.excluded(Criterion.INFERENCE)


def test_the_partner_edits_roles_and_rules_of_a_choice() -> None:
    choice = Choice(("age", "sexe"), ("stade",))
    choice = with_role(choice, "age", Role.SENSITIVE)
    assert role_in(choice, "age") is Role.SENSITIVE and choice.quasi == ("sexe",)
    choice = with_role(choice, "nom", Role.DIRECT)
    assert role_in(choice, "nom") is Role.DIRECT and "nom" in choice.dropped
    choice = with_role(choice, "nom", Role.OTHER)
    assert "nom" not in choice.dropped
    choice = with_rule(choice, "sexe", ColumnRule("sexe", Coarsening.GROUP_RARE, 5))
    choice = with_role(choice, "sexe", Role.QUASI)
    assert ColumnRule("sexe", Coarsening.GROUP_RARE, 5) in choice.rules  # a role keeps the rule
    choice = with_rule(choice, "sexe", None)
    assert choice.rules == ()
    choice = with_rule(choice, "age", ColumnRule("age", Coarsening.DROP))
    assert role_in(choice, "age") is Role.DIRECT


def test_a_saved_choice_comes_back_only_while_it_fits_the_table() -> None:
    scan = scan_table(patients())
    choice = Choice(("sexe", "age"), ("stade",), 11, (ColumnRule("age", Coarsening.AGE_5),))
    assert choice_from_state(choice_to_state(choice), scan) == choice
    stale = choice_to_state(Choice(("ville",)))
    assert choice_from_state(stale, scan) is None
    assert choice_from_state({"quasi_identifiers": ["age"], "threshold": "zéro"}, scan) is None
    assert choice_from_state("n'importe quoi", scan) is None


def test_a_readme_is_not_a_table_but_a_tab_separated_txt_export_is(tmp_path: Path) -> None:
    readme = tmp_path / "LISEZMOI.txt"
    readme.write_text(
        "Cohorte mélanome, 2012-2016.\n\nVoir la documentation, page 3.\n"
        "Contact : équipe, HDH, Paris.\n",
        "utf-8",
    )
    export = tmp_path / "export.txt"
    export.write_text("age\tsexe\n40\tF\n41\tM\n", "utf-8")
    assert not is_table(readme)
    assert is_table(export)
    assert is_table(tmp_path / "absent.csv") is False


def test_a_damaged_parquet_file_or_an_image_is_a_clear_error(tmp_path: Path) -> None:
    from hdh_wizard.errors import HdhWizardError

    broken = tmp_path / "cohorte.parquet"
    broken.write_bytes(b"PAR1" + b"\x00" * 100 + b"PAR1")
    with pytest.raises(HdhWizardError) as caught, open_tables(broken, "cohorte.parquet"):
        pass
    assert caught.value.key == "risk.error.unreadable"
    image = tmp_path / "lame.tif"
    image.write_bytes(b"II*\x00" + b"\x00" * 100)
    with pytest.raises(HdhWizardError) as caught, open_tables(image, "lame.tif"):
        pass
    assert caught.value.key == "risk.error.not_a_table"


def test_the_anonymised_copy_is_published_instead_of_its_source() -> None:
    release = workflow.new_release(
        "r",
        PARTNER,
        NOW,
        files=[DataFile("donnees/cohorte.csv", 1000, 0, "f"), DataFile("lames", 5000, 0, "g")],
    )
    replacements = [
        {
            "source": "donnees/cohorte.csv",
            "path": "publish/donnees_cohorte_anonymise.csv",
            "size": 800,
            "sha256": "a",
            "source_size": 1000,
        },
        {
            "source": "lames/l1.tif",
            "path": "publish/lames_l1_sans-etiquette.tif",
            "size": 1500,
            "sha256": "b",
            "source_size": 2000,
        },
    ]
    release = workflow.commit_step(
        release, StepId.ANONYMITY, {"replacements": replacements}, PARTNER, NOW
    )
    assert published_files(release) == (
        ("publish/donnees_cohorte_anonymise.csv", 800),
        ("lames", 3000),
        ("publish/lames_l1_sans-etiquette.tif", 1500),
    )
    assert summarize_release(release).total_bytes == 800 + 3000 + 1500


def test_a_date_of_birth_is_a_quasi_identifier_that_may_stay_once_reduced_to_the_year() -> None:
    table = patients()
    scan = scan_table(table)
    assert scan.roles["date_naissance"] is Role.QUASI
    rules = (
        ColumnRule("nom", Coarsening.DROP),
        ColumnRule("date_naissance", Coarsening.YEAR),
    )
    risk = assess(table, scan, Choice(("sexe", "date_naissance"), ("stade",), rules=rules))
    assert risk.direct_left == ()
    assert not any(link.column == "date_naissance" for link in risk.links)
    exact = assess(table, scan, Choice(("sexe",), rules=rules[:1]))
    assert ("date_naissance", LinkReason.EXACT_DATE) in {(x.column, x.reason) for x in exact.links}


def test_the_copies_of_a_workbooks_sheets_replace_the_workbook_once() -> None:
    release = workflow.new_release(
        "r",
        PARTNER,
        NOW,
        files=[DataFile("suivi.xlsx", 1000, 0, "f"), DataFile("data", 5000, 0, "g")],
    )
    replacements = [
        {
            "source": f"{source} › {sheet}",
            "path": f"publish/{sheet}.csv",
            "size": 10,
            "sha256": "x",
            "source_size": size,
        }
        for source, size in (("suivi.xlsx", 1000), ("data/autre.xlsx", 2000))
        for sheet in ("A", "B")
    ]
    release = workflow.commit_step(
        release, StepId.ANONYMITY, {"replacements": replacements}, PARTNER, NOW
    )
    files = dict(published_files(release))
    assert "suivi.xlsx" not in files
    assert files["data"] == 3000  # the workbook's size taken off once, not once per sheet
    assert sum(1 for path in files if path.startswith("publish/")) == 2  # A and B, twice named


def test_a_hand_edited_replacement_that_says_nothing_usable_is_ignored() -> None:
    release = workflow.new_release("r", PARTNER, NOW, files=[DataFile("a.csv", 10, 0, "f")])
    broken = [{"source": "a.csv"}, "texte", {"source": "a.csv", "path": "p", "size": "dix"}]
    release = workflow.commit_step(
        release, StepId.ANONYMITY, {"replacements": broken}, PARTNER, NOW
    )
    assert published_files(release) == (("a.csv", 10),)
