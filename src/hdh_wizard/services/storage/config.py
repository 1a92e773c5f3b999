"""The connection to HDH's S3-compatible storage: its details, the client, and the connection test.

HDH staff give an endpoint URL, a region, a bucket, a prefix under which the release's files go,
an access key id and its secret. Everything but the secret is a `StorageConfig`, kept in the
project's state (`to_dict` / `from_dict`); the secret lives in the `SecretStore`
(`SecretKind.STORAGE_SECRET`, under `config.secret_url`) and is handed to `connect()` only.

`StorageClient` is a thin typed layer over boto3's S3 client: each method is one S3 operation
and raises `StorageError` (never a botocore exception). Requests use path-style addressing
(`https://endpoint/bucket/key`), which every S3-compatible store accepts and which needs no
wildcard DNS or certificate for the bucket's name. boto3 is imported by `connect()` only, so
that `hdh-wizard --help` stays fast.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import time
import uuid
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlsplit

from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.services.secrets import Secret
from hdh_wizard.services.storage.errors import StorageError, StorageErrorKind, classify

DEFAULT_REGION = "us-east-1"  # what most S3-compatible stores accept when they have no regions
PROBE_NAME = ".hdh-wizard-probe-"
SHA256_METADATA = "sha256"  # sent as the `x-amz-meta-sha256` header
_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]")
_REGION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
_ACCESS_KEY = re.compile(r"[!-~]{1,128}")  # printable ASCII, no space
_HOST = re.compile(r"[\w.\-]+|\[[0-9a-fA-F:.]+\]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MD5_HEX = re.compile(r"[0-9a-f]{32}")
_MAX_PREFIX = 512
_MAX_KEY_BYTES = 1024  # S3's limit on an object key, in UTF-8 bytes
_READ_CHUNK = 8 * 1024 * 1024
_STATE_KEY_ID = "key_id"  # the access key id's name in `to_dict()`


# ---------------------------------------------------------------------------------------------
# The connection details


@dataclass(frozen=True)
class StorageConfig:
    """Where the release's files go. No secret here: safe to write in the state file.

    `public_base_url`: the address the files are published under, when HDH staff give one
    (a CDN or a public gateway, standing for the bucket's root); empty: derived from
    `endpoint_url` and `bucket` (see `verify.public_url`).
    """

    endpoint_url: str
    region: str
    bucket: str
    prefix: str
    access_key_id: str
    public_base_url: str = ""

    def to_dict(self) -> dict[str, str]:
        """For the state file. The access key id (not a secret) goes as `key_id`: the state
        file refuses any key named like a credential, `access_key_id` included."""
        data = asdict(self)
        data[_STATE_KEY_ID] = data.pop("access_key_id")
        return data

    @classmethod
    def from_dict(cls, data: object) -> StorageConfig | None:
        """Read back `to_dict()`: None when it is not one (unvalidated: see `problems`)."""
        if not isinstance(data, Mapping):
            return None
        values: dict[str, str] = {}
        for item in fields(cls):
            name = _STATE_KEY_ID if item.name == "access_key_id" else item.name
            value = data.get(name, data.get(item.name, "" if name == "public_base_url" else None))
            if not isinstance(value, str):
                return None
            values[item.name] = value
        return cls(**values)

    def problems(self) -> tuple[str, ...]:
        """What is wrong with these details, as catalogue keys (empty: usable)."""
        found: list[str] = []
        if not self.endpoint_url.strip():
            found.append("storage.config.endpoint_missing")
        elif _endpoint(self.endpoint_url) is None:
            found.append("storage.config.endpoint_invalid")
        if self.region.strip() and not _REGION.fullmatch(self.region.strip()):
            found.append("storage.config.region_invalid")
        if not self.bucket.strip():
            found.append("storage.config.bucket_missing")
        elif not _BUCKET.fullmatch(self.bucket.strip()):
            found.append("storage.config.bucket_invalid")
        if _prefix(self.prefix) is None:
            found.append("storage.config.prefix_invalid")
        if not self.access_key_id.strip():
            found.append("storage.config.access_key_missing")
        elif not _ACCESS_KEY.fullmatch(self.access_key_id.strip()):
            found.append("storage.config.access_key_invalid")
        if self.public_base_url.strip() and _base_url(self.public_base_url) is None:
            found.append("storage.config.public_base_url_invalid")
        return tuple(found)

    def normalized(self) -> StorageConfig:
        """The same details, trimmed: endpoint without a trailing slash, a default region, the
        prefix as `a/b/` (or empty). Raises StorageError(BAD_CONFIG) naming the first problem."""
        problems = self.problems()
        if problems:
            raise StorageError(StorageErrorKind.BAD_CONFIG, reason_key=problems[0])
        endpoint = _endpoint(self.endpoint_url)
        prefix = _prefix(self.prefix)
        assert endpoint is not None and prefix is not None  # problems() said so
        base = _base_url(self.public_base_url) if self.public_base_url.strip() else ""
        return StorageConfig(
            endpoint_url=endpoint,
            region=self.region.strip() or DEFAULT_REGION,
            bucket=self.bucket.strip(),
            prefix=prefix,
            access_key_id=self.access_key_id.strip(),
            public_base_url=base or "",
        )

    @property
    def secret_url(self) -> str:
        """Where the SecretStore keeps this access key's secret (the keyring's user name)."""
        endpoint = _endpoint(self.endpoint_url) or self.endpoint_url.strip()
        bucket = quote(self.bucket.strip(), safe="")
        return f"{endpoint}/{bucket}/{quote(self.access_key_id.strip(), safe='')}"

    def key_for(self, name: str) -> str:
        """The object key of a published file: the prefix, then its relative path (`a/b.csv`).

        Raises StorageError(BAD_CONFIG) for a name that would leave the prefix or is too long.
        """
        prefix = _prefix(self.prefix) or ""
        parts = name.replace("\\", "/").split("/")
        if (
            not name.strip()
            or name.startswith("/")
            or any(part in ("", ".", "..") for part in parts)
            or _CONTROL.search(name)
        ):
            raise StorageError(StorageErrorKind.BAD_CONFIG, reason_key="storage.config.bad_name")
        key = prefix + "/".join(parts)
        if len(key.encode("utf-8")) > _MAX_KEY_BYTES:
            raise StorageError(StorageErrorKind.BAD_CONFIG, reason_key="storage.config.bad_name")
        return key


def _endpoint(url: str) -> str | None:
    """`https://host[:port]`, lower-cased, no path, user, query or fragment; None if not one."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if (
        parts.scheme.lower() not in ("http", "https")
        or not _HOST.fullmatch(host)
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return f"{parts.scheme.lower()}://{netloc}"


