"""What route 2's steps record in the state, as typed values.

Route 2 (over 1 Go): the partner prepares the data (split files, a sample), HDH staff transfer
everything to HDH's storage, then the hosted files are referenced on the dataset page by URL.

- `PreparedFile`: a file the preparation step wrote (a part of a split table, a sample, a folder
  of slides for one value). They join the files to host (`files_to_host`) with their checksums.
- `HostedObject`: a file as HDH's storage holds it, verified (size, SHA-256), with its URL.
- `ReferencedFile`: a hosted file referenced on data.gouv.fr as a remote resource.

Nothing secret is recorded: the storage's secret key lives in the keyring. Records are read
tolerantly: a hand-edited state that says nothing usable reads as "not done yet".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from hdh_wizard.core.deposit_plan import DOCUMENTATION_FORMATS, FORMAT_ALIASES
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.portal_records import same_site
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.core.volume import published_files


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _items(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


class FileRole(StrEnum):
    """What a hosted file is to the people who will download it."""

    DATA = "data"  # the base itself, or a part of a split table
    SAMPLE = "sample"  # the file to look at first
    DOCUMENTATION = "documentation"  # a PDF, a README…


def inside_project(path: str) -> bool:
    """A relative POSIX path that stays inside the project (no "..", no drive, no root): a
    hand-edited state must never make the wizard send or delete a file elsewhere."""
    parts = path.replace("\\", "/").split("/")
    return (
        bool(path)
        and not path.startswith(("/", "\\"))
        and ".." not in parts
        and ":" not in parts[0]
    )


def role_of(path: str, *, sample: bool = False) -> FileRole:
    """A sample is flagged by the preparation; a document is known by its format."""
    if sample:
        return FileRole.SAMPLE
    return FileRole.DOCUMENTATION if file_format(path) in DOCUMENTATION_FORMATS else FileRole.DATA


def file_format(path: str) -> str:
    """The format data.gouv.fr shows for a file: its extension, lower case, aliased (tif→tiff)."""
    suffix = PurePosixPath(path).suffix.lower().lstrip(".")
    return FORMAT_ALIASES.get(suffix, suffix)


# --- the preparation (split and sample) ------------------------------------------------------


class PreparedKind(StrEnum):
    PART = "part"  # one value's rows of a split table
    OTHERS = "others"  # the rare values' rows, grouped ("autres")
    EMPTY = "empty"  # the rows without a value ("vide")
    SAMPLE = "sample"
    FOLDER = "folder"  # one value's files (slides by stage), hard-linked into a folder


@dataclass(frozen=True)
class PreparedFile:
    """A file (or, for FOLDER, a folder) the preparation wrote, relative to the project."""

    path: str  # POSIX, as the release names files (`publish/sejours__Stade_III.csv`)
    kind: PreparedKind
    size: int
    sha256: str  # "" for a folder: its files are hashed when they are sent
    source: str  # the published file (or the mapping table) it was made from
    value: str = ""  # the split value it holds ("" for a sample)
    rows: int | None = None

    @property
    def role(self) -> FileRole:
        return FileRole.SAMPLE if self.kind is PreparedKind.SAMPLE else FileRole.DATA

    def to_outputs(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind.value,
            "size": self.size,
            "sha256": self.sha256,
            "source": self.source,
            "value": self.value,
            "rows": self.rows,
        }

    @classmethod
    def from_outputs(cls, data: Any) -> PreparedFile | None:
        if not isinstance(data, Mapping):
            return None
        path, size = _text(data, "path"), _int(data, "size")
        try:
            kind = PreparedKind(_text(data, "kind"))
        except ValueError:
            return None
        if not path or size is None or size < 0:
            return None
        return cls(
            path,
            kind,
            size,
            _text(data, "sha256"),
            _text(data, "source"),
            _text(data, "value"),
            _int(data, "rows"),
        )


def prepared_files(release: Release) -> tuple[PreparedFile, ...]:
    """The files the preparation step wrote, once it is done (none while it is not)."""
    record = release.record(StepId.PREPARE_DATA)
    if record.status is not StepStatus.DONE:
        return ()
    found = (PreparedFile.from_outputs(item) for item in _items(record.outputs, "files"))
    return tuple(f for f in found if f is not None and inside_project(f.path))


def files_to_host(release: Release) -> tuple[tuple[str, int], ...]:
    """(path, size) of everything HDH hosts: the published files, then the prepared ones."""
    published = list(published_files(release))
    known = {path for path, _ in published}
    extra = [(f.path, f.size) for f in prepared_files(release) if f.path not in known]
    return tuple(published + extra)


# --- the transfer to HDH's storage -----------------------------------------------------------


@dataclass(frozen=True)
class HostedObject:
    """One file as HDH's storage holds it, verified after its transfer."""

    path: str  # as the release names it (a file of a folder: `lames/stade_1/a.tiff`)
    key: str  # the object key in the bucket
    size: int
    sha256: str
    url: str  # the public URL, derived or typed by HDH staff
    role: FileRole = FileRole.DATA
    mtime_ns: int = 0
    verified_at: str = ""  # ISO 8601, when its size and checksum were checked on the server

    @property
    def format(self) -> str:
        return file_format(self.path)

    def to_outputs(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "key": self.key,
            "size": self.size,
            "sha256": self.sha256,
            "url": self.url,
            "role": self.role.value,
            "mtime_ns": self.mtime_ns,
            "verified_at": self.verified_at,
        }

    @classmethod
    def from_outputs(cls, data: Any) -> HostedObject | None:
        if not isinstance(data, Mapping):
            return None
        path, key, url = _text(data, "path"), _text(data, "key"), _text(data, "url")
        size, sha256 = _int(data, "size"), _text(data, "sha256")
        if not (path and key and url and sha256) or size is None or size < 0:
            return None
        try:
            role = FileRole(_text(data, "role") or FileRole.DATA.value)
        except ValueError:
            role = FileRole.DATA
        return cls(
            path,
            key,
            size,
            sha256,
            url,
            role,
            _int(data, "mtime_ns") or 0,
            _text(data, "verified_at"),
        )


