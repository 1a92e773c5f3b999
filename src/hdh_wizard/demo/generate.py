"""Synthetic data for the demo project: a melanoma cohort table and a few slide images.

Inspired by the VisioMel data challenge that the HDH guide takes as its example (predicting the
relapse of melanoma from clinical data and whole-slide images), so every step of the wizard has
something realistic to work on, with no real patient anywhere. Everything comes from a seeded
random generator: nothing in it describes a person.

The table has a few flaws on purpose, the kind a real export has and that the inspection step
is meant to flag:

- `date_diagnostic` is an exact day, and `age_diagnostic` an exact age: together with the sex
  and the département they are quasi-identifiers (dates are usually coarsened to month or year,
  ages to 5-year bands).
- one patient lives in Lozère (`48`), the only one of that département: an individual that can
  be singled out.
- département codes keep their leading zero (`06`, `01`) and Corsica is `2A`/`2B`: a reader that
  guesses numeric types would mangle them.
- `delai_rechute_mois` is empty when there was no relapse: a column with missing values.
- one slide is as a scanner exports it: the scan date and operator in its description, and a
  photo of the glass label as a second page. The anonymity step finds both and writes a copy
  without them.

The same seed gives byte-identical files on the same numpy and tifffile versions (numpy does not
promise the same random streams across versions). Files carry no timestamp, and their mtimes are
set to a fixed date, so fingerprints of the demo data are reproducible too.
"""

from __future__ import annotations

import csv
import io
import os
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

DATA_FOLDER = "donnees"
TABLE_NAME = "cohorte_melanome.csv"
SLIDES_FOLDER = "lames"
README_NAME = "LISEZMOI.txt"
SLIDE_SUFFIX = ".tif"

ROW_COUNT = 800
SLIDE_COUNT = 3
SLIDE_HEIGHT, SLIDE_WIDTH = 384, 512
SLIDE_TILE = (256, 256)

COLUMNS = (
    "id_patient",
    "sexe",
    "age_diagnostic",
    "date_diagnostic",
    "departement",
    "site_primaire",
    "breslow_mm",
    "ulceration",
    "stade_pronostique",
    "rechute",
    "delai_rechute_mois",
    "id_lame",
)
STAGES = ("I", "II", "III", "IV")

# Every file and folder gets this mtime, so that describing the demo data gives the same
# DataFile (hence the same state file and screenshots) on every run.
FIXED_MTIME = datetime(2024, 1, 10, 12, 0, tzinfo=UTC)
SCAN_DATE = "03/12/21"  # written by the (fictional) scanner in one slide's description

FIRST_DIAGNOSIS = date(2012, 1, 1)
LAST_DIAGNOSIS = date(2016, 12, 31)
# Relapses are followed until this date: a delay never reaches past it.
END_OF_FOLLOW_UP = date(2021, 12, 31)

# Départements where the (fictional) recruiting centres' patients live, weighted roughly like
# the areas around large university hospitals.
_DEPARTEMENTS: dict[str, float] = {
    "75": 9,
    "92": 6,
    "93": 5,
    "94": 5,
    "91": 4,
    "78": 4,
    "77": 3,
    "95": 3,
    "69": 8,
    "13": 8,
    "59": 7,
    "33": 6,
    "31": 6,
    "44": 5,
    "35": 4,
    "67": 4,
    "34": 4,
    "06": 4,
    "38": 3,
    "76": 3,
    "62": 3,
    "29": 3,
    "01": 2,
    "2A": 1,
    "2B": 1,
    "974": 1,
}
RARE_DEPARTEMENT = "48"  # Lozère: exactly one patient, the singling-out case to flag

# Primary site, by sex: melanoma is most often on the legs in women and on the trunk in men.
_SITES = ("tronc", "membre inférieur", "membre supérieur", "tête et cou", "acral", "muqueuse")
_SITE_WEIGHTS = {
    "F": (0.25, 0.36, 0.18, 0.14, 0.05, 0.02),
    "M": (0.46, 0.14, 0.16, 0.18, 0.04, 0.02),
}
# Chance of a relapse during follow-up, by prognostic stage.
_RELAPSE_RISK = {"I": 0.06, "II": 0.24, "III": 0.45, "IV": 0.70}

