"""The anonymity step's sequence (flows.anonymity), without a screen."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.flows import anonymity as flow
from hdh_wizard.inspect.risk.analysis import Choice, assess, scan_table
from hdh_wizard.inspect.risk.generalise import Coarsening, ColumnRule
from hdh_wizard.inspect.risk.release import TableRef
from hdh_wizard.inspect.risk.tables import Table

REKEY = ColumnRule("id_patient", Coarsening.REKEY)


def _table(folder: Path, name: str, ids: list[str]) -> tuple[TableRef, object]:
    path = folder / name
    pl.DataFrame({"id_patient": ids, "sexe": ["F", "M"] * (len(ids) // 2)}).write_csv(path)
    frame = pl.read_csv(path, infer_schema=False).lazy()
    table = Table(name, frame)
    risk = assess(table, scan_table(table), Choice(("sexe",), rules=(REKEY,)))
    return TableRef(path, name, name, path.stat().st_size), risk


def test_re_keyed_copies_written_together_join_on_the_same_codes(tmp_path: Path) -> None:
    ids = [f"VM-{i:04d}" for i in range(40)]
    patients = _table(tmp_path, "patients.csv", ids)
    slides = _table(tmp_path, "lames.csv", ids[::2])
    written = flow.export_copies([patients, slides], tmp_path / "publish", ())  # type: ignore[list-item]
    codes = [pl.read_csv(w.output).get_column("id_patient").to_list() for w in written]
    assert set(codes[1]) <= set(codes[0])
    assert not set(codes[0]) & set(ids)


def test_a_failed_copy_removes_those_already_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [f"VM-{i:04d}" for i in range(40)]
    jobs = [_table(tmp_path, "a.csv", ids), _table(tmp_path, "b.csv", ids)]
    real = flow.export_ref
    calls: list[str] = []

    def fail_the_second(ref: TableRef, *args: object) -> object:
        calls.append(ref.name)
        if len(calls) == 2:
            raise HdhWizardError("risk.error.export_write", folder="publish", detail="disque plein")
        return real(ref, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(flow, "export_ref", fail_the_second)
    with pytest.raises(HdhWizardError):
        flow.export_copies(jobs, tmp_path / "publish", ())  # type: ignore[arg-type]
    assert not list((tmp_path / "publish").glob("*.csv"))  # all or none
