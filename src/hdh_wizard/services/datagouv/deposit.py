"""Run a deposit: the dataset page, then each file, then a check of what the server holds.

Used by the deposit screen (in a worker thread) and by `hdh-wizard publish`. Every change the
server accepts is handed to `save` at once (the dataset's id as soon as it exists, each chunk of
an upload, each verified file), so an interruption at any point resumes where it stopped and
never creates a second dataset or a duplicate resource.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hdh_wizard.core.deposit_plan import (
    Action,
    LocalFile,
    Mismatch,
    PlannedFile,
    compare_with_server,
    plan_deposit,
    unsupported_formats,
)
from hdh_wizard.core.documentation import Documentation, dataset_payload
from hdh_wizard.core.portal_records import DatasetRecord, DepositedFile
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.errors import ApiError, ErrorKind
from hdh_wizard.services.datagouv.resource_order import (
    OrderedResource,
    put_in_order,
    resource_group,
)
from hdh_wizard.services.datagouv.upload import (
    ChunkedUpload,
    FileDigests,
    check_uploaded,
    file_digests,
)
from hdh_wizard.services.progress import UploadProgress


class DepositError(HdhWizardError):
    """The deposit stopped on this side: a file changed, or the server's copy differs."""


@dataclass(frozen=True)
class DepositEvent:
    """What the screen or the command shows while a deposit runs."""

    kind: str  # dataset, hashing, uploading, file_done, deleted, verified
    path: str = ""
    action: Action | None = None
    progress: UploadProgress | None = None
    index: int = 0  # the file's position among those to send (1-based)
    count: int = 0


@dataclass(frozen=True)
class DepositOutcome:
    record: DatasetRecord
    plan: tuple[PlannedFile, ...]
    mismatches: tuple[Mismatch, ...] = ()

    @property
    def verified(self) -> bool:
        return not self.mismatches


