"""Write a realistic health CSV (patients x hospital stays) of a given size, for the benchmarks.

    python benchmarks/make_health_csv.py OUT.csv [size_in_GB]   (default 2)

Columns mirror a PMSI-like extract: a patient id with a few hundred thousand distinct values,
a stay id, day-first and ISO dates, ages, sex, ICD-10 codes, quoted French labels containing
commas and accents, decimals, a FINESS establishment code and a boolean. Deterministic (fixed seed).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl

ROWS_PER_BATCH = 500_000
LABELS = [
    "Mélanome malin du tronc, sans précision",
    "Tumeur maligne du sein, quadrant supéro-externe",
    "Insuffisance cardiaque, décompensée",
    "Pneumopathie, germe non précisé",
    "Fracture du col du fémur, fermée",
    "Diabète de type 2, avec complications rénales",
    "Accident vasculaire cérébral, ischémique",
    'Surveillance post-opératoire, dite "courte"',
]


def batch(rng: np.random.Generator, start: int, rows: int) -> pl.DataFrame:
    entry = rng.integers(0, 3650, rows)
    stay = rng.integers(0, 40, rows)
    base = np.datetime64("2014-01-01")
    entry_dates = base + entry.astype("timedelta64[D]")
    exit_dates = entry_dates + stay.astype("timedelta64[D]")
    codes = np.array([f"{chr(65 + i % 26)}{i % 100:02d}.{i % 10}" for i in range(4000)])
    frame = pl.DataFrame(
        {
            "id_patient": pl.Series(rng.integers(0, 400_000, rows)).cast(pl.String),
            "id_sejour": np.arange(start, start + rows),
            "date_entree": pl.Series(entry_dates).dt.strftime("%d/%m/%Y"),
            "date_sortie": pl.Series(exit_dates).dt.strftime("%Y-%m-%d"),
            "age": rng.integers(0, 101, rows),
            "sexe": np.where(rng.random(rows) < 0.52, "F", "M"),
            "code_cim10": codes[rng.integers(0, len(codes), rows)],
            "libelle": np.array(LABELS)[rng.integers(0, len(LABELS), rows)],
            "duree_sejour": stay,
            "cout": np.round(rng.gamma(2.0, 1800.0, rows), 2),
            "finess": pl.Series(rng.integers(10_000_000, 10_003_000, rows) * 10 + 1).cast(
                pl.String
            ),
            "deces": np.where(rng.random(rows) < 0.03, "true", "false"),
        }
    )
    return frame.with_columns(("PAT" + pl.col("id_patient").str.zfill(7)).alias("id_patient"))


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    out = Path(sys.argv[1])
    target = float(sys.argv[2]) * 1e9 if len(sys.argv) > 2 else 2e9
    rng = np.random.default_rng(2023)
    written, start = 0, 0
    with out.open("wb") as handle:
        while written < target:
            data = batch(rng, start, ROWS_PER_BATCH)
            text = data.write_csv(include_header=start == 0).encode()
            handle.write(text)
            written += len(text)
            start += ROWS_PER_BATCH
    print(f"{out}: {written / 1e9:.2f} GB, {start} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
