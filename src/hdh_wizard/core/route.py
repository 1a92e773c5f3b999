"""The route decision: ≤ 1 Go direct deposit, > 1 Go hosting by HDH (1 Go = 10^9 octets)."""

from __future__ import annotations

from hdh_wizard.core.enums import Route

ONE_GO = 10**9


def decide_route(total_bytes: int) -> Route:
    return Route.DIRECT if total_bytes <= ONE_GO else Route.HOSTED
