"""What can go wrong when talking to data.gouv.fr, as one typed error with a plain explanation.

Every failure of the client is an `ApiError`: its `kind` says what happened (refused input,
bad key, no right, gone, read-only portal, network…), `explanation_key` names the catalogue
text that tells the partner what to do, and `describe()` makes one readable paragraph of it,
with the server's own message and its messages per form field.

Nothing here ever holds the API key: only the method and the path of the request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Catalogue

if TYPE_CHECKING:
    from hdh_wizard.services.datagouv.upload import ChunkedUpload


class ErrorKind(StrEnum):
    INVALID = "invalid"  # 400 (and other 4xx): the server refused what was sent
    UNAUTHORIZED = "unauthorized"  # 401: no key, wrong, expired or revoked key
    FORBIDDEN = "forbidden"  # 403: the account has no right on this object
    NOT_FOUND = "not_found"  # 404
    GONE = "gone"  # 410: deleted
    READ_ONLY = "read_only"  # 423: the portal is in read-only mode
    RATE_LIMITED = "rate_limited"  # 429
    SERVER = "server"  # 5xx
    NETWORK = "network"  # connection refused or reset, DNS
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"  # by the user, between two chunks
    UNEXPECTED = "unexpected"  # not JSON, or not the expected shape
    FILE_CHANGED = "file_changed"  # the local file changed while it was being sent


_KIND_BY_STATUS = {
    400: ErrorKind.INVALID,
    401: ErrorKind.UNAUTHORIZED,
    403: ErrorKind.FORBIDDEN,
    404: ErrorKind.NOT_FOUND,
    410: ErrorKind.GONE,
    423: ErrorKind.READ_ONLY,
    429: ErrorKind.RATE_LIMITED,
}


def kind_for_status(status: int) -> ErrorKind:
    if status in _KIND_BY_STATUS:
        return _KIND_BY_STATUS[status]
    if status >= 500:
        return ErrorKind.SERVER
    if status >= 400:
        return ErrorKind.INVALID  # 405, 409, 413, 415…: the request itself is refused
    return ErrorKind.UNEXPECTED


class ApiError(HdhWizardError):
    """A failed call to the udata API; `message(cat)` explains it (see `describe`).

    `server_message` is what the server said, as it said it. `upload` is set when a file
    upload stopped part-way and can be resumed from it
    (cancelled, network down…): pass it back as `resume=` to send only the missing chunks.
    """

    def __init__(
        self,
        kind: ErrorKind,
        *,
        status: int | None = None,
        message: str = "",
        field_errors: Mapping[str, tuple[str, ...]] | None = None,
        method: str = "",
        path: str = "",
        attempts: int = 1,
        upload: ChunkedUpload | None = None,
    ) -> None:
        self.kind = kind
        self.status = status
        self.server_message = message
        self.field_errors: dict[str, tuple[str, ...]] = dict(field_errors or {})
        self.method = method
        self.path = path
        self.attempts = attempts
        self.upload = upload
        super().__init__(f"datagouv.error.{kind.value}")
        self.args = (self._summary(),)

    def __str__(self) -> str:
        return self._summary()

    def _summary(self) -> str:
        where = f"{self.method} {self.path}".strip()
        status = f" {self.status}" if self.status is not None else ""
        text = f"{self.kind.value}{status}"
        if where:
            text += f" on {where}"
        if self.server_message:
            text += f": {self.server_message}"
        if self.field_errors:
            text += f" {self.field_errors}"
        return text

    def __repr__(self) -> str:
        return f"ApiError({self._summary()!r}, attempts={self.attempts})"

    @property
    def explanation_key(self) -> str:
        return self.key

    def message(self, cat: Catalogue, labels: Mapping[str, str] | None = None) -> str:
        """One paragraph, in the user's language; `labels` as for `describe`."""
        return describe(self, cat, labels)

    def with_upload(self, upload: ChunkedUpload | None) -> ApiError:
        """The same error, saying where an interrupted upload can resume."""
        return ApiError(
            self.kind,
            status=self.status,
            message=self.server_message,
            field_errors=self.field_errors,
            method=self.method,
            path=self.path,
            attempts=self.attempts,
            upload=upload,
        )


# Kinds whose server message adds nothing the explanation does not already say.
_NO_SERVER_MESSAGE = {ErrorKind.CANCELLED, ErrorKind.FILE_CHANGED}
_MAX_MESSAGE = 300


def describe(error: ApiError, cat: Catalogue, labels: Mapping[str, str] | None = None) -> str:
    """One paragraph: what to do, the server's words, each refused field, where to resume.

    `labels` names the server's fields as the form shows them ("frequency" → "Fréquence…").
    """
    parts = [cat.t(error.explanation_key)]
    if error.field_errors:
        shown = labels or {}
        fields = "; ".join(
            cat.t(
                "datagouv.error.field",
                name=shown.get(name) or shown.get(name.split(".")[0]) or name,
                messages=" ".join(messages),
            )
            for name, messages in sorted(error.field_errors.items())
        )
        parts.append(cat.t("datagouv.error.fields", fields=fields))
    elif error.server_message and error.kind not in _NO_SERVER_MESSAGE:
        message = error.server_message.strip()
        if len(message) > _MAX_MESSAGE:
            message = message[: _MAX_MESSAGE - 1] + "…"
        parts.append(cat.t("datagouv.error.server_said", message=message))
    if error.upload is not None and error.upload.done_parts < error.upload.total_parts:
        parts.append(
            cat.t(
                "datagouv.error.resume_at",
                part=error.upload.done_parts + 1,
                total=error.upload.total_parts,
            )
        )
    if error.method and error.path and error.kind not in _NO_SERVER_MESSAGE:
        parts.append(
            cat.t(
                "datagouv.error.request",
                method=error.method,
                path=error.path,
                attempts=error.attempts,
            )
        )
    return " ".join(parts)


# udata 17 turns an unknown enum value into a 400 with a bare message and no field errors,
# e.g. {"message": "'sometimes' is not a valid UpdateFrequency"}: put it back on its field.
_ENUM_FIELDS = {"UpdateFrequency": "frequency"}
_NOT_A_VALID = re.compile(r"is not a valid (\w+)")


def field_errors_from(body: Any) -> dict[str, tuple[str, ...]]:
    """The per-field messages of a udata 400, keyed by the server's field names.

    Nested errors (`spatial` → `zones`) are keyed with dots: `spatial.zones`.
    """
    if not isinstance(body, Mapping):
        return {}
    found: dict[str, tuple[str, ...]] = {}
    errors = body.get("errors")
    if isinstance(errors, Mapping):
        _flatten(errors, "", found)
    message = body.get("message")
    if not found and isinstance(message, str):
        match = _NOT_A_VALID.search(message)
        if match and match.group(1) in _ENUM_FIELDS:
            found[_ENUM_FIELDS[match.group(1)]] = (message,)
    return found


def _flatten(errors: Mapping[Any, Any], prefix: str, found: dict[str, tuple[str, ...]]) -> None:
    for key, value in errors.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(value, f"{name}.", found)
        elif isinstance(value, list | tuple):
            messages: list[str] = []
            for index, item in enumerate(value):
                if isinstance(item, Mapping):  # a list of sub-forms, e.g. resources
                    _flatten(item, f"{name}.{index}.", found)
                elif item is not None:
                    messages.append(str(item))
            if messages:
                found[name] = tuple(messages)
        elif value is not None:
            found[name] = (str(value),)
