"""The check's reports stay the same through its speed work: whole reports of representative files.

Each file below is written from a fixed seed, checked the way `hdh-wizard check --json` checks it
(`inspect_file`, then `report_to_json`), and its whole report (checksum, dialect, every problem
and column profile) compared to the one recorded in `tests/data/check_reports.json` by the check
as it was before its passes were merged. The exact-count limit is lowered so that these small
files take every path a large one takes: distinct values estimated, counted exactly in the
profile's pass, counted exactly in a pass of their own, or known from the sample.

To record the reports again (after a deliberate change of what the check says):
`python tests/test_check_reports_unchanged.py --record`.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hdh_wizard.inspect import csv_profile, tables
from hdh_wizard.inspect.inspection import InventoryEntry, inspect_file
from hdh_wizard.inspect.report import report_to_json

RECORDED = Path(__file__).parent / "data" / "check_reports.json"
EXACT_MAX = 4_000  # stands for DISTINCT_EXACT_MAX (1 000 000) at the scale of these files
BUDGET = 12_000  # stands for DISTINCT_BUDGET

LABELS = [
    "Insuffisance cardiaque, décompensée",
    "Pneumopathie, germe non précisé",
    "Accident vasculaire cérébral, ischémique",
    "Fracture du col du fémur",
]


def _health(rng: random.Random) -> bytes:
    """Stays of patients, as the benchmarks' generator writes them (ids with repeats, day-first
    and ISO dates, quoted labels holding the delimiter, decimals, booleans, a few duplicates)."""
    lines = ["id_patient,id_sejour,date_entree,date_sortie,age,sexe,code,libelle,cout,finess,deces"]
    for i in range(60_000):
        day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2014, 2023)
        lines.append(
            f"PAT{rng.randint(0, 30_000):07d},{i},{day:02d}/{month:02d}/{year},"
            f"{year}-{month:02d}-{min(28, day + 1):02d},{rng.randint(0, 100)},"
            f"{rng.choice('FM')},{rng.choice('ABCDEFGHIJ')}{rng.randint(0, 999):03d},"
            f'"{rng.choice(LABELS)}",{rng.gammavariate(2.0, 1800.0):.2f},{rng.randint(0, 3_499)},'
            f"{'true' if rng.random() < 0.03 else 'false'}"
        )
    lines.extend(lines[1:200:7])  # repeated rows
    return ("\n".join(lines) + "\n").encode()


def _french(rng: random.Random) -> bytes:
    """A French spreadsheet export: cp1252, semicolons, CRLF, decimal commas, day-first dates
    with a few "inconnu", an integer column with "NA" after the sample, blank lines, an empty
    column."""
    lines = ["nom_service;poids;date_acte;nb;vide;commune"]
    for i in range(csv_profile.INFER_ROWS + 3_000):
        date = "inconnu" if i % 997 == 5 else f"{rng.randint(1, 31):02d}/03/2021"
        count = "NA" if i > csv_profile.INFER_ROWS and i % 13 == 0 else str(rng.randint(0, 9_999))
        commune = rng.choice(["Évry", "Orléans", "Saint-Étienne", "Besançon"])
        weight = f"{rng.randint(1, 120)},{rng.randint(0, 99):02d}"
        lines.append(f"Cardiologie {i % 40};{weight};{date};{count};;{commune}")
        if i % 5_000 == 17:
            lines.append("")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def _ambiguous(rng: random.Random) -> bytes:
    """Dates whose days never go above 12 (ambiguous), dates written month first (text),
    datetimes, a column whose values are all known from the sample, and two whose values after
    the sample are more varied than in it (far more; a few beyond the sample's bounds)."""
    lines = ["ambigue,mois_premier,horodatage,categorie,code_acte,niveau"]
    for i in range(15_000):
        lines.append(
            f"{rng.randint(1, 12):02d}/{rng.randint(1, 12):02d}/2020,"
            f"{rng.randint(1, 12):02d}/{rng.randint(13, 28):02d}/2020,"
            f"2021-05-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d},"
            f"{rng.choice(['a', 'b', 'c'])},"
            f"K{rng.randint(0, 2_999 if i < csv_profile.INFER_ROWS else 99_999)},"
            f"{rng.choice('bcdef' if i < csv_profile.INFER_ROWS else 'abcdefz')}"
        )
    return ("\n".join(lines) + "\n").encode()


def _ragged(rng: random.Random) -> bytes:
    """Rows longer and shorter than the header, and a quoted value spanning two lines."""
    lines = ["a,b,c"]
    for i in range(3_000):
        if i in (40, 1_200):
            lines.append(f"{i},x,y,z")
        elif i == 2_000:
            lines.append(f"{i},seul")
        elif i == 100:
            lines.append(f'{i},"deux\nlignes",{rng.randint(0, 9)}')
        else:
            lines.append(f"{i},{rng.randint(0, 50)},{rng.random():.3f}")
    return ("\n".join(lines) + "\n").encode()


def _mixed(rng: random.Random) -> bytes:
    """UTF-8 with stray Windows-1252 bytes far in the file, and a NUL byte."""
    head = "ville,code\n" + "".join(
        f"Orléans,{rng.randint(0, 99_999):05d}\n" for _ in range(12_000)
    )
    return head.encode() + b"Besan\xe7on,25000\nNul\x00le,1\n" + "Évry,91000\n".encode()


FILES: dict[str, Callable[[random.Random], bytes]] = {
    "sejours.csv": _health,
    "export_fr.csv": _french,
    "dates.csv": _ambiguous,
    "irregulier.csv": _ragged,
    "melange.csv": _mixed,
}


@contextmanager
def _small_limits() -> Iterator[None]:
    saved = (csv_profile.DISTINCT_EXACT_MAX, tables.DISTINCT_EXACT_MAX, tables.DISTINCT_BUDGET)
    saved_budget = csv_profile.DISTINCT_BUDGET
    csv_profile.DISTINCT_EXACT_MAX = tables.DISTINCT_EXACT_MAX = EXACT_MAX
    csv_profile.DISTINCT_BUDGET = tables.DISTINCT_BUDGET = BUDGET
    try:
        yield
    finally:
        csv_profile.DISTINCT_EXACT_MAX, tables.DISTINCT_EXACT_MAX, tables.DISTINCT_BUDGET = saved
        csv_profile.DISTINCT_BUDGET = saved_budget


def _report(folder: Path, name: str) -> dict[str, Any]:
    path = folder / name
    path.write_bytes(FILES[name](random.Random(name)))
    info = path.stat()
    with _small_limits():
        report = report_to_json(inspect_file(InventoryEntry(path, name, info.st_size, 0)))
    return json.loads(json.dumps(report, ensure_ascii=False))  # tuples as lists, as recorded


@pytest.mark.parametrize("name", sorted(FILES))
def test_report_is_the_one_recorded_before_the_speed_work(tmp_path: Path, name: str) -> None:
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))[name]
    assert _report(tmp_path, name) == recorded


def test_the_recorded_reports_take_every_path_of_the_distinct_counts() -> None:
    """The files above are representative: some columns estimated, some counted exactly."""
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    columns = [
        c for report in recorded.values() for c in (report["table"] or {}).get("columns", [])
    ]
    assert any(not c["distinct_exact"] for c in columns)
    assert any(c["distinct_exact"] and c["distinct"] > EXACT_MAX // 2 for c in columns)
    assert {p["code"] for r in recorded.values() for p in r["problems"]} >= {
        "ragged_rows",
        "invalid_utf8",
        "nul_bytes",
        "decimal_comma",
        "dates_day_first",
        "values_not_matching_type",
        "blank_rows",
        "duplicate_rows",
    }


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        reports = {name: _report(Path(scratch), name) for name in sorted(FILES)}
    RECORDED.write_text(json.dumps(reports, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"recorded {len(reports)} reports in {RECORDED}")