@dataclass
class DepositRun:
    client: DataGouvClient
    site: str
    folder: Path
    files: Sequence[LocalFile]
    payload: Mapping[str, Any]  # the documentation as udata's dataset body (without `private`)
    describe: Callable[[LocalFile, FileDigests], str]  # the resource's description
    save: Callable[[DatasetRecord], None]
    on_event: Callable[[DepositEvent], None] = lambda _event: None
    cancel: threading.Event = field(default_factory=threading.Event)
    chunk_size: int | None = None

    def absolute(self, path: str) -> Path:
        stored = Path(path)
        return stored if stored.is_absolute() else self.folder / stored

    # --- the dataset ---------------------------------------------------------------------------

    def ensure_dataset(self, record: DatasetRecord | None) -> tuple[DatasetRecord, dict[str, Any]]:
        """The dataset, created as a private draft the first time, its metadata updated after."""
        if record is not None:
            try:
                current = self.client.dataset(record.dataset_id)
            except ApiError as error:
                if error.kind not in (ErrorKind.NOT_FOUND, ErrorKind.GONE):
                    raise
                record = None  # deleted on data.gouv.fr: a new one is made below
            else:
                if current.get("deleted"):
                    record = None
                else:
                    # Keep its visibility: a published dataset stays published when updated.
                    body = {**self.payload, "private": bool(current.get("private", True))}
                    updated = self.client.update_dataset(record.dataset_id, body)
                    self.on_event(DepositEvent("dataset"))
                    return self._with_page(record, updated), updated
        created = self.client.create_dataset({**self.payload, "private": True})
        record = self._with_page(DatasetRecord(self.site, str(created["id"])), created)
        self.save(record)  # at once: a crash now must not lead to a second dataset
        self.on_event(DepositEvent("dataset"))
        return record, created

    @staticmethod
    def _with_page(record: DatasetRecord, dataset: Mapping[str, Any]) -> DatasetRecord:
        return replace(
            record,
            slug=str(dataset.get("slug") or record.slug),
            page=str(dataset.get("page") or record.page),
        )

    # --- the files -----------------------------------------------------------------------------

    def run(self, record: DatasetRecord | None) -> DepositOutcome:
        # Before anything is created: a refused extension would stop the deposit half-way.
        refused = unsupported_formats(self.files, self.client.allowed_extensions())
        if refused:
            raise DepositError("deposit.refused", paths=", ".join(f.path for f in refused))
        record, dataset = self.ensure_dataset(record)
        plan = plan_deposit(self.files, record, dataset.get("resources") or [])
        to_send = [p for p in plan if p.action in (Action.UPLOAD, Action.REPLACE)]
        for index, planned in enumerate(to_send, start=1):
            record = self._send(record, planned, index, len(to_send))
        for planned in plan:
            if planned.action is Action.DELETE and planned.deposited is not None:
                self.client.delete_resource(record.dataset_id, planned.deposited.resource_id)
                record = replace(
                    record, files=tuple(f for f in record.files if f.path != planned.path)
                )
                self.save(record)
                self.on_event(DepositEvent("deleted", planned.path, Action.DELETE))
        self._drop_duplicates(record)
        self.put_in_order(record)
        mismatches = self.verify(record)
        return DepositOutcome(record, tuple(plan), tuple(mismatches))

    def put_in_order(self, record: DatasetRecord) -> None:
        """The page in the guide's order (tables, images, documents), each group in the
        release's order: udata put each new file first."""
        rank = {f.path: i for i, f in enumerate(self.files)}
        ours = [
            OrderedResource(
                f.resource_id,
                resource_group(
                    LocalFile(f.path, f.size, 0).format, documentation=f.kind == "documentation"
                ),
                rank.get(f.path, len(rank)),
            )
            for f in record.files
        ]
        put_in_order(self.client, record.dataset_id, ours)

    def _drop_duplicates(self, record: DatasetRecord) -> None:
        """An upload whose answer was lost may have been stored twice: an uploaded file bearing
        the title of a deposited one, but not recorded, is that copy. It goes."""
        dataset = self.client.dataset(record.dataset_id)
        ours = {f.resource_id for f in record.files}
        titles = {f.title for f in record.files}
        for resource in dataset.get("resources") or []:
            rid, title = resource.get("id"), resource.get("title")
            if resource.get("filetype") == "file" and rid not in ours and title in titles:
                self.client.delete_resource(record.dataset_id, str(rid))

    def _send(
        self, record: DatasetRecord, planned: PlannedFile, index: int, count: int
    ) -> DatasetRecord:
        local = planned.local
        assert local is not None
        path = self.absolute(local.path)
        self.on_event(DepositEvent("hashing", local.path, planned.action, None, index, count))
        digests = file_digests(path, cancel=self.cancel)
        if digests.size != local.size:
            raise DepositError("deposit.error.changed_while_sending", path=local.path)
        resume = self._resume_state(record, local, planned)
        replacing = (
            planned.deposited.resource_id
            if planned.action is Action.REPLACE and planned.deposited is not None
            else None
        )

        def chunk_done(state: ChunkedUpload) -> None:
            nonlocal record
            record = replace(record, uploads={**record.uploads, local.path: state.to_dict()})
            self.save(record)

        def progress(update: UploadProgress) -> None:
            self.on_event(
                DepositEvent("uploading", local.path, planned.action, update, index, count)
            )

        options: dict[str, Any] = {}
        if self.chunk_size is not None:
            options["chunk_size"] = self.chunk_size
        try:
            resource = self.client.upload_file(
                record.dataset_id,
                path,
                resource_id=replacing,
                filename=local.upload_name,
                progress=progress,
                cancel=self.cancel,
                resume=resume,
                on_chunk=chunk_done,
                **options,
            )
        except ApiError as error:
            if (
                error.upload is None
                and error.kind is not ErrorKind.CANCELLED
                and local.path in record.uploads
            ):
                # Nothing to resume (the server lost or refused the parts): start over next time.
                uploads = {k: v for k, v in record.uploads.items() if k != local.path}
                record = replace(record, uploads=uploads)
                self.save(record)
            raise
        resource_id = str(resource["id"])
        # Recorded at once, as not yet verified (mtime -1 never matches a file): should anything
        # stop us now, the next run replaces this resource instead of adding a second one.
        unverified = DepositedFile(
            local.path, resource_id, digests.size, -1, "", "", local.name, "", local.kind
        )
        record = self._with_file(record, unverified)
        self.save(record)
        if check_uploaded(resource, digests):
            raise DepositError("deposit.error.server_copy_differs", path=local.path)
        resource = self.client.update_resource(
            record.dataset_id,
            resource_id,
            {
                "title": local.name,
                "description": self.describe(local, digests),
                "type": local.kind,
                "format": local.format,
            },
        )
        deposited = replace(
            unverified,
            mtime_ns=local.mtime_ns,
            sha256=digests.sha256,
            sha1=digests.sha1,
            url=str(resource.get("url", "")),
        )
        record = self._with_file(record, deposited)
        self.save(record)
        self.on_event(DepositEvent("file_done", local.path, planned.action, None, index, count))
        return record

    @staticmethod
    def _with_file(record: DatasetRecord, deposited: DepositedFile) -> DatasetRecord:
        others = tuple(f for f in record.files if f.path != deposited.path)
        uploads = {k: v for k, v in record.uploads.items() if k != deposited.path}
        return replace(record, files=(*others, deposited), uploads=uploads)

    def _resume_state(
        self, record: DatasetRecord, local: LocalFile, planned: PlannedFile
    ) -> ChunkedUpload | None:
        """An unfinished upload of this very file (same size and time) resumes; else none."""
        saved = record.uploads.get(local.path)
        if saved is None:
            return None
        state = ChunkedUpload.from_dict(saved)
        replacing = (
            planned.deposited.resource_id
            if planned.action is Action.REPLACE and planned.deposited is not None
            else None
        )
        if (
            state is None
            or state.size != local.size
            or state.mtime_ns != local.mtime_ns
            or state.dataset_id != record.dataset_id
            or state.resource_id != replacing
        ):
            return None
        return state

    # --- the check -----------------------------------------------------------------------------

    def verify(self, record: DatasetRecord) -> list[Mismatch]:
        """What the server holds now, file by file, against what was sent."""
        dataset = self.client.dataset(record.dataset_id)
        mismatches = compare_with_server(record.files, dataset.get("resources") or [])
        expected = {f.path for f in self.files}
        deposited = {f.path for f in record.files}
        for path in sorted(expected - deposited):
            mismatches.append(Mismatch(path, "deposit.mismatch.not_sent", {}))
        self.on_event(DepositEvent("verified"))
        return mismatches


