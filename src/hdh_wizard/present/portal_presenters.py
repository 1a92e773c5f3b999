"""How the data.gouv.fr steps put facts into words: actions, progress, mismatches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text

from hdh_wizard.core.deposit_plan import Action, LocalFile, Mismatch
from hdh_wizard.core.hosting_records import prepared_files, references_of, transfer_of
from hdh_wizard.core.portal_records import (
    DatasetRecord,
    account_of,
    dataset_of,
    invitation_of,
    organization_of,
    publication_of,
)
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.i18n.catalogue import Catalogue, Lang, load_catalogue
from hdh_wizard.i18n.formatting import format_duration, format_size
from hdh_wizard.services.datagouv.deposit import DepositEvent, interrupted_uploads
from hdh_wizard.services.datagouv.upload import FileDigests
from hdh_wizard.services.progress import UploadProgress


def action_text(cat: Catalogue, action: Action) -> str:
    return cat.t(f"deposit.action.{action.value}")


def transfer_amounts(cat: Catalogue, progress: UploadProgress) -> dict[str, str]:
    """A transfer's figures in French conventions: sent, total, speed, time left."""
    lang = cat.lang
    remaining = progress.remaining_seconds
    return {
        "sent": format_size(progress.sent, lang),
        "total": format_size(progress.total, lang),
        "speed": format_size(int(progress.speed), lang),
        "left": format_duration(remaining, lang) if remaining is not None else "—",
    }


def progress_text(cat: Catalogue, event: DepositEvent) -> str:
    """ "fichier 2/3 · 12,3 Mo sur 45,6 Mo · 3,2 Mo/s · reste 10 s"."""
    if event.progress is None:
        return ""
    return cat.t(
        "deposit.progress",
        path=event.path,
        index=event.index,
        count=event.count,
        **transfer_amounts(cat, event.progress),
    )


def mismatch_text(cat: Catalogue, mismatch: Mismatch) -> str:
    return f"• {mismatch.path} : {cat.t(mismatch.key, **mismatch.params)}"


def _label(cat: Catalogue, prefix: str, value: str) -> str:
    """The catalogue's label for an id data.gouv.fr stores, else the id itself."""
    key = f"{prefix}.{value.replace(':', '.')}"
    return cat.t(key) if value and cat.has(key) else value


def license_label(cat: Catalogue, license_id: str) -> str:
    """ "Licence Ouverte 2.0", not "lov2"."""
    return _label(cat, "license", license_id)


def resource_type_label(cat: Catalogue, resource_type: str) -> str:
    """ "Fichier principal", not "main"."""
    return _label(cat, "resource.type", resource_type)


def zone_label(cat: Catalogue, zone: Any) -> str:
    """A zone as the server gives it: an object with its name, or an id ("country:fr")."""
    if isinstance(zone, Mapping):
        name = zone.get("name") or zone.get("title")
        if name:
            return str(name)
        zone = zone.get("id") or zone.get("code") or ""
    return _label(cat, "zone", str(zone)) if zone else "—"


def granularity_label(cat: Catalogue, granularity: Any) -> str:
    """ "pays", not "country"; an object from the server brings its own name."""
    if isinstance(granularity, Mapping):
        ident = str(granularity.get("id") or "")
        if ident and cat.has(f"granularity.{ident.replace(':', '.')}"):
            return _label(cat, "granularity", ident)
        return str(granularity.get("name") or ident or "—")
    return _label(cat, "granularity", str(granularity)) if granularity else "—"


def reference_mismatch_text(cat: Catalogue, path: str, key: str, params: Mapping[str, Any]) -> str:
    """A referenced file that differs on the server; a resource type is said in words."""
    shown = dict(params)
    if key == "references.mismatch.type" and isinstance(shown.get("read"), str):
        shown["read"] = resource_type_label(cat, shown["read"])
    return "• " + cat.t(key, path=path, **shown)


def dataset_page_url(record: DatasetRecord) -> str:
    """The dataset's address on the portal, as a link to follow, never a bare id: its page when
    the server gave one, else the address built from its slug (or id) on the record's portal."""
    if record.page:
        return record.page
    return f"{record.site.rstrip('/')}/datasets/{record.slug or record.dataset_id}/"


def resource_description(local: LocalFile, digests: FileDigests) -> str:
    """The description each resource gets: what the file is, its size and its SHA-256, so
    anyone can check a download (data.gouv.fr itself keeps only a SHA-1). Published text is in
    French, data.gouv.fr's language, whatever the wizard's: a re-run in English must not
    rewrite it."""
    cat = load_catalogue(Lang.FR)
    kind = local.format if cat.has(f"deposit.resource.{local.format}") else "other"
    return cat.t(
        f"deposit.resource.{kind}",
        name=local.name,
        format=local.format.upper(),
        size=format_size(digests.size, cat.lang),
        sha256=digests.sha256,
    )


