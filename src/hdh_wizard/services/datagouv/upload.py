"""File uploads to udata: one request, or chunks then an assembly, resumable after a crash.

The protocol is udata's own (udata/core/storages/api.py, `handle_upload`), as data.gouv.fr's
front-end speaks it (datagouv/cdata, utils/datasets.ts `sendFile`):
- a file of at most one chunk: one multipart POST with `file`;
- a larger one: one POST per part with `file, uuid, filename, partindex, totalparts,
  chunksize`, each answered 200 `{"success": true}`; then one POST with `uuid, filename,
  totalparts` and no `file`, which joins the parts and answers 201 with the resource.
Endpoints: `/datasets/{id}/upload/` makes a new resource, `/datasets/{id}/resources/{rid}/upload/`
replaces the file of an existing one.

What the real server does, and what this module does about it:
- A part already stored is never overwritten: sending the same `uuid` + `partindex` again is
  a 500 (flask-storage `FileExists`: udata's `chunks` storage has `overwrite=False`). So a
  part is sent again only after a failure that left it unsent, and a 500 on a part that may
  already be there (its previous attempt got no clear answer, or it is the first part after
  a resume) means "already stored". The assembly then proves it: a missing part makes it
  fail, and the digest the server returns is checked against the local file
  (`check_uploaded`).
- Parts are kept `UPLOAD_MAX_RETENTION` = 24 h after the last one (udata/settings.py), then
  purged by the `purge-chunks` job (udata/core/storages/tasks.py): an older upload starts
  over instead of resuming.
- The stored file is named `<dataset slug>/<UTC time to the second>/<slugified file name>`,
  and never overwritten: the same name twice in one second is a 500. Each upload therefore
  sends a unique name (`patients-1a2b3c4d.csv`, the token taken from its uuid); the
  resource's title, which udata sets to the stored name, is put back to the file's own
  name. The token also finds the resource again when the answer to the creating request was
  lost, so that a retry never makes a duplicate.
- The server checks each part's size against the `chunksize` sent with it, and nothing else
  (not the total): `check_uploaded` compares the size and sha1 it reports with the file.

Resuming: `on_chunk` gets a `ChunkedUpload` to save once the upload is planned (before anything
is sent) and after each part the server acknowledged; given back as `resume`, only the missing
parts are sent, under the same uuid. It is ignored (the upload starts over) when the file's
name, size or modification time differ, or when it is older than the server keeps parts.
An ApiError raised part-way carries it as `error.upload`.

Chunk size: 20 MB by default, data.gouv.fr's front-end value (datagouv/cdata,
nuxt.config.ts: `resourceFileUploadChunk: 20 * 1000 * 1000`, commit 29a5b54); a request much
larger may be refused by the portal's reverse proxy. Parts are read one window at a time: the
file is never held in memory.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import time
import uuid as uuid_module
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import httpx

from hdh_wizard.services.datagouv.errors import ApiError, ErrorKind
from hdh_wizard.services.datagouv.retry import RetryMode as _Mode
from hdh_wizard.services.datagouv.retry import (
    backoff_delay,
    never_reached_server,
    retry_after_seconds,
    status_is_retryable,
    transport_error_is_retryable,
)
from hdh_wizard.services.progress import UploadProgress

if TYPE_CHECKING:
    from hdh_wizard.services.datagouv.client import DataGouvClient

DEFAULT_CHUNK_SIZE = 20_000_000
MIN_CHUNK_SIZE = 1024
CHUNK_RETENTION_SECONDS = 24 * 3600  # udata's UPLOAD_MAX_RETENTION
RESUME_MAX_AGE_SECONDS = CHUNK_RETENTION_SECONDS - 3600  # a margin before the purge
_READ_BLOCK = 1024 * 1024
_TOKEN_LENGTH = 8


@dataclass(frozen=True)
class ChunkedUpload:
    """Everything needed to resume an upload: safe to write in the state file (no secret)."""

    uuid: str
    filename: str  # the unique name sent to the server, see `unique_upload_name`
    size: int
    mtime_ns: int
    chunk_size: int
    total_parts: int
    done_parts: int  # parts 0 … done_parts-1 are acknowledged by the server
    dataset_id: str
    resource_id: str | None  # None: a new resource; else the resource whose file is replaced
    title: str = ""  # the resource title to show: the local file's own name
    updated_at: float = 0.0  # time.time() of the plan or of the last acknowledged part

    @property
    def token(self) -> str:
        return upload_token(self.uuid)

    @property
    def sent_bytes(self) -> int:
        return min(self.size, self.done_parts * self.chunk_size)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> ChunkedUpload | None:
        """Read back `to_dict()`; anything inconsistent reads as None (start over)."""
        if not isinstance(data, Mapping):
            return None
        try:
            values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
            upload = cls(**values)
        except (TypeError, KeyError):
            return None
        return upload if upload._consistent() else None

    def _consistent(self) -> bool:
        ints = (self.size, self.mtime_ns, self.chunk_size, self.total_parts, self.done_parts)
        if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in ints):
            return False
        texts = (self.uuid, self.filename, self.dataset_id, self.title)
        if any(not isinstance(v, str) for v in texts) or not self.filename or not self.dataset_id:
            return False
        if self.resource_id is not None and not (
            isinstance(self.resource_id, str) and self.resource_id
        ):
            return False
        if not isinstance(self.updated_at, int | float) or isinstance(self.updated_at, bool):
            return False
        try:
            uuid_module.UUID(self.uuid)
        except ValueError:
            return False
        return (
            self.chunk_size >= MIN_CHUNK_SIZE
            and self.total_parts == parts_for(self.size, self.chunk_size)
            and self.done_parts <= self.total_parts
        )

    def matches(
        self, path: Path, dataset_id: str, resource_id: str | None, name: str | None = None
    ) -> bool:
        """Is this the upload of this very file (same name, size and modification time)?
        `name`: the name it is stored under, when not the file's own."""
        try:
            stat = path.stat()
        except OSError:
            return False
        return (
            self.dataset_id == dataset_id
            and self.resource_id == resource_id
            and self.size == stat.st_size
            and self.mtime_ns == stat.st_mtime_ns
            and self.filename == unique_upload_name(name or path.name, self.uuid)
        )

    def expired(self, now: float | None = None) -> bool:
        """Too old: the server may have purged its parts. Unknown age is not expired."""
        if not self.updated_at:
            return False
        return (now if now is not None else time.time()) - self.updated_at > RESUME_MAX_AGE_SECONDS


