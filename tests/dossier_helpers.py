"""The demo project brought through each route by the workflow's own functions, for the tests
of the release dossier: the formats inspected for real, the anonymity step committed with a risk
report written to `rapport/`, the portal steps committed with the records their flows write."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.contract import ContractForm, contract_outputs
from hdh_wizard.core.documentation import Documentation, TemporalCoverage, documentation_to_outputs
from hdh_wizard.core.hosting_records import (
    FileRole,
    HostedObject,
    ReferencedFile,
    ReferencesRecord,
    TransferRecord,
)
from hdh_wizard.core.portal_records import (
    AccountRecord,
    DatasetRecord,
    DepositedFile,
    InvitationRecord,
    OrganizationRecord,
    PublicationRecord,
)
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.core.volume import commit_volume, summarize_release
from hdh_wizard.flows.anonymity import finish
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.inspect.inspection import inspect_all, inventory
from hdh_wizard.inspect.risk.analysis import Choice, assess, scan_table
from hdh_wizard.inspect.risk.identifiers import Role
from hdh_wizard.inspect.risk.report import Attestation, RiskReport
from hdh_wizard.inspect.risk.tables import open_tables
from hdh_wizard.inspect.risk.verdicts import Criterion
from hdh_wizard.inspect.step import step_outputs
from tests.prepare_helpers import hosted_project
from tests.tui_helpers import ALICE, NOW, STAFF, make_demo_project

SITE = "https://demo.data.gouv.fr"
DATASET_ID = "6650a1b2c3d4e5f6a7b8c9d0"
PAGE = f"{SITE}/datasets/cohorte-melanome-2012-2016/"
CONTRACT = "HDH-OS-2026-042"
ORGANIZATION = "CHU de Nulle-Part"
CO_ADMIN = "open-science@health-data-hub.fr"
PUBLISHED_AT = "2026-11-28T14:30:00+00:00"
DOC_TITLE = "Cohorte mélanome 2012-2016"


JUSTIFICATION = (
    "Les données sont agrégées par tranches et le risque de réidentification avec des moyens "
    "raisonnables est négligeable, selon l'analyse jointe."
)


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def documentation() -> Documentation:
    return Documentation(
        title=DOC_TITLE,
        description="Une cohorte de patients atteints de mélanome, suivis de 2012 à 2016. " * 3,
        tags=("health-data-hub", "hdh", "melanoma"),
        temporal=TemporalCoverage(date(2012, 1, 1), date(2016, 12, 31)),
    )


TABLE = "donnees/cohorte_melanome.csv"


def demo_patient_ids(folder: Path) -> list[str]:
    """The values of the demo table's identifying column: none may reach the dossier."""
    with (folder / TABLE).open(encoding="utf-8") as stream:
        return [row["id_patient"] for row in csv.DictReader(stream)]


def anonymity_report(folder: Path, justification: str) -> RiskReport:
    """The demo table measured for real (the roles the scan proposes, no rule), every criterion
    left to the partner's `justification`, and the attestation signed."""
    with open_tables(folder / TABLE, TABLE) as tables:
        risks = []
        for table in tables:
            scan = scan_table(table)
            choice = Choice(
                quasi=scan.with_role(Role.QUASI),
                sensitive=scan.with_role(Role.SENSITIVE),
                threshold=5,
                rules=(),
            )
            risks.append(assess(table, scan, choice))
    return RiskReport(
        release="Cohorte test",
        generated_at=NOW,
        tables=tuple(risks),
        justifications={c: justification for c in Criterion},
        attestation=Attestation(
            "Camille Martin", "Déléguée à la protection des données", ORGANIZATION, NOW.date()
        ),
    )


def prerequisites(release: Release, folder: Path, justification: str = JUSTIFICATION) -> Release:
    """Formats inspected for real, and the anonymity step committed as its flow does (the risk
    report written to `rapport/`)."""
    entries, _ = inventory([folder / f.path for f in release.files], root=folder)
    interop = step_outputs(inspect_all(entries), [], [])
    release = workflow.commit_step(release, StepId.INTEROPERABILITY, interop, ALICE, later(1))
    report = anonymity_report(folder, justification)
    outputs = finish(report, folder, load_catalogue(Lang.FR), {})
    return workflow.commit_step(release, StepId.ANONYMITY, outputs, ALICE, later(2))