# A slide cut stained with haematoxylin (purple nuclei) and eosin (pink cytoplasm and stroma)
# on a white glass background, as colours of the RGB image.
_GLASS = (242, 238, 244)
_EOSIN = (226, 146, 188)
_STROMA = (238, 186, 212)
_HAEMATOXYLIN = (96, 52, 142)

README_TEXT = """\
Données de démonstration de hdh-wizard
======================================

Toutes les données de ce dossier sont entièrement synthétiques : elles ont été générées
au hasard par hdh-wizard pour permettre d'essayer l'assistant. Elles ne décrivent aucun
patient réel et ne proviennent d'aucune base de santé.

- cohorte_melanome.csv : une cohorte fictive de patients atteints de mélanome, inspirée du
  data challenge VisioMel cité par le guide du Health Data Hub ;
- lames/ : quelques images TIFF imitant des lames histologiques, nommées d'après la colonne
  id_lame de la table.

Quelques défauts y sont laissés exprès (dates exactes, un département très rare…) pour
que l'étape d'inspection ait quelque chose à signaler.
"""


@dataclass(frozen=True)
class _Patient:
    id_patient: str
    sexe: str
    age: int
    diagnosed_on: date
    departement: str
    site: str
    breslow_mm: float
    ulcerated: bool
    stage: str
    relapse_months: int | None
    id_lame: str

    def row(self) -> list[str]:
        return [
            self.id_patient,
            self.sexe,
            str(self.age),
            self.diagnosed_on.isoformat(),
            self.departement,
            self.site,
            f"{self.breslow_mm:.1f}",
            "oui" if self.ulcerated else "non",
            self.stage,
            "0" if self.relapse_months is None else "1",
            "" if self.relapse_months is None else str(self.relapse_months),
            self.id_lame,
        ]


def create_demo_data(folder: Path, seed: int = 2023) -> list[Path]:
    """Write the demo data under `folder/donnees/`; return the data paths to release.

    Those are the table and the slides folder; LISEZMOI.txt is documentation, not data.
    """
    import numpy as np

    data_dir = folder / DATA_FOLDER
    slides_dir = data_dir / SLIDES_FOLDER
    slides_dir.mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(seed)
    text_rng = random.Random(seed)
    patients = _cohort(rng, text_rng, ROW_COUNT)

    table = data_dir / TABLE_NAME
    table.write_bytes(_csv_bytes(patients))
    readme = data_dir / README_NAME
    readme.write_bytes(README_TEXT.encode("utf-8"))

    # One slide of each of three different stages, so the images are not all alike.
    shown = _pick_slides(patients, rng, SLIDE_COUNT)
    slides = [slides_dir / f"{p.id_lame}{SLIDE_SUFFIX}" for p in shown]
    for index, (patient, path) in enumerate(zip(shown, slides, strict=True)):
        image = _slide_image(rng, STAGES.index(patient.stage))
        _write_slide(path, image, scanner_label=index == 0)

    # Folders last: writing their files changed their mtimes.
    for path in (table, readme, *slides, slides_dir, data_dir):
        _set_fixed_mtime(path)
    return [table, slides_dir]


# --- the table -----------------------------------------------------------------------------