def parts_for(size: int, chunk_size: int) -> int:
    return max(1, math.ceil(size / chunk_size))


def upload_token(upload_uuid: str) -> str:
    return upload_uuid.replace("-", "").lower()[:_TOKEN_LENGTH]


def unique_upload_name(name: str, upload_uuid: str) -> str:
    """`patients.csv` → `patients-1a2b3c4d.csv`: the token goes before every extension
    (`base.csv.gz` → `base-1a2b3c4d.csv.gz`), so the server still sees the right format."""
    token = upload_token(upload_uuid)
    dot = name.find(".", 1)
    if dot == -1:
        return f"{name}-{token}"
    return f"{name[:dot]}-{token}{name[dot:]}"


def _stored_name(resource: Mapping[str, Any]) -> str:
    url = resource.get("url")
    if not isinstance(url, str):
        return ""
    return url.rstrip("/").rsplit("/", 1)[-1].lower()


def carries_token(resource: Mapping[str, Any], token: str) -> bool:
    """Was this resource's file stored by the upload with this token?"""
    stored = _stored_name(resource)
    marker = f"-{token}"
    return stored.endswith(marker) or f"{marker}." in stored


# ---------------------------------------------------------------------------------------------
# Verification


@dataclass(frozen=True)
class FileDigests:
    size: int
    sha1: str  # what udata computes on an uploaded file
    sha256: str  # what the wizard publishes as the resource's checksum


