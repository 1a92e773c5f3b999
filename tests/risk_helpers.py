"""A hand-built risk analysis (a generalised table, an image with findings, a signed attestation)
for the tests that write the risk document."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from hdh_wizard.inspect.risk.analysis import Choice, Criterion, TableRisk, TableScan
from hdh_wizard.inspect.risk.generalise import Coarsening, ColumnRule
from hdh_wizard.inspect.risk.identifiers import Finding, IdRule, Role
from hdh_wizard.inspect.risk.linkability import Link, LinkReason
from hdh_wizard.inspect.risk.measures import Diversity, RiskMeasures
from hdh_wizard.inspect.risk.report import Attestation, Replacement, RiskReport
from hdh_wizard.inspect.risk.slide_privacy import ImageFinding, ImagePrivacyReport, ImageRule

GENERATED = datetime(2026, 11, 29, 10, 5)  # naive: printed as it is, whatever the machine's zone
ODD = "<b>x</b>"  # a column name that is also markup


def measures(
    records: int,
    classes: int,
    k: int,
    in_small: int,
    unique: int,
    histogram: tuple[int, ...],
    diversity: tuple[Diversity, ...] = (),
    quasi: tuple[str, ...] = ("age", "sexe"),
) -> RiskMeasures:
    return RiskMeasures(
        records=records,
        quasi_identifiers=quasi,
        threshold=5,
        classes=classes,
        k=k,
        small_classes=in_small,
        records_in_small=in_small,
        unique_records=unique,
        size_histogram=histogram,
        diversity=diversity,
    )


# 36 records: 11 of them (30.6 %) in classes under 5 before; classes of 6 and more after.
BEFORE = measures(36, 16, 1, 11, 4, (4, 4, 3, 25, 0, 0, 0, 0), (Diversity("stade", 1, 3, 7),))
AFTER = measures(36, 4, 6, 0, 0, (0, 0, 0, 24, 12, 0, 0, 0), (Diversity("stade", 2, 0, 0),))
FINDINGS = (
    Finding("nom", IdRule.NAME, 36, 36, ("Xxxxxx", "Xxxxx")),
    Finding("tel", IdRule.PHONE, 30, 36, ("99 99 99 99 99",)),
)


def hand_built_risk(*, generalised: bool = True) -> TableRisk:
    columns = ("nom", "tel", "age", "sexe", "stade", ODD)
    roles = {
        "nom": Role.DIRECT,
        "tel": Role.DIRECT,
        "age": Role.QUASI,
        "sexe": Role.QUASI,
        "stade": Role.SENSITIVE,
        ODD: Role.OTHER,
    }
    scan = TableScan("cohorte.csv", columns, FINDINGS, roles)
    rules = (
        ColumnRule("nom", Coarsening.DROP),
        ColumnRule("tel", Coarsening.DROP),
        ColumnRule("age", Coarsening.AGE_10),
        ColumnRule(ODD, Coarsening.GROUP_RARE, 5),
    )
    choice = Choice(("age", "sexe", ODD), ("stade",), 5, rules if generalised else ())
    links = (Link(ODD, LinkReason.PERSISTENT_ID, 0.95),)
    if generalised:
        kept = ("age", "sexe", "stade", ODD)
        return TableRisk(scan, choice, BEFORE, AFTER, (), links, kept)
    return TableRisk(scan, choice, BEFORE, None, FINDINGS, links, columns)


def image() -> ImagePrivacyReport:
    findings = (
        ImageFinding(ImageRule("label_image"), 2, None, ""),
        ImageFinding(ImageRule("name_in_text"), 0, "ImageDescription", "Xxxxxx Xxxxx"),
    )
    return ImagePrivacyReport("lames/lame 01.tiff", findings, 3, (2,))


def full_report(**changes: object) -> RiskReport:
    values: dict[str, object] = {
        "release": "Cohorte mélanome 2012-2016",
        "generated_at": GENERATED,
        "tables": (hand_built_risk(),),
        "images": (image(),),
        "replacements": (
            Replacement(
                "donnees/cohorte.csv",
                Path("publish/cohorte.csv"),
                1_200,
                "ab" * 32,
                2_400_000,
            ),
        ),
        "justifications": {
            Criterion.LINKABILITY: "Le numéro « <b>x</b> » est propre à cette publication.\n"
            "Il ne figure dans aucune autre source.",
        },
        "attestation": Attestation(
            "Camille Martin",
            "Déléguée à la protection des données",
            "CHU de Nulle-Part",
            date(2026, 12, 1),
        ),
    }
    values.update(changes)
    return RiskReport(**values)  # type: ignore[arg-type]
