"""`hdh-wizard publish`: the data.gouv.fr steps that remain, run from the state without a screen.

Same rules as the screens: the key from the keyring (or HDH_WIZARD_API_KEY), the organization
and the documentation chosen in the wizard, every server change recorded at once, each step
committed only once the server is seen to hold it. What needs a person (choosing the
organization, writing the documentation) is named, never guessed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from hdh_wizard.core import workflow
from hdh_wizard.core.deposit_plan import Action, LocalFile, plan_deposit
from hdh_wizard.core.documentation import (
    Documentation,
    check_documentation,
    documentation_from_outputs,
    documentation_to_outputs,
)
from hdh_wizard.core.enums import Environment, Role, Route, StepStatus
from hdh_wizard.core.hosting_records import ReferencesRecord, hosted_objects, references_of
from hdh_wizard.core.portal_records import (
    AccountRecord,
    DatasetRecord,
    PublicationRecord,
    dataset_of,
    invitation_of,
    organization_of,
    published_before_on,
)
from hdh_wizard.core.release import Person, Release
from hdh_wizard.core.steps import StepId, get_step
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.deposit_files import deposit_files
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.deposit import DepositEvent, DepositRun, dataset_body
from hdh_wizard.services.datagouv.errors import ApiError, ErrorKind
from hdh_wizard.services.datagouv.publication import public_page, publish
from hdh_wizard.services.datagouv.references import (
    PublicChecker,
    ReferenceAction,
    ReferenceEvent,
    ReferenceRun,
    check_hosted,
    check_public_access,
    references_match,
    updated_fields,
)
from hdh_wizard.services.datagouv.session import MissingKey, PortalSession
from hdh_wizard.services.datagouv.upload import FileDigests
from hdh_wizard.services.storage.public_access import check_all_public


class PublishStop(HdhWizardError):
    """Something the command cannot do alone: the message says what to do in the wizard;
    `details` lists what it is about, one line each (catalogue keys and their parameters)."""

    def __init__(
        self, key: str, details: Sequence[tuple[str, dict[str, Any]]] = (), **params: Any
    ) -> None:
        super().__init__(key, **params)
        self.details = tuple(details)


@dataclass(frozen=True)
class Said:
    """One line of the command's report: a catalogue key and its parameters."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class HeadlessPublisher:
    portal: PortalSession
    folder: Path
    actor: Person
    now: Callable[[], datetime]
    save: Callable[[Release], Release]  # writes the state, returns what was written
    describe: Callable[[LocalFile, FileDigests], str]
    confirm_production: Callable[[str], bool]
    say: Callable[[Said], None]
    on_event: Callable[[DepositEvent], None] = lambda _event: None
    on_reference: Callable[[ReferenceEvent], None] = lambda _event: None
    public_check: PublicChecker = check_all_public  # the hosted URLs, asked as the public would
    cancel: threading.Event = field(default_factory=threading.Event)
    chunk_size: int | None = None

    def run(self, release: Release) -> Release:
        site = release.target.url
        try:
            client = self.portal.client(site)
        except MissingKey:
            raise PublishStop("publish.stop.no_key", site=site) from None
        with client:
            release = self.account(client, release)
            release = self.organization(client, release)
            release = self.co_admin(client, release)
            if workflow.route_of(release) is Route.DIRECT:
                release = self.deposit(client, release)
            else:
                release = self.dataset_page(client, release)
                release = self.references(client, release)
            return self.publication(client, release)

    # --- the steps, in the checklist's order -----------------------------------------------------

    def account(self, client: DataGouvClient, release: Release) -> Release:
        user = client.me()
        secret = self.portal.key(release.target.url)
        source = secret.source.value if secret else ""
        record = AccountRecord(release.target.url, user.id, user.display_name, source)
        self.say(Said("publish.account", {"name": user.display_name}))
        return self._commit_unless_done(release, StepId.ACCOUNT, record.to_outputs())

    def organization(self, client: DataGouvClient, release: Release) -> Release:
        org = organization_of(release)
        if org is None:
            raise PublishStop("publish.stop.organization")
        if org.organization_id not in {o.id for o in client.my_organizations()}:
            raise PublishStop("publish.stop.not_member", name=org.name)
        self.say(Said("publish.organization", {"name": org.name}))
        return self._commit_unless_done(release, StepId.ORGANIZATION, org.to_outputs())

    def co_admin(self, client: DataGouvClient, release: Release) -> Release:
        invitation = invitation_of(release)
        if invitation is None or invitation.accepted:
            return release
        from hdh_wizard.core.invitation import invitee_kind
        from hdh_wizard.services.datagouv.models import Invitation

        email = invitation.invitee if invitee_kind(invitation.invitee) == "email" else ""
        user_id = invitation.invitee if invitee_kind(invitation.invitee) == "user" else ""
        sent = Invitation(
            invitation.invitation_id,
            invitation.organization_id,
            invitation.role,
            email,
            user_id,
            "",
        )
        if not client.invitation_accepted(invitation.organization_id, sent):
            self.say(Said("publish.invitation_pending", {"invitee": invitation.invitee}))
            return release
        accepted = replace(
            invitation, accepted=True, accepted_at=self.now().isoformat(timespec="seconds")
        )
        self.say(Said("publish.invitation_accepted", {"invitee": invitation.invitee}))
        return self._commit(release, StepId.CO_ADMIN, accepted.to_outputs())

    def documentation(
        self, client: DataGouvClient, release: Release, step: StepId
    ) -> Documentation:
        raw = release.record(step).outputs.get("documentation")
        if not isinstance(raw, dict):
            other = StepId.DATASET_PAGE if step is StepId.DEPOSIT else StepId.DEPOSIT
            raw = release.record(other).outputs.get("documentation")
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

    def deposit(self, client: DataGouvClient, release: Release) -> Release:
        self._require_available(release, StepId.DEPOSIT)
        doc = self.documentation(client, release, StepId.DEPOSIT)
        org = organization_of(release)
        assert org is not None
        files, missing = deposit_files(release, self.folder)
        if missing:
            raise PublishStop("publish.stop.missing_files", paths=", ".join(missing))
        record = dataset_of(release)
        if workflow.status_of(release, StepId.DEPOSIT) is StepStatus.DONE and record is not None:
            dataset = self._still_there(client, record.dataset_id)
            plan = plan_deposit(files, record, (dataset or {}).get("resources") or [])
            if dataset is not None and all(p.action is Action.KEEP for p in plan):
                self.say(Said("publish.deposit_up_to_date", {"count": len(files)}))
                return release
        release = self._reopen(release, StepId.DEPOSIT)
        doc_outputs = documentation_to_outputs(doc)
        keep = self._progress_saver(release, StepId.DEPOSIT, doc_outputs)

        run = DepositRun(
            client=client,
            site=release.target.url,
            folder=self.folder,
            files=files,
            payload=dataset_body(client, doc, org.organization_id, record),
            describe=self.describe,
            save=keep,
            on_event=self.on_event,
            cancel=self.cancel,
            chunk_size=self.chunk_size,
        )
        outcome = run.run(record)
        if not outcome.verified:
            raise PublishStop(
                "publish.stop.not_verified",
                paths=", ".join(sorted({m.path for m in outcome.mismatches})),
            )
        self.say(Said("publish.deposited", {"count": len(outcome.record.files)}))
        outputs = {"documentation": doc_outputs, "dataset": outcome.record.to_outputs()}
        return self._commit(release, StepId.DEPOSIT, outputs)

    def dataset_page(self, client: DataGouvClient, release: Release) -> Release:
        self._require_available(release, StepId.DATASET_PAGE)
        doc = self.documentation(client, release, StepId.DATASET_PAGE)
        org = organization_of(release)
        assert org is not None
        record = dataset_of(release)
        if workflow.status_of(release, StepId.DATASET_PAGE) is StepStatus.DONE and record:
            return release
        release = self._reopen(release, StepId.DATASET_PAGE)
        doc_outputs = documentation_to_outputs(doc)
        keep = self._progress_saver(release, StepId.DATASET_PAGE, doc_outputs)

        run = DepositRun(
            client=client,
            site=release.target.url,
            folder=self.folder,
            files=(),
            payload=dataset_body(client, doc, org.organization_id, record),
            describe=self.describe,
            save=keep,
        )
        record, _ = run.ensure_dataset(record)
        self.say(Said("publish.page", {"page": record.page or record.dataset_id}))
        outputs = {"documentation": doc_outputs, "dataset": record.to_outputs()}
        return self._commit(release, StepId.DATASET_PAGE, outputs)

    def references(self, client: DataGouvClient, release: Release) -> Release:
        """Route 2, step 7: each file hosted by HDH referenced on the page by its URL. Done by
        HDH staff: a partner's run stops here unless the references are done and still hold."""
        if workflow.status_of(release, StepId.SHARE_WITH_HDH) is not StepStatus.DONE:
            raise PublishStop("publish.stop.transfer")
        self._require_available(release, StepId.REFERENCE_URLS)
        objects = hosted_objects(release)
        if not objects:
            raise PublishStop("publish.stop.nothing_hosted")
        # A hand-edited transfer record that cannot be published stops the run here, before
        # the step is reopened (which would mark the publication stale for nothing).
        check_hosted(objects)
        dataset = dataset_of(release)
        if dataset is None:
            raise PublishStop("publish.stop.no_dataset")
        record = references_of(release)
        run = ReferenceRun(
            client=client,
            site=release.target.url,
            dataset_id=dataset.dataset_id,
            objects=objects,
            save=lambda _record: None,
            on_event=self.on_reference,
            cancel=self.cancel,
        )
        done = workflow.status_of(release, StepId.REFERENCE_URLS) is StepStatus.DONE
        if (
            done
            and record is not None
            and references_match(record, objects, dataset.dataset_id)
            and not run.verify(record)  # done, and the server still holds it: nothing to do
        ):
            self.say(Said("publish.references_up_to_date", {"count": len(record.files)}))
            return release
        if self.actor.role is not Role.HDH_STAFF:
            raise PublishStop("publish.stop.references_staff", name=self.actor.name)
        # Dead links are refused before the step is reopened; a URL this machine cannot
        # reach (a closed network) is said, and referenced.
        unreachable = check_public_access(objects, self.public_check)
        if unreachable:
            self.say(Said("references.public_unreachable", {"count": len(unreachable)}))
        release = self._reopen(release, StepId.REFERENCE_URLS)
        current = release

        def keep(references: ReferencesRecord) -> None:
            nonlocal current
            progress = workflow.record_progress(
                current, StepId.REFERENCE_URLS, references.to_outputs(), self.now()
            )
            current = self.save(progress)

        run.save = keep
        outcome = run.run(record)
        release = current
        if not outcome.verified:
            raise PublishStop(
                "publish.stop.references_not_verified",
                [(m.key, {"path": m.path, **m.params}) for m in outcome.mismatches],
            )
        self.say(
            Said(
                "publish.referenced",
                {
                    "count": len(outcome.record.files),
                    "created": outcome.count(ReferenceAction.CREATE),
                    "updated": outcome.count(ReferenceAction.UPDATE),
                    "deleted": outcome.count(ReferenceAction.DELETE),
                },
            )
        )
        for key, params in updated_fields(outcome):
            self.say(Said(key, params))
        return self._commit(release, StepId.REFERENCE_URLS, outcome.record.to_outputs())

    def publication(self, client: DataGouvClient, release: Release) -> Release:
        self._require_available(release, StepId.PUBLICATION)
        record = dataset_of(release)
        if record is None:
            raise PublishStop("publish.stop.no_dataset")
        site = release.target.url
        if release.target.environment is Environment.PRODUCTION and not published_before_on(
            release, site
        ):
            host = site.removeprefix("https://").removeprefix("http://").rstrip("/")
            if not self.confirm_production(host):
                raise PublishStop("publish.stop.not_confirmed", host=host)
        dataset = publish(client, record)
        published = PublicationRecord(
            site,
            record.dataset_id,
            public_page(dataset, site),
            self.now().isoformat(timespec="seconds"),
        )
        previous = release.record(StepId.PUBLICATION)
        if previous.status is StepStatus.DONE:
            old = PublicationRecord.from_outputs(previous.outputs)
            if old is not None and old.dataset_id == published.dataset_id and old.site == site:
                published = replace(published, published_at=old.published_at)
        self.say(Said("publish.published", {"page": published.page}))
        return self._commit_if_changed(release, StepId.PUBLICATION, published.to_outputs())

    @staticmethod
    def _still_there(client: DataGouvClient, dataset_id: str) -> dict[str, Any] | None:
        """The dataset, or None once deleted on data.gouv.fr (the deposit then makes a new one)."""
        try:
            dataset = client.dataset(dataset_id)
        except ApiError as error:
            if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.GONE):
                return None
            raise
        return None if dataset.get("deleted") else dataset

    # --- state -----------------------------------------------------------------------------------

    def _progress_saver(
        self, release: Release, step: StepId, doc_outputs: dict[str, Any]
    ) -> Callable[[DatasetRecord], None]:
        """Each server step of a run (dataset made, chunk sent, file verified) saved at once."""
        current = release

        def keep(dataset_record: DatasetRecord) -> None:
            nonlocal current
            outputs = {"documentation": doc_outputs, "dataset": dataset_record.to_outputs()}
            current = self.save(workflow.record_progress(current, step, outputs, self.now()))

        return keep

    def _require_available(self, release: Release, step: StepId) -> None:
        missing = workflow.blockers(release, step)
        if missing:
            raise PublishStop(
                "publish.stop.blocked",
                [(get_step(m).title_key, {}) for m in missing],
            )

    def _reopen(self, release: Release, step: StepId) -> Release:
        if workflow.status_of(release, step) in (StepStatus.DONE, StepStatus.STALE):
            release, _ = workflow.undo_step(release, step, self.actor, self.now())
            release = self.save(release)
        return release

    def _commit(self, release: Release, step: StepId, outputs: dict[str, Any]) -> Release:
        return self.save(workflow.commit_step(release, step, outputs, self.actor, self.now()))

    def _commit_unless_done(
        self, release: Release, step: StepId, outputs: dict[str, Any]
    ) -> Release:
        """Done steps are left as they are: committing them again would mark later steps stale."""
        if release.record(step).status is StepStatus.DONE:
            return release
        return self._commit(release, step, outputs)

    def _commit_if_changed(
        self, release: Release, step: StepId, outputs: dict[str, Any]
    ) -> Release:
        record = release.record(step)
        if record.status is StepStatus.DONE and dict(record.outputs) == outputs:
            return release
        return self._commit(release, step, outputs)
