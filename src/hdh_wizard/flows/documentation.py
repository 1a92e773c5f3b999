"""The documentation a dataset step sends, as the state holds it (for the command).

The screen reads it from its form; the command takes the one saved on the step, else the one
saved on the other dataset step, and checks it with the portal's licences before anything is
sent.
"""

from __future__ import annotations

from typing import Any

from hdh_wizard.core.documentation import (
    Documentation,
    check_documentation,
    documentation_from_outputs,
)
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows.stops import PublishStop
from hdh_wizard.services.datagouv.client import DataGouvClient

DOCUMENTATION_KEY = "documentation"


def saved_documentation(outputs: dict[str, Any]) -> Documentation | None:
    raw = outputs.get(DOCUMENTATION_KEY)
    return documentation_from_outputs(raw) if isinstance(raw, dict) else None


def documentation_in_state(client: DataGouvClient, release: Release, step: StepId) -> Documentation:
    raw = release.record(step).outputs.get(DOCUMENTATION_KEY)
    if not isinstance(raw, dict):
        other = StepId.DATASET_PAGE if step is StepId.DEPOSIT else StepId.DEPOSIT
        raw = release.record(other).outputs.get(DOCUMENTATION_KEY)
    if not isinstance(raw, dict):
        raise PublishStop("publish.stop.documentation")
    doc = documentation_from_outputs(raw)
    problems = check_documentation(doc, known_licenses={lic.id for lic in client.licenses()})
    if problems:
        raise PublishStop(
            "publish.stop.documentation_incomplete",
            [(p.key, p.params) for p in problems],
            count=len(problems),
        )
    return doc
