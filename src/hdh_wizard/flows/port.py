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
from typing import Any, Protocol, runtime_checkable

from hdh_wizard.core import workflow
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.release import Person, Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows.dossier import save_release
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


@runtime_checkable
class ChangingStore(Store, Protocol):
    """A store that applies a change to the state as it is when it saves (a screen's store,
    saving on the UI thread while the flow runs in a worker: a draft saved meanwhile is kept)."""

    def apply(self, change: Callable[[Release], Release]) -> Release:
        """Apply `change` to the release as last saved, write the result and return it."""
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

    def change(self, change: Callable[[Release], Release]) -> Release:
        """Apply a model change and save it (on the store's own terms: `ChangingStore`)."""
        if isinstance(self.store, ChangingStore):
            return self.store.apply(change)
        return self.store.save(change(self.release))

    def reopen(self, step: StepId) -> Release:
        """A finished (or stale, or skipped) step is reopened before its work is redone; later
        steps that relied on it become stale. Does nothing to a step still in progress."""
        if self.release.record(step).status not in REOPENED_FROM:
            return self.release

        def reopened(release: Release) -> Release:
            if release.record(step).status in REOPENED_FROM:
                release, _ = workflow.undo_step(release, step, self.actor, self.now())
            return release

        return self.change(reopened)

    def record_progress(self, step: StepId, outputs: Mapping[str, Any]) -> Release:
        """Long work's progress (a part sent), saved at once, without an audit entry."""
        now = self.now()
        return self.change(lambda release: workflow.record_progress(release, step, outputs, now))

    def save_draft(self, step: StepId, outputs: Mapping[str, Any]) -> Release:
        actor, now = self.actor, self.now()
        return self.change(lambda release: workflow.save_draft(release, step, outputs, actor, now))

    def commit(self, step: StepId, outputs: Mapping[str, Any]) -> Release:
        actor, now = self.actor, self.now()
        return self.change(lambda release: workflow.commit_step(release, step, outputs, actor, now))

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
        """Save; a step committed, skipped or reopened refreshes the release dossier."""
        return save_release(self.project, release).release
