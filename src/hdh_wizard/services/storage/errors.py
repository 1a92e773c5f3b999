"""What can go wrong with HDH's object storage, as one typed error with a plain explanation.

Every failure of the storage service is a `StorageError`: its `kind` says what happened (wrong
endpoint, bad credentials, no such bucket, no right, clock skew, TLS, network…), its catalogue
key (`storage.error.<kind>`) tells the user what to do, and `describe()` makes one paragraph of
it with the server's own words and where an interrupted upload will resume.

Nothing here ever holds the secret key: a server's message is scrubbed of it before it is kept.
botocore is imported only when an error is classified, so that importing this module stays cheap.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.redact import redact

if TYPE_CHECKING:
    from hdh_wizard.services.storage.transfer import MultipartState

_MAX_DETAIL = 300


class StorageErrorKind(StrEnum):
    BAD_CONFIG = "bad_config"  # the connection details are incomplete or malformed
    ENDPOINT = "endpoint"  # unknown host name, connection refused, unreachable
    TLS = "tls"  # the secure connection failed (certificate, proxy interception)
    CREDENTIALS = "credentials"  # InvalidAccessKeyId, SignatureDoesNotMatch
    NO_SUCH_BUCKET = "no_such_bucket"
    ACCESS_DENIED = "access_denied"  # known keys, but no right on this bucket or prefix
    CLOCK_SKEW = "clock_skew"  # RequestTimeTooSkewed: this computer's clock is off
    WRONG_REGION = "wrong_region"  # AuthorizationHeaderMalformed, PermanentRedirect
    QUOTA = "quota"  # the space or the quota granted is used up
    NETWORK = "network"  # the connection dropped or timed out, even after retries
    SERVER = "server"  # 5xx, even after retries
    CHECKSUM = "checksum"  # a part arrived altered (BadDigest, ETag not its MD5)
    UPLOAD_GONE = "upload_gone"  # NoSuchUpload: the server dropped the multipart upload
    FILE_CHANGED = "file_changed"  # the local file changed while it was being sent
    LOCAL_FILE = "local_file"  # the local file cannot be read
    TOO_LARGE = "too_large"  # above S3's 5 TiB per object
    CANCELLED = "cancelled"  # by the user, between two parts
    UNEXPECTED = "unexpected"


_KIND_BY_CODE: dict[str, StorageErrorKind] = {
    "InvalidAccessKeyId": StorageErrorKind.CREDENTIALS,
    "SignatureDoesNotMatch": StorageErrorKind.CREDENTIALS,
    "InvalidToken": StorageErrorKind.CREDENTIALS,
    "ExpiredToken": StorageErrorKind.CREDENTIALS,
    "InvalidSecurity": StorageErrorKind.CREDENTIALS,
    "NoSuchBucket": StorageErrorKind.NO_SUCH_BUCKET,
    "AccessDenied": StorageErrorKind.ACCESS_DENIED,
    "AllAccessDisabled": StorageErrorKind.ACCESS_DENIED,
    "AccountProblem": StorageErrorKind.ACCESS_DENIED,
    "RequestTimeTooSkewed": StorageErrorKind.CLOCK_SKEW,
    "AuthorizationHeaderMalformed": StorageErrorKind.WRONG_REGION,
    "PermanentRedirect": StorageErrorKind.WRONG_REGION,
    "IllegalLocationConstraintException": StorageErrorKind.WRONG_REGION,
    "InvalidRegion": StorageErrorKind.WRONG_REGION,
    "QuotaExceeded": StorageErrorKind.QUOTA,  # Ceph RGW
    "XMinioStorageFull": StorageErrorKind.QUOTA,
    "XMinioAdminBucketQuotaExceeded": StorageErrorKind.QUOTA,
    "BadDigest": StorageErrorKind.CHECKSUM,
    "InvalidDigest": StorageErrorKind.CHECKSUM,
    "XAmzContentSHA256Mismatch": StorageErrorKind.CHECKSUM,
    "NoSuchUpload": StorageErrorKind.UPLOAD_GONE,
    "RequestTimeout": StorageErrorKind.NETWORK,
    "InternalError": StorageErrorKind.SERVER,
    "ServiceUnavailable": StorageErrorKind.SERVER,
    "SlowDown": StorageErrorKind.SERVER,
}

# Kinds whose server message adds nothing to the explanation.
_NO_DETAIL = {StorageErrorKind.CANCELLED, StorageErrorKind.FILE_CHANGED}


class StorageError(HdhWizardError):
    """A failed storage operation. `state` is set when an upload stopped part-way and can resume
    from it (pass it back as `resume=`); None means the next attempt starts over."""

    def __init__(
        self,
        kind: StorageErrorKind,
        *,
        code: str = "",
        status: int | None = None,
        detail: str = "",
        operation: str = "",
        reason_key: str = "",
        object_key: str = "",
        state: MultipartState | None = None,
    ) -> None:
        self.kind = kind
        self.code = code
        self.status = status
        self.detail = detail[:_MAX_DETAIL]
        self.operation = operation
        self.reason_key = reason_key  # a catalogue key saying more (a config field's problem)
        self.object_key = object_key  # the object being sent or checked, if any
        self.state = state
        super().__init__(f"storage.error.{kind.value}")

    def __str__(self) -> str:
        text = self.kind.value
        if self.operation:
            text += f" on {self.operation}"
        if self.object_key:
            text += f" {self.object_key!r}"
        if self.status is not None:
            text += f" {self.status}"
        if self.code:
            text += f" {self.code}"
        if self.reason_key:
            text += f" ({self.reason_key})"
        if self.detail:
            text += f": {self.detail}"
        return text

    def __repr__(self) -> str:
        return f"StorageError({str(self)!r})"

    def message(self, cat: Catalogue) -> str:
        return describe(self, cat)

    def with_state(self, state: MultipartState | None) -> StorageError:
        """The same error, saying where the interrupted upload can resume."""
        return StorageError(
            self.kind,
            code=self.code,
            status=self.status,
            detail=self.detail,
            operation=self.operation,
            reason_key=self.reason_key,
            object_key=self.object_key,
            state=state,
        )

    def about(self, object_key: str) -> StorageError:
        """The same error, naming the object it happened to."""
        if self.object_key == object_key:
            return self
        error = self.with_state(self.state)
        error.object_key = object_key
        return error


def describe(error: StorageError, cat: Catalogue) -> str:
    """One paragraph: what to do, the server's words, where the upload will resume."""
    parts = [cat.t(error.key)]
    if error.reason_key:
        parts.append(cat.t(error.reason_key))
    if error.kind not in _NO_DETAIL and (error.code or error.detail):
        said = ": ".join(text for text in (error.code, error.detail.strip()) if text)
        parts.append(cat.t("storage.error.server_said", message=said))
    state = error.state
    if state is not None and state.done_parts < state.total_parts:
        parts.append(
            cat.t("storage.error.resume_at", done=state.done_parts, total=state.total_parts)
        )
    if error.object_key:
        parts.append(cat.t("storage.error.object", name=error.object_key))
    if error.operation and error.kind not in _NO_DETAIL:
        parts.append(cat.t("storage.error.operation", operation=error.operation))
    return " ".join(parts)


