"""Optional step "co_admin": an HDH Open Science member as co-administrator of the organization.

udata 17 adds members by invitation: the wizard sends it (role admin), the invitee accepts it on
data.gouv.fr, and the wizard checks whether they have. The step is done once the invitation is
sent; the state records it, and whether it was accepted, until it is.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Static

from hdh_wizard.core import workflow
from hdh_wizard.core.checks import Check
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.invitation import check_invitee, invitee_kind
from hdh_wizard.core.portal_records import InvitationRecord, organization_of, same_site
from hdh_wizard.core.steps import StepId
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.models import Invitation
from hdh_wizard.ui.steps.portal_base import PortalStepScreen


class CoAdminStepScreen(PortalStepScreen):
    step_id = StepId.CO_ADMIN

    def __init__(self) -> None:
        super().__init__()
        self.record: InvitationRecord | None = None

    def compose_form(self) -> ComposeResult:
        yield Static(id="coadmin-site", classes="portal-site")
        yield Static(id="coadmin-org", classes="portal-note")
        yield Label(self.t("coadmin.field.invitee"), classes="field-label")
        yield Input(placeholder=self.t("coadmin.placeholder.invitee"), id="invitee")
        yield Label(self.t("coadmin.field.comment"), classes="field-label")
        yield Input(id="invite-comment")
        with Horizontal(classes="portal-buttons"):
            yield Button(self.t("coadmin.button.invite"), id="invite", variant="success")
            yield Button(self.t("coadmin.button.check"), id="check-accepted")
        yield self.status_line()
        yield Static(id="coadmin-state", classes="portal-result")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#coadmin-site", Static).update(
            Text(self.t("portal.site", site=self.site_label()), style="bold")
        )
        org = organization_of(self.release)
        self.query_one("#coadmin-org", Static).update(
            self.t("coadmin.organization", name=org.name) if org else self.t("coadmin.no_org")
        )
        comment = self.query_one("#invite-comment", Input)
        if not comment.value:
            comment.value = self.t("coadmin.default_comment", release=self.release.name)
        self.show_state()
        if self.record is not None and not self.record.accepted:
            self.check_accepted()

    def show_state(self) -> None:
        state = self.query_one("#coadmin-state", Static)
        if self.record is None:
            state.update(self.t("coadmin.not_invited"))
        elif self.record.accepted:
            state.update(
                Text(self.t("coadmin.accepted", invitee=self.record.invitee), style="green")
            )
        else:
            state.update(
                Text(self.t("coadmin.pending", invitee=self.record.invitee), style="yellow")
            )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "invite":
            self.invite()
        elif event.button.id == "check-accepted":
            self.check_accepted()
        else:
            super().on_button_pressed(event)

    def invite(self) -> None:
        org = organization_of(self.release)
        invitee = self.query_one("#invitee", Input).value.strip()
        problems = check_invitee(invitee)
        if org is None:
            problems.insert(0, Check("coadmin.problem.no_org", False))
        if problems:
            self.show_status("\n".join(self.t(p.key, **p.params) for p in problems), "error")
            return
        assert org is not None
        comment = self.query_one("#invite-comment", Input).value.strip()
        by_email = invitee_kind(invitee) == "email"

        site, app, step_id = self.site, self.wizard, self.step_id

        def send(client: DataGouvClient) -> InvitationRecord:
            invitation = client.invite_member(
                org.organization_id,
                email=invitee if by_email else None,
                user_id=None if by_email else invitee,
                role="admin",
                comment=comment,
            )
            record = InvitationRecord(
                site,
                org.organization_id,
                invitation.id,
                invitee,
                invitation.role or "admin",
                False,
                app.now().isoformat(timespec="seconds"),
            )
            # Kept at once: an invitation the state forgot could not be followed nor re-sent.
            now = app.now()
            app.call_from_thread(
                app.apply,
                lambda release: (
                    workflow.record_progress(release, step_id, record.to_outputs(), now)
                    if release.record(step_id).status not in (StepStatus.DONE, StepStatus.STALE)
                    else release
                ),
            )
            return record

        self.call_portal(send, self.invited, status=self.t("coadmin.inviting"))

    def invited(self, record: InvitationRecord) -> None:
        self.record = record
        self.show_state()

    def check_accepted(self) -> None:
        record = self.record
        if record is None:
            return

        def check(client: DataGouvClient) -> bool:
            invitation = Invitation(
                id=record.invitation_id,
                organization_id=record.organization_id,
                role=record.role,
                email=record.invitee if invitee_kind(record.invitee) == "email" else "",
                user_id=record.invitee if invitee_kind(record.invitee) == "user" else "",
                created="",
            )
            return client.invitation_accepted(record.organization_id, invitation)

        self.call_portal(check, self.checked, status=self.t("coadmin.checking"))

    def checked(self, accepted: bool) -> None:
        if self.record is None:
            return
        if accepted and not self.record.accepted:
            self.record = InvitationRecord(
                **{
                    **self.record.__dict__,
                    "accepted": True,
                    "accepted_at": self.wizard.now().isoformat(timespec="seconds"),
                }
            )
            if self.release.record(self.step_id).status is StepStatus.DONE:
                # The state follows what the server now says, without leaving the screen.
                self.wizard.apply(self.commit_change(self.read_outputs()))
        self.show_state()

    # --- the step --------------------------------------------------------------------------------

    def load_outputs(self, outputs: dict[str, Any]) -> None:
        record = InvitationRecord.from_outputs(outputs)
        if record is not None and same_site(record.site, self.site):
            self.record = record
            self.query_one("#invitee", Input).value = record.invitee

    def read_outputs(self) -> dict[str, Any]:
        return self.record.to_outputs() if self.record else {}

    def step_checks(self) -> list[Check]:
        org = organization_of(self.release)
        sent = (
            self.record is not None
            and same_site(self.record.site, self.site)
            and org is not None
            and self.record.organization_id == org.organization_id
        )
        return [Check("coadmin.check.invited", sent)]
