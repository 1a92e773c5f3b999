"""After a transfer: is each object what was sent, and where will people download it?

`verify_object` asks the server for the object's size and the SHA-256 recorded in its metadata
(`x-amz-meta-sha256`, set by the wizard when it sent the file), and compares them with the local
file's. With `full_read`, it also reads the whole object back and hashes it: the only proof
against an object replaced behind the wizard's back with the metadata copied over.

`public_url` is the address the data.gouv.fr page references: path-style
`https://endpoint/bucket/key`, or under the base URL HDH staff typed (which stands for the
bucket's root), the key URL-quoted.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from hdh_wizard.services.progress import UploadProgress
from hdh_wizard.services.storage.config import StorageClient, StorageConfig
from hdh_wizard.services.storage.errors import StorageError, StorageErrorKind


@dataclass(frozen=True)
class ObjectCheck:
    """What the server holds under `key`, against the local file; `problems` are catalogue
    keys (empty: the object is the file)."""

    key: str
    size: int
    sha256: str
    remote_size: int | None  # None: no such object
    remote_sha256: str | None  # from the object's metadata
    read_sha256: str | None  # from reading it back (full_read), else None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_object(
    client: StorageClient,
    key: str,
    *,
    size: int,
    sha256: str,
    full_read: bool = False,
    progress: Callable[[UploadProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> ObjectCheck:
    """Check the object against the local file's size and SHA-256 (hex).

    `full_read`: also read the object back and hash it (`progress` counts the bytes read;
    `cancel` raises StorageError(CANCELLED)). Network or access failures raise StorageError.
    """
    expected = sha256.strip().lower()
    try:
        found = client.head(key)
    except StorageError as error:
        raise error.about(key) from None
    if found is None:
        return ObjectCheck(key, size, expected, None, None, None, ("storage.verify.missing",))
    problems: list[str] = []
    if found.size != size:
        problems.append("storage.verify.size_mismatch")
    if found.sha256 is None:
        problems.append("storage.verify.checksum_missing")
    elif found.sha256 != expected:
        problems.append("storage.verify.checksum_mismatch")
    read_sha256: str | None = None
    if full_read:
        read_sha256 = _read_sha256(client, key, found.size, progress, cancel)
        if read_sha256 != expected:
            problems.append("storage.verify.content_mismatch")
    return ObjectCheck(key, size, expected, found.size, found.sha256, read_sha256, tuple(problems))


def _read_sha256(
    client: StorageClient,
    key: str,
    total: int,
    progress: Callable[[UploadProgress], None] | None,
    cancel: threading.Event | None,
) -> str:
    digest = hashlib.sha256()
    started = time.monotonic()
    done = 0
    try:
        for chunk in client.read(key):
            if cancel is not None and cancel.is_set():
                raise StorageError(StorageErrorKind.CANCELLED)
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(UploadProgress(done, max(total, done), time.monotonic() - started))
    except StorageError as error:
        raise error.about(key) from None
    return digest.hexdigest()


def public_url(config: StorageConfig, key: str) -> str:
    """The download address of `key`: under the base URL HDH staff gave, else path-style
    `endpoint/bucket/key`. Raises StorageError(BAD_CONFIG) for unusable details."""
    clean = config.normalized()
    path = quote(key, safe="/~")
    if clean.public_base_url:
        return f"{clean.public_base_url}/{path}"
    return f"{clean.endpoint_url}/{quote(clean.bucket, safe='')}/{path}"
