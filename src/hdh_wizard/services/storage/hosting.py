"""Route 2, step "share with HDH": every file to host sent to HDH's storage, checked, and recorded.

UI-free: the screen and `hdh-wizard transfer` both call `run_hosting` (in a worker thread, or the
main thread of the command) with callbacks:

- `save(record)` gets the `TransferRecord` to keep in the state whenever it changes: once a
  multipart upload is created (before any part), as parts are acknowledged, as files are
  verified, and always at the end of the run (success or failure). Part by part and file by
  file saves are spaced so that saving never takes more than a tenth of the time (thousands of
  parts or of small files make a large state, written again at each save): a part or a file
  done since the last save is not lost, the next run finds it on the server and checks it.
- `progress(report)`: this file's bytes and the whole batch's, a few times a second.
- `checked(check)`: each file's verification on the server (size and SHA-256), as it comes.

Each file is sent with `upload_file` (resumed from the upload recorded for its path), then
verified with `verify_object`, then recorded as a `HostedObject` with its public URL. A large
file's parts go in parallel; small files (one PutObject each) go several at a time. Uploads
recorded for files no longer to host (or under another key) are aborted. A file already on the
storage with the same size and SHA-256 is not sent again; a file recorded as hosted and not
changed since (same size and modification time) is not even read again. Nor is the SHA-256 of
a declared data file computed again when the inspection recorded it and the file is still the
one it read (same size, modification time and fast fingerprint). Objects recorded on
another storage (endpoint or bucket) count for nothing here; a file changed (or replaced by a
link) between the listing and its turn stops the run.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.hosting_records import HostedObject, TransferRecord
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.fingerprint import fast_fingerprint
from hdh_wizard.inspect.hosting_files import HostingFile
from hdh_wizard.services.progress import UploadProgress
from hdh_wizard.services.secrets import Secret
from hdh_wizard.services.storage.config import (
    RemoteObject,
    StorageClient,
    StorageConfig,
    connect,
)
from hdh_wizard.services.storage.errors import StorageError, StorageErrorKind
from hdh_wizard.services.storage.hosting_choice import chosen_hosting_files
from hdh_wizard.services.storage.transfer import (
    DEFAULT_WORKERS,
    MIN_PART_SIZE,
    MultipartState,
    TransferPhase,
    TransferProgress,
    UploadResult,
    abandon,
    upload_file,
)
from hdh_wizard.services.storage.verify import ObjectCheck, public_url, verify_object

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
SAVE_OVERHEAD = 10.0  # a part's save waits at least this many times the last save's duration


class SameKeyError(HdhWizardError):
    """Two files whose names give the same object key (`a\\b.csv` and `a/b.csv`): one would
    overwrite the other on the storage."""

    def __init__(self, key: str, paths: Sequence[str]) -> None:
        super().__init__("hosting.error.same_key", name=key, paths=", ".join(paths))
        self.object_key = key
        self.paths = tuple(paths)


class MissingFilesError(HdhWizardError):
    """Files to host that are not on this machine: nothing is sent until they are back."""

    def __init__(self, paths: Sequence[str]) -> None:
        super().__init__("hosting.error.missing", paths=", ".join(paths))
        self.paths = tuple(paths)


@dataclass(frozen=True)
class HostingProgress:
    """Where the transfer stands: `path`'s bytes and the whole batch's."""

    path: str
    phase: TransferPhase
    file: UploadProgress
    overall: UploadProgress
    index: int  # from 0
    count: int


@dataclass(frozen=True)
class HostedCheck:
    """A file's verification on the server; `url` is where it will be downloaded from."""

    path: str
    check: ObjectCheck
    url: str

    @property
    def ok(self) -> bool:
        return self.check.ok


@dataclass(frozen=True)
class HostingOutcome:
    record: TransferRecord
    results: tuple[UploadResult, ...]
    checks: tuple[HostedCheck, ...]
    abandoned: tuple[str, ...] = ()  # paths whose recorded upload was aborted

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failed(self) -> tuple[HostedCheck, ...]:
        return tuple(c for c in self.checks if not c.ok)


def storage_details(record: TransferRecord | None) -> StorageConfig | None:
    """The connection details a record holds (typed by staff, maybe not yet valid)."""
    return StorageConfig.from_dict(record.storage) if record is not None else None


def stored_details(config: StorageConfig) -> dict[str, str]:
    """What the state keeps of the details: normalised when they are valid, as typed if not."""
    return (config if config.problems() else config.normalized()).to_dict()


