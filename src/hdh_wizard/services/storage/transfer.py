"""Sending files to HDH's storage: checked, in parallel, and resumable after a crash.

A file of at most one part goes in one PutObject. A larger one is a multipart upload:
- the whole file's SHA-256 is computed first (or given: the inspection's, while the file is
  the one it read) and set as the object's metadata (`x-amz-meta-sha256`) when the upload is
  created;
- its parts (8 MiB, doubled until the file fits in S3's 10 000 parts) are read and sent by a
  small pool of threads, each with its Content-MD5 (and CRC32), which the server checks; the
  ETag it answers (the MD5 of what it stored, on S3 and the stores that copy it) is compared
  with the local part, and a part that does not match is sent again. Each worker reads its
  part once, into a buffer it keeps from part to part, and hashes and sends it from there;
- `on_state` gets a `MultipartState` (the upload id and the finished parts, safe to write in
  the state file) once the upload is created, then after each part the server acknowledged.
  While it is saved, the workers set free read and hash the next parts; they send them once
  it is saved, unless a cancel came meanwhile.

Given back as `resume`, that state sends only what is missing: the server's list of parts
(ListParts) is trusted only where a part's size and ETag match what was recorded (or, for a
part that finished after the last record, the local part's MD5). If the file changed (size or
modification time), the old upload is aborted (AbortMultipartUpload) and a new one starts;
if the server no longer has it, a new one starts too. A file already in place with the same
size and SHA-256 is not sent again.

Parts held in memory at once are bounded (`MEMORY_BUDGET`): at most workers × part size.
Progress is reported from the calling thread only (the screens' worker), a few times a second.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import mimetypes
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeGuard

from hdh_wizard.phases import phase
from hdh_wizard.services.progress import UploadProgress
from hdh_wizard.services.storage.config import (
    SHA256_METADATA,
    PartDigest,
    RemoteObject,
    StorageClient,
)
from hdh_wizard.services.storage.errors import StorageError, StorageErrorKind

MiB = 1024 * 1024
MIN_PART_SIZE = 5 * MiB  # S3's smallest part (but the last)
DEFAULT_PART_SIZE = 8 * MiB  # boto3's TransferManager's
MAX_PART_SIZE = 5 * 1024 * MiB
MAX_PARTS = 10_000
MAX_OBJECT_SIZE = 5 * 1024 * 1024 * MiB  # 5 TiB
# Parts under way at once: as many as keep a store busy that takes its time with each part
# (boto3's TransferManager runs 10), within `connect`'s 10 connections.
DEFAULT_WORKERS = 8
MAX_WORKERS = 32
MEMORY_BUDGET = 512 * MiB  # parts held in memory at once, at most
PART_ATTEMPTS = 3  # sends of one part whose ETag does not match (botocore retries the rest)
_HASH_BLOCK = 8 * MiB
_TICK = 0.2  # seconds between two progress reports while parts are under way
_MD5_HEX = re.compile(r"[0-9a-f]{32}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_MAX_TEXT = 2048


def parts_for(size: int, part_size: int) -> int:
    return max(1, math.ceil(size / part_size))


def choose_part_size(size: int, minimum: int = DEFAULT_PART_SIZE) -> int:
    """`minimum` (at least 5 MiB), doubled until `size` fits in 10 000 parts.

    Raises StorageError(TOO_LARGE) above S3's 5 TiB per object.
    """
    if size > MAX_OBJECT_SIZE:
        raise StorageError(StorageErrorKind.TOO_LARGE)
    part = max(MIN_PART_SIZE, minimum)
    while parts_for(size, part) > MAX_PARTS:
        part *= 2
    return min(part, MAX_PART_SIZE)


# ---------------------------------------------------------------------------------------------
# What is recorded to resume


@dataclass(frozen=True)
class MultipartState:
    """A multipart upload under way: safe to write in the state file (no secret).

    `parts`: (part number, ETag, CRC32) of the parts the server acknowledged, sorted by
    number; the CRC32 (base64) is "" unless the upload declared `checksum_algorithm` CRC32,
    whose completion must list each part's.
    """

    bucket: str
    key: str
    upload_id: str
    size: int
    mtime_ns: int
    part_size: int
    sha256: str
    parts: tuple[tuple[int, str, str], ...] = ()
    checksum_algorithm: str = ""  # "CRC32" or ""
    created_at: float = 0.0  # time.time() when the upload was created
    updated_at: float = 0.0  # … and when its last part was recorded

    @property
    def total_parts(self) -> int:
        return parts_for(self.size, self.part_size)

    @property
    def done_parts(self) -> int:
        return len(self.parts)

    @property
    def done_bytes(self) -> int:
        count = len(self.parts)
        if count and self.parts[-1][0] == self.total_parts:
            return (count - 1) * self.part_size + self.part_length(self.total_parts)
        return count * self.part_size

    def part_length(self, number: int) -> int:
        return max(0, min(self.part_size, self.size - (number - 1) * self.part_size))

    def missing(self) -> list[int]:
        """The part numbers not yet acknowledged, in order: the first is where it resumes."""
        done = {number for number, _, _ in self.parts}
        return [n for n in range(1, self.total_parts + 1) if n not in done]

    def with_part(
        self, number: int, etag: str, crc32: str = "", now: float | None = None
    ) -> MultipartState:
        others = [part for part in self.parts if part[0] != number]
        parts = tuple(sorted([*others, (number, etag, crc32)]))
        return replace(self, parts=parts, updated_at=time.time() if now is None else now)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "key": self.key,
            "upload_id": self.upload_id,
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "part_size": self.part_size,
            "sha256": self.sha256,
            "parts": [list(part) for part in self.parts],
            "checksum_algorithm": self.checksum_algorithm,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_dict(cls, data: object) -> MultipartState | None:
        """Read back `to_dict()` (from JSON or YAML); anything inconsistent reads as None."""
        if not isinstance(data, Mapping):
            return None
        texts = [data.get(name) for name in ("bucket", "key", "upload_id", "sha256")]
        ints = [data.get(name) for name in ("size", "mtime_ns", "part_size")]
        times = [data.get(name, 0.0) for name in ("created_at", "updated_at")]
        bucket, key, upload_id, sha256 = (v if isinstance(v, str) else "" for v in texts)
        size, mtime_ns, part_size = (v if _is_int(v) else -1 for v in ints)
        created_at, updated_at = (float(v) if _is_number(v) else math.nan for v in times)
        if not all(0 < len(v) <= _MAX_TEXT for v in (bucket, key, upload_id, sha256)):
            return None
        if min(size, mtime_ns, part_size) < 0 or math.isnan(created_at + updated_at):
            return None
        raw_parts = data.get("parts", [])
        if not isinstance(raw_parts, list | tuple):
            return None
        algorithm = data.get("checksum_algorithm", "")
        if not isinstance(algorithm, str):
            return None
        parts: dict[int, tuple[int, str, str]] = {}
        for item in raw_parts:
            if not isinstance(item, list | tuple) or len(item) not in (2, 3):
                return None
            number, etag, crc32 = (*item, "")[:3]
            if not _is_int(number) or number in parts:
                return None
            if not isinstance(etag, str) or not 0 < len(etag) <= _MAX_TEXT:
                return None
            if not isinstance(crc32, str) or len(crc32) > _MAX_TEXT:
                return None
            if algorithm and not crc32:
                return None  # its completion could not list this part's CRC32
            parts[number] = (number, etag, crc32)
        state = cls(
            bucket=bucket,
            key=key,
            upload_id=upload_id,
            size=size,
            mtime_ns=mtime_ns,
            part_size=part_size,
            sha256=sha256.lower(),
            parts=tuple(sorted(parts.values())),
            checksum_algorithm=algorithm,
            created_at=created_at,
            updated_at=updated_at,
        )
        return state if state._consistent() else None

    def _consistent(self) -> bool:
        return (
            MIN_PART_SIZE <= self.part_size <= MAX_PART_SIZE
            and self.part_size < self.size <= MAX_OBJECT_SIZE
            and self.total_parts <= MAX_PARTS
            and bool(_SHA256_HEX.fullmatch(self.sha256))
            and self.checksum_algorithm in ("", "CRC32")
            and all(1 <= part[0] <= self.total_parts for part in self.parts)
        )

    def matches(self, path: Path, bucket: str, key: str) -> bool:
        """Is this the upload of this very file (same size and modification time), here?"""
        try:
            stat = path.stat()
        except OSError:
            return False
        return (
            self.bucket == bucket
            and self.key == key
            and self.size == stat.st_size
            and self.mtime_ns == stat.st_mtime_ns
        )


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# ---------------------------------------------------------------------------------------------
# Progress and results


class TransferPhase(StrEnum):
    HASHING = "hashing"  # reading the file for its SHA-256
    CHECKING = "checking"  # asking the server what it already has
    UPLOADING = "uploading"
    DONE = "done"


@dataclass(frozen=True)
class TransferProgress:
    """Where a transfer stands: this file's bytes and the whole batch's (the same for one file).

    While hashing, `file` counts the bytes read; otherwise the bytes the server holds.
    """

    phase: TransferPhase
    key: str
    file: UploadProgress
    overall: UploadProgress
    index: int = 0  # this file's place in the batch, from 0
    count: int = 1


@dataclass(frozen=True)
class UploadResult:
    key: str
    size: int
    sha256: str
    etag: str
    skipped: bool = False  # already there (same size and SHA-256), or finished by an earlier run
    parts: int = 1  # 1: one PutObject; 0: nothing sent (skipped)
    reused_parts: int = 0  # parts found on the server when resuming, not sent again
    sent_bytes: int = 0  # bytes sent by this run
    elapsed: float = 0.0


@dataclass(frozen=True)
class FileToSend:
    path: Path
    key: str
    sha256: str | None = None  # known already (the release's file list): not read again


# ---------------------------------------------------------------------------------------------
# The public entry points


def upload_file(
    client: StorageClient,
    path: Path,
    key: str,
    *,
    sha256: str | None = None,
    part_size: int | None = None,
    workers: int = DEFAULT_WORKERS,
    resume: MultipartState | None = None,
    on_state: Callable[[MultipartState | None], None] | None = None,
    progress: Callable[[TransferProgress], None] | None = None,
    cancel: threading.Event | None = None,
    skip_existing: bool = True,
) -> UploadResult:
    """Send `path` to `key` in the client's bucket; see the module's doc.

    `sha256`: the file's SHA-256 (hex) when already known, else it is computed first.
    `part_size`: at least 5 MiB (default 8 MiB), raised if the file needs more than 10 000.
    `on_state` gets the state to save: once the multipart upload exists, after each part, and
    None when there is nothing (left) to resume. A failure or `cancel` raises StorageError;
    its `state` says where to resume (None: start over).
    """

    def report(phase: TransferPhase, file: UploadProgress) -> None:
        if progress is not None:
            progress(TransferProgress(phase, key, file, file))

    return _FileUpload(
        client,
        path,
        key,
        sha256=sha256,
        part_size=part_size,
        workers=workers,
        resume=resume,
        on_state=on_state,
        report=report,
        cancel=cancel,
        skip_existing=skip_existing,
    ).run()


def upload_files(
    client: StorageClient,
    files: Sequence[FileToSend],
    *,
    resume: Mapping[str, MultipartState] | None = None,
    on_state: Callable[[str, MultipartState | None], None] | None = None,
    progress: Callable[[TransferProgress], None] | None = None,
    cancel: threading.Event | None = None,
    part_size: int | None = None,
    workers: int = DEFAULT_WORKERS,
    skip_existing: bool = True,
) -> list[UploadResult]:
    """Send several files one after the other (each one's parts in parallel).

    `resume` and `on_state` are keyed by object key. Progress gives each file's and the
    batch's bytes. The first failure stops the batch: what was done stays done (skipped on
    the next run), and the failing file's state was saved to resume it.
    """
    sizes: list[int] = []
    for item in files:
        try:
            sizes.append(item.path.stat().st_size)
        except OSError as exc:
            raise _local_error(exc, item.key) from None
    total = sum(sizes)
    started = time.monotonic()
    done_before = 0
    start_before = 0  # bytes already on the server when the batch began (skipped, resumed)
    results: list[UploadResult] = []
    for index, item in enumerate(files):

        def report(
            phase: TransferPhase,
            file: UploadProgress,
            index: int = index,
            item: FileToSend = item,
            done_before: int = done_before,
            start_before: int = start_before,
        ) -> None:
            if progress is None:
                return
            sent = done_before + (file.sent if phase is not TransferPhase.HASHING else 0)
            start = start_before + (file.start if phase is not TransferPhase.HASHING else 0)
            overall = UploadProgress(sent, total, time.monotonic() - started, start)
            progress(TransferProgress(phase, item.key, file, overall, index, len(files)))

        def save(state: MultipartState | None, key: str = item.key) -> None:
            if on_state is not None:
                on_state(key, state)

        result = _FileUpload(
            client,
            item.path,
            item.key,
            sha256=item.sha256,
            part_size=part_size,
            workers=workers,
            resume=(resume or {}).get(item.key),
            on_state=save,
            report=report,
            cancel=cancel,
            skip_existing=skip_existing,
        ).run()
        results.append(result)
        done_before += sizes[index]
        start_before += max(0, result.size - result.sent_bytes)
    return results


def abandon(client: StorageClient, state: MultipartState) -> bool:
    """Give up a multipart upload for good (AbortMultipartUpload): the server frees its parts.
    False when the server no longer had it."""
    return client.abort(state.key, state.upload_id)


def file_sha256(
    path: Path,
    progress: Callable[[UploadProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> str:
    """The SHA-256 (hex) of a file, read once in large blocks. `cancel` → CANCELLED."""
    digest = hashlib.sha256()
    buffer = bytearray(_HASH_BLOCK)
    view = memoryview(buffer)
    started = time.monotonic()
    try:
        total = path.stat().st_size
        done = 0
        with path.open("rb", buffering=0) as handle:
            while True:
                if cancel is not None and cancel.is_set():
                    raise StorageError(StorageErrorKind.CANCELLED)
                count = handle.readinto(buffer)
                if not count:
                    break
                digest.update(view[:count])
                done += count
                if progress is not None:
                    progress(UploadProgress(done, max(total, done), time.monotonic() - started))
    except OSError as exc:
        raise _local_error(exc) from None
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# One file


def _local_error(exc: OSError, key: str = "") -> StorageError:
    detail = exc.strerror or type(exc).__name__
    return StorageError(StorageErrorKind.LOCAL_FILE, detail=detail, object_key=key)


class _PartBody:
    """A part's bytes as a file for botocore, whose read position the progress report reads.

    botocore seeks back to 0 to send again after a failure: the position then goes back to 0
    too. Reads give views of the part's buffer, not copies of it.
    """

    def __init__(self, data: memoryview) -> None:
        self._data = data
        self.position = 0

    def __len__(self) -> int:
        return len(self._data)

    def read(self, size: int | None = -1) -> memoryview:
        start = self.position
        end = len(self._data) if size is None or size < 0 else min(len(self._data), start + size)
        self.position = end
        return self._data[start:end]

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.position, os.SEEK_END: len(self._data)}
        self.position = max(0, min(len(self._data), base[whence] + offset))
        return self.position

    def tell(self) -> int:
        return self.position


class _Buffers:
    """A part's worth of memory per worker, kept from one part to the next: each part is read
    once into one (no copy), hashed there and sent from there."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._free: list[bytearray] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def borrowed(self) -> Iterator[bytearray]:
        with self._lock:
            buffer = self._free.pop() if self._free else bytearray(self._size)
        try:
            yield buffer
        finally:
            with self._lock:
                self._free.append(buffer)