def contract(release: Release) -> Release:
    form = ContractForm(CONTRACT, "15/10/2026", "Camille Martin", "Hugo Bernard", "", True)
    return workflow.commit_step(release, StepId.CONTRACT, contract_outputs(form), ALICE, later(4))


def portal_account(release: Release) -> Release:
    account = AccountRecord(SITE, "u-42", "Alice Martin", "keyring")
    release = workflow.commit_step(release, StepId.ACCOUNT, account.to_outputs(), ALICE, later(5))
    org = OrganizationRecord(
        SITE, "org-7", ORGANIZATION, "CHUNP", "chu-np", f"{SITE}/organizations/chu-np/"
    )
    return workflow.commit_step(release, StepId.ORGANIZATION, org.to_outputs(), ALICE, later(6))


def route1_release(folder: Path, justification: str = JUSTIFICATION) -> Release:
    """The demo project on route 1, published (its portal steps as their flows record them)."""
    project = make_demo_project(folder)
    release = prerequisites(project.release, folder, justification)
    release = commit_volume(release, summarize_release(release), ALICE, later(3))
    release = portal_account(contract(release))
    invitation = InvitationRecord(SITE, "org-7", "inv-1", CO_ADMIN, "admin", True, "", PUBLISHED_AT)
    release = workflow.commit_step(
        release, StepId.CO_ADMIN, invitation.to_outputs(), ALICE, later(7)
    )
    published = release.record(StepId.INTEROPERABILITY).outputs["publish"]
    files = tuple(
        DepositedFile(
            item["path"],
            f"res-{i}",
            item["size"],
            0,
            item["sha256"],
            "0" * 40,
            item["path"].rsplit("/", 1)[-1],
            f"{SITE}/fr/datasets/r/res-{i}",
        )
        for i, item in enumerate(published)
    )
    dataset = DatasetRecord(SITE, DATASET_ID, "cohorte-melanome-2012-2016", PAGE, files)
    outputs = {
        "documentation": documentation_to_outputs(documentation()),
        "dataset": dataset.to_outputs(),
    }
    release = workflow.commit_step(release, StepId.DEPOSIT, outputs, ALICE, later(8))
    publication = PublicationRecord(SITE, DATASET_ID, PAGE, PUBLISHED_AT)
    release = workflow.commit_step(
        release, StepId.PUBLICATION, publication.to_outputs(), ALICE, later(9)
    )
    projects.save(project, release)
    return release


HOSTED_SHA = "c" * 64
HOSTED_URL = "https://storage.health-data-hub.fr/open-data/cohorte/cohorte_melanome.csv"


def route2_release(folder: Path, skip_reason: str) -> Release:
    """The demo project on route 2 (over 1 Go), the preparation skipped for `skip_reason`, the
    files hosted and referenced by HDH staff; not yet published."""
    release = hosted_project(folder)
    release = workflow.skip_step(release, StepId.PREPARE_DATA, skip_reason, ALICE, later(3))
    release = contract(release)
    hosted = HostedObject(
        "donnees/cohorte_melanome.csv",
        "cohorte/cohorte_melanome.csv",
        51_089,
        HOSTED_SHA,
        HOSTED_URL,
    )
    transfer = TransferRecord({"endpoint": "https://s3.example", "bucket": "open-data"}, (hosted,))
    release = workflow.commit_step(
        release, StepId.SHARE_WITH_HDH, transfer.to_outputs(), STAFF, later(5)
    )
    release = portal_account(release)
    dataset = DatasetRecord(SITE, DATASET_ID, "cohorte", PAGE)
    outputs = {
        "documentation": documentation_to_outputs(documentation()),
        "dataset": dataset.to_outputs(),
    }
    release = workflow.commit_step(release, StepId.DATASET_PAGE, outputs, ALICE, later(7))
    referenced = ReferencedFile(
        hosted.path,
        "res-9",
        HOSTED_URL,
        hosted.size,
        HOSTED_SHA,
        "cohorte_melanome.csv",
        FileRole.DATA,
    )
    references = ReferencesRecord(SITE, DATASET_ID, (referenced,))
    release = workflow.commit_step(
        release, StepId.REFERENCE_URLS, references.to_outputs(), STAFF, later(8)
    )
    projects.save(projects.Project(folder, release), release)
    return release