def resume_states(record: TransferRecord | None) -> dict[str, MultipartState]:
    """The uploads under way, by path (damaged entries dropped: those files start over)."""
    if record is None:
        return {}
    states = {path: MultipartState.from_dict(raw) for path, raw in record.uploads.items()}
    return {path: state for path, state in states.items() if state is not None}


def hosted_is_current(hosted: HostedObject | None, file: HostingFile) -> bool:
    """Is this record about this very file (same size and modification time)?"""
    return hosted is not None and hosted.size == file.size and hosted.mtime_ns == file.mtime_ns


def storage_place(details: Mapping[str, str] | StorageConfig | None) -> tuple[str, str]:
    """(endpoint, bucket) the details point to, normalised when they are valid: where objects
    recorded with them are. Another place holds none of them."""
    config = details if isinstance(details, StorageConfig) else StorageConfig.from_dict(details)
    if config is None:
        return ("", "")
    if not config.problems():
        config = config.normalized()
    return (config.endpoint_url.strip(), config.bucket.strip())


def pending_files(
    files: Sequence[HostingFile], record: TransferRecord | None, config: StorageConfig
) -> list[str]:
    """The files not yet recorded as hosted and verified, in their current version, under
    the current details' key, on the current details' storage, with their current URL."""
    if (
        record is None
        or config.problems()
        or storage_place(record.storage) != storage_place(config)
    ):
        return [f.path for f in files]
    pending: list[str] = []
    for file in files:
        hosted = record.object(file.path)
        try:
            key = config.key_for(file.path)
            same = hosted is not None and (hosted.key, hosted.url) == (key, public_url(config, key))
        except StorageError:
            same = False
        if not (same and hosted_is_current(hosted, file)):
            pending.append(file.path)
    return pending


def inspected_sha256(release: Release, files: Sequence[HostingFile]) -> dict[str, str]:
    """The SHA-256 the inspection recorded (the interoperability step, done) of each file to
    host that is still the file it read: a declared data file with the size, modification
    time and fast fingerprint recorded for it. These are not read whole again to be sent."""
    record = release.record(StepId.INTEROPERABILITY)
    publish = record.outputs.get("publish") if record.status is StepStatus.DONE else None
    recorded: dict[str, tuple[int, str]] = {}
    for item in publish if isinstance(publish, list) else []:
        if not isinstance(item, Mapping):
            continue
        path, size, sha256 = item.get("path"), item.get("size"), item.get("sha256")
        sha256 = sha256.strip().lower() if isinstance(sha256, str) else ""
        if isinstance(path, str) and type(size) is int and _SHA256_HEX.fullmatch(sha256):
            recorded[path] = (size, sha256)
    declared = {data_file.path: data_file for data_file in release.files}
    found: dict[str, str] = {}
    for file in files:
        entry, data_file = recorded.get(file.path), declared.get(file.path)
        if entry is None or data_file is None:
            continue
        size, digest = entry
        if (size, size, data_file.mtime_ns) != (data_file.size, file.size, file.mtime_ns):
            continue
        try:
            same = fast_fingerprint(file.local) == data_file.fingerprint
        except OSError:
            continue  # upload_file says what is wrong with it
        if same:
            found[file.path] = digest
    return found


# ---------------------------------------------------------------------------------------------
# The transfer


def run_hosting(
    release: Release,
    folder: Path,
    config: StorageConfig,
    secret: Secret | str,
    *,
    record: TransferRecord | None = None,
    now: Callable[[], datetime],
    save: Callable[[TransferRecord], None] | None = None,
    progress: Callable[[HostingProgress], None] | None = None,
    checked: Callable[[HostedCheck], None] | None = None,
    cancel: threading.Event | None = None,
    part_size: int | None = None,
    workers: int = DEFAULT_WORKERS,
    resend: Collection[str] = (),
    client: StorageClient | None = None,
) -> HostingOutcome:
    """Send every file to host, verify each on the server, and record them (see the module).

    `record`: what the state holds (uploads to resume, files hosted already); defaults to
    nothing. `resend`: paths to send even if the storage seems to hold them (a verification
    that read them back found them altered, metadata and all). Raises MissingFilesError before
    anything is sent when files are missing, and StorageError on the first failure (what was
    done is saved; the next run resumes there).
    """
    files, missing = chosen_hosting_files(release, folder)
    if missing:
        raise MissingFilesError(missing)
    client = client or connect(config, secret)
    return HostingRun(
        client,
        files,
        record,
        inspected=inspected_sha256(release, files),
        now=now,
        save=save,
        progress=progress,
        checked=checked,
        cancel=cancel,
        part_size=part_size,
        workers=workers,
        resend=frozenset(resend),
    ).run()


