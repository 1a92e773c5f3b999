"""Whether a hosted file's public URL really gives the file to anyone, without credentials.

The URLs referenced on data.gouv.fr are downloaded by the public: a bucket HDH has not opened
for reading answers 403 to them, and the page would publish dead links. One anonymous HEAD per
URL (a one-byte GET where HEAD is refused) tells, before the references are made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

import httpx

from hdh_wizard.i18n.catalogue import Catalogue

TIMEOUT = httpx.Timeout(15.0, connect=10.0)


class Access(StrEnum):
    PUBLIC = "public"  # the URL gives the file, with the expected size
    FORBIDDEN = "forbidden"  # 401/403: the bucket (or prefix) is not readable by the public
    MISSING = "missing"  # 404: nothing at this URL
    WRONG_SIZE = "wrong_size"  # something else answers there
    UNREACHABLE = "unreachable"  # no answer: DNS, TLS, network, 5xx


# What a URL answering so cannot be referenced for: the public would not get the file.
CLOSED = frozenset({Access.FORBIDDEN, Access.MISSING, Access.WRONG_SIZE})


@dataclass(frozen=True)
class PublicCheck:
    url: str
    access: Access
    status: int | None = None  # the HTTP status, when there was an answer

    @property
    def ok(self) -> bool:
        return self.access is Access.PUBLIC

    @property
    def key(self) -> str:
        """The catalogue key of what this says; its parameters: `params(path)`."""
        return f"storage.public.{self.access.value}"

    def params(self, path: str) -> dict[str, str]:
        return {"path": path, "status": str(self.status) if self.status is not None else "—"}

    def message(self, cat: Catalogue, path: str) -> str:
        return cat.t(self.key, **self.params(path))


def check_public(url: str, size: int, client: httpx.Client) -> PublicCheck:
    """Ask for `url` as anyone would; `size` is the file's, to tell it is the file."""
    try:
        response = client.head(url)
        if response.status_code in (401, 403, 405, 501):
            # Some gateways (and policies) allow GET but not HEAD: one byte tells for sure.
            response = client.get(url, headers={"Range": "bytes=0-0"})
    except httpx.HTTPError:
        return PublicCheck(url, Access.UNREACHABLE)
    status = response.status_code
    if status in (401, 403):
        return PublicCheck(url, Access.FORBIDDEN, status)
    if status in (404, 410):
        return PublicCheck(url, Access.MISSING, status)
    if status >= 300:
        return PublicCheck(url, Access.UNREACHABLE, status)
    return PublicCheck(
        url, Access.PUBLIC if _size(response) in (size, None) else Access.WRONG_SIZE, status
    )


def check_all_public(
    files: Iterable[tuple[str, int]],
    /,
    *,
    client: httpx.Client | None = None,
    checked: Callable[[PublicCheck], None] | None = None,
) -> list[PublicCheck]:
    """Each (url, size), checked anonymously, in order."""
    own = client is None
    session = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True)
    try:
        results = []
        for url, size in files:
            result = check_public(url, size, session)
            if checked is not None:
                checked(result)
            results.append(result)
        return results
    finally:
        if own:
            session.close()


def _size(response: httpx.Response) -> int | None:
    """The whole file's size the answer gives: Content-Range's total for a ranged GET."""
    content_range = response.headers.get("content-range", "")
    if "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        return int(total) if total.isdigit() else None
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() else None
