"""`hdh-wizard publish`: the data.gouv.fr steps that remain, run from the state without a screen.

Same sequences as the screens (each step's flow): the key from the keyring (or
HDH_WIZARD_API_KEY), the organization and the documentation chosen in the wizard, every server
change recorded at once, each step committed only once the server is seen to hold it. What
needs a person (choosing the organization, writing the documentation) is named, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hdh_wizard.core import workflow
from hdh_wizard.core.deposit_plan import LocalFile
from hdh_wizard.core.enums import Route
from hdh_wizard.core.release import Release
from hdh_wizard.flows import account, co_admin, dataset_page, deposit, organization, publication
from hdh_wizard.flows import references as references_flow
from hdh_wizard.flows.port import FlowContext
from hdh_wizard.flows.stops import PublishStop, Said
from hdh_wizard.services.datagouv.deposit import DepositEvent
from hdh_wizard.services.datagouv.references import PublicChecker, ReferenceEvent
from hdh_wizard.services.datagouv.session import MissingKey, PortalSession
from hdh_wizard.services.datagouv.upload import FileDigests
from hdh_wizard.services.storage.public_access import check_all_public

__all__ = ["PublishAll", "PublishStop", "Said"]


@dataclass
class PublishAll:
    ctx: FlowContext
    portal: PortalSession
    folder: Path
    describe: Callable[[LocalFile, FileDigests], str]
    confirm_production: Callable[[str], bool]
    say: Callable[[Said], None]
    on_event: Callable[[DepositEvent], None] = lambda _event: None
    on_reference: Callable[[ReferenceEvent], None] = lambda _event: None
    public_check: PublicChecker = check_all_public  # the hosted URLs, asked as the public would
    chunk_size: int | None = None

    def run(self) -> Release:
        ctx = self.ctx
        site = ctx.release.target.url
        try:
            client = self.portal.client(site)
        except MissingKey:
            if self.portal.secrets.env_key_withheld(site):  # set, but for another portal
                raise PublishStop("publish.stop.env_key_withheld", site=site) from None
            raise PublishStop("publish.stop.no_key", site=site) from None
        with client:
            account.confirm(ctx, client, self.portal, self.say)
            organization.confirm(ctx, client, self.say)
            co_admin.follow_up(ctx, client, self.say)
            if workflow.route_of(ctx.release) is Route.DIRECT:
                deposit.publish_step(
                    ctx,
                    client,
                    folder=self.folder,
                    describe=self.describe,
                    say=self.say,
                    on_event=self.on_event,
                    chunk_size=self.chunk_size,
                )
            else:
                dataset_page.publish_step(ctx, client, folder=self.folder, say=self.say)
                references_flow.publish_step(
                    ctx,
                    client,
                    say=self.say,
                    on_event=self.on_reference,
                    checker=self.public_check,
                )
            return publication.publish_step(
                ctx, client, confirm_production=self.confirm_production, say=self.say
            )
