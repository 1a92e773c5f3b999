"""The udata objects the wizard reads, as frozen dataclasses built from the API's JSON.

Built tolerantly: extra fields are ignored, a missing or null text reads as "", so a newer
udata that adds fields (or a portal that leaves some out) still works. Only a missing
identifier, or something that is not an object at all, is refused (`ShapeError`), which the
client reports as an unexpected answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ShapeError(ValueError):
    """The JSON is not the object expected."""


def _mapping(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ShapeError(f"{what}: expected an object, got {type(data).__name__}")
    return data


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return ""
    return value if isinstance(value, str) else str(value)


def _id(data: Mapping[str, Any], what: str, key: str = "id") -> str:
    value = _text(data, key)
    if not value:
        raise ShapeError(f"{what}: no {key!r}")
    return value


def _objects(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


@dataclass(frozen=True)
class OrganizationRef:
    id: str
    name: str
    acronym: str
    slug: str

    @classmethod
    def from_json(cls, data: Any) -> OrganizationRef:
        obj = _mapping(data, "organization")
        return cls(
            _id(obj, "organization"), _text(obj, "name"), _text(obj, "acronym"), _text(obj, "slug")
        )


@dataclass(frozen=True)
class User:
    id: str
    first_name: str
    last_name: str
    email: str
    organizations: tuple[OrganizationRef, ...]

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.id

    @classmethod
    def from_json(cls, data: Any) -> User:
        obj = _mapping(data, "user")
        return cls(
            id=_id(obj, "user"),
            first_name=_text(obj, "first_name"),
            last_name=_text(obj, "last_name"),
            email=_text(obj, "email"),
            organizations=tuple(
                OrganizationRef.from_json(org) for org in _objects(obj.get("organizations"))
            ),
        )


@dataclass(frozen=True)
class Member:
    user_id: str
    name: str
    email: str  # udata masks it (`al****@domain`), except to the member themself
    role: str

    @classmethod
    def from_json(cls, data: Any) -> Member:
        obj = _mapping(data, "member")
        user = _mapping(obj.get("user"), "member.user")
        name = f"{_text(user, 'first_name')} {_text(user, 'last_name')}".strip()
        return cls(_id(user, "member.user"), name, _text(user, "email"), _text(obj, "role"))


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    acronym: str
    slug: str
    page: str  # the public web page ("" when the portal has no front-end, as in tests)
    description: str
    url: str  # the organization's own website
    members: tuple[Member, ...]

    @property
    def ref(self) -> OrganizationRef:
        return OrganizationRef(self.id, self.name, self.acronym, self.slug)

    @classmethod
    def from_json(cls, data: Any) -> Organization:
        obj = _mapping(data, "organization")
        members = []
        for member in _objects(obj.get("members")):
            try:
                members.append(Member.from_json(member))
            except ShapeError:
                continue  # a deleted account shows as a member without user: skip it
        return cls(
            id=_id(obj, "organization"),
            name=_text(obj, "name"),
            acronym=_text(obj, "acronym"),
            slug=_text(obj, "slug"),
            page=_text(obj, "page"),
            description=_text(obj, "description"),
            url=_text(obj, "url"),
            members=tuple(members),
        )


@dataclass(frozen=True)
class Invitation:
    """A pending membership: udata 17 invites, the invitee accepts (no direct add any more)."""

    id: str
    organization_id: str
    role: str
    email: str  # set only when the address belongs to no account yet
    user_id: str  # set when the invitee has an account (an email of an account resolves to it)
    created: str  # ISO 8601, as the server wrote it
    status: str = "pending"  # pending, accepted, refused, canceled

    @classmethod
    def from_json(cls, data: Any, organization_id: str = "") -> Invitation:
        """From an invitation (`POST …/member/`) or a pending one (`GET /me/org_invitations/`)."""
        obj = _mapping(data, "invitation")
        user = obj.get("user")
        org = obj.get("organization")
        if not organization_id and isinstance(org, Mapping):
            organization_id = _text(org, "id")
        return cls(
            id=_id(obj, "invitation"),
            organization_id=organization_id,
            role=_text(obj, "role"),
            email=_text(obj, "email"),
            user_id=_text(user, "id") if isinstance(user, Mapping) else "",
            created=_text(obj, "created"),
            status=_text(obj, "status") or "pending",
        )


@dataclass(frozen=True)
class License:
    id: str
    title: str
    url: str

    @classmethod
    def from_json(cls, data: Any) -> License:
        obj = _mapping(data, "license")
        return cls(_id(obj, "license"), _text(obj, "title"), _text(obj, "url"))


@dataclass(frozen=True)
class Frequency:
    id: str
    label: str  # the server's label, in English on most portals: the UI has its own French one

    @classmethod
    def from_json(cls, data: Any) -> Frequency:
        obj = _mapping(data, "frequency")
        return cls(_id(obj, "frequency"), _text(obj, "label"))


@dataclass(frozen=True)
class Zone:
    id: str  # e.g. "country:fr", "fr:region:84"
    name: str
    code: str
    level: str  # the granularity id, e.g. "country", "fr:region"

    @classmethod
    def from_json(cls, data: Any) -> Zone:
        """From a suggestion (flat) or from `GET /spatial/zone/{id}/` (a GeoJSON feature)."""
        obj = _mapping(data, "zone")
        properties = obj.get("properties")
        fields = properties if isinstance(properties, Mapping) else obj
        return cls(
            _id(obj, "zone"), _text(fields, "name"), _text(fields, "code"), _text(fields, "level")
        )


@dataclass(frozen=True)
class Granularity:
    id: str
    name: str

    @classmethod
    def from_json(cls, data: Any) -> Granularity:
        obj = _mapping(data, "granularity")
        return cls(_id(obj, "granularity"), _text(obj, "name"))
