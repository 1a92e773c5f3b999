"""When a failed request may be sent again, and how long to wait first.

Whether a request is retried depends on what the server may have done with it:
- a read, a full-object PUT or a DELETE gives the same result when repeated (IDEMPOTENT);
- a creating POST (dataset, organization, resource, upload assembly) would create a second
  object if the first one went through: it is sent again only when the server certainly did
  nothing with it (CREATE): the connection could not be opened, or the server answered 429;
- a chunk of a chunked upload (CHUNK) is retried like an idempotent request and on 500 too;
  the upload code handles a part that the server already stored (udata refuses to store a
  part twice, see upload.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum

import httpx


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # in all, the first one included
    base_delay: float = 0.5  # seconds before the 2nd attempt, doubled for each next one
    max_delay: float = 8.0
    max_retry_after: float = 120.0  # a longer Retry-After is reported, not waited for


class RetryMode(Enum):
    IDEMPOTENT = "idempotent"
    CREATE = "create"
    CHUNK = "chunk"


_RNG = random.Random()

# Statuses that say "not now", whatever the request: worth waiting for.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# Statuses that say the request was not processed at all: safe even for a creating POST.
NOT_PROCESSED_STATUSES = frozenset({429})


def backoff_delay(policy: RetryPolicy, attempt: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter before attempt `attempt + 1` (`attempt` ≥ 1 failed).

    Half the delay is fixed and half random ("equal jitter"): clients that failed together
    do not come back together, and no wait is ever close to zero.
    """
    ceiling = min(policy.max_delay, policy.base_delay * 2.0 ** max(0, attempt - 1))
    draw: float = (rng or _RNG).uniform(0.0, ceiling / 2)
    return ceiling / 2 + draw


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """The wait a 429 or 503 asks for: `Retry-After` in seconds or as an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def never_reached_server(error: httpx.TransportError) -> bool:
    """The connection could not be opened: nothing was sent, whatever the method."""
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def status_is_retryable(status: int, mode: RetryMode) -> bool:
    if mode is RetryMode.CREATE:
        return status in NOT_PROCESSED_STATUSES
    if mode is RetryMode.CHUNK:
        return status in RETRYABLE_STATUSES or status == 500
    return status in RETRYABLE_STATUSES


def transport_error_is_retryable(error: httpx.TransportError, mode: RetryMode) -> bool:
    if isinstance(error, httpx.UnsupportedProtocol | httpx.ProxyError):
        return False  # a wrong address or proxy setting: trying again changes nothing
    if mode is RetryMode.CREATE:
        return never_reached_server(error)
    return True
