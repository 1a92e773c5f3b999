"""The route decision: ≤ 1 Go direct deposit, > 1 Go hosting by HDH (1 Go = 10^9 octets).

Before the volume step measures the files to publish, the route is a preview: the one the files'
known sizes decide (a 1.2 GB table shows route 2 from the start), unless someone chose to look
at the other route (`r` on the home screen) since the files were last set.
"""

from __future__ import annotations

from hdh_wizard.core.enums import Route
from hdh_wizard.core.release import AuditAction, Release

ONE_GO = 10**9
# The audit entries that set the preview: the files known (created, changed) or a choice.
_PREVIEW_SETTERS = frozenset(
    {AuditAction.CREATED, AuditAction.FILES_CHANGED, AuditAction.ROUTE_PREVIEWED}
)


def decide_route(total_bytes: int) -> Route:
    return Route.DIRECT if total_bytes <= ONE_GO else Route.HOSTED


def known_bytes(release: Release) -> int:
    """The total size of the release's files as last listed (before any measure)."""
    return sum(max(f.size, 0) for f in release.files)


def previewed_route(release: Release) -> Route:
    """The route shown before the volume is measured: chosen if the last word was a choice,
    else decided by the files' known sizes."""
    for entry in reversed(release.audit):
        if entry.action in _PREVIEW_SETTERS:
            if entry.action is AuditAction.ROUTE_PREVIEWED:
                return release.route_preview
            break
    if not release.files:
        return release.route_preview
    return decide_route(known_bytes(release))
