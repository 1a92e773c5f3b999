"""The key facts of each step for the release dossier, read from the step's outputs.

Only the facts chosen here are shown, never the outputs as they are: a step's outputs may hold
things that must not travel (the storage's connection details, the partner's justification
quoting a value…), and a hand-edited state may hold anything. Every value is read defensively:
missing or of the wrong type, it is shown as "—", never a crash. A SHA-256 is shown only when
it is one (64 hexadecimal digits), a link only for an http(s) address.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any

from hdh_wizard.core.documentation import documentation_from_outputs, frequency_label_key
from hdh_wizard.core.enums import Route
from hdh_wizard.core.hosting_records import (
    FileRole,
    PreparedFile,
    ReferencesRecord,
    TransferRecord,
    file_format,
)
from hdh_wizard.core.portal_records import (
    AccountRecord,
    DatasetRecord,
    InvitationRecord,
    OrganizationRecord,
    PublicationRecord,
)
from hdh_wizard.core.quality import (
    QUALITY_MAX_SCORE,
    ResourcePlan,
    compute_quality,
    planned_resource,
)
from hdh_wizard.core.release import Release, StepRecord
from hdh_wizard.core.steps import StepId
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.i18n.formatting import (
    format_count,
    format_date,
    format_datetime,
    format_percent,
    format_size,
)
from hdh_wizard.inspect.risk.verdicts import Criterion
from hdh_wizard.present.dossier_markup import (
    Block,
    Cell,
    Code,
    Fields,
    Table,
    local_link,
    web_link,
)

REPORT_FOLDER = "rapport"  # where the dossier and the risk report are written
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_VERDICTS = ("conform", "fixable", "not_fixable")
DASH = "—"

Facts = Callable[[Catalogue, Release, StepRecord], list[Block]]


# --- reading a value as it should be, or not at all ---------------------------------------------


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) and value.strip() else DASH


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _size(cat: Catalogue, value: Any) -> str:
    number = _int(value)
    return format_size(number, cat.lang) if number is not None and number >= 0 else DASH


def _sha256(value: Any) -> Cell:
    return Code(value) if isinstance(value, str) and _SHA256.match(value) else DASH


def _url(value: Any) -> Cell:
    return web_link(value) or DASH


def _format(path: Any) -> str:
    """The format data.gouv.fr shows for a file, from its name."""
    return (file_format(path) or DASH).upper() if isinstance(path, str) else DASH


def _day(cat: Catalogue, value: Any) -> str:
    if isinstance(value, datetime):
        return format_date(value.date(), cat.lang)
    if isinstance(value, date):
        return format_date(value, cat.lang)
    if isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value.strip()[:10]), cat.lang)
        except ValueError:
            return DASH
    return DASH


def _moment(cat: Catalogue, value: Any) -> str:
    if isinstance(value, datetime):
        return format_datetime(value, cat.lang)
    if isinstance(value, str):
        try:
            return format_datetime(datetime.fromisoformat(value.strip()), cat.lang)
        except ValueError:
            return _day(cat, value)
    return DASH


def _label(cat: Catalogue, key: str) -> str:
    return cat.t(key) if cat.has(key) else DASH


def _route(cat: Catalogue, value: Any) -> str:
    return cat.t(f"route.{value}") if value in {r.value for r in Route} else DASH


def _fields(*items: tuple[str, Cell]) -> list[Block]:
    return [Fields(tuple(items))]


def _table(
    cat: Catalogue, caption: str, header: Sequence[str], rows: Sequence[tuple[Cell, ...]]
) -> list[Block]:
    if not rows:
        return []
    return [Table(cat.t(caption), tuple(cat.t(k) for k in header), tuple(rows))]


# --- the steps ------------------------------------------------------------------------------------


def _anonymity(cat: Catalogue, release: Release, record: StepRecord) -> list[Block]:
    outputs = record.outputs
    criteria = _map(outputs.get("criteria"))
    rows: list[tuple[Cell, ...]] = []
    for criterion in Criterion:
        entry = _map(criteria.get(criterion.value))
        excluded = entry.get("excluded")
        if excluded is True:
            verdict = cat.t("risk.criterion.excluded")
        elif excluded is False:
            justified = _text(entry.get("justification")) != DASH
            verdict = cat.t(
                "dossier.anonymity.justified" if justified else "risk.criterion.not_excluded"
            )
        else:
            verdict = DASH
        rows.append((cat.t(f"risk.criterion.{criterion.value}"), verdict))
    blocks = _table(
        cat,
        "dossier.anonymity.criteria",
        ("dossier.anonymity.criterion", "dossier.anonymity.verdict"),
        rows if criteria else [],
    )
    per_table: list[tuple[Cell, ...]] = []
    for item in _list(outputs.get("tables")):
        table = _map(item)
        verdicts = _map(table.get("criteria"))
        cells = [_table_verdict(cat, verdicts.get(c.value)) for c in Criterion]
        per_table.append((_text(table.get("table")), *cells))
    blocks += _table(
        cat,
        "dossier.anonymity.tables",
        ("dossier.anonymity.table", *(f"risk.criterion.{c.value}" for c in Criterion)),
        per_table,
    )
    items: list[tuple[str, Cell]] = []
    attestation = _map(outputs.get("attestation"))
    if attestation:
        value = cat.t(
            "dossier.anonymity.attestation_value",
            name=_text(attestation.get("name")),
            role=_text(attestation.get("role")),
            organization=_text(attestation.get("organization")),
            date=_day(cat, attestation.get("date")),
        )
        items.append((cat.t("dossier.anonymity.attestation"), value))
    for document in _list(outputs.get("documents")):
        link = _report_link(document)
        if link is not None:
            items.append((cat.t("dossier.anonymity.report"), link))
    blocks += _fields(*items) if items else []
    copies = [
        (
            _text(_map(r).get("path")),
            _size(cat, _map(r).get("size")),
            _sha256(_map(r).get("sha256")),
        )
        for r in _list(outputs.get("replacements"))
    ]
    blocks += _table(
        cat,
        "dossier.anonymity.copies",
        ("dossier.files.path", "dossier.files.size", "dossier.files.sha256"),
        copies,
    )
    return blocks


def _table_verdict(cat: Catalogue, value: Any) -> str:
    if value in ("excluded", "not_excluded"):
        return cat.t(f"dossier.anonymity.{value}")
    return DASH


def _report_link(document: Any) -> Cell | None:
    """The risk report beside the dossier in `rapport/`, by its relative path."""
    if not isinstance(document, str) or not document.endswith((".html", ".md")):
        return None
    parts = PurePosixPath(document).parts
    if len(parts) < 2 or parts[0] != REPORT_FOLDER:
        return None
    relative = "/".join(parts[1:])
    return local_link(relative, relative)


def _interoperability(cat: Catalogue, release: Release, record: StepRecord) -> list[Block]:
    outputs = record.outputs
    checked: list[tuple[Cell, ...]] = []
    for path, verdict in sorted(_map(outputs.get("verdicts")).items(), key=lambda i: str(i[0])):
        label = cat.t(f"inspect.verdict.{verdict}") if verdict in _VERDICTS else DASH
        checked.append((_text(path), label))
    blocks = _table(
        cat, "dossier.interop.checked", ("dossier.files.path", "dossier.files.verdict"), checked
    )
    publish = []
    for item in _list(outputs.get("publish")):
        entry = _map(item)
        publish.append(
            (
                _text(entry.get("path")),
                _format(entry.get("path")),
                _size(cat, entry.get("size")),
                _sha256(entry.get("sha256")),
            )
        )
    blocks += _table(
        cat,
        "dossier.interop.publish",
        (
            "dossier.files.path",
            "dossier.files.format",
            "dossier.files.size",
            "dossier.files.sha256",
        ),
        publish,
    )
    if "publish_bytes" in outputs or "route" in outputs:
        blocks += _fields(
            (cat.t("dossier.interop.total"), _size(cat, outputs.get("publish_bytes"))),
            (cat.t("dossier.volume.route"), _route(cat, outputs.get("route"))),
        )
    return blocks


def _volume(cat: Catalogue, release: Release, record: StepRecord) -> list[Block]:
    outputs = record.outputs
    count = _int(outputs.get("file_count"))
    return _fields(
        (cat.t("dossier.volume.total"), _size(cat, outputs.get("total_bytes"))),
        (cat.t("dossier.volume.files"), format_count(count) if count is not None else DASH),
        (cat.t("dossier.volume.route"), _route(cat, outputs.get("route"))),
    )


def _contract(cat: Catalogue, release: Release, record: StepRecord) -> list[Block]:
    outputs = record.outputs
    items: list[tuple[str, Cell]] = [
        (cat.t("dossier.contract.reference"), _text(outputs.get("reference"))),
        (cat.t("dossier.contract.signed_on"), _day(cat, outputs.get("signed_on"))),
        (cat.t("dossier.contract.partner"), _text(outputs.get("partner_signatory"))),
        (cat.t("dossier.contract.hdh"), _text(outputs.get("hdh_signatory"))),
    ]
    if _text(outputs.get("other_signatories")) != DASH:
        items.append((cat.t("dossier.contract.others"), _text(outputs["other_signatories"])))
    return _fields(*items)


def _role(cat: Catalogue, role: FileRole) -> str:
    return cat.t(f"dossier.files.role.{role.value}")


_HOSTED_HEADER = (
    "dossier.files.path",
    "dossier.files.role",
    "dossier.files.size",
    "dossier.files.sha256",
    "dossier.files.url",
)


def _share(cat: Catalogue, release: Release, record: StepRecord) -> list[Block]:
    transfer = TransferRecord.from_outputs(record.outputs)
    if transfer is None:
        return []
    rows: list[tuple[Cell, ...]] = [
        (o.path, _role(cat, o.role), _size(cat, o.size), _sha256(o.sha256), _url(o.url))
        for o in transfer.objects
    ]
    blocks = _table(cat, "dossier.share.hosted", _HOSTED_HEADER, rows)
    if transfer.done_by:
        blocks += _fields((cat.t("dossier.share.done_by"), transfer.done_by))
    return blocks


def _account(cat: Catalogue, release: Release, record: StepRecord) -> list[Block]:
    account = AccountRecord.from_outputs(record.outputs)
    if account is None:
        return []
    return _fields(
        (cat.t("dossier.account.user"), _text(account.user_name)),
        (cat.t("dossier.account.site"), _url(account.site)),
    )


def _organization(cat: Catalogue, release: Release, record: StepRecord) -> list[Block]:
    org = OrganizationRecord.from_outputs(record.outputs)
    if org is None:
        return []
    return _fields(
        (cat.t("dossier.organization.name"), _text(org.name)),
        (cat.t("dossier.organization.acronym"), _text(org.acronym)),
        (cat.t("dossier.organization.page"), _url(org.page)),
    )


def _co_admin(cat: Catalogue, release: Release, record: StepRecord) -> list[Block]:
    invitation = InvitationRecord.from_outputs(record.outputs)
    if invitation is None:
        return []
    accepted = cat.t("dossier.yes" if invitation.accepted else "dossier.no")
    return _fields(
        (cat.t("dossier.co_admin.invitee"), _text(invitation.invitee)),
        (cat.t("dossier.co_admin.role"), _text(invitation.role)),
        (cat.t("dossier.co_admin.accepted"), accepted),
        (cat.t("dossier.co_admin.accepted_at"), _moment(cat, invitation.accepted_at)),
    )


def _documentation(
    cat: Catalogue, record: StepRecord, resources: list[ResourcePlan]
) -> list[Block]:
    raw = record.outputs.get("documentation")
    if not isinstance(raw, Mapping):
        return []
    doc = documentation_from_outputs(raw)
    temporal = DASH
    if doc.temporal is not None:
        end = doc.temporal.end
        temporal = cat.t(
            "dossier.doc.temporal_value",
            start=format_date(doc.temporal.start, cat.lang),
            end=format_date(end, cat.lang) if end else DASH,
        )
    moment = record.updated_at or datetime(2000, 1, 1)
    quality = compute_quality(doc, resources, now=moment, last_update=moment)
    points = sum(1 for c in quality.criteria if c.ok)
    score = cat.t(
        "dossier.doc.quality_value",
        points=points,
        total=QUALITY_MAX_SCORE,
        percent=format_percent(quality.score, cat.lang),
    )
    return _fields(
        (cat.t("dossier.doc.title"), _text(doc.title)),
        (cat.t("dossier.doc.license"), _text(doc.license)),
        (cat.t("dossier.doc.tags"), ", ".join(doc.tags) or DASH),
        (cat.t("dossier.doc.temporal"), temporal),
        (cat.t("dossier.doc.frequency"), _label(cat, frequency_label_key(doc.frequency))),
        (cat.t("dossier.doc.quality"), score),
    )


def _dataset(record: StepRecord) -> DatasetRecord | None:
    return DatasetRecord.from_outputs(_map(record.outputs.get("dataset")))


def _deposit(cat: Catalogue, release: Release, record: StepRecord) -> list[Block]:
    dataset = _dataset(record)
    files = dataset.files if dataset else ()
    # Each deposited resource is described (its size and SHA-256) by the deposit.
    resources = [
        planned_resource(f.title, resource_type=f.kind, description=f.sha256) for f in files
    ]
    blocks = _documentation(cat, record, resources)
    if dataset is None:
        return blocks
    blocks += _fields((cat.t("dossier.dataset.page"), _url(dataset.page)))
    rows: list[tuple[Cell, ...]] = [
        (f.path, _size(cat, f.size), _sha256(f.sha256), _url(f.url)) for f in files
    ]
    header = (
        "dossier.files.path",
        "dossier.files.size",
        "dossier.files.sha256",
        "dossier.files.url",
    )
    return blocks + _table(cat, "dossier.dataset.files", header, rows)


def _dataset_page(cat: Catalogue, release: Release, record: StepRecord) -> list[Block]:
    references = ReferencesRecord.from_outputs(release.record(StepId.REFERENCE_URLS).outputs)
    resources = [
        ResourcePlan(
            title=f.title or f.path,
            format=file_format(f.path),
            type="documentation" if f.role is FileRole.DOCUMENTATION else "main",
            description=f.sha256,
            filetype="remote",
            url=f.url,
        )
        for f in (references.files if references else ())
    ]
    blocks = _documentation(cat, record, resources)
    dataset = _dataset(record)
    if dataset is not None:
        blocks += _fields((cat.t("dossier.dataset.page"), _url(dataset.page)))
    return blocks


def _prepare(cat: Catalogue, release: Release, record: StepRecord) -> list[Block]:
    found = (PreparedFile.from_outputs(item) for item in _list(record.outputs.get("files")))
    rows: list[tuple[Cell, ...]] = [
        (
            f.path,
            cat.t(f"dossier.prepare.kind.{f.kind.value}"),
            _size(cat, f.size),
            _sha256(f.sha256),
        )
        for f in found
        if f is not None
    ]
    header = (
        "dossier.files.path",
        "dossier.files.kind",
        "dossier.files.size",
        "dossier.files.sha256",
    )
    return _table(cat, "dossier.prepare.files", header, rows)


def _references(cat: Catalogue, release: Release, record: StepRecord) -> list[Block]:
    references = ReferencesRecord.from_outputs(record.outputs)
    if references is None:
        return []
    rows: list[tuple[Cell, ...]] = [
        (f.path, _role(cat, f.role), _size(cat, f.size), _sha256(f.sha256), _url(f.url))
        for f in references.files
    ]
    return _table(cat, "dossier.references.files", _HOSTED_HEADER, rows)


def _publication(cat: Catalogue, release: Release, record: StepRecord) -> list[Block]:
    published = PublicationRecord.from_outputs(record.outputs)
    if published is None:
        return []
    return _fields(
        (cat.t("dossier.publication.page"), _url(published.page)),
        (cat.t("dossier.publication.date"), _moment(cat, published.published_at)),
    )


FACTS: dict[StepId, Facts] = {
    StepId.ANONYMITY: _anonymity,
    StepId.INTEROPERABILITY: _interoperability,
    StepId.VOLUME: _volume,
    StepId.CONTRACT: _contract,
    StepId.SHARE_WITH_HDH: _share,
    StepId.ACCOUNT: _account,
    StepId.ORGANIZATION: _organization,
    StepId.DEPOSIT: _deposit,
    StepId.DATASET_PAGE: _dataset_page,
    StepId.PREPARE_DATA: _prepare,
    StepId.REFERENCE_URLS: _references,
    StepId.PUBLICATION: _publication,
    StepId.CO_ADMIN: _co_admin,
}


def step_facts(cat: Catalogue, release: Release, step_id: StepId) -> list[Block]:
    """The key facts of one step, from what it recorded."""
    return FACTS[step_id](cat, release, release.record(step_id))