@dataclass
class _Saver:
    """Keeps the record; part by part saves are spaced (see the module)."""

    save: Callable[[TransferRecord], None] | None
    last_at: float = 0.0
    last_took: float = 0.0
    last: TransferRecord | None = None

    def __call__(self, record: TransferRecord, *, force: bool) -> None:
        if self.save is None or record == self.last:
            return
        started = time.monotonic()
        if not force and started - self.last_at < SAVE_OVERHEAD * self.last_took:
            return
        self.save(record)
        self.last = record
        self.last_at = time.monotonic()
        self.last_took = self.last_at - started


@dataclass
class HostingRun:
    """One run of `run_hosting` on a connected client, for given files."""

    client: StorageClient
    files: Sequence[HostingFile]
    previous: TransferRecord | None
    now: Callable[[], datetime]
    save: Callable[[TransferRecord], None] | None = None
    progress: Callable[[HostingProgress], None] | None = None
    checked: Callable[[HostedCheck], None] | None = None
    cancel: threading.Event | None = None
    part_size: int | None = None
    workers: int = DEFAULT_WORKERS
    resend: frozenset[str] = frozenset()
    inspected: Mapping[str, str] = field(default_factory=dict)  # path → SHA-256, still true
    uploads: dict[str, MultipartState] = field(default_factory=dict)
    objects: dict[str, HostedObject] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._saver = _Saver(self.save)
        config = self.client.config
        self.details = stored_details(config)
        keep = {f.path for f in self.files}
        here = self.previous is not None and (
            storage_place(self.previous.storage) == storage_place(config)
        )
        for hosted in self.previous.objects if self.previous and here else ():
            if hosted.path in keep:
                self.objects[hosted.path] = hosted
        self.uploads = resume_states(self.previous)

    @property
    def record(self) -> TransferRecord:
        order = [f.path for f in self.files]
        objects = tuple(self.objects[p] for p in order if p in self.objects)
        uploads = {path: state.to_dict() for path, state in self.uploads.items()}
        return TransferRecord(self.details, objects, uploads)

    def run(self) -> HostingOutcome:
        try:
            outcome = self._run()
        except BaseException:
            with contextlib.suppress(Exception):  # the failure, not the save, is the news
                self._saver(self.record, force=True)
            raise
        self._saver(outcome.record, force=True)
        return outcome

    def _run(self) -> HostingOutcome:
        self._check_keys()
        abandoned = self._abandon_stale()
        total = sum(f.size for f in self.files)
        started = time.monotonic()
        done_before = 0
        start_before = 0  # bytes on the server before this run (skipped, resumed)
        results: list[UploadResult] = []
        checks: list[HostedCheck] = []
        index = 0
        while index < len(self.files):
            if self.cancel is not None and self.cancel.is_set():
                raise StorageError(StorageErrorKind.CANCELLED)
            small = self._small_files_from(index)
            if len(small) > 1:
                for file, result, check in self._send_small(small, total, started, done_before):
                    results.append(result)
                    checks.append(check)
                    done_before += file.size
                    start_before += max(0, result.size - result.sent_bytes)
                index += len(small)
                continue
            file = self.files[index]
            result = self._send(file, index, total, started, done_before, start_before)
            results.append(result)
            checks.append(self._verify(file, result))
            done_before += file.size
            start_before += max(0, result.size - result.sent_bytes)
            index += 1
        return HostingOutcome(self.record, tuple(results), tuple(checks), abandoned)

    # -- small files, several at a time

    def _small_files_from(self, index: int) -> list[tuple[int, HostingFile]]:
        """The files from `index` on that go in one PutObject each, with no upload to resume:
        sent `workers` at a time (a thousand slides of a few KB are request-bound, not
        bandwidth-bound). Empty when there are not several of them, or one worker."""
        found: list[tuple[int, HostingFile]] = []
        if self.workers < 2:
            return found
        for number in range(index, len(self.files)):
            file = self.files[number]
            if file.size > MIN_PART_SIZE or file.path in self.uploads:
                break
            found.append((number, file))
        return found

    def _send_small(
        self,
        small: Sequence[tuple[int, HostingFile]],
        total: int,
        started: float,
        done_before: int,
    ) -> list[tuple[HostingFile, UploadResult, HostedCheck]]:
        """Send and verify these small files in a pool; everything else (the record, its
        saves, the progress and check reports) happens here, in the calling thread, as each
        one finishes. The first failure stops new sends; the files done are recorded."""
        done: dict[int, tuple[HostingFile, UploadResult, HostedCheck]] = {}
        pending = deque(small)
        live: dict[Future[tuple[UploadResult, ObjectCheck, str]], tuple[int, HostingFile]] = {}
        failure: BaseException | None = None
        sent = done_before
        with ThreadPoolExecutor(self.workers, thread_name_prefix="hdh-hosting") as pool:
            while pending or live:
                stop = failure is not None or (self.cancel is not None and self.cancel.is_set())
                while pending and not stop and len(live) < self.workers:
                    index, file = pending.popleft()
                    live[pool.submit(self._send_quietly, file)] = (index, file)
                if not live:
                    break
                finished, _ = wait(live, return_when=FIRST_COMPLETED)
                for future in finished:
                    index, file = live.pop(future)
                    try:
                        result, object_check, url = future.result()
                    except Exception as error:  # raised below, once the others are finished
                        failure = failure or error
                        continue
                    sent += file.size
                    if self.progress is not None:  # as a file sent alone says, then its check
                        whole = UploadProgress(file.size, file.size, result.elapsed, 0)
                        overall = UploadProgress(sent, total, time.monotonic() - started)
                        self.progress(
                            HostingProgress(
                                file.path,
                                TransferPhase.DONE,
                                whole,
                                overall,
                                index,
                                len(self.files),
                            )
                        )
                    check = self._record_check(file, result, object_check, url)
                    done[index] = (file, result, check)
        if failure is not None:
            raise failure
        if len(done) < len(small):  # cancelled before the last ones were sent
            raise StorageError(StorageErrorKind.CANCELLED)
        return [done[index] for index, _ in small]

    def _send_quietly(self, file: HostingFile) -> tuple[UploadResult, ObjectCheck, str]:
        """In a pool thread: one small file sent (unless already there) and checked."""
        key = self._key(file)
        self._check_listed(file, key)
        again = file.path in self.resend
        known = self._known_sha256(file)
        result = upload_file(
            self.client,
            file.local,
            key,
            sha256=known,
            workers=1,
            cancel=self.cancel,
            skip_existing=not again,
        )
        check = verify_object(self.client, result.key, size=result.size, sha256=result.sha256)
        return result, check, public_url(self.client.config, result.key)

    # -- one file

    def _send(
        self,
        file: HostingFile,
        index: int,
        total: int,
        started: float,
        done_before: int,
        start_before: int,
    ) -> UploadResult:
        key = self._key(file)
        self._check_listed(file, key)
        again = file.path in self.resend
        known = self._known_sha256(file)

        def report(item: TransferProgress) -> None:
            if self.progress is None:
                return
            hashing = item.phase is TransferPhase.HASHING
            sent = done_before + (0 if hashing else item.file.sent)
            start = start_before + (0 if hashing else item.file.start)
            overall = UploadProgress(sent, total, time.monotonic() - started, start)
            self.progress(
                HostingProgress(file.path, item.phase, item.file, overall, index, len(self.files))
            )

        def on_state(state: MultipartState | None) -> None:
            before = self.uploads.get(file.path)
            if state is None:
                if before is None:
                    return
                del self.uploads[file.path]
            else:
                self.uploads[file.path] = state
            new_upload = state is None or before is None or before.upload_id != state.upload_id
            self._saver(self.record, force=new_upload)

        return upload_file(
            self.client,
            file.local,
            key,
            sha256=known,
            part_size=self.part_size,
            workers=self.workers,
            resume=self.uploads.get(file.path),
            on_state=on_state,
            progress=report,
            cancel=self.cancel,
            skip_existing=not again,
        )

    def _known_sha256(self, file: HostingFile) -> str | None:
        """The file's SHA-256 when known without reading it: recorded when it was hosted (same
        size and modification time), or by the inspection. None for a file to send again."""
        if file.path in self.resend:
            return None
        hosted = self.objects.get(file.path)
        if hosted is not None and hosted_is_current(hosted, file):
            return hosted.sha256
        return self.inspected.get(file.path)

    def _verify(self, file: HostingFile, result: UploadResult) -> HostedCheck:
        check = verify_object(self.client, result.key, size=result.size, sha256=result.sha256)
        url = public_url(self.client.config, result.key)
        return self._record_check(file, result, check, url)

    def _record_check(
        self, file: HostingFile, result: UploadResult, check: ObjectCheck, url: str
    ) -> HostedCheck:
        if check.ok:
            self.objects[file.path] = HostedObject(
                path=file.path,
                key=result.key,
                size=result.size,
                sha256=result.sha256,
                url=url,
                role=file.role,
                mtime_ns=file.mtime_ns,
                verified_at=self.now().isoformat(timespec="seconds"),
            )
        else:
            self.objects.pop(file.path, None)
        self._saver(self.record, force=not check.ok)
        hosted = HostedCheck(file.path, check, url)
        if self.checked is not None:
            self.checked(hosted)
        return hosted

    def _check_keys(self) -> None:
        by_key: dict[str, list[str]] = {}
        for file in self.files:
            by_key.setdefault(self._key(file), []).append(file.path)
        for key, paths in by_key.items():
            if len(paths) > 1:
                raise SameKeyError(key, paths)

    @staticmethod
    def _check_listed(file: HostingFile, key: str) -> None:
        """The file is still the one listed: not rewritten, not replaced by a link elsewhere
        (the anonymity check saw the listed one). A file gone is upload_file's to explain."""
        try:
            stat = os.stat(file.local)
        except OSError:
            return
        if (stat.st_size, stat.st_mtime_ns) != (file.size, file.mtime_ns):
            raise StorageError(StorageErrorKind.FILE_CHANGED, object_key=key)

    def _key(self, file: HostingFile) -> str:
        try:
            return self.client.config.key_for(file.path)
        except StorageError as error:  # a name no object key can hold: say which
            raise error.about(file.path) from None

    # -- uploads no longer wanted

    def _abandon_stale(self) -> tuple[str, ...]:
        """Abort the recorded uploads of files no longer to host, or bound for another key or
        bucket (the prefix changed): their parts would stay on the storage for nothing."""
        wanted = {f.path: self._key(f) for f in self.files}
        stale = [
            path
            for path, state in self.uploads.items()
            if (wanted.get(path), self.client.bucket) != (state.key, state.bucket)
        ]
        for path in stale:
            state = self.uploads.pop(path)
            client = self.client
            if state.bucket != client.bucket:  # the details changed: the old bucket, same keys
                client = client.for_bucket(state.bucket)
            with contextlib.suppress(StorageError):  # best effort: gone already, or no right
                abandon(client, state)
        raw = set(self.previous.uploads) if self.previous else set()
        dropped = raw - set(self.uploads)  # damaged entries too
        if stale or dropped:
            self._saver(self.record, force=True)
        return tuple(sorted(set(stale) | dropped))


