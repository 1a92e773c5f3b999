"""How a flow tells its caller to stop, and what it has to say along the way.

`PublishStop` names what a person must do first (a catalogue key, and one line per detail);
`Said` is one line of a flow's report. The screen shows them in its status line, the command
prints them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hdh_wizard.core import workflow
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId, get_step
from hdh_wizard.errors import HdhWizardError


class PublishStop(HdhWizardError):
    """Something the flow cannot do alone: the message says what to do in the wizard;
    `details` lists what it is about, one line each (catalogue keys and their parameters)."""

    def __init__(
        self, key: str, details: Sequence[tuple[str, dict[str, Any]]] = (), **params: Any
    ) -> None:
        super().__init__(key, **params)
        self.details = tuple(details)


@dataclass(frozen=True)
class Said:
    """One line of a flow's report: a catalogue key and its parameters."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


Say = Callable[[Said], None]


def say_nothing(_said: Said) -> None:
    """For a caller that shows the outcome itself (a screen)."""


def require_available(release: Release, step: StepId) -> None:
    """The step's prerequisites are done (a screen shows this in its checks panel)."""
    missing = workflow.blockers(release, step)
    if missing:
        raise PublishStop(
            "publish.stop.blocked",
            [(get_step(m).title_key, {}) for m in missing],
        )
