"""A typed client for the udata API v1 calls the wizard needs (data.gouv.fr and its demo).

`DataGouvClient(site, api_key)` talks to `<site>/api/1`, with the key in the `X-API-KEY`
header. Every failure is an `ApiError` (errors.py) whose kind says what to tell the partner.

Retries (retry.py): reads, full-object PUTs and DELETEs are retried on connection errors,
timeouts, 429 (after its Retry-After), 502, 503 and 504, with exponential backoff and jitter.
Creating POSTs are sent again only when the server certainly did nothing with them (the
connection never opened, or 429): a dataset or an organization is never created twice.

The real server's traps handled here:
- `PUT /datasets/{id}/` sets every field left out to nothing (`temporal_coverage`, `tags`…):
  `update_dataset` and `update_resource` read the object, merge the changes, and PUT it whole;
- an unknown licence id is saved as `notspecified` without error: callers check ids against
  `licenses()`;
- uploads (upload.py): unique stored names, chunked and resumable.

The API key stays inside this object (its request hook adds it to each request): never in an
exception, a repr or a log; nor is udata's session cookie kept (see `_NoCookies`).
"""

from __future__ import annotations

import http.cookiejar
import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from hdh_wizard import __version__
from hdh_wizard.core.documentation import merge_for_put
from hdh_wizard.redact import redact
from hdh_wizard.services.datagouv.errors import (
    ApiError,
    ErrorKind,
    field_errors_from,
    kind_for_status,
)
from hdh_wizard.services.datagouv.models import (
    Frequency,
    Granularity,
    Invitation,
    License,
    Organization,
    ShapeError,
    User,
    Zone,
)
from hdh_wizard.services.datagouv.retry import (
    RetryMode,
    RetryPolicy,
    backoff_delay,
    retry_after_seconds,
    status_is_retryable,
    transport_error_is_retryable,
)
from hdh_wizard.services.datagouv.upload import (
    DEFAULT_CHUNK_SIZE,
    ChunkedUpload,
    _Uploader,
)
from hdh_wizard.services.progress import UploadProgress

__all__ = ["DEFAULT_CHUNK_SIZE", "DataGouvClient", "RetryPolicy"]

T = TypeVar("T")

USER_AGENT = f"hdh-wizard/{__version__}"
API_PATH = "/api/1"