# ---------------------------------------------------------------------------------------------
# Checking what the storage holds, without sending anything


def verify_hosted(
    client: StorageClient,
    objects: Sequence[HostedObject],
    *,
    full_read: bool = False,
    checked: Callable[[HostedCheck], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[HostedCheck]:
    """Check each recorded object on the server again (size and SHA-256; `full_read`: its
    bytes read back and hashed). An object replaced or altered behind our back fails."""
    results: list[HostedCheck] = []
    for hosted in objects:
        if cancel is not None and cancel.is_set():
            raise StorageError(StorageErrorKind.CANCELLED)
        check = verify_object(
            client,
            hosted.key,
            size=hosted.size,
            sha256=hosted.sha256,
            full_read=full_read,
            cancel=cancel,
        )
        result = HostedCheck(hosted.path, check, hosted.url)
        results.append(result)
        if checked is not None:
            checked(result)
    return results


def look_up(
    client: StorageClient,
    files: Sequence[HostingFile],
    *,
    cancel: threading.Event | None = None,
) -> dict[str, RemoteObject | None]:
    """What the storage holds under each file's key (None: nothing), one HEAD per file."""
    found: dict[str, RemoteObject | None] = {}
    for file in files:
        if cancel is not None and cancel.is_set():
            raise StorageError(StorageErrorKind.CANCELLED)
        key = client.config.key_for(file.path)
        try:
            found[file.path] = client.head(key)
        except StorageError as error:
            raise error.about(key) from None
    return found


def without_failed(record: TransferRecord, checks: Sequence[HostedCheck]) -> TransferRecord:
    """The record, without the objects a verification found wrong (they are to be sent again)."""
    bad = {c.path for c in checks if not c.ok}
    if not bad:
        return record
    objects = tuple(o for o in record.objects if o.path not in bad)
    return TransferRecord(dict(record.storage), objects, dict(record.uploads), record.done_by)


def with_details(record: TransferRecord | None, details: Mapping[str, str]) -> TransferRecord:
    """The record with new connection details: what was sent stays recorded while the storage
    (endpoint and bucket) is the same; the objects of another storage are forgotten (they are
    not where the new details point; the uploads under way are aborted by the next run)."""
    if record is None:
        return TransferRecord(dict(details))
    same = storage_place(record.storage) == storage_place(details)
    objects = record.objects if same else ()
    return TransferRecord(dict(details), objects, dict(record.uploads), record.done_by)
