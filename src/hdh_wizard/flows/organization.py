"""Step: the organization the dataset is published under, chosen in the wizard.

Small: choosing needs a person (the screen); the command checks the choice still holds.
"""

from __future__ import annotations

from hdh_wizard.core.portal_records import organization_of
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows.port import FlowContext
from hdh_wizard.flows.stops import PublishStop, Said, Say
from hdh_wizard.services.datagouv.client import DataGouvClient


def confirm(ctx: FlowContext, client: DataGouvClient, say: Say) -> Release:
    """The chosen organization, of which the key's owner is still a member."""
    org = organization_of(ctx.release)
    if org is None:
        raise PublishStop("publish.stop.organization")
    if org.organization_id not in {o.id for o in client.my_organizations()}:
        raise PublishStop("publish.stop.not_member", name=org.name)
    say(Said("publish.organization", {"name": org.name}))
    return ctx.commit_unless_done(StepId.ORGANIZATION, org.to_outputs())