def file_digests(
    path: Path,
    progress: Callable[[UploadProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> FileDigests:
    """Size, SHA-1 and SHA-256 of a file in one read. `cancel` → ApiError(CANCELLED)."""
    sha1, sha256 = hashlib.sha1(), hashlib.sha256()
    started = time.monotonic()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        while True:
            if cancel is not None and cancel.is_set():
                raise ApiError(ErrorKind.CANCELLED)
            block = handle.read(_READ_BLOCK)
            if not block:
                break
            sha1.update(block)
            sha256.update(block)
            done += len(block)
            if progress is not None:
                progress(UploadProgress(done, max(total, done), time.monotonic() - started))
    return FileDigests(done, sha1.hexdigest(), sha256.hexdigest())


def check_uploaded(resource_json: Mapping[str, Any], digests: FileDigests) -> list[str]:
    """What the server holds, against the local file: catalogue keys of the differences."""
    problems: list[str] = []
    filesize = resource_json.get("filesize")
    if not isinstance(filesize, int) or isinstance(filesize, bool):
        problems.append("datagouv.verify.size_missing")
    elif filesize != digests.size:
        problems.append("datagouv.verify.size_mismatch")
    checksum = resource_json.get("checksum")
    kind = value = ""
    if isinstance(checksum, Mapping):
        kind = str(checksum.get("type") or "").lower()
        value = str(checksum.get("value") or "").lower()
    if not value:
        problems.append("datagouv.verify.checksum_missing")
    elif kind not in ("sha1", "sha256"):
        problems.append("datagouv.verify.checksum_unsupported")
    elif value != (digests.sha1 if kind == "sha1" else digests.sha256):
        problems.append("datagouv.verify.checksum_mismatch")
    return problems


# ---------------------------------------------------------------------------------------------
# Sending


class _Window:
    """A read-only view of `length` bytes of `handle` from `offset`, reporting each read.

    httpx reads a file field 64 KiB at a time (seeking to 0 first, so a retry resends it
    whole), which gives the progress bar its steps within a part.
    """

    def __init__(
        self,
        handle: IO[bytes],
        offset: int,
        length: int,
        on_read: Callable[[int], None],
        stop: Callable[[], None] = lambda: None,
    ) -> None:
        self._handle = handle
        self._offset = offset
        self._length = length
        self._position = 0
        self._on_read = on_read
        self._stop = stop  # raises to abandon the request (cancel), checked before each read

    def read(self, size: int = -1) -> bytes:
        self._stop()  # a 20 MB part on a slow line: cancel must not wait for its end
        remaining = self._length - self._position
        if size < 0 or size > remaining:
            size = remaining
        if size <= 0:
            return b""
        self._handle.seek(self._offset + self._position)
        data = self._handle.read(size)
        self._position += len(data)
        self._on_read(self._position)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._length}[whence]
        self._position = max(0, min(self._length, base + offset))
        return self._position

    def tell(self) -> int:
        return self._position


class _Uploader:
    """One run of `DataGouvClient.upload_file`."""

    def __init__(
        self,
        client: DataGouvClient,
        dataset_id: str,
        path: Path,
        *,
        resource_id: str | None,
        filename: str | None,
        chunk_size: int,
        progress: Callable[[UploadProgress], None] | None,
        cancel: threading.Event | None,
        resume: ChunkedUpload | None,
        on_chunk: Callable[[ChunkedUpload], None] | None,
    ) -> None:
        if chunk_size < MIN_CHUNK_SIZE:
            raise ValueError(f"chunk_size must be at least {MIN_CHUNK_SIZE} bytes")
        self.client = client
        self.dataset_id = dataset_id
        self.path = path
        self.resource_id = resource_id
        self.name = filename or path.name
        self.chunk_size = chunk_size
        self.progress = progress
        self.cancel = cancel
        self.resume = resume
        self.on_chunk = on_chunk
        self.started = time.monotonic()
        self.reported = 0
        self.start_bytes = 0
        self.policy = client.retry_policy

    # -- the whole run

    def run(self) -> dict[str, Any]:
        stat = self.path.stat()
        upload = self._usable_resume()
        resumed = upload is not None
        if upload is None:
            upload = self._plan(stat)
            self._persist(upload)
        self.start_bytes = self.reported = upload.sent_bytes
        with self.path.open("rb") as handle:
            if resumed and (upload.done_parts >= upload.total_parts or upload.total_parts == 1):
                # The previous run may have died after the server made the resource.
                found = self._find(upload)
                if found is not None:
                    return self._finish(found, upload)
            if upload.total_parts == 1:
                whole = upload
                resource = self._create(whole, lambda: self._post_whole(whole, handle))
            else:
                upload = sent = self._send_parts(upload, handle, resumed)
                resource = self._create(sent, lambda: self._post_assembly(sent))
        return self._finish(resource, upload)

    def _usable_resume(self) -> ChunkedUpload | None:
        resume = self.resume
        if resume is None or not resume._consistent():
            return None
        if not resume.matches(self.path, self.dataset_id, self.resource_id, self.name):
            return None  # another file
        if resume.expired():
            return None  # too old for the server to have kept its parts
        return resume

    def _plan(self, stat: os.stat_result) -> ChunkedUpload:
        title = self.path.name
        if self.resource_id is not None:
            # Replacing a file keeps the resource's title: udata would set the stored name.
            current = self.client.resource(self.dataset_id, self.resource_id)
            title = str(current.get("title") or title)
        upload_uuid = str(uuid_module.uuid4())
        return ChunkedUpload(
            uuid=upload_uuid,
            filename=unique_upload_name(self.name, upload_uuid),
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            chunk_size=self.chunk_size,
            total_parts=parts_for(stat.st_size, self.chunk_size),
            done_parts=0,
            dataset_id=self.dataset_id,
            resource_id=self.resource_id,
            title=title,
            updated_at=time.time(),
        )

    def _finish(self, resource: Mapping[str, Any], upload: ChunkedUpload) -> dict[str, Any]:
        resource_id = resource.get("id")
        if not isinstance(resource_id, str) or not resource_id:
            raise ApiError(ErrorKind.UNEXPECTED, message="no resource id", path=self._path())
        result = dict(resource)
        title = upload.title or self.path.name
        if result.get("title") != title:
            try:
                result = self.client.update_resource(self.dataset_id, resource_id, {"title": title})
            except ApiError as error:
                # The file is on the server: resuming finds it and only sets the title.
                done = replace(upload, done_parts=upload.total_parts, updated_at=time.time())
                raise error.with_upload(done) from None
        self._report(upload.size, upload.size)
        return result

    # -- helpers

    def _path(self) -> str:
        if self.resource_id is None:
            return f"/datasets/{self.dataset_id}/upload/"
        return f"/datasets/{self.dataset_id}/resources/{self.resource_id}/upload/"

    def _persist(self, upload: ChunkedUpload) -> None:
        if self.on_chunk is not None:
            self.on_chunk(upload)

    def _report(self, sent: int, total: int) -> None:
        sent = max(self.reported, min(sent, total))  # never backwards, even when a part is resent
        self.reported = sent
        if self.progress is not None:
            elapsed = time.monotonic() - self.started
            self.progress(UploadProgress(sent, total, elapsed, self.start_bytes))

    def _check_cancel(self, upload: ChunkedUpload) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise ApiError(ErrorKind.CANCELLED, method="POST", path=self._path(), upload=upload)

    def _check_unchanged(self, upload: ChunkedUpload) -> None:
        try:
            stat = self.path.stat()
        except OSError as exc:
            raise ApiError(ErrorKind.FILE_CHANGED, message=str(exc), path=self._path()) from None
        if stat.st_size != upload.size or stat.st_mtime_ns != upload.mtime_ns:
            raise ApiError(ErrorKind.FILE_CHANGED, path=self._path())

    def _wait(
        self, attempt: int, response: httpx.Response | None = None, floor: float = 0.0
    ) -> bool:
        """Sleep before the next attempt; False when the server asks to wait too long."""
        delay = backoff_delay(self.policy, attempt)
        if response is not None and response.status_code in (429, 503):
            asked = retry_after_seconds(response.headers.get("Retry-After"))
            if asked is not None:
                if asked > self.policy.max_retry_after:
                    return False
                delay = asked
        self.client.sleep(max(delay, floor))
        return True

    def _json_of(self, response: httpx.Response, upload: ChunkedUpload) -> Any:
        try:
            return self.client.json_of(response, "POST", self._path())
        except ApiError as error:
            raise error.with_upload(upload) from None

    def _failure(
        self, error: httpx.TransportError, attempts: int, upload: ChunkedUpload
    ) -> ApiError:
        return self.client.transport_failure(error, "POST", self._path(), attempts).with_upload(
            upload
        )

    # -- the parts

    def _send_parts(self, upload: ChunkedUpload, handle: IO[bytes], resumed: bool) -> ChunkedUpload:
        first = upload.done_parts
        for index in range(first, upload.total_parts):
            self._send_part(upload, index, handle, maybe_stored=resumed and index == first)
            upload = replace(upload, done_parts=index + 1, updated_at=time.time())
            self._persist(upload)
            self._report(upload.sent_bytes, upload.size)
        return upload

    def _send_part(
        self, upload: ChunkedUpload, index: int, handle: IO[bytes], *, maybe_stored: bool
    ) -> None:
        offset = index * upload.chunk_size
        length = min(upload.chunk_size, upload.size - offset)
        attempt = 0
        while True:
            attempt += 1
            self._check_cancel(upload)
            self._check_unchanged(upload)
            window = _Window(
                handle,
                offset,
                length,
                lambda read: self._report(offset + read, upload.size),
                lambda: self._check_cancel(upload),
            )
            form = {
                "uuid": upload.uuid,
                "filename": upload.filename,
                "partindex": str(index),
                "totalparts": str(upload.total_parts),
                "chunksize": str(length),
            }
            try:
                response = self.client.send(
                    "POST",
                    self._path(),
                    data=form,
                    files={"file": ("blob", window, "application/octet-stream")},
                )
            except httpx.TransportError as exc:
                if attempt >= self.policy.attempts or not transport_error_is_retryable(
                    exc, _Mode.CHUNK
                ):
                    raise self._failure(exc, attempt, upload) from None
                # Unless the connection never opened, the part may have reached the server.
                maybe_stored = maybe_stored or not never_reached_server(exc)
                self._wait(attempt)
                continue
            status = response.status_code
            if response.is_success:
                body = self._json_of(response, upload)
                if isinstance(body, Mapping) and body.get("success") is False:
                    raise ApiError(
                        ErrorKind.INVALID,
                        status=status,
                        message=str(body.get("error") or ""),
                        method="POST",
                        path=self._path(),
                        attempts=attempt,
                        upload=upload,
                    )
                return
            if status == 500 and maybe_stored:
                return  # udata refuses to store a part twice: it is already there
            if attempt < self.policy.attempts and status_is_retryable(status, _Mode.CHUNK):
                maybe_stored = maybe_stored or status in (502, 504)
                if self._wait(attempt, response):
                    continue
            raise self.client.response_error(response, "POST", self._path(), attempt).with_upload(
                upload
            )

    def _post_whole(self, upload: ChunkedUpload, handle: IO[bytes]) -> httpx.Response:
        window = _Window(
            handle,
            0,
            upload.size,
            lambda read: self._report(read, upload.size),
            lambda: self._check_cancel(upload),
        )
        return self.client.send(
            "POST",
            self._path(),
            files={"file": (upload.filename, window, "application/octet-stream")},
        )

    def _post_assembly(self, upload: ChunkedUpload) -> httpx.Response:
        form = {
            "uuid": upload.uuid,
            "filename": upload.filename,
            "totalparts": str(upload.total_parts),
        }
        # The server joins and digests the whole file before it answers: wait longer.
        base = self.client.timeout
        timeout = httpx.Timeout(base, read=max(base, 60.0 + upload.size / 10_000_000))
        return self.client.send("POST", self._path(), data=form, timeout=timeout)

    # -- the request that makes (or replaces) the resource

    def _create(
        self, upload: ChunkedUpload, send: Callable[[], httpx.Response]
    ) -> Mapping[str, Any]:
        """Send the creating request; when its fate is unknown, look before sending it again."""
        attempt = 0
        while True:
            attempt += 1
            self._check_cancel(upload)
            self._check_unchanged(upload)
            try:
                response = send()
            except httpx.TransportError as exc:
                if not transport_error_is_retryable(exc, _Mode.IDEMPOTENT):
                    raise self._failure(exc, attempt, upload) from None
                if not never_reached_server(exc):
                    found = self._look_again(upload)
                    if found is not None:
                        return found
                    # Its fate is unknown (a slow server may still store it): sending it again
                    # could publish the file twice. The next run finds it by its token.
                    raise self._failure(exc, attempt, upload) from None
                if attempt >= self.policy.attempts:
                    raise self._failure(exc, attempt, upload) from None
                self._wait(attempt, floor=1.0)
                continue
            status = response.status_code
            if response.is_success:
                body = self._json_of(response, upload)
                if not isinstance(body, Mapping):
                    raise ApiError(
                        ErrorKind.UNEXPECTED, method="POST", path=self._path(), upload=upload
                    )
                return body
            if status in (500, 502, 504):
                # The server may have made the resource before failing to answer.
                found = self._look_again(upload)
                if found is not None:
                    return found
            # A 500 is not sent again: a failed assembly leaves a partial file, and the same
            # name in the same second is refused; resuming later tries again.
            retryable = status in (429, 502, 503, 504)
            if attempt < self.policy.attempts and retryable and self._wait(attempt, response, 1.0):
                continue
            # A failed assembly (500) leaves a partial file under this uuid, and may come from a
            # part taken for "already stored" that was not: the next run starts over.
            start_over = status == 500 and upload.total_parts > 1
            error = self.client.response_error(response, "POST", self._path(), attempt)
            raise error.with_upload(None if start_over else upload)

    def _look_again(self, upload: ChunkedUpload) -> Mapping[str, Any] | None:
        # The server writes the resource once the file is stored: give it a moment.
        self.client.sleep(max(1.0, backoff_delay(self.policy, 1)))
        return self._find(upload)

    def _find(self, upload: ChunkedUpload) -> Mapping[str, Any] | None:
        """The resource this upload made, if the server has it (found by the name's token)."""
        try:
            if self.resource_id is not None:
                resource = self.client.resource(self.dataset_id, self.resource_id)
                return resource if carries_token(resource, upload.token) else None
            dataset = self.client.dataset(self.dataset_id)
        except ApiError as error:
            raise error.with_upload(upload) from None
        resources = dataset.get("resources")
        if isinstance(resources, list):
            for resource in resources:
                if isinstance(resource, Mapping) and carries_token(resource, upload.token):
                    return resource
        return None