@dataclass(frozen=True)
class TransferRecord:
    """The share_with_hdh step's record: the connection details (never the secret), the
    uploads under way (path → MultipartState.to_dict()), the verified objects, and the HDH
    staff member who ran it."""

    storage: dict[str, str]  # StorageConfig.to_dict()
    objects: tuple[HostedObject, ...] = ()
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    done_by: str = ""

    def to_outputs(self) -> dict[str, Any]:
        return {
            "storage": dict(self.storage),
            "objects": [o.to_outputs() for o in self.objects],
            "uploads": {path: dict(state) for path, state in self.uploads.items()},
            "done_by": self.done_by,
        }

    @classmethod
    def from_outputs(cls, data: Mapping[str, Any]) -> TransferRecord | None:
        storage = data.get("storage")
        if not isinstance(storage, Mapping):
            return None
        objects = (HostedObject.from_outputs(item) for item in _items(data, "objects"))
        raw_uploads = data.get("uploads")
        uploads = (
            {str(k): dict(v) for k, v in raw_uploads.items() if isinstance(v, Mapping)}
            if isinstance(raw_uploads, Mapping)
            else {}
        )
        return cls(
            {str(k): str(v) for k, v in storage.items() if isinstance(v, str)},
            tuple(o for o in objects if o is not None),
            uploads,
            _text(data, "done_by"),
        )

    def object(self, path: str) -> HostedObject | None:
        return next((o for o in self.objects if o.path == path), None)


def transfer_of(release: Release) -> TransferRecord | None:
    """What share_with_hdh recorded, done or under way (details typed, parts sent)."""
    return TransferRecord.from_outputs(release.record(StepId.SHARE_WITH_HDH).outputs)


def hosted_objects(release: Release) -> tuple[HostedObject, ...]:
    """The verified hosted files, once the transfer is done (none before)."""
    if release.record(StepId.SHARE_WITH_HDH).status is not StepStatus.DONE:
        return ()
    record = transfer_of(release)
    return record.objects if record is not None else ()


# --- the references on data.gouv.fr ----------------------------------------------------------


@dataclass(frozen=True)
class ReferencedFile:
    """A hosted file referenced on the dataset page as a remote resource."""

    path: str
    resource_id: str
    url: str
    size: int
    sha256: str
    title: str
    role: FileRole = FileRole.DATA

    def to_outputs(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "resource_id": self.resource_id,
            "url": self.url,
            "size": self.size,
            "sha256": self.sha256,
            "title": self.title,
            "role": self.role.value,
        }

    @classmethod
    def from_outputs(cls, data: Any) -> ReferencedFile | None:
        if not isinstance(data, Mapping):
            return None
        path, rid, url = _text(data, "path"), _text(data, "resource_id"), _text(data, "url")
        size = _int(data, "size")
        if not (path and rid and url) or size is None:
            return None
        try:
            role = FileRole(_text(data, "role") or FileRole.DATA.value)
        except ValueError:
            role = FileRole.DATA
        return cls(path, rid, url, size, _text(data, "sha256"), _text(data, "title"), role)


@dataclass(frozen=True)
class ReferencesRecord:
    site: str
    dataset_id: str
    files: tuple[ReferencedFile, ...] = ()

    def to_outputs(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "dataset_id": self.dataset_id,
            "files": [f.to_outputs() for f in self.files],
        }

    @classmethod
    def from_outputs(cls, data: Mapping[str, Any]) -> ReferencesRecord | None:
        site, dataset_id = _text(data, "site"), _text(data, "dataset_id")
        if not site or not dataset_id:
            return None
        files = (ReferencedFile.from_outputs(item) for item in _items(data, "files"))
        return cls(site, dataset_id, tuple(f for f in files if f is not None))

    def file(self, path: str) -> ReferencedFile | None:
        return next((f for f in self.files if f.path == path), None)


def references_of(release: Release) -> ReferencesRecord | None:
    """The references made on the current target (another portal's are ignored)."""
    record = ReferencesRecord.from_outputs(release.record(StepId.REFERENCE_URLS).outputs)
    return record if record and same_site(record.site, release.target.url) else None
