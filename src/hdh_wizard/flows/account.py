"""Step: the data.gouv.fr administrator account, confirmed from the key in use.

Small: the screen asks for the key and verifies it itself; what the command needs is here.
"""

from __future__ import annotations

from hdh_wizard.core.portal_records import AccountRecord
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows.port import FlowContext
from hdh_wizard.flows.stops import Said, Say
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.session import PortalSession


def confirm(ctx: FlowContext, client: DataGouvClient, portal: PortalSession, say: Say) -> Release:
    """The key's owner, committed unless the step is done already."""
    user = client.me()
    site = ctx.release.target.url
    secret = portal.key(site)
    source = secret.source.value if secret else ""
    record = AccountRecord(site, user.id, user.display_name, source)
    say(Said("publish.account", {"name": user.display_name}))
    return ctx.commit_unless_done(StepId.ACCOUNT, record.to_outputs())