def _cohort(rng: np.random.Generator, text_rng: random.Random, count: int) -> list[_Patient]:
    import numpy as np

    # Pseudonyms drawn without replacement and in no order, so they reveal nothing about the
    # order of inclusion; slide codes are random too, like VisioMel's file names.
    numbers = text_rng.sample(range(1, 1_000_000), count)
    slide_codes = _unique_codes(text_rng, count)

    sexes = np.where(rng.random(count) < 0.52, "F", "M")
    ages = np.clip(np.rint(rng.normal(59, 15, count)), 18, 95).astype(int)
    day_span = (LAST_DIAGNOSIS - FIRST_DIAGNOSIS).days + 1
    days = rng.integers(0, day_span, count)

    names = list(_DEPARTEMENTS)
    weights = np.array([_DEPARTEMENTS[n] for n in names], dtype=float)
    departements = rng.choice(names, size=count, p=weights / weights.sum()).tolist()
    departements[int(rng.integers(count))] = RARE_DEPARTEMENT

    # Breslow thickness is log-normal (median about 0.9 mm, a long tail of thick tumours); the
    # thicker the tumour, the likelier an ulceration, a node and a metastasis.
    breslow = np.clip(np.round(rng.lognormal(np.log(0.9), 0.85, count), 1), 0.1, 25.0)
    t_category = np.searchsorted([1.0, 2.0, 4.0], breslow, side="left")  # T1..T4 as 0..3
    ulcerated = rng.random(count) < 0.06 + 0.14 * t_category
    node = rng.random(count) < 0.03 + 0.06 * t_category + 0.08 * ulcerated
    metastasis = rng.random(count) < 0.015 + 0.02 * t_category
    relapse_draw = rng.random(count)
    # Relapses come early more often than late: a gamma with a mean around 20 months.
    delays = np.rint(1 + rng.gamma(2.0, 10.0, count)).astype(int)

    patients: list[_Patient] = []
    for i in range(count):
        sexe = str(sexes[i])
        stage = _stage(int(t_category[i]), bool(ulcerated[i]), bool(node[i]), bool(metastasis[i]))
        diagnosed_on = FIRST_DIAGNOSIS + timedelta(days=int(days[i]))
        relapse_months: int | None = None
        if relapse_draw[i] < _RELAPSE_RISK[stage]:
            relapse_months = min(int(delays[i]), _months_between(diagnosed_on, END_OF_FOLLOW_UP))
        site_weights = _SITE_WEIGHTS[sexe]
        patients.append(
            _Patient(
                id_patient=f"VM-{numbers[i]:06d}",
                sexe=sexe,
                age=int(ages[i]),
                diagnosed_on=diagnosed_on,
                departement=str(departements[i]),
                site=text_rng.choices(_SITES, weights=site_weights)[0],
                breslow_mm=float(breslow[i]),
                ulcerated=bool(ulcerated[i]),
                stage=stage,
                relapse_months=relapse_months,
                id_lame=slide_codes[i],
            )
        )
    # In order of diagnosis, as an export from a registry would be.
    patients.sort(key=lambda p: (p.diagnosed_on, p.id_patient))
    return patients


def _stage(t_category: int, ulcerated: bool, node: bool, metastasis: bool) -> str:
    """A simplified AJCC 8th edition prognostic stage."""
    if metastasis:
        return "IV"
    if node:
        return "III"
    # Stage I: T1, or T2 without ulceration (T2a); any thicker or ulcerated T2 is stage II.
    if t_category == 0 or (t_category == 1 and not ulcerated):
        return "I"
    return "II"


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def _unique_codes(text_rng: random.Random, count: int) -> list[str]:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    codes: list[str] = []
    seen: set[str] = set()
    while len(codes) < count:
        code = "".join(text_rng.choices(alphabet, k=8))
        if code not in seen:
            seen.add(code)
            codes.append(code)
    return codes


def _csv_bytes(patients: list[_Patient]) -> bytes:
    buffer = io.StringIO()
    # "\n" line ends and minimal quoting: the plainest CSV, the same on every platform.
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(p.row() for p in patients)
    return buffer.getvalue().encode("utf-8")


def _pick_slides(patients: list[_Patient], rng: np.random.Generator, count: int) -> list[_Patient]:
    picked: list[_Patient] = []
    for stage in STAGES[:count]:
        candidates = [p for p in patients if p.stage == stage]
        picked.append(candidates[int(rng.integers(len(candidates)))])
    return picked


# --- the slides ----------------------------------------------------------------------------


