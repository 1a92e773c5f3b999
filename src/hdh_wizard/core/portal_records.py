"""What the data.gouv.fr steps record in the state, as typed values.

Every record names the portal it was made on (`site`): an organization or a dataset created on
demo.data.gouv.fr does not exist on www.data.gouv.fr, so after a change of target the records
of the other portal are ignored, never reused. Nothing secret is ever recorded here: the API key
lives in the keyring (services.secrets).

Records are read from step outputs tolerantly: a hand-edited state that says nothing usable
reads as "not done yet", never as a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId


def same_site(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class AccountRecord:
    """The data.gouv.fr account whose key was verified (never the key itself)."""

    site: str
    user_id: str
    user_name: str
    key_source: str  # keyring, environment or session

    def to_outputs(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "user_id": self.user_id,
            "user_name": self.user_name,
            "key_source": self.key_source,
        }

    @classmethod
    def from_outputs(cls, data: Mapping[str, Any]) -> AccountRecord | None:
        site, user_id = _text(data, "site"), _text(data, "user_id")
        if not site or not user_id:
            return None
        return cls(site, user_id, _text(data, "user_name"), _text(data, "key_source"))


@dataclass(frozen=True)
class OrganizationRecord:
    site: str
    organization_id: str
    name: str
    acronym: str = ""
    slug: str = ""
    page: str = ""
    created_here: bool = False  # created from the wizard, not picked among existing ones

    def to_outputs(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "organization_id": self.organization_id,
            "name": self.name,
            "acronym": self.acronym,
            "slug": self.slug,
            "page": self.page,
            "created_here": self.created_here,
        }

    @classmethod
    def from_outputs(cls, data: Mapping[str, Any]) -> OrganizationRecord | None:
        site, org_id = _text(data, "site"), _text(data, "organization_id")
        if not site or not org_id:
            return None
        return cls(
            site,
            org_id,
            _text(data, "name"),
            _text(data, "acronym"),
            _text(data, "slug"),
            _text(data, "page"),
            data.get("created_here") is True,
        )


@dataclass(frozen=True)
class InvitationRecord:
    """An invitation of an HDH Open Science member as co-administrator, until accepted."""

    site: str
    organization_id: str
    invitation_id: str
    invitee: str  # an email or a data.gouv.fr user id
    role: str = "admin"
    accepted: bool = False
    invited_at: str = ""
    accepted_at: str = ""

    def to_outputs(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "organization_id": self.organization_id,
            "invitation_id": self.invitation_id,
            "invitee": self.invitee,
            "role": self.role,
            "accepted": self.accepted,
            "invited_at": self.invited_at,
            "accepted_at": self.accepted_at,
        }

    @classmethod
    def from_outputs(cls, data: Mapping[str, Any]) -> InvitationRecord | None:
        site, org_id = _text(data, "site"), _text(data, "organization_id")
        invitation_id, invitee = _text(data, "invitation_id"), _text(data, "invitee")
        if not (site and org_id and invitation_id and invitee):
            return None
        return cls(
            site,
            org_id,
            invitation_id,
            invitee,
            _text(data, "role") or "admin",
            data.get("accepted") is True,
            _text(data, "invited_at"),
            _text(data, "accepted_at"),
        )


@dataclass(frozen=True)
class DepositedFile:
    """One local file as the server holds it, verified (size and checksums) after its upload."""

    path: str  # as in the release's file list
    resource_id: str
    size: int
    mtime_ns: int
    sha256: str
    sha1: str
    title: str
    url: str = ""
    kind: str = "main"  # udata resource type: main, documentation…

    def to_outputs(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "resource_id": self.resource_id,
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "sha256": self.sha256,
            "sha1": self.sha1,
            "title": self.title,
            "url": self.url,
            "kind": self.kind,
        }

    @classmethod
    def from_outputs(cls, data: Any) -> DepositedFile | None:
        if not isinstance(data, Mapping):
            return None
        path, rid = _text(data, "path"), _text(data, "resource_id")
        size, mtime = _int(data, "size"), _int(data, "mtime_ns")
        if not path or not rid or size is None:
            return None
        return cls(
            path,
            rid,
            size,
            mtime or 0,
            _text(data, "sha256"),
            _text(data, "sha1"),
            _text(data, "title") or path.rsplit("/", 1)[-1],
            _text(data, "url"),
            _text(data, "kind") or "main",
        )


@dataclass(frozen=True)
class DatasetRecord:
    """The dataset on the portal, its verified files, and any upload to resume."""

    site: str
    dataset_id: str
    slug: str = ""
    page: str = ""
    files: tuple[DepositedFile, ...] = ()
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)  # path → ChunkedUpload

    def to_outputs(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "dataset_id": self.dataset_id,
            "slug": self.slug,
            "page": self.page,
            "files": [f.to_outputs() for f in self.files],
            "uploads": {path: dict(state) for path, state in self.uploads.items()},
        }

    @classmethod
    def from_outputs(cls, data: Mapping[str, Any]) -> DatasetRecord | None:
        site, dataset_id = _text(data, "site"), _text(data, "dataset_id")
        if not site or not dataset_id:
            return None
        raw_files = data.get("files")
        files = (
            tuple(
                f
                for f in (DepositedFile.from_outputs(item) for item in raw_files or ())
                if f is not None
            )
            if isinstance(raw_files, list)
            else ()
        )
        raw_uploads = data.get("uploads")
        uploads = (
            {str(k): dict(v) for k, v in raw_uploads.items() if isinstance(v, Mapping)}
            if isinstance(raw_uploads, Mapping)
            else {}
        )
        return cls(site, dataset_id, _text(data, "slug"), _text(data, "page"), files, uploads)

    def file(self, path: str) -> DepositedFile | None:
        return next((f for f in self.files if f.path == path), None)


@dataclass(frozen=True)
class PublicationRecord:
    site: str
    dataset_id: str
    page: str
    published_at: str

    def to_outputs(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "dataset_id": self.dataset_id,
            "page": self.page,
            "published_at": self.published_at,
        }

    @classmethod
    def from_outputs(cls, data: Mapping[str, Any]) -> PublicationRecord | None:
        site, dataset_id = _text(data, "site"), _text(data, "dataset_id")
        if not site or not dataset_id:
            return None
        return cls(site, dataset_id, _text(data, "page"), _text(data, "published_at"))


# --- reading them from a release, for its current target ------------------------------------

DATASET_STEPS = (StepId.DEPOSIT, StepId.DATASET_PAGE)


def _outputs(release: Release, step_id: StepId, key: str | None = None) -> Mapping[str, Any]:
    outputs = release.record(step_id).outputs
    if key is None:
        return outputs
    value = outputs.get(key)
    return value if isinstance(value, Mapping) else {}


def account_of(release: Release) -> AccountRecord | None:
    record = AccountRecord.from_outputs(_outputs(release, StepId.ACCOUNT))
    return record if record and same_site(record.site, release.target.url) else None


def organization_of(release: Release) -> OrganizationRecord | None:
    record = OrganizationRecord.from_outputs(_outputs(release, StepId.ORGANIZATION))
    return record if record and same_site(record.site, release.target.url) else None


def invitation_of(release: Release) -> InvitationRecord | None:
    record = InvitationRecord.from_outputs(_outputs(release, StepId.CO_ADMIN))
    return record if record and same_site(record.site, release.target.url) else None


def dataset_of(release: Release) -> DatasetRecord | None:
    """The dataset on the current target, created by the deposit (route 1) or the page (route 2)."""
    for step_id in DATASET_STEPS:
        record = DatasetRecord.from_outputs(_outputs(release, step_id, "dataset"))
        if record and same_site(record.site, release.target.url):
            return record
    return None


def publication_of(release: Release) -> PublicationRecord | None:
    record = PublicationRecord.from_outputs(_outputs(release, StepId.PUBLICATION))
    return record if record and same_site(record.site, release.target.url) else None


def published_before_on(release: Release, site: str) -> bool:
    """Whether this release was published on `site` (the production warning is for the first)."""
    record = PublicationRecord.from_outputs(_outputs(release, StepId.PUBLICATION))
    return record is not None and same_site(record.site, site)