def dataset_review(cat: Catalogue, dataset: Mapping[str, Any]) -> Text:
    """The dataset as the server holds it, field by field, for the review before publishing."""

    def ref_name(value: Any) -> str:
        if isinstance(value, Mapping):
            return str(value.get("name") or value.get("title") or value.get("id") or "—")
        return str(value) if value else "—"

    temporal = dataset.get("temporal_coverage")
    period = "—"
    if isinstance(temporal, Mapping) and temporal.get("start"):
        start = str(temporal.get("start", ""))[:10]
        end = str(temporal.get("end") or "")[:10]
        period = f"{start} → {end}" if end else start
    spatial = dataset.get("spatial")
    zones, granularity = "—", "—"
    if isinstance(spatial, Mapping):
        raw_zones = spatial.get("zones") or []
        zones = ", ".join(zone_label(cat, z) for z in raw_zones) if raw_zones else "—"
        granularity = granularity_label(cat, spatial.get("granularity"))
    frequency = str(dataset.get("frequency") or "unknown")
    frequency_label = (
        cat.t(f"doc.frequency.{frequency}") if cat.has(f"doc.frequency.{frequency}") else frequency
    )
    rows = [
        ("title", str(dataset.get("title") or "—")),
        ("organization", ref_name(dataset.get("organization"))),
        ("license", license_label(cat, _ident(dataset.get("license"))) or "—"),
        ("tags", ", ".join(str(t) for t in dataset.get("tags") or []) or "—"),
        ("temporal", period),
        ("frequency", frequency_label),
        ("spatial", f"{zones} · {granularity}"),
        (
            "visibility",
            cat.t("publication.private" if dataset.get("private") else "publication.public"),
        ),
    ]
    text = Text()
    for key, value in rows:
        text.append(cat.t(f"publication.field.{key}") + " : ", style="bold")
        text.append(value + "\n")
    return text


def _ident(value: Any) -> str:
    """An id the server may give bare or as an object (`{"id": "lov2", "title": …}`)."""
    if isinstance(value, Mapping):
        return str(value.get("id") or "")
    return str(value) if value else ""


def portal_detail(cat: Catalogue, release: Release, step_id: StepId) -> str:
    """What a data.gouv.fr or route-2 step holds, for the home screen's detail line."""
    if step_id is StepId.ACCOUNT and (account := account_of(release)):
        return cat.t("home.portal.account", name=account.user_name)
    if step_id is StepId.ORGANIZATION and (org := organization_of(release)):
        return cat.t("home.portal.organization", name=org.name)
    if step_id is StepId.CO_ADMIN and (invitation := invitation_of(release)):
        state = "accepted" if invitation.accepted else "pending"
        return cat.t(f"home.portal.invitation_{state}", invitee=invitation.invitee)
    if step_id in (StepId.DEPOSIT, StepId.DATASET_PAGE) and (dataset := dataset_of(release)):
        line = cat.t(
            "home.portal.dataset",
            page=dataset_page_url(dataset),
            count=len(dataset.files),
        )
        stopped = interrupted_uploads(dataset).values()
        return "; ".join(
            [
                line,
                *(
                    cat.t("home.journey.interrupted", done=u.done_parts, total=u.total_parts)
                    for u in stopped
                ),
            ]
        )
    if step_id is StepId.PUBLICATION and (publication := publication_of(release)):
        return cat.t("home.portal.published", page=publication.page)
    if step_id is StepId.PREPARE_DATA and (prepared := prepared_files(release)):
        return cat.t(
            "home.hosting.prepared",
            count=len(prepared),
            size=format_size(sum(f.size for f in prepared), cat.lang),
        )
    if step_id is StepId.SHARE_WITH_HDH and (transfer := transfer_of(release)):
        if transfer.uploads:
            return cat.t("home.hosting.resume", count=len(transfer.uploads))
        if transfer.objects:
            return cat.t(
                "home.hosting.hosted",
                count=len(transfer.objects),
                size=format_size(sum(o.size for o in transfer.objects), cat.lang),
                bucket=transfer.storage.get("bucket", "?"),
            )
    if step_id is StepId.REFERENCE_URLS and (references := references_of(release)):
        return cat.t("home.portal.references", count=len(references.files))
    return ""