def _slide_image(rng: np.random.Generator, variant: int) -> npt.NDArray[np.uint8]:
    """An RGB image that looks like an H&E-stained tissue section, from smooth random fields."""
    import numpy as np

    # Coordinates in [0, 1) as a column and a row: broadcasting them instead of building full
    # grids keeps each wave a cheap outer product.
    y = (np.arange(SLIDE_HEIGHT, dtype=np.float32) / SLIDE_HEIGHT)[:, None]
    x = (np.arange(SLIDE_WIDTH, dtype=np.float32) / SLIDE_WIDTH)[None, :]

    # The outline of the tissue: a sum of a few random low-frequency waves, thresholded.
    field = np.zeros((SLIDE_HEIGHT, SLIDE_WIDTH), dtype=np.float32)
    for _ in range(6):
        fy, fx = rng.uniform(0.5, 3.0, 2)
        phase_y, phase_x = rng.uniform(0, 2 * np.pi, 2)
        field += np.sin(2 * np.pi * fy * y + phase_y) * np.cos(2 * np.pi * fx * x + phase_x)
    # Fade out towards the borders, so the section lies on the glass rather than off the edges.
    field += 2.5 * (1 - (2 * x - 1) ** 2 - (2 * y - 1) ** 2)
    tissue = field > 1.2 + 0.2 * variant

    # Stroma (pale pink) and denser, darker pink areas inside the tissue.
    dense = np.sin(9 * x + rng.uniform(0, 6)) * np.sin(7 * y + rng.uniform(0, 6)) > 0.1
    # Nuclei: scattered purple dots, three pixels wide, denser in denser tissue (and with the
    # stage, as a nod to a more cellular tumour).
    seeds = rng.random((SLIDE_HEIGHT, SLIDE_WIDTH)) < 0.004 + 0.004 * dense + 0.002 * variant
    nuclei = seeds.copy()
    for dy, dx in ((0, 1), (1, 0), (1, 1), (0, -1), (-1, 0)):
        nuclei |= np.roll(seeds, (dy, dx), axis=(0, 1))

    image = np.empty((SLIDE_HEIGHT, SLIDE_WIDTH, 3), dtype=np.float32)
    image[...] = _GLASS
    image[tissue] = _STROMA
    image[tissue & dense] = _EOSIN
    image[tissue & nuclei] = _HAEMATOXYLIN
    # A little grain, as a scanner's sensor gives: a flat image would not look like a photo.
    image += rng.normal(0, 4, (SLIDE_HEIGHT, SLIDE_WIDTH, 1)).astype(np.float32)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _write_slide(path: Path, image: npt.NDArray[np.uint8], scanner_label: bool = False) -> None:
    """A tiled TIFF; with `scanner_label`, as a scanner exports it: the scan date and operator
    in its description and a photo of the glass label as a second page (all synthetic)."""
    import numpy as np
    import tifffile

    description = "Synthetic slide generated by hdh-wizard - no real patient"
    if scanner_label:
        description = (
            "Aperio Image Library v12.0.15 (synthetic)\r\n512x384 (256x256) RGB"
            f"|AppMag = 20|MPP = 0.5|Date = {SCAN_DATE}|User = operateur-demo"
        )
    with tifffile.TiffWriter(path) as writer:
        _write_slide_page(writer, image, description)
        if scanner_label:
            label = np.full((96, 160, 3), 236, dtype=np.uint8)
            label[30:66, 20:140] = 40  # where the printed label (a name, a number) would be
            writer.write(label, photometric="rgb", subfiletype=1, description="label 160x96")


def _write_slide_page(writer: Any, image: npt.NDArray[np.uint8], description: str) -> None:
    writer.write(
        image,
        photometric="rgb",
        tile=SLIDE_TILE,
        compression="zlib",  # Adobe deflate: lossless and readable by every TIFF reader
        # The fastest level: the grain barely compresses anyway, and the demo must start at once.
        compressionargs={"level": 1},
        predictor=True,  # horizontal differencing: smaller files for smooth images
        # 0.5 µm per pixel, a usual scanning resolution at 20x: 20,000 pixels per centimetre.
        resolution=(20_000, 20_000),
        resolutionunit="CENTIMETER",
        description=description,
        # Nothing that changes from one run or one version to the next: no date, no version.
        software="hdh-wizard",
        datetime=False,
        metadata=None,
    )


def _set_fixed_mtime(path: Path) -> None:
    stamp = int(FIXED_MTIME.timestamp()) * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))