def _base_url(url: str) -> str | None:
    """A public base URL (http or https, a host, any path), without a trailing slash."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not _HOST.fullmatch(parts.hostname or "")
        or parts.username is not None
        or parts.query
        or parts.fragment
        or " " in text
    ):
        return None
    return text.rstrip("/")


def _prefix(prefix: str) -> str | None:
    """`/a/b` → `a/b/`; empty stays empty; None for `..`, control characters or too long."""
    text = prefix.strip().replace("\\", "/").strip("/")
    if not text:
        return ""
    parts = text.split("/")
    if any(part in ("", ".", "..") for part in parts) or _CONTROL.search(text):
        return None
    if len(text) > _MAX_PREFIX:
        return None
    return text + "/"


# ---------------------------------------------------------------------------------------------
# The client


@dataclass(frozen=True)
class RemoteObject:
    key: str
    size: int
    etag: str  # without quotes
    sha256: str | None  # the x-amz-meta-sha256 the wizard set, if any
    metadata: Mapping[str, str]


@dataclass(frozen=True)
class RemotePart:
    number: int
    size: int
    etag: str  # without quotes


@dataclass(frozen=True)
class PartDigest:
    """The checksums sent with a body: its MD5 (hex, S3's ETag of it; base64, Content-MD5) and
    its CRC32 (base64, `x-amz-checksum-crc32`). The server refuses a body they do not match."""

    md5_hex: str
    md5_base64: str
    crc32: str

    @classmethod
    def of(cls, data: bytes | memoryview) -> PartDigest:
        digest = hashlib.md5(data, usedforsecurity=False).digest()
        crc = zlib.crc32(data).to_bytes(4, "big")
        return cls(
            digest.hex(),
            base64.b64encode(digest).decode("ascii"),
            base64.b64encode(crc).decode("ascii"),
        )


@dataclass(frozen=True)
class SentPart:
    """What the server answered to a body: its ETag, and the CRC32 it computed (if it says)."""

    etag: str  # without quotes
    crc32: str  # "" when the server does not say

    def confirms(self, digest: PartDigest) -> bool:
        """Does the answer prove the server stored these bytes? An ETag that is not an MD5
        (objects encrypted with KMS, some gateways) proves nothing: the checksums the server
        checked on receipt are then the proof."""
        if self.crc32 and self.crc32 != digest.crc32:
            return False
        return self.etag == digest.md5_hex or not _MD5_HEX.fullmatch(self.etag)


def unquote_etag(etag: object) -> str:
    return str(etag or "").strip().strip('"').lower()


class StorageClient:
    """boto3's S3 client for one bucket; every method raises StorageError. Thread-safe, as the
    boto3 client is: a transfer's parts share it."""

    def __init__(
        self,
        config: StorageConfig,
        raw: Any,
        secret: str,
        errors: tuple[type[BaseException], ...],
        *,
        flexible_checksums: bool = True,
    ) -> None:
        self.config = config
        # CRC32 with each body (x-amz-checksum-crc32), as boto3's upload_file sends by default.
        self.flexible_checksums = flexible_checksums
        self._raw = raw
        self._secret = secret
        self._errors = errors
        self._reached = False

    def __repr__(self) -> str:
        return (
            f"StorageClient(endpoint_url={self.config.endpoint_url!r}, "
            f"bucket={self.config.bucket!r}, access_key_id={self.config.access_key_id!r})"
        )

    @property
    def bucket(self) -> str:
        return self.config.bucket

    def for_bucket(self, bucket: str) -> StorageClient:
        """The same connection, for another bucket of the same storage (to abort an upload
        left there when the details changed)."""
        config = replace(self.config, bucket=bucket)
        return StorageClient(
            config,
            self._raw,
            self._secret,
            self._errors,
            flexible_checksums=self.flexible_checksums,
        )

    def _call(self, operation: str, method: str, /, **params: Any) -> Any:
        try:
            result = getattr(self._raw, method)(Bucket=self.bucket, **params)
        except self._errors as exc:
            raise classify(exc, operation, self._secret, reached=self._reached) from None
        self._reached = True
        return result

    def list_keys(self, prefix: str, limit: int = 1000) -> list[str]:
        """Up to `limit` keys under `prefix` (one request: at most 1000)."""
        answer = self._call("ListObjectsV2", "list_objects_v2", Prefix=prefix, MaxKeys=limit)
        return [str(item.get("Key", "")) for item in answer.get("Contents") or []]

    def head(self, key: str) -> RemoteObject | None:
        """The object's size and metadata; None when there is no such object."""
        try:
            answer = self._call("HeadObject", "head_object", Key=key)
        except StorageError as error:
            if error.status == 404:
                return None
            raise
        metadata = {str(k).lower(): str(v) for k, v in (answer.get("Metadata") or {}).items()}
        sha256 = metadata.get(SHA256_METADATA, "").strip().lower() or None
        return RemoteObject(
            key=key,
            size=int(answer.get("ContentLength") or 0),
            etag=unquote_etag(answer.get("ETag")),
            sha256=sha256,
            metadata=metadata,
        )

    def _checksums(self, digest: PartDigest) -> dict[str, str]:
        sums = {"ContentMD5": digest.md5_base64}
        if self.flexible_checksums:
            sums["ChecksumCRC32"] = digest.crc32
        return sums

    def put(
        self,
        key: str,
        data: bytes,
        *,
        digest: PartDigest,
        metadata: Mapping[str, str],
        content_type: str = "application/octet-stream",
    ) -> SentPart:
        """One PutObject, with the body's checksums, which the server checks."""
        answer = self._call(
            "PutObject",
            "put_object",
            Key=key,
            Body=data,
            Metadata=dict(metadata),
            ContentType=content_type,
            **self._checksums(digest),
        )
        return SentPart(unquote_etag(answer.get("ETag")), str(answer.get("ChecksumCRC32") or ""))

    def create_multipart(self, key: str, *, metadata: Mapping[str, str], content_type: str) -> str:
        """CreateMultipartUpload; returns the upload id. With flexible checksums, the upload
        declares CRC32: every part then carries its own, and so does the completion."""
        extra = {"ChecksumAlgorithm": "CRC32"} if self.flexible_checksums else {}
        answer = self._call(
            "CreateMultipartUpload",
            "create_multipart_upload",
            Key=key,
            Metadata=dict(metadata),
            ContentType=content_type,
            **extra,
        )
        upload_id = answer.get("UploadId")
        if not isinstance(upload_id, str) or not upload_id:
            raise StorageError(
                StorageErrorKind.UNEXPECTED, operation="CreateMultipartUpload", detail="no UploadId"
            )
        return upload_id

    def upload_part(
        self, key: str, upload_id: str, number: int, body: Any, *, digest: PartDigest
    ) -> SentPart:
        """UploadPart, with the part's checksums, which the server checks."""
        answer = self._call(
            "UploadPart",
            "upload_part",
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=body,
            **self._checksums(digest),
        )
        return SentPart(unquote_etag(answer.get("ETag")), str(answer.get("ChecksumCRC32") or ""))

    def list_parts(self, key: str, upload_id: str) -> dict[int, RemotePart]:
        """Every part the server holds for this upload (ListParts, all pages)."""
        found: dict[int, RemotePart] = {}
        marker = 0
        while True:
            answer = self._call(
                "ListParts",
                "list_parts",
                Key=key,
                UploadId=upload_id,
                PartNumberMarker=marker,
                MaxParts=1000,
            )
            for item in answer.get("Parts") or []:
                number, size = item.get("PartNumber"), item.get("Size")
                if isinstance(number, int) and isinstance(size, int):
                    found[number] = RemotePart(number, size, unquote_etag(item.get("ETag")))
            following = answer.get("NextPartNumberMarker")
            if not answer.get("IsTruncated") or not isinstance(following, int):
                return found
            if following <= marker:
                return found  # a server that does not move on: what it gave is all we get
            marker = following

    def complete(self, key: str, upload_id: str, parts: Sequence[tuple[int, str, str]]) -> str:
        """CompleteMultipartUpload with these (part number, ETag, CRC32 or ""); returns the
        object's ETag."""
        listed: list[dict[str, Any]] = []
        for number, etag, crc32 in sorted(parts):
            item: dict[str, Any] = {"PartNumber": number, "ETag": f'"{etag}"'}
            if crc32:
                item["ChecksumCRC32"] = crc32
            listed.append(item)
        answer = self._call(
            "CompleteMultipartUpload",
            "complete_multipart_upload",
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": listed},
        )
        return unquote_etag(answer.get("ETag"))

    def abort(self, key: str, upload_id: str) -> bool:
        """AbortMultipartUpload; False when the server no longer had it."""
        try:
            self._call(
                "AbortMultipartUpload", "abort_multipart_upload", Key=key, UploadId=upload_id
            )
        except StorageError as error:
            if error.kind is StorageErrorKind.UPLOAD_GONE or error.status == 404:
                return False
            raise
        return True

    def list_uploads(self, prefix: str) -> list[tuple[str, str]]:
        """(key, upload id) of the multipart uploads under way under `prefix` (first 1000)."""
        answer = self._call("ListMultipartUploads", "list_multipart_uploads", Prefix=prefix)
        return [
            (str(item.get("Key", "")), str(item.get("UploadId", "")))
            for item in answer.get("Uploads") or []
        ]

    def delete(self, key: str) -> None:
        self._call("DeleteObject", "delete_object", Key=key)

    def read(self, key: str, chunk_size: int = _READ_CHUNK) -> Iterator[bytes]:
        """The object's bytes, in chunks (GetObject, streamed)."""
        answer = self._call("GetObject", "get_object", Key=key)
        body = answer["Body"]
        try:
            while True:
                try:
                    chunk = body.read(chunk_size)
                except self._errors as exc:
                    raise classify(exc, "GetObject", self._secret, reached=True) from None
                if not chunk:
                    return
                yield chunk
        finally:
            body.close()


def connect(
    config: StorageConfig,
    secret: Secret | str,
    *,
    max_connections: int = 10,
    attempts: int = 5,
    connect_timeout: float = 10.0,
    read_timeout: float = 120.0,
    flexible_checksums: bool = True,
) -> StorageClient:
    """A client for this storage. Nothing is sent yet: `test_connection` checks it works.

    `attempts`: tries per request, botocore's standard retry mode (5xx, throttling, dropped
    connections, with exponential backoff). `flexible_checksums`: send each body's CRC32 as
    well as its Content-MD5 (what boto3 does by default); off for an older store that refuses
    `x-amz-checksum-*` headers. Raises StorageError(BAD_CONFIG) for bad details.
    """
    import boto3  # type: ignore[import-untyped]
    from botocore import exceptions as bx  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    clean = config.normalized()
    value = secret.value if isinstance(secret, Secret) else secret
    value = value.strip()
    if not value:
        raise StorageError(StorageErrorKind.BAD_CONFIG, reason_key="storage.config.secret_missing")
    settings = Config(
        region_name=clean.region,
        signature_version="s3v4",
        # Bodies are not hashed a third time to sign them (over http; https never does): the
        # Content-MD5 and CRC32 sent with each are signed headers, and the server checks them.
        s3={"addressing_style": "path", "payload_signing_enabled": False},
        retries={"mode": "standard", "max_attempts": max(1, attempts)},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=max(1, max_connections),
        # The wizard sends each part's Content-MD5 itself and checks the ETag it gets back:
        # no second checksum (CRC32) on top of it.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        user_agent_extra="hdh-wizard",
    )
    try:
        session = boto3.session.Session(
            aws_access_key_id=clean.access_key_id,
            aws_secret_access_key=value,
            region_name=clean.region,
        )
        raw = session.client("s3", endpoint_url=clean.endpoint_url, config=settings)
    except (bx.BotoCoreError, ValueError) as exc:
        raise classify(exc, "connect", value) from None
    return StorageClient(
        clean,
        raw,
        value,
        (bx.BotoCoreError, bx.ClientError),
        flexible_checksums=flexible_checksums,
    )


# ---------------------------------------------------------------------------------------------
# The connection test


class ConnectionCheck(StrEnum):
    REACH = "reach"  # the bucket answers, the keys are accepted, listing under the prefix works
    WRITE = "write"  # a small probe object can be written under the prefix
    READ = "read"  # it reads back with its size and metadata (the SHA-256 the wizard sets)
    DELETE = "delete"  # and it can be deleted


@dataclass(frozen=True)
class ConnectionReport:
    """The checks passed, in order, and the first failure (None: all passed)."""

    passed: tuple[ConnectionCheck, ...]
    error: StorageError | None
    probe_key: str
    elapsed: float

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def failed_check(self) -> ConnectionCheck | None:
        if self.error is None:
            return None
        remaining = [check for check in ConnectionCheck if check not in self.passed]
        return remaining[0] if remaining else None

    def message(self, cat: Catalogue) -> str:
        if self.error is None:
            return cat.t("storage.test.ok")
        failed = self.failed_check
        step = cat.t(f"storage.test.check.{failed.value}") if failed else ""
        text = cat.t("storage.test.failed", step=step, reason=self.error.message(cat))
        if failed is ConnectionCheck.DELETE:
            text += " " + cat.t("storage.test.probe_left", name=self.probe_key)
        return text


_PROBE_BODY = b"hdh-wizard connection test: this object can be deleted.\n"


def test_connection(
    config: StorageConfig, secret: Secret | str, *, connect_timeout: float = 10.0
) -> ConnectionReport:
    """Can the release's files go there? Lists under the prefix, then writes, reads back and
    deletes a small probe object there. Stops at the first failure, explained."""
    started = time.monotonic()
    passed: list[ConnectionCheck] = []
    probe_key = ""

    def report(error: StorageError | None) -> ConnectionReport:
        return ConnectionReport(tuple(passed), error, probe_key, time.monotonic() - started)

    try:
        client = connect(
            config, secret, attempts=2, connect_timeout=connect_timeout, read_timeout=30.0
        )
    except StorageError as error:
        return report(error)
    clean = client.config
    probe_key = f"{clean.prefix}{PROBE_NAME}{uuid.uuid4().hex[:12]}"
    try:
        client.list_keys(clean.prefix, limit=1)
        passed.append(ConnectionCheck.REACH)
        sums = PartDigest.of(_PROBE_BODY)
        digest = hashlib.sha256(_PROBE_BODY).hexdigest()
        sent = client.put(
            probe_key,
            _PROBE_BODY,
            digest=sums,
            metadata={SHA256_METADATA: digest},
            content_type="text/plain",
        )
        if not sent.confirms(sums):
            raise StorageError(StorageErrorKind.CHECKSUM, operation="PutObject")
        passed.append(ConnectionCheck.WRITE)
        found = client.head(probe_key)
        if found is None or found.size != len(_PROBE_BODY):
            raise StorageError(
                StorageErrorKind.UNEXPECTED,
                operation="HeadObject",
                reason_key="storage.test.probe_missing",
            )
        if found.sha256 != digest:
            raise StorageError(
                StorageErrorKind.UNEXPECTED,
                operation="HeadObject",
                reason_key="storage.test.metadata_lost",
            )
        passed.append(ConnectionCheck.READ)
        client.delete(probe_key)
        passed.append(ConnectionCheck.DELETE)
    except StorageError as error:
        if ConnectionCheck.WRITE in passed and ConnectionCheck.DELETE not in passed:
            _try_delete(client, probe_key)
        return report(error)
    return report(None)


def _try_delete(client: StorageClient, key: str) -> None:
    with contextlib.suppress(StorageError):  # the report's message names the probe left behind
        client.delete(key)


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, by its name
