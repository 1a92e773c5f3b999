"""What a flow needs from whoever runs it: the state, the clock, who acts, and a way to stop.

The screen's worker and the headless command each make a `FlowContext` and call the same flow;
progress goes back through the callbacks each flow takes. The release rules every flow shares
are here too, so that they are written once: reopen a finished step before redoing it, commit
once the work is verified, record progress without an audit entry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.release import Person, Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.project import Project

# The statuses a step is reopened from before its work is redone (its outputs are kept).
REOPENED_FROM = frozenset({StepStatus.DONE, StepStatus.STALE, StepStatus.SKIPPED})


class Store(Protocol):
    """The project's state: the release as last saved, and saving a new one (atomically)."""

    @property
    def release(self) -> Release: ...

    def save(self, release: Release) -> Release:
        """Write `release` and return it as written."""
        ...


@dataclass
class FlowContext:
    store: Store
    actor: Person
    now: Callable[[], datetime]
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def release(self) -> Release:
        return self.store.release

    def reopen(self, step: StepId) -> Release:
        """A finished (or stale, or skipped) step is reopened before its work is redone; later
        steps that relied on it become stale. Does nothing to a step still in progress."""
        release = self.release
        if release.record(step).status in REOPENED_FROM:
            release, _ = workflow.undo_step(release, step, self.actor, self.now())
            release = self.store.save(release)
        return release

    def record_progress(self, step: StepId, outputs: Mapping[str, Any]) -> Release:
        """Long work's progress (a part sent), saved at once, without an audit entry."""
        return self.store.save(workflow.record_progress(self.release, step, outputs, self.now()))

    def save_draft(self, step: StepId, outputs: Mapping[str, Any]) -> Release:
        return self.store.save(
            workflow.save_draft(self.release, step, outputs, self.actor, self.now())
        )

    def commit(self, step: StepId, outputs: Mapping[str, Any]) -> Release:
        return self.store.save(
            workflow.commit_step(self.release, step, outputs, self.actor, self.now())
        )

    def commit_unless_done(self, step: StepId, outputs: Mapping[str, Any]) -> Release:
        """A done step is left as it is: committing it again would mark later steps stale."""
        if self.release.record(step).status is StepStatus.DONE:
            return self.release
        return self.commit(step, outputs)

    def commit_if_changed(self, step: StepId, outputs: Mapping[str, Any]) -> Release:
        record = self.release.record(step)
        if record.status is StepStatus.DONE and dict(record.outputs) == dict(outputs):
            return self.release
        return self.commit(step, outputs)


@dataclass
class ProjectStore:
    """The store of a project opened from its folder (`hdh_wizard.project`): each save writes
    the state file atomically. Not thread-safe on its own: a screen saves through the app, on
    the UI thread (see `ui`)."""

    project: Project

    @property
    def release(self) -> Release:
        return self.project.release

    def save(self, release: Release) -> Release:
        return projects.save(self.project, release).release