def dataset_body(
    client: DataGouvClient,
    doc: Documentation,
    organization_id: str,
    record: DatasetRecord | None,
) -> dict[str, Any]:
    """The dataset's metadata as udata takes it; the contact point, which udata takes by id
    only, is found among the organization's or created."""
    known = {license.id for license in client.licenses()}
    if doc.license not in known:
        # udata would save an unknown id silently as "notspecified".
        raise DepositError("doc.problem.license_unknown", license=doc.license)
    contact_id = None
    if doc.contact_name.strip() or doc.contact_email.strip():
        contact_id = client.ensure_contact_point(
            organization_id, name=doc.contact_name.strip(), email=doc.contact_email.strip()
        )
    return dataset_payload(doc, organization_id, private=True, contact_point_id=contact_id)


def interrupted_uploads(record: DatasetRecord | None) -> dict[str, ChunkedUpload]:
    """The uploads stopped half-way (path → what the server acknowledged), from the state:
    the next run resumes each at its first missing part. An unreadable entry is left out (that
    file is sent again from the start)."""
    if record is None:
        return {}
    found: dict[str, ChunkedUpload] = {}
    for path, saved in record.uploads.items():
        state = ChunkedUpload.from_dict(saved)
        if state is not None and state.dataset_id == record.dataset_id:
            found[path] = state
    return found