def classify(
    exc: BaseException, operation: str = "", secret: str = "", *, reached: bool = False
) -> StorageError:
    """The StorageError a boto3/botocore exception stands for; `secret` is scrubbed from it.

    `reached`: the server already answered in this run (a transfer under way).
    """
    from botocore import exceptions as bx  # type: ignore[import-untyped]

    if isinstance(exc, StorageError):
        return exc
    kind = StorageErrorKind.UNEXPECTED
    code = ""
    status: int | None = None
    detail = str(exc)
    if isinstance(exc, bx.ClientError):
        response: dict[str, Any] = getattr(exc, "response", {}) or {}
        error = response.get("Error") or {}
        code = scrub(str(error.get("Code") or ""), secret)
        detail = str(error.get("Message") or "")
        raw_status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        status = raw_status if isinstance(raw_status, int) else None
        kind = _kind_of_response(code, status, operation)
        if code.isdigit():
            code = ""  # a HEAD's error has no body: botocore puts the status as the code
    elif isinstance(exc, bx.SSLError):
        kind = StorageErrorKind.TLS
    elif isinstance(exc, bx.ConnectionError):  # DNS, refused, connect timeout, proxy
        # Once the server has answered, a refused connection is the network going down (a
        # laptop asleep, Wi-Fi lost), not a wrong address.
        kind = StorageErrorKind.NETWORK if reached else StorageErrorKind.ENDPOINT
        detail = _root_cause(exc) or detail
    elif isinstance(exc, bx.HTTPClientError):  # connection closed, read timeout
        kind = StorageErrorKind.NETWORK
    elif isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        kind = StorageErrorKind.CREDENTIALS
    elif isinstance(exc, ValueError) and "endpoint" in str(exc).lower():
        kind = StorageErrorKind.ENDPOINT  # botocore's "Invalid endpoint: …"
    return StorageError(
        kind, code=code, status=status, detail=scrub(detail, secret), operation=operation
    )


def _kind_of_response(code: str, status: int | None, operation: str) -> StorageErrorKind:
    if code in _KIND_BY_CODE:
        return _KIND_BY_CODE[code]
    if status == 404 and operation == "HeadBucket":
        return StorageErrorKind.NO_SUCH_BUCKET
    if status == 403:
        return StorageErrorKind.ACCESS_DENIED
    if status in (301, 307):
        return StorageErrorKind.WRONG_REGION
    if status is not None and status >= 500:
        return StorageErrorKind.SERVER
    return StorageErrorKind.UNEXPECTED


def _root_cause(exc: BaseException) -> str:
    """The innermost reason of a connection failure ("Name or service not known")."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    text = ""
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        reason = getattr(cause, "reason", None) or getattr(cause, "error", None)
        if isinstance(reason, BaseException) and str(reason):
            text = str(reason)
        cause = cause.__cause__ or cause.__context__
    return text


def scrub(text: str, secret: str) -> str:
    """`text` without `secret` in it, in any of its forms (as is, quoted, URL-encoded: a server
    echoing a request's query or form): never shown, not even masked, it is not the user's words."""
    return redact(text, [secret])
    from urllib.parse import quote, quote_plus

    forms = {secret, quote(secret), quote(secret, safe=""), quote_plus(secret)}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "•" * 8)
        if "%" in form:  # %2F or %2f: hexadecimal digits in either case
            pieces = re.split(r"(%[0-9A-F]{2})", form)
            pattern = "".join(
                f"%(?i:{p[1:]})" if re.fullmatch(r"%[0-9A-F]{2}", p) else re.escape(p)
                for p in pieces
            )
            text = re.sub(pattern, "•" * 8, text)
    return text