class _Gate:
    """Whether parts read ahead while the state was being saved may be sent: told once."""

    def __init__(self) -> None:
        self._told = threading.Event()
        self._go = False

    def open(self, go: bool) -> None:
        self._go = go
        self._told.set()

    def wait(self) -> bool:
        self._told.wait()
        return self._go


class _FileUpload:
    """One run of `upload_file`."""

    def __init__(
        self,
        client: StorageClient,
        path: Path,
        key: str,
        *,
        sha256: str | None,
        part_size: int | None,
        workers: int,
        resume: MultipartState | None,
        on_state: Callable[[MultipartState | None], None] | None,
        report: Callable[[TransferPhase, UploadProgress], None],
        cancel: threading.Event | None,
        skip_existing: bool,
    ) -> None:
        if part_size is not None and part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes")
        if sha256 is not None and not _SHA256_HEX.fullmatch(sha256.strip().lower()):
            raise ValueError("sha256 must be 64 hexadecimal digits")
        self.client = client
        self.path = path
        self.key = key
        self.known_sha256 = sha256.strip().lower() if sha256 else None
        self.part_size = part_size
        self.workers = min(max(1, workers), MAX_WORKERS)
        self.resume = resume
        self.on_state = on_state
        self.report = report
        self.cancel = cancel
        self.skip_existing = skip_existing
        self.started = time.monotonic()
        self.reported = 0
        self.start_bytes = 0
        self.sent_bytes = 0
        self.reused_parts = 0
        self._live: dict[int, _PartBody] = {}
        self._lock = threading.Lock()
        self._buffers = _Buffers(0)

    # -- the whole run

    def run(self) -> UploadResult:
        try:
            return self._run()
        except StorageError as error:
            raise error.about(self.key) from None

    def _run(self) -> UploadResult:
        stat = self._stat()
        size = stat.st_size
        part_size = choose_part_size(size, self.part_size or DEFAULT_PART_SIZE)
        state = self._usable_resume(stat)
        if state is not None:
            found = self._reconcile(state)
            if isinstance(found, RemoteObject):  # an earlier run finished it
                self._save(None)
                return self._done(found.etag, size, state.sha256, skipped=True, parts=0)
            # None: the server dropped it; start over, the hash is known.
            state = found or self._create(stat, state.part_size, state.sha256)
        else:
            sha256 = self.known_sha256 or self._hash(size)
            if self.skip_existing:
                self._emit(TransferPhase.CHECKING, 0, size)
                present = self.client.head(self.key)
                if present is not None and present.size == size and present.sha256 == sha256:
                    self._save(None)
                    return self._done(present.etag, size, sha256, skipped=True, parts=0)
            if size <= part_size:
                self._save(None)
                etag = self._put_whole(stat, sha256)
                return self._done(etag, size, sha256)
            state = self._create(stat, part_size, sha256)
        with phase("upload parts"):
            state = self._send_parts(state)
        with phase("upload complete"):
            etag = self._complete(state)
        self._save(None)
        return self._done(etag, size, state.sha256, parts=state.total_parts)

    def _done(
        self, etag: str, size: int, sha256: str, *, skipped: bool = False, parts: int = 1
    ) -> UploadResult:
        self.start_bytes = size if skipped else self.start_bytes
        self._emit(TransferPhase.DONE, size, size)
        return UploadResult(
            key=self.key,
            size=size,
            sha256=sha256,
            etag=etag,
            skipped=skipped,
            parts=parts,
            reused_parts=self.reused_parts,
            sent_bytes=self.sent_bytes,
            elapsed=time.monotonic() - self.started,
        )

    # -- helpers

    def _stat(self) -> os.stat_result:
        try:
            return self.path.stat()
        except OSError as exc:
            raise _local_error(exc) from None

    def _save(self, state: MultipartState | None) -> None:
        if self.on_state is not None:
            self.on_state(state)

    def _emit(self, phase: TransferPhase, sent: int, total: int) -> None:
        if phase is not TransferPhase.HASHING:
            sent = max(self.reported, min(sent, total))  # never backwards
            self.reported = sent
        elapsed = time.monotonic() - self.started
        start = 0 if phase is TransferPhase.HASHING else self.start_bytes
        self.report(phase, UploadProgress(sent, total, elapsed, start))

    def _cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def _check_unchanged(self, size: int, mtime_ns: int) -> None:
        stat = self._stat()
        if stat.st_size != size or stat.st_mtime_ns != mtime_ns:
            raise StorageError(StorageErrorKind.FILE_CHANGED)

    def _hash(self, size: int) -> str:
        def progress(read: UploadProgress) -> None:
            self._emit(TransferPhase.HASHING, read.sent, read.total)

        self._emit(TransferPhase.HASHING, 0, size)
        started = time.monotonic()
        with phase("upload sha256"):
            digest = file_sha256(self.path, progress, self.cancel)
        self.started += time.monotonic() - started  # the speed is the upload's, not the disk's
        return digest

    def _read(self, offset: int, length: int) -> bytes:
        try:
            with self.path.open("rb", buffering=0) as handle:
                handle.seek(offset)
                data = handle.read(length)
        except OSError as exc:
            raise _local_error(exc) from None
        if len(data) != length:
            raise StorageError(StorageErrorKind.FILE_CHANGED)
        return data

    def _read_into(self, offset: int, view: memoryview) -> None:
        """Fill `view` with the file's bytes from `offset` (FILE_CHANGED if they are not all
        there any more)."""
        done = 0
        try:
            with self.path.open("rb", buffering=0) as handle:
                handle.seek(offset)
                while done < len(view):
                    count = handle.readinto(view[done:])
                    if not count:
                        break
                    done += count
        except OSError as exc:
            raise _local_error(exc) from None
        if done != len(view):
            raise StorageError(StorageErrorKind.FILE_CHANGED)

    @staticmethod
    def _content_type(path: Path) -> str:
        guessed, _ = mimetypes.guess_type(path.name, strict=False)
        return guessed or "application/octet-stream"

    # -- resuming

    def _usable_resume(self, stat: os.stat_result) -> MultipartState | None:
        resume = self.resume
        if resume is None:
            return None
        if resume.bucket != self.client.bucket or resume.key != self.key:
            return None  # not this upload (another bucket's cannot be aborted from here)
        if resume.size == stat.st_size and resume.mtime_ns == stat.st_mtime_ns:
            return resume
        # The file changed: its parts are worthless. Best effort: the bucket's lifecycle rule,
        # if any, cleans up what an abort cannot reach.
        with contextlib.suppress(StorageError):
            self.client.abort(resume.key, resume.upload_id)
        self._save(None)
        return None

    def _reconcile(self, state: MultipartState) -> MultipartState | RemoteObject | None:
        """The state as the server sees it: the parts it holds that match. A RemoteObject when
        the upload was completed by an earlier run; None when the server dropped it."""
        self._emit(TransferPhase.CHECKING, 0, state.size)
        try:
            remote = self.client.list_parts(state.key, state.upload_id)
        except StorageError as error:
            if error.kind is not StorageErrorKind.UPLOAD_GONE and error.status != 404:
                raise error.with_state(state) from None
            present = self.client.head(self.key)
            if present is not None and (present.size, present.sha256) == (state.size, state.sha256):
                return present
            return None
        trusted: dict[int, tuple[int, str, str]] = {}
        for number, etag, crc32 in state.parts:
            part = remote.get(number)
            if part and part.size == state.part_length(number) and part.etag == etag:
                trusted[number] = (number, etag, crc32)
        for number, part in sorted(remote.items()):
            # Finished after the last record (the run died first): the local bytes decide.
            if number in trusted or not 1 <= number <= state.total_parts:
                continue
            if part.size != state.part_length(number) or not _MD5_HEX.fullmatch(part.etag):
                continue
            digest = PartDigest.of(self._read((number - 1) * state.part_size, part.size))
            if digest.md5_hex == part.etag:
                crc32 = digest.crc32 if state.checksum_algorithm else ""
                trusted[number] = (number, part.etag, crc32)
        state = replace(state, parts=tuple(sorted(trusted.values())), updated_at=time.time())
        self.reused_parts = len(trusted)
        self.start_bytes = state.done_bytes
        self._save(state)
        return state

    def _create(self, stat: os.stat_result, part_size: int, sha256: str) -> MultipartState:
        upload_id = self.client.create_multipart(
            self.key,
            metadata={SHA256_METADATA: sha256},
            content_type=self._content_type(self.path),
        )
        now = time.time()
        state = MultipartState(
            bucket=self.client.bucket,
            key=self.key,
            upload_id=upload_id,
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            part_size=part_size,
            sha256=sha256,
            checksum_algorithm="CRC32" if self.client.flexible_checksums else "",
            created_at=now,
            updated_at=now,
        )
        self._save(state)  # before any part: a crash from here on can resume or abort it
        return state

    # -- sending

    def _put_whole(self, stat: os.stat_result, sha256: str) -> str:
        size = stat.st_size
        data = self._read(0, size)
        digest = PartDigest.of(data)
        self._emit(TransferPhase.UPLOADING, 0, size)
        for _ in range(PART_ATTEMPTS):
            if self._cancelled():
                raise StorageError(StorageErrorKind.CANCELLED)
            try:
                sent = self.client.put(
                    self.key,
                    data,
                    digest=digest,
                    metadata={SHA256_METADATA: sha256},
                    content_type=self._content_type(self.path),
                )
            except StorageError as error:
                if error.kind is StorageErrorKind.CHECKSUM:
                    continue
                raise
            self.sent_bytes += size
            if sent.confirms(digest):
                self._check_unchanged(size, stat.st_mtime_ns)
                return sent.etag
        raise StorageError(StorageErrorKind.CHECKSUM, operation="PutObject")

    def _send_parts(self, state: MultipartState) -> MultipartState:
        workers = max(1, min(self.workers, MEMORY_BUDGET // state.part_size))
        self._buffers = _Buffers(state.part_size)
        missing = deque(state.missing())
        live: dict[Future[tuple[str, str] | None], int] = {}
        failure: StorageError | None = None
        cancelled = False

        def start(pool: ThreadPoolExecutor, gate: _Gate | None = None) -> None:
            nonlocal failure
            while missing and failure is None and not cancelled and len(live) < workers:
                try:
                    self._check_unchanged(state.size, state.mtime_ns)
                except StorageError as error:
                    failure = error
                    break
                number = missing.popleft()
                live[pool.submit(self._send_part, state, number, gate)] = number

        self._emit(TransferPhase.UPLOADING, state.done_bytes, state.size)
        with ThreadPoolExecutor(workers, thread_name_prefix="hdh-storage") as pool:
            try:
                while True:
                    cancelled = cancelled or self._cancelled()
                    start(pool)
                    if not live:
                        break
                    finished, _ = wait(live, timeout=_TICK, return_when=FIRST_COMPLETED)
                    acknowledged: list[MultipartState] = []
                    for future in finished:
                        number = live.pop(future)
                        try:
                            sent = future.result()
                        except StorageError as error:
                            failure = failure or error
                            continue
                        if sent is None:  # read ahead, then held back: not sent
                            missing.appendleft(number)
                            continue
                        state = state.with_part(number, *sent)
                        acknowledged.append(state)
                    self._save_all(acknowledged, lambda gate: start(pool, gate))
                    self._emit_parts(state)
            except BaseException:
                missing.clear()  # the pool's exit waits for the parts under way
                raise
        if failure is not None:
            if failure.kind in (StorageErrorKind.FILE_CHANGED, StorageErrorKind.UPLOAD_GONE):
                self._give_up(state)
                raise failure.with_state(None)
            raise failure.with_state(state)
        if cancelled:
            raise StorageError(StorageErrorKind.CANCELLED, state=state)
        return state

    def _save_all(
        self, states: Sequence[MultipartState], read_ahead: Callable[[_Gate], None]
    ) -> None:
        """Save each state in turn. Meanwhile the workers set free read and hash the next
        parts (`read_ahead`), which they send once the saves are done, unless a cancel came
        in the meantime: no part is sent after a cancel said while its state was saved."""
        if not states:
            return
        gate = _Gate()
        go = False
        try:
            read_ahead(gate)
            for state in states:
                self._save(state)
            go = not self._cancelled()
        finally:
            gate.open(go)

    def _emit_parts(self, state: MultipartState) -> None:
        with self._lock:
            under_way = sum(body.position for body in self._live.values())
        self._emit(TransferPhase.UPLOADING, state.done_bytes + under_way, state.size)

    def _send_part(
        self, state: MultipartState, number: int, gate: _Gate | None
    ) -> tuple[str, str] | None:
        """Read, send and check one part (in a pool thread); returns its ETag and CRC32 (""
        unless the upload declared CRC32), or None when `gate` held it back, unsent."""
        length = state.part_length(number)
        with self._buffers.borrowed() as buffer:
            data = memoryview(buffer)[:length]
            self._read_into((number - 1) * state.part_size, data)
            digest = PartDigest.of(data)
            if gate is not None and not gate.wait():
                return None
            return self._send_read_part(state, number, data, digest)

    def _send_read_part(
        self, state: MultipartState, number: int, data: memoryview, digest: PartDigest
    ) -> tuple[str, str]:
        length = len(data)
        for _ in range(PART_ATTEMPTS):
            body = _PartBody(data)
            with self._lock:
                self._live[number] = body
            try:
                sent = self.client.upload_part(
                    state.key, state.upload_id, number, body, digest=digest
                )
            except StorageError as error:
                if error.kind is StorageErrorKind.CHECKSUM:
                    continue  # the server saw other bytes than the MD5 says: send again
                raise
            finally:
                with self._lock:
                    self._live.pop(number, None)
            with self._lock:
                self.sent_bytes += length
            if sent.confirms(digest):
                return sent.etag, digest.crc32 if state.checksum_algorithm else ""
        raise StorageError(
            StorageErrorKind.CHECKSUM, operation="UploadPart", detail=f"part {number}"
        )

    def _complete(self, state: MultipartState) -> str:
        try:
            self._check_unchanged(state.size, state.mtime_ns)
        except StorageError as error:
            if error.kind is StorageErrorKind.FILE_CHANGED:
                self._give_up(state)
                raise
            raise error.with_state(state) from None
        try:
            return self.client.complete(state.key, state.upload_id, state.parts)
        except StorageError as error:
            if error.kind is not StorageErrorKind.UPLOAD_GONE:
                raise error.with_state(state) from None
            # A retried Complete whose first try went through finds the upload gone.
            present = self.client.head(self.key)
            if present is not None and (present.size, present.sha256) == (state.size, state.sha256):
                return present.etag
            self._save(None)
            raise error.with_state(None) from None

    def _give_up(self, state: MultipartState) -> None:
        """Abort the upload (its parts are no use) and forget it: the next run starts over."""
        with contextlib.suppress(StorageError):  # best effort: the next run starts a new one
            self.client.abort(state.key, state.upload_id)
        self._save(None)
