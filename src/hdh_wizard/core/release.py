"""The release: everything the wizard knows about one opening, as plain immutable values.

Functions in `core.workflow` take a `Release` and return a new one; the state file stores it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from hdh_wizard.core.enums import ENVIRONMENT_URLS, Environment, Role, Route, StepStatus
from hdh_wizard.core.steps import StepId


@dataclass(frozen=True)
class Person:
    name: str
    role: Role


class AuditAction(StrEnum):
    CREATED = "created"
    DRAFT_SAVED = "draft_saved"
    COMMITTED = "committed"
    UNDONE = "undone"
    SKIPPED = "skipped"
    BLOCKED = "blocked"
    UNBLOCKED = "unblocked"
    MARKED_STALE = "marked_stale"
    ROUTE_PREVIEWED = "route_previewed"
    VOLUME_MEASURED = "volume_measured"
    TARGET_CHANGED = "target_changed"
    FILES_CHANGED = "files_changed"
    BACKUP_RESTORED = "backup_restored"


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: Person
    action: AuditAction
    step: StepId | None = None
    detail: str = ""


@dataclass(frozen=True)
class StepRecord:
    status: StepStatus = StepStatus.TODO
    outputs: dict[str, Any] = field(default_factory=dict)
    reason: str = ""  # why skipped, blocked or stale
    updated_at: datetime | None = None
    updated_by: Person | None = None


@dataclass(frozen=True)
class DataFile:
    """A file or folder to release, as it was when last checked.

    `path` is POSIX and relative to the project folder when the file lies inside it.
    """

    path: str
    size: int
    mtime_ns: int
    fingerprint: str


@dataclass(frozen=True)
class Target:
    environment: Environment = Environment.DEMO
    url: str = ENVIRONMENT_URLS[Environment.DEMO]


@dataclass(frozen=True)
class Release:
    name: str
    created_at: datetime
    actor: Person  # who last worked on it; offered again on resume
    target: Target = Target()
    files: tuple[DataFile, ...] = ()
    steps: dict[StepId, StepRecord] = field(default_factory=dict)
    audit: tuple[AuditEntry, ...] = ()
    measured_bytes: int | None = None  # total volume, once the volume step measured it
    route_preview: Route = Route.DIRECT  # the route shown before the volume is measured

    def record(self, step_id: StepId) -> StepRecord:
        return self.steps.get(step_id, StepRecord())
