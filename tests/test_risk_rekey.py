"""Re-keying a persistent identifier: new codes per release, the same in every table."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from hdh_wizard.inspect.risk.analysis import Choice, Criterion, assess, scan_table
from hdh_wizard.inspect.risk.export import export_table
from hdh_wizard.inspect.risk.generalise import Coarsening, ColumnRule, generalise
from hdh_wizard.inspect.risk.rekey import ReleaseKey
from hdh_wizard.inspect.risk.tables import Table

PATIENTS = pl.DataFrame(
    {
        "id_patient": [f"VM-{i:06d}" for i in range(60)],
        "sexe": ["F", "M"] * 30,
        "stade": ["I", "II", "III"] * 20,
    }
)
SLIDES = pl.DataFrame({"id_patient": [f"VM-{i:06d}" for i in range(0, 60, 2)], "lame": ["L"] * 30})
REKEY = ColumnRule("id_patient", Coarsening.REKEY)


def _codes(frame: pl.DataFrame, key: ReleaseKey) -> list[str]:
    rekeyed = generalise(frame.lazy(), [REKEY], key).collect()
    return rekeyed.get_column("id_patient").to_list()


def test_the_codes_are_new_and_the_same_in_every_table_of_the_release() -> None:
    key = ReleaseKey.new()
    patients, slides = _codes(PATIENTS, key), _codes(SLIDES, key)
    originals = set(PATIENTS.get_column("id_patient"))
    assert not originals & set(patients)  # unrelated to the source codes
    assert len(set(patients)) == 60  # one code per patient
    assert slides == patients[0::2]  # the join between the tables still works


def test_another_release_gets_other_codes() -> None:
    assert set(_codes(PATIENTS, ReleaseKey.new())).isdisjoint(_codes(PATIENTS, ReleaseKey.new()))


def test_the_key_never_shows_in_its_repr() -> None:
    key = ReleaseKey.new()
    assert key.secret.hex() not in repr(key) and str(key.secret) not in repr(key)


def test_empty_values_stay_empty() -> None:
    frame = pl.DataFrame({"id_patient": ["A", "", None]})
    assert _codes(frame, ReleaseKey.new())[1:] == ["", None]


def test_a_re_keyed_identifier_no_longer_blocks_linkability() -> None:
    table = Table("patients.csv", PATIENTS.lazy())
    scan = scan_table(table)
    kept = assess(table, scan, Choice(("sexe",), ("stade",)))
    assert "persistent_id" in [r.key for r in kept.verdict(Criterion.LINKABILITY).reasons]
    rekeyed = assess(table, scan, Choice(("sexe",), ("stade",), rules=(REKEY,)))
    assert rekeyed.verdict(Criterion.LINKABILITY).excluded
    assert rekeyed.guard is not None and "id_patient" not in rekeyed.guard.quasi_identifiers


def test_the_published_copy_holds_the_codes_never_the_source_numbers(tmp_path: Path) -> None:
    table = Table("patients.csv", PATIENTS.lazy())
    choice = Choice(("sexe",), ("stade",), rules=(REKEY,))
    exported = export_table(table, choice, tmp_path / "publish", 60, key=ReleaseKey.new())
    text = exported.output.read_text(encoding="utf-8")
    assert "VM-0000" not in text
    assert text.splitlines()[0] == "id_patient,sexe,stade"