class _ApiKey(httpx.Auth):
    """Adds the key to each request; its repr never shows it."""

    def __init__(self, key: str) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-API-KEY"] = self._key
        yield request

    def __repr__(self) -> str:
        return "_ApiKey(***)"


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """udata answers an API call with a session cookie that authenticates on its own, even
    alongside a wrong key: kept, it would make a bad key look valid, and it is a secret."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


def _well_formed_key(key: str) -> bool:
    return key.isascii() and key.isprintable() and not any(c.isspace() for c in key)


def _segment(value: str) -> str:
    """An id as one URL path segment (zone ids hold colons, which stay readable)."""
    return quote(str(value), safe=":")


class DataGouvClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, shared safely
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        site = base_url.strip().rstrip("/")
        if site.endswith(API_PATH):  # tolerate an API address given for the site
            site = site[: -len(API_PATH)]
        self.base_url = site
        self.api_url = site + API_PATH
        self.timeout = timeout
        self.retry_policy = retry
        self.sleep = sleep
        self._key = api_key or None
        if self._key and not _well_formed_key(self._key):
            # A key holding a space or a line break (two keys pasted at once) would be refused
            # by the HTTP layer, whose error quotes it: say so before sending anything.
            raise ApiError(ErrorKind.UNAUTHORIZED, message="malformed API key")
        self._http = httpx.Client(
            base_url=self.api_url,
            timeout=timeout,
            transport=transport,
            auth=_ApiKey(self._key) if self._key else None,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,  # a redirect must not carry the key elsewhere
            cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
        )

    def __repr__(self) -> str:
        key = "set" if self._key else "none"
        return f"DataGouvClient({self.base_url!r}, api_key={key})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DataGouvClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -----------------------------------------------------------------------------------------
    # Account and organizations

    def me(self) -> User:
        return self._model(User.from_json, self._get("/me/"), "/me/")

    def my_organizations(self) -> list[Organization]:
        """The organizations the key's user belongs to, with their members."""
        return [self.organization(ref.id) for ref in self.me().organizations]

    def organization(self, org_id: str) -> Organization:
        path = f"/organizations/{_segment(org_id)}/"
        return self._model(Organization.from_json, self._get(path), path)

    def create_organization(
        self, name: str, description: str, *, acronym: str = "", url: str = ""
    ) -> Organization:
        payload: dict[str, Any] = {"name": name, "description": description}
        if acronym:
            payload["acronym"] = acronym
        if url:
            payload["url"] = url
        path = "/organizations/"
        body = self._json("POST", path, RetryMode.CREATE, json=payload)
        return self._model(Organization.from_json, body, path)

    def invite_member(
        self,
        org_id: str,
        *,
        email: str | None = None,
        user_id: str | None = None,
        role: str = "admin",
        comment: str = "",
    ) -> Invitation:
        """Invite an account (by id) or an address to join; the invitee accepts on their side."""
        if bool(email) == bool(user_id):
            raise ValueError("invite by email or by user id, exactly one of them")
        payload: dict[str, Any] = {"role": role}
        if email:
            payload["email"] = email
        else:
            payload["user"] = user_id
        if comment:
            payload["comment"] = comment
        path = f"/organizations/{_segment(org_id)}/member/"
        body = self._json("POST", path, RetryMode.CREATE, json=payload)
        return self._model(lambda data: Invitation.from_json(data, org_id), body, path)

    def my_invitations(self) -> list[Invitation]:
        path = "/me/org_invitations/"
        return self._models(Invitation.from_json, self._get(path), path)

    def accept_invitation(self, invitation_id: str) -> None:
        self._call(
            "POST", f"/me/org_invitations/{_segment(invitation_id)}/accept/", RetryMode.CREATE
        )

    def invitation_accepted(self, org_id: str, invitation: Invitation) -> bool:
        """Has the invitee joined? Read from the invitation's status when the caller may see
        the organization's requests (its admins), else from the members list."""
        try:
            path = f"/organizations/{_segment(org_id)}/membership/"
            requests = self._get(path)
        except ApiError as error:
            if error.kind not in (ErrorKind.FORBIDDEN, ErrorKind.UNAUTHORIZED):
                raise
            requests = None
        if isinstance(requests, list):
            for request in requests:
                if isinstance(request, Mapping) and request.get("id") == invitation.id:
                    return request.get("status") == "accepted"
        organization = self.organization(org_id)
        for member in organization.members:
            if invitation.user_id and member.user_id == invitation.user_id:
                return True
            if invitation.email and _masked_email_matches(member.email, invitation.email):
                return True
        return False

    def ensure_contact_point(
        self, org_id: str, *, name: str, email: str, role: str = "contact"
    ) -> str:
        """The id of the organization's contact point with this name and address, made if
        there is none. udata looks it up before creating it, so sending it again is safe."""
        payload: dict[str, Any] = {"role": role, "organization": org_id}
        if name:
            payload["name"] = name
        if email:
            payload["email"] = email
        path = "/contacts/"
        body = self._object("POST", path, RetryMode.IDEMPOTENT, json=payload)
        contact_id = body.get("id")
        if not isinstance(contact_id, str) or not contact_id:
            raise ApiError(ErrorKind.UNEXPECTED, message="no id", method="POST", path=path)
        return contact_id

    # -----------------------------------------------------------------------------------------
    # Reference lists

    def licenses(self) -> list[License]:
        path = "/datasets/licenses/"
        return self._models(License.from_json, self._get(path), path)

    def frequencies(self) -> list[Frequency]:
        path = "/datasets/frequencies/"
        return self._models(Frequency.from_json, self._get(path), path)

    def zones_suggest(self, q: str, size: int = 10) -> list[Zone]:
        path = "/spatial/zones/suggest/"
        return self._models(Zone.from_json, self._get(path, params={"q": q, "size": size}), path)

    def zone(self, zone_id: str) -> Zone:
        path = f"/spatial/zone/{_segment(zone_id)}/"
        return self._model(Zone.from_json, self._get(path), path)

    def granularities(self) -> list[Granularity]:
        path = "/spatial/granularities/"
        return self._models(Granularity.from_json, self._get(path), path)

    def allowed_extensions(self) -> frozenset[str]:
        path = "/datasets/extensions/"
        body = self._get(path)
        if not isinstance(body, list):
            raise ApiError(ErrorKind.UNEXPECTED, message="not a list", method="GET", path=path)
        return frozenset(str(item).lower() for item in body if isinstance(item, str))

    # -----------------------------------------------------------------------------------------
    # Datasets

    def create_dataset(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return self._object("POST", "/datasets/", RetryMode.CREATE, json=dict(payload))

    def dataset(self, dataset_id: str) -> dict[str, Any]:
        return self._object("GET", f"/datasets/{_segment(dataset_id)}/", RetryMode.IDEMPOTENT)

    def update_dataset(self, dataset_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """GET, merge `changes`, PUT the whole: fields not changed keep their values
        (core.documentation.merge_for_put turns the read shapes into write shapes)."""
        current = self.dataset(dataset_id)
        body = merge_for_put(current, changes)
        path = f"/datasets/{_segment(dataset_id)}/"
        return self._object("PUT", path, RetryMode.IDEMPOTENT, json=body)

    def publish_dataset(self, dataset_id: str) -> dict[str, Any]:
        return self.update_dataset(dataset_id, {"private": False})

    def delete_dataset(self, dataset_id: str) -> None:
        try:
            self._call("DELETE", f"/datasets/{_segment(dataset_id)}/", RetryMode.IDEMPOTENT)
        except ApiError as error:
            if error.kind is not ErrorKind.GONE:  # already deleted: done
                raise

    # -----------------------------------------------------------------------------------------
    # Resources

    def resource(self, dataset_id: str, resource_id: str) -> dict[str, Any]:
        path = f"/datasets/{_segment(dataset_id)}/resources/{_segment(resource_id)}/"
        return self._object("GET", path, RetryMode.IDEMPOTENT)

    def create_remote_resource(
        self,
        dataset_id: str,
        *,
        title: str,
        url: str,
        format: str,
        type: str = "main",
        description: str = "",
        filesize: int | None = None,
        checksum: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """A resource pointing at a file hosted elsewhere (HDH's storage, for the big bases)."""
        payload: dict[str, Any] = {
            "title": title,
            "url": url,
            "format": format,
            "type": type,
            "filetype": "remote",
        }
        if description:
            payload["description"] = description
        if filesize is not None:
            payload["filesize"] = filesize
        if checksum is not None:
            payload["checksum"] = {"type": checksum[0], "value": checksum[1]}
        path = f"/datasets/{_segment(dataset_id)}/resources/"
        return self._object("POST", path, RetryMode.CREATE, json=payload)

    def update_resource(
        self, dataset_id: str, resource_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """GET, merge, PUT. On an uploaded file, udata keeps its url, checksum and size."""
        current = self.resource(dataset_id, resource_id)
        body = {k: v for k, v in current.items() if k not in _RESOURCE_READ_ONLY}
        body.update(changes)
        path = f"/datasets/{_segment(dataset_id)}/resources/{_segment(resource_id)}/"
        return self._object("PUT", path, RetryMode.IDEMPOTENT, json=body)

    def reorder_resources(self, dataset_id: str, resource_ids: Sequence[str]) -> list[str]:
        """Put the dataset's resources in this order (udata wants every one of them, once);
        returns the order the server now holds."""
        path = f"/datasets/{_segment(dataset_id)}/resources/"
        body = self._json("PUT", path, RetryMode.IDEMPOTENT, json=list(resource_ids))
        if not isinstance(body, list):
            raise ApiError(ErrorKind.UNEXPECTED, message="not a list", method="PUT", path=path)
        return [str(r.get("id")) for r in body if isinstance(r, Mapping)]

    def delete_resource(self, dataset_id: str, resource_id: str) -> None:
        path = f"/datasets/{_segment(dataset_id)}/resources/{_segment(resource_id)}/"
        try:
            self._call("DELETE", path, RetryMode.IDEMPOTENT)
        except ApiError as error:
            # A retried DELETE whose first attempt went through finds nothing left.
            if not (error.kind is ErrorKind.NOT_FOUND and error.attempts > 1):
                raise

    def upload_file(
        self,
        dataset_id: str,
        path: Path,
        *,
        resource_id: str | None = None,
        filename: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        progress: Callable[[UploadProgress], None] | None = None,
        cancel: threading.Event | None = None,
        resume: ChunkedUpload | None = None,
        on_chunk: Callable[[ChunkedUpload], None] | None = None,
    ) -> dict[str, Any]:
        """Upload `path` as a new resource (or as the new file of `resource_id`).

        `filename`: the name to store the file under (default: the file's own name, e.g. to
        send `image.tif` as `image.tiff`); a unique token is added to it, see upload.py.
        Returns the resource JSON, whose title is the file's own name (`path.name`), or the
        replaced resource's title. `on_chunk` gets the
        state to persist: once planned (before anything is sent), then after each part the
        server acknowledged. `resume` (that state, read back) sends only the missing parts;
        it is ignored, and the upload starts over, if the file changed or is not the same.
        A failure or `cancel` raises ApiError; its `upload` says where to resume (None: start
        over). Local file errors raise OSError.
        """
        return _Uploader(
            self,
            dataset_id,
            path,
            resource_id=resource_id,
            filename=filename,
            chunk_size=chunk_size,
            progress=progress,
            cancel=cancel,
            resume=resume,
            on_chunk=on_chunk,
        ).run()

    # -----------------------------------------------------------------------------------------
    # Requests (also used by upload.py)

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, Any] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """One attempt; transport errors are raised as httpx raises them."""
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = timeout
        return self._http.request(
            method,
            path,
            json=json,
            params=params,
            data=data,
            files=files,
            **extra,
        )

    def transport_failure(
        self, error: httpx.TransportError, method: str, path: str, attempts: int
    ) -> ApiError:
        kind = ErrorKind.TIMEOUT if isinstance(error, httpx.TimeoutException) else ErrorKind.NETWORK
        # h11 quotes the header it refuses: that could be the key.
        quoting = isinstance(error, httpx.LocalProtocolError)
        detail = type(error).__name__ if quoting else (str(error) or type(error).__name__)
        return ApiError(
            kind,
            message=self._scrub(f"{type(error).__name__}: {detail}"),
            method=method,
            path=path,
            attempts=attempts,
        )

    def response_error(
        self, response: httpx.Response, method: str, path: str, attempts: int
    ) -> ApiError:
        status = response.status_code
        body: Any = None
        try:
            body = response.json()
        except ValueError:
            body = None
        message = ""
        if isinstance(body, Mapping):
            for key in ("message", "error"):
                value = body.get(key)
                if isinstance(value, str) and value.strip():
                    message = value.strip()
                    break
        if not message:
            message = response.reason_phrase or ""
        return ApiError(
            kind_for_status(status),
            status=status,
            message=self._scrub(message),
            field_errors=field_errors_from(body) if status == 400 else None,
            method=method,
            path=path,
            attempts=attempts,
        )

    def json_of(self, response: httpx.Response, method: str, path: str) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                ErrorKind.UNEXPECTED,
                status=response.status_code,
                message="not JSON",
                method=method,
                path=path,
            ) from None

    def _scrub(self, text: str) -> str:
        """The key out of a text, in every form an error may quote it (`hdh_wizard.redact`)."""
        return redact(text, [self._key], mask="***") if self._key else text
        forms = {self._key, repr(self._key)[1:-1], repr(self._key.encode())[2:-1]}
        forms.update(piece for piece in self._key.split() if len(piece) >= 6)
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "***")
        return text

    def _call(
        self,
        method: str,
        path: str,
        mode: RetryMode,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        policy = self.retry_policy
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.send(method, path, json=json, params=params)
            except httpx.TransportError as exc:
                if attempt < policy.attempts and transport_error_is_retryable(exc, mode):
                    self.sleep(backoff_delay(policy, attempt))
                    continue
                raise self.transport_failure(exc, method, path, attempt) from None
            if response.is_success:
                return response
            if attempt < policy.attempts and status_is_retryable(response.status_code, mode):
                delay = self._delay_for(response, attempt)
                if delay is not None:
                    self.sleep(delay)
                    continue
            raise self.response_error(response, method, path, attempt)

    def _delay_for(self, response: httpx.Response, attempt: int) -> float | None:
        """How long to wait before trying again; None when the server asks for too long."""
        policy = self.retry_policy
        if response.status_code in (429, 503):
            asked = retry_after_seconds(response.headers.get("Retry-After"))
            if asked is not None:
                return asked if asked <= policy.max_retry_after else None
        return backoff_delay(policy, attempt)

    def _json(
        self,
        method: str,
        path: str,
        mode: RetryMode,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        response = self._call(method, path, mode, json=json, params=params)
        return self.json_of(response, method, path)

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._json("GET", path, RetryMode.IDEMPOTENT, params=params)

    def _object(
        self, method: str, path: str, mode: RetryMode, *, json: Any = None
    ) -> dict[str, Any]:
        body = self._json(method, path, mode, json=json)
        if not isinstance(body, Mapping):
            raise ApiError(ErrorKind.UNEXPECTED, message="not an object", method=method, path=path)
        return dict(body)

    @staticmethod
    def _model(build: Callable[[Any], T], body: Any, path: str, method: str = "GET") -> T:
        try:
            return build(body)
        except ShapeError as exc:
            raise ApiError(
                ErrorKind.UNEXPECTED, message=str(exc), method=method, path=path
            ) from None

    @staticmethod
    def _models(build: Callable[[Any], T], body: Any, path: str) -> list[T]:
        if not isinstance(body, list):
            raise ApiError(ErrorKind.UNEXPECTED, message="not a list", method="GET", path=path)
        try:
            return [build(item) for item in body]
        except ShapeError as exc:
            raise ApiError(
                ErrorKind.UNEXPECTED, message=str(exc), method="GET", path=path
            ) from None


# Read-only or computed by udata: never sent back in a resource's PUT.
_RESOURCE_READ_ONLY = frozenset(
    {
        "id",
        "created_at",
        "last_modified",
        "latest",
        "metrics",
        "preview_url",
        "internal",
        "harvest",
        "geopf",
        "success",
    }
)


def _masked_email_matches(shown: str, email: str) -> bool:
    """udata shows members' emails masked (`he*****@domain`): does `email` fit the mask?"""
    shown, email = shown.strip().lower(), email.strip().lower()
    if not shown or not email:
        return False
    if "*" not in shown:
        return shown == email
    shown_local, _, shown_domain = shown.partition("@")
    local, _, domain = email.partition("@")
    if shown_domain != domain:
        return False
    visible = shown_local.split("*", 1)[0]
    return local.startswith(visible) and (len(shown_local) == len(local) or not visible)
