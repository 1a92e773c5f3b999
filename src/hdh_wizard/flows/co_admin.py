"""Step: HDH staff made co-administrator of the organization, once the invitation is accepted.

Small: sending the invitation is the screen's; the command only sees whether it was accepted.
"""

from __future__ import annotations

from dataclasses import replace

from hdh_wizard.core.invitation import invitee_kind
from hdh_wizard.core.portal_records import invitation_of
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows.port import FlowContext
from hdh_wizard.flows.stops import Said, Say
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.models import Invitation


def follow_up(ctx: FlowContext, client: DataGouvClient, say: Say) -> Release:
    """An invitation sent and since accepted is committed; one pending is said."""
    release = ctx.release
    invitation = invitation_of(release)
    if invitation is None or invitation.accepted:
        return release
    kind = invitee_kind(invitation.invitee)
    sent = Invitation(
        invitation.invitation_id,
        invitation.organization_id,
        invitation.role,
        invitation.invitee if kind == "email" else "",
        invitation.invitee if kind == "user" else "",
        "",
    )
    if not client.invitation_accepted(invitation.organization_id, sent):
        say(Said("publish.invitation_pending", {"invitee": invitation.invitee}))
        return release
    accepted = replace(
        invitation, accepted=True, accepted_at=ctx.now().isoformat(timespec="seconds")
    )
    say(Said("publish.invitation_accepted", {"invitee": invitation.invitee}))
    return ctx.commit(StepId.CO_ADMIN, accepted.to_outputs())
