"""What a deposit must do to make the dataset on data.gouv.fr match the files to publish.

Pure decisions, from three views of the same files: the files here, what the state says was
deposited and verified, and the resources the server holds now. Re-running after a change
replaces the changed files and adds the new ones; it never creates duplicates.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from hdh_wizard.core.data_dictionary import DICTIONARY_NAME, SCHEMA_SUFFIX
from hdh_wizard.core.portal_records import DatasetRecord, DepositedFile

# Formats udata knows under another extension than the file's (its upload list has "tiff" only).
FORMAT_ALIASES = {"tif": "tiff", "jpeg": "jpg", "yml": "yaml", "htm": "html"}
DOCUMENTATION_FORMATS = frozenset({"pdf", "md", "txt", "html", "doc", "docx", "odt", "rtf"})


class Action(StrEnum):
    UPLOAD = "upload"  # new on the server
    REPLACE = "replace"  # on the server, but the file changed here
    KEEP = "keep"  # on the server, unchanged
    DELETE = "delete"  # deposited earlier, no longer among the files to publish


@dataclass(frozen=True)
class LocalFile:
    """A file to publish, as found on disk."""

    path: str  # POSIX, as the release names it (relative to the project when inside it)
    size: int
    mtime_ns: int

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name

    @property
    def format(self) -> str:
        suffix = PurePosixPath(self.path).suffix.lower().lstrip(".")
        return FORMAT_ALIASES.get(suffix, suffix)

    @property
    def kind(self) -> str:
        """udata's resource type: documentation for documents (the data dictionary and the
        Table Schemas too, though CSV and JSON), main for the data."""
        dictionary = self.name.startswith(DICTIONARY_NAME) or self.name.endswith(SCHEMA_SUFFIX)
        return "documentation" if dictionary or self.format in DOCUMENTATION_FORMATS else "main"

    @property
    def upload_name(self) -> str:
        """The name sent to the server: the extension it knows (".tif" is refused, ".tiff" not)."""
        stem = PurePosixPath(self.path).stem
        return f"{stem}.{self.format}" if self.format else stem


@dataclass(frozen=True)
class PlannedFile:
    action: Action
    path: str
    local: LocalFile | None  # None for a deletion
    deposited: DepositedFile | None  # what the state recorded, if anything


def plan_deposit(
    files: Sequence[LocalFile],
    record: DatasetRecord | None,
    server_resources: Collection[Mapping[str, Any]] | None,
) -> list[PlannedFile]:
    """One action per file, in the release's order, deletions last.

    A recorded file counts as deposited only if the server still holds its resource with the
    recorded size: one removed or altered on data.gouv.fr by hand is sent again.
    """
    on_server = {
        str(r.get("id")): r for r in server_resources or () if isinstance(r.get("id"), str)
    }
    plan: list[PlannedFile] = []
    local_paths = {f.path for f in files}
    for local in files:
        deposited = record.file(local.path) if record else None
        resource = on_server.get(deposited.resource_id) if deposited else None
        if deposited is None or resource is None:
            plan.append(PlannedFile(Action.UPLOAD, local.path, local, deposited))
        elif (
            deposited.size == local.size
            and deposited.mtime_ns == local.mtime_ns
            and resource.get("filesize") in (None, local.size)
            and _checksum_matches(resource, deposited)
        ):
            plan.append(PlannedFile(Action.KEEP, local.path, local, deposited))
        else:
            plan.append(PlannedFile(Action.REPLACE, local.path, local, deposited))
    for deposited in record.files if record else ():
        if deposited.path not in local_paths and deposited.resource_id in on_server:
            plan.append(PlannedFile(Action.DELETE, deposited.path, None, deposited))
    return plan


def _checksum_matches(resource: Mapping[str, Any], deposited: DepositedFile) -> bool:
    """A file replaced on the server by another of the same size is caught by its checksum."""
    checksum = resource.get("checksum")
    if not isinstance(checksum, Mapping):
        return True
    expected = {"sha1": deposited.sha1, "sha256": deposited.sha256}.get(str(checksum.get("type")))
    value = checksum.get("value")
    return not expected or not isinstance(value, str) or value.lower() == expected.lower()


def unsupported_formats(files: Sequence[LocalFile], allowed: Collection[str]) -> list[LocalFile]:
    """The files the server would refuse (udata checks the extension against its list)."""
    if not allowed:
        return []
    return [f for f in files if f.format not in allowed]


@dataclass(frozen=True)
class Mismatch:
    path: str
    key: str  # catalogue key: missing on the server, size differs, checksum differs
    params: dict[str, Any]


def compare_with_server(
    deposited: Sequence[DepositedFile], server_resources: Collection[Mapping[str, Any]]
) -> list[Mismatch]:
    """What the server holds against what was deposited: sizes and checksums, file by file."""
    on_server = {str(r.get("id")): r for r in server_resources}
    problems: list[Mismatch] = []
    for item in deposited:
        resource = on_server.get(item.resource_id)
        if resource is None:
            problems.append(Mismatch(item.path, "deposit.mismatch.missing", {}))
            continue
        size = resource.get("filesize")
        if isinstance(size, int) and size != item.size:
            problems.append(
                Mismatch(item.path, "deposit.mismatch.size", {"server": size, "local": item.size})
            )
        checksum = resource.get("checksum")
        if isinstance(checksum, Mapping):
            kind, value = checksum.get("type"), checksum.get("value")
            expected = {"sha1": item.sha1, "sha256": item.sha256}.get(str(kind))
            if expected and isinstance(value, str) and value.lower() != expected.lower():
                problems.append(Mismatch(item.path, "deposit.mismatch.checksum", {"kind": kind}))
    return problems
