"""Write a realistic health CSV (patients x hospital stays) of a given size, for the benchmarks.

    python benchmarks/make_health_csv.py OUT.csv [size_in_GB] [--shape stays|wide]

Defaults: 2 GB, shape `stays`.

Two shapes, so that tuning to one file shows:

- `stays` (the default, 12 columns) mirrors a PMSI-like extract: a patient id with a few hundred
  thousand distinct values, a stay id, day-first and ISO dates, ages, sex, ICD-10 codes, quoted
  French labels containing commas and accents, decimals, a FINESS establishment code and a boolean.
- `wide` (29 columns) adds what makes a real extract slower to read and to analyse: a free-text
  comment with millions of distinct sentences (numbers, accents, quoted when they hold a comma or a
  quote), high-cardinality codes (9-digit FINESS with a few thousand values, INSEE commune codes
  such as 75056 or 2A004, postal codes, dates of birth dd/mm/yyyy, an 11-digit RPPS number), lab
  values with French decimal commas (so quoted) beside dot decimals, and columns mostly empty.
  Its columns `age`, `sexe`, `finess`, `date_entree`, `duree_sejour`, `code_cim10` and `deces`
  carry the same names as in `stays`, so the same quasi-identifiers work on both.

Deterministic (fixed seed per shape): the same arguments write the same bytes.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import polars as pl

ROWS_PER_BATCH = 500_000
SEEDS = {"stays": 2023, "wide": 2024}
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
    """The `stays` shape (unchanged since the first benchmarks: same seed, same bytes)."""
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


# --- the `wide` shape -------------------------------------------------------------------------

DEPARTEMENTS = (
    [f"{d:02d}" for d in range(1, 20)]
    + ["2A", "2B"]
    + [f"{d:02d}" for d in range(21, 96)]
    + ["971", "972", "973", "974", "976"]
)
OPENERS = [
    "Patient",
    "Patiente",
    "Suivi",
    "Contrôle",
    "Reprise",
    "Bilan",
    "Réévaluation",
    "Sortie",
    "Transfert",
    "Consultation",
    "Appel",
    "Prise en charge",
]
FINDINGS = [
    "stable",
    "douleur thoracique",
    "fièvre",
    "dyspnée d'effort",
    "céphalées",
    "œdème des membres inférieurs",
    "bonne évolution",
    "nausées",
    "chute à domicile",
    "plaie cicatrisée",
    "toux sèche",
    "asthénie marquée",
    "vertiges",
    "hématome",
    "désaturation",
    "état général conservé",
]
UNITS = ["mg", "mmHg", "jours", "h", "°C", "kg", "mL", "bpm", "%"]
TAILS = [
    "à revoir",
    "RAS",
    "cf. courrier",
    "famille prévenue",
    'dit "aller mieux"',
    "traitement inchangé",
    "à jeun",
    "retour à domicile",
    "avis cardio demandé",
    "surveillance rapprochée",
    "",
]
ALLERGIES = ["pénicilline", "iode", "latex", "arachide", "AINS", "sulfamides"]


def _communes(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """About 35,000 INSEE commune codes (75056, 2A004, 97411), their postal code and département."""
    codes: list[str] = []
    postal: list[str] = []
    departement: list[str] = []
    for dept in DEPARTEMENTS:
        count = int(rng.integers(80, 700)) if len(dept) == 2 else int(rng.integers(20, 40))
        prefix = "20" if dept in ("2A", "2B") else dept
        for n in range(1, count + 1):
            codes.append(f"{dept}{n:03d}" if len(dept) == 2 else f"{dept}{n:02d}")
            # a few communes share a postal code, as in the real file
            tail = (n // 3) * 10 % (1000 if len(prefix) == 2 else 100)
            postal.append(f"{prefix}{tail:03d}" if len(prefix) == 2 else f"{prefix}{tail:02d}")
            departement.append(dept)
    return np.array(codes), np.array(postal), np.array(departement)


def _skewed(count: int, power: float) -> np.ndarray:
    """Zipf-like weights: a few values are common, most are rare."""
    weights: np.ndarray = 1.0 / np.arange(1, count + 1) ** power
    share: np.ndarray = weights / weights.sum()
    return share


class Wide:
    """The `wide` shape: reference tables drawn once from the seed, then one batch at a time."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.communes, self.postal, self.departement = _communes(rng)
        self.commune_weights = _skewed(len(self.communes), 0.9)
        self.commune_order = rng.permutation(len(self.communes))  # the common ones spread out
        self.finess = np.array(
            [
                f"{d[:2].replace('A', '0').replace('B', '0')}{n:07d}"
                for d, n in zip(
                    rng.choice(DEPARTEMENTS, 3500), rng.integers(0, 10_000_000, 3500), strict=True
                )
            ]
        )
        self.finess_weights = _skewed(len(self.finess), 0.7)
        self.finess_juridique = np.array(
            [f"{int(c[:2]) * 10_000_000 + i:09d}" for i, c in enumerate(self.finess)]
        )[rng.permutation(3500) % 1200]
        self.cim10 = np.array(
            [f"{chr(65 + i % 26)}{i // 26 % 100:02d}.{i // 2600}" for i in range(4000)]
        )
        self.cim10_weights = _skewed(len(self.cim10), 0.8)
        self.ghm = np.array(
            [
                f"{m:02d}{t}{n:02d}{s}"
                for m in range(1, 28)
                for t in "CKMZ"
                for n in range(1, 8)
                for s in "1234"
            ][::4]
        )
        self.ccam = np.array(
            [
                f"{a}{b}{c}{d}{n:03d}"
                for a, b, c, d, n in zip(
                    rng.choice(list("ABCDEFGHJKLMNPQZ"), 2000),
                    rng.choice(list("ABCDEFGHJKLM"), 2000),
                    rng.choice(list("ABCDEFGHJKLMNPQ"), 2000),
                    rng.choice(list("ABCDEFGHJKLM"), 2000),
                    rng.integers(1, 999, 2000),
                    strict=True,
                )
            ]
        )

    def batch(self, start: int, rows: int) -> pl.DataFrame:
        rng = self.rng

        def pick(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
            if weights is None:
                return values[rng.integers(0, len(values), rows)]
            return values[rng.choice(len(values), rows, p=weights)]

        def sometimes(series: pl.Series, share: float) -> pl.Series:
            """The series with all but `share` of its values missing (empty fields)."""
            keep = pl.Series(rng.random(rows) < share)
            return pl.select(pl.when(keep).then(series).otherwise(None)).to_series()

        birth = rng.integers(0, 36_500, rows)  # born 1920–2019
        entry = rng.integers(0, 3650, rows)  # admitted 2014–2023
        stay = np.minimum(rng.geometric(0.15, rows) - 1, 365)
        birth_dates = np.datetime64("1920-01-01") + birth.astype("timedelta64[D]")
        entry_dates = np.datetime64("2014-01-01") + entry.astype("timedelta64[D]")
        entry_dates = np.maximum(entry_dates, birth_dates)
        exit_dates = entry_dates + stay.astype("timedelta64[D]")
        age = ((entry_dates - birth_dates).astype(np.int64) // 365.25).astype(np.int64)
        commune = self.commune_order[rng.choice(len(self.communes), rows, p=self.commune_weights)]
        sentence = pl.concat_str(
            [
                pl.Series(pick(np.array(OPENERS))),
                pl.lit(" "),
                pl.Series(pick(np.array(FINDINGS))),
                pl.lit(", "),
                pl.Series(rng.integers(0, 400, rows)).cast(pl.String),
                pl.lit(" "),
                pl.Series(pick(np.array(UNITS))),
                pl.lit(" à J"),
                pl.Series(rng.integers(0, 30, rows)).cast(pl.String),
                pl.lit(" "),
                pl.Series(pick(np.array(TAILS))),
            ]
        )
        comment = pl.select(sentence).to_series().str.strip_chars()  # no tail: no last space
        frame = pl.DataFrame(
            {
                "id_patient": pl.Series(rng.integers(0, 3_000_000, rows)).cast(pl.String),
                "id_sejour": np.arange(start, start + rows),
                "sexe": np.where(rng.random(rows) < 0.52, "F", "M"),
                "date_naissance": pl.Series(birth_dates).dt.strftime("%d/%m/%Y"),
                "age": age,
                "commune_insee": self.communes[commune],
                "code_postal": self.postal[commune],
                "departement": self.departement[commune],
                "finess": pick(self.finess, self.finess_weights),
                "finess_juridique": pick(self.finess_juridique),
                "mode_entree": pick(np.array(["6", "7", "8", "N"])),
                "date_entree": pl.Series(entry_dates).dt.strftime("%d/%m/%Y"),
                "date_sortie": pl.Series(exit_dates).dt.strftime("%Y-%m-%d"),
                "duree_sejour": stay,
                "code_cim10": pick(self.cim10, self.cim10_weights),
                "cim10_associe": sometimes(pl.Series(pick(self.cim10)), 0.25),
                "ghm": pick(self.ghm),
                "acte_ccam": sometimes(pl.Series(pick(self.ccam)), 0.6),
                "poids_kg": np.round(rng.normal(72, 16, rows).clip(2, 200), 1),
                "taille_cm": sometimes(pl.Series(rng.integers(45, 205, rows)), 0.9),
                "creatinine": sometimes(
                    pl.Series(np.round(rng.lognormal(4.4, 0.35, rows), 1))
                    .cast(pl.String)
                    .str.replace(".", ",", literal=True),
                    0.7,
                ),
                "hemoglobine": sometimes(
                    pl.Series(np.round(rng.normal(13.2, 1.8, rows), 1))
                    .cast(pl.String)
                    .str.replace(".", ",", literal=True),
                    0.7,
                ),
                "cout": np.round(rng.gamma(2.0, 1800.0, rows), 2),
                "commentaire": sometimes(comment, 0.8),
                "igs2": sometimes(pl.Series(rng.integers(0, 120, rows)), 0.08),
                "allergie": sometimes(pl.Series(pick(np.array(ALLERGIES))), 0.05),
                "medecin_rpps": sometimes(
                    pl.Series(rng.integers(10_000_000_000, 10_000_400_000, rows)).cast(pl.String),
                    0.3,
                ),
                "deces": np.where(rng.random(rows) < 0.03, "true", "false"),
                "sortie_domicile": np.where(rng.random(rows) < 0.8, "oui", "non"),
            }
        )
        return frame.with_columns(("P" + pl.col("id_patient").str.zfill(8)).alias("id_patient"))


def write(out: Path, target_bytes: float, shape: str) -> tuple[int, int]:
    """Write batches until the file holds `target_bytes`; returns (bytes, rows)."""
    rng = np.random.default_rng(SEEDS[shape])
    make: Callable[[int, int], pl.DataFrame]
    if shape == "stays":

        def make(start: int, rows: int) -> pl.DataFrame:
            return batch(rng, start, rows)

    else:
        make = Wide(rng).batch
    written, start, rows = 0, 0, ROWS_PER_BATCH
    if shape != "stays":  # a file smaller than a batch: about 200 bytes a row
        rows = max(1, min(ROWS_PER_BATCH, int(target_bytes / 200) + 1))
    handle: BinaryIO
    with out.open("wb") as handle:
        while written < target_bytes:
            text = make(start, rows).write_csv(include_header=start == 0).encode()
            handle.write(text)
            written += len(text)
            start += rows
            if shape != "stays":  # the last batch cut to the size asked (`stays` kept as it was)
                per_row = written / start
                rows = max(1, min(ROWS_PER_BATCH, int((target_bytes - written) / per_row) + 1))
    return written, start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the CSV to write")
    parser.add_argument("size_gb", nargs="?", type=float, default=2.0, help="size in GB (1e9)")
    parser.add_argument("--shape", choices=sorted(SEEDS), default="stays", help="columns")
    args = parser.parse_args()
    written, rows = write(args.out, args.size_gb * 1e9, args.shape)
    print(f"{args.out}: {written / 1e9:.2f} GB, {rows} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
