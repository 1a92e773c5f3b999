"""Route 2, step 7: the files hosted by HDH referenced on the dataset page by their URLs.

The hosted files (recorded by step 2, the transfer) are listed with their URL, size and role;
"Référencer" makes one remote resource per file on the page (services.datagouv.references), in
a worker, file by file, then reads every resource back to verify it. The step is HDH staff's:
a partner sees and verifies, and is told how to change person to do the rest.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, ProgressBar, Static
from textual.widgets.data_table import CellDoesNotExist

from hdh_wizard.core.checks import Check
from hdh_wizard.core.enums import Role
from hdh_wizard.core.hosting_records import (
    HostedObject,
    ReferencesRecord,
    hosted_objects,
    references_of,
)
from hdh_wizard.core.portal_records import dataset_of
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.flows import references as refs_flow
from hdh_wizard.flows.stops import PublishStop
from hdh_wizard.i18n.formatting import format_size
from hdh_wizard.present.portal_presenters import dataset_page_url, reference_mismatch_text
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.errors import ApiError, ErrorKind
from hdh_wizard.services.datagouv.references import (
    PublicChecker,
    ReferenceAction,
    ReferenceEvent,
    ReferencesOutcome,
    display_order,
    references_match,
    shown_path,
    shown_url,
    updated_fields,
)
from hdh_wizard.services.storage.public_access import check_all_public
from hdh_wizard.ui.flow_store import flow_context
from hdh_wizard.ui.steps.portal_base import PortalStepScreen


class ReferenceUrlsStepScreen(PortalStepScreen):
    step_id = StepId.REFERENCE_URLS

    def __init__(self) -> None:
        super().__init__()
        self.objects: tuple[HostedObject, ...] = ()
        self.outcome: ReferencesOutcome | None = None
        self.cancel_event = threading.Event()
        self.running = False
        self.files_done = 0
        self.public_check: PublicChecker = check_all_public  # the URLs, asked as the public would

    # --- the form --------------------------------------------------------------------------------

    def compose_form(self) -> ComposeResult:
        yield Static(id="refs-site", classes="portal-site")
        yield Static(id="refs-staff", classes="portal-note")
        yield Static(id="refs-summary", classes="portal-note")
        yield DataTable(id="refs-files", cursor_type="row", zebra_stripes=True)
        yield ProgressBar(id="refs-progress", show_eta=False)
        yield Static(id="refs-progress-text")
        with Horizontal(classes="portal-buttons"):
            yield Button(self.t("references.button.run"), id="refs-run", variant="success")
            yield Button(self.t("references.button.cancel"), id="refs-cancel", disabled=True)
            yield Button(self.t("references.button.verify"), id="refs-verify")
        yield self.status_line()
        yield Static(id="refs-result", classes="portal-result")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#refs-site", Static).update(
            Text(self.t("portal.site", site=self.site_label()), style="bold")
        )
        table = self.query_one("#refs-files", DataTable)
        for key in ("file", "role", "size", "state", "url"):  # the URL, long, last
            table.add_column(self.t(f"references.col.{key}"), key=key)
        self.query_one("#refs-progress").display = False  # shown once a run starts
        self.objects = hosted_objects(self.release)
        self.show_staff_note()
        self.show_files()
        if references_of(self.release) is not None and dataset_of(self.release) is not None:
            self.verify()  # what the server holds now, not only what the state remembers

    @property
    def is_staff(self) -> bool:
        return self.wizard.actor.role is Role.HDH_STAFF

    def show_staff_note(self) -> None:
        note = self.query_one("#refs-staff", Static)
        note.display = not self.is_staff
        if not self.is_staff:
            note.update(
                Text(self.t("references.partner_note", name=self.wizard.actor.name), "yellow")
            )

    def show_files(self) -> None:
        record = references_of(self.release)
        dataset = dataset_of(self.release)
        lang = self.cat.lang
        table = self.query_one("#refs-files", DataTable)
        table.clear()
        shown: set[str] = set()  # a path a hand-edited state holds twice is listed once
        for obj in display_order(self.objects):
            if obj.path in shown:
                continue
            shown.add(obj.path)
            # Text, not str: the table reads a str as markup (`[/]` in a name would break it).
            table.add_row(
                Text(obj.path),
                self.t(f"references.role.{obj.role.value}"),
                format_size(obj.size, lang),
                self.t(f"references.state.{self.state_of(obj, record)}"),
                Text(shown_url(obj.url)),
                key=obj.path,
            )
        hosted = {o.path for o in self.objects}
        for gone in record.files if record else ():
            if gone.path not in hosted and shown_path(gone.path) not in shown:
                shown.add(shown_path(gone.path))
                table.add_row(
                    Text(shown_path(gone.path)),
                    self.t(f"references.role.{gone.role.value}"),
                    format_size(gone.size, lang),
                    self.t("references.state.to_delete"),
                    Text(shown_url(gone.url)),
                    key=shown_path(gone.path),  # as the run's "deleted" event names it
                )
        if not self.objects:
            summary = self.t("references.not_hosted")
        else:
            summary = self.t(
                "references.summary",
                count=len(self.objects),
                size=format_size(sum(o.size for o in self.objects), lang),
                page=dataset_page_url(dataset) if dataset else self.t("references.no_page"),
            )
        self.query_one("#refs-summary", Static).update(Text(summary))

    @staticmethod
    def state_of(obj: HostedObject, record: ReferencesRecord | None) -> str:
        referenced = record.file(obj.path) if record else None
        if referenced is None:
            return "todo"
        same = (referenced.url, referenced.size, referenced.sha256.lower()) == (
            obj.url,
            obj.size,
            obj.sha256.lower(),
        )
        return "referenced" if same else "changed"

    # --- referencing -----------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        handlers = {
            "refs-run": self.start,
            "refs-cancel": self.cancel,
            "refs-verify": self.verify,
        }
        handler = handlers.get(event.button.id or "")
        if handler is None:
            super().on_button_pressed(event)
            return
        handler()

    def start(self) -> None:
        if self.running or self.busy:
            return
        try:
            dataset = refs_flow.check(self.release, self.objects)
        except PublishStop as stop:
            key = "references.not_hosted" if stop.key.endswith("nothing_hosted") else ""
            self.show_status(self.t(key or "references.no_dataset"), "error")
            return
        except HdhWizardError as error:  # said before the step is reopened: nothing is sent
            self.show_status(self.error_lines(error), "error")
            return
        record = references_of(self.release)
        if self.nothing_to_redo(record, dataset.dataset_id):
            self.verify()  # done and unchanged: checked again, not reopened
            return
        try:
            refs_flow.require_staff(self.wizard.actor)
        except PublishStop:
            self.show_status(self.t("references.staff_only", name=self.wizard.actor.name), "error")
            return
        self.running = True
        self.files_done = 0
        self.cancel_event = threading.Event()
        self.query_one("#refs-run", Button).disabled = True
        self.query_one("#refs-cancel", Button).disabled = False
        self.show_status(self.t("references.running"), "working")
        self._reference(self.objects, dataset.dataset_id, record, self.cancel_event)

    def error_lines(self, error: HdhWizardError) -> str:
        """Each unusable hosted file on its own line, as the command prints them."""
        lines = [error.message(self.cat)] + [
            "• " + self.t(key, **params) for key, params in getattr(error, "details", ())
        ]
        return "\n".join(lines)

    def nothing_to_redo(self, record: ReferencesRecord | None, dataset_id: str) -> bool:
        """Done, the hosted files those referenced, and the last check found nothing wrong:
        reopening would only send the publication back to review."""
        holds = record is not None and (self.outcome is None or self.outcome.verified)
        return refs_flow.nothing_to_redo(self.release, self.objects, dataset_id, holds)

    def cancel(self) -> None:
        self.cancel_event.set()
        self.show_status(self.t("references.cancelling"), "working")

    def action_back(self) -> None:
        if self.running:  # the run goes on without the screen; leaving it is refused meanwhile
            self.notify(self.t("references.busy"), severity="warning")
            return
        super().action_back()

    def action_commit(self) -> None:
        if self.running:
            self.notify(self.t("references.busy"), severity="warning")
            return
        super().action_commit()

    @work(thread=True, exclusive=True, group="deposit")
    def _reference(
        self,
        objects: tuple[HostedObject, ...],
        dataset_id: str,
        record: ReferencesRecord | None,
        cancel: threading.Event,
    ) -> None:
        app = self.wizard
        context = flow_context(app, cancel)
        try:
            # Dead links are refused before the step is reopened (nothing is sent then).
            unreachable = refs_flow.public_access(objects, self.public_check)
        except HdhWizardError as error:
            self.app.call_from_thread(self._stopped, self.error_lines(error))
            return
        if unreachable:
            count = len(unreachable)
            self.app.call_from_thread(
                self.notify, self.t("references.public_unreachable", count=count), timeout=15
            )
        if not refs_flow.reopen(context):
            self.app.call_from_thread(self._stopped, self.t("references.cancelled"))
            return
        try:
            with app.portal.client(self.site) as client:
                # Each resource made is in the state at once, even if the screen was left.
                outcome = refs_flow.run(
                    context,
                    client,
                    objects,
                    dataset_id,
                    record,
                    on_event=lambda e: app.call_from_thread(self._event, e),
                )
        except ApiError as error:
            self.app.call_from_thread(self._refused, error)
            return
        except HdhWizardError as error:  # no key, a page gone…
            self.app.call_from_thread(self._stopped, self.error_lines(error))
            return
        self.app.call_from_thread(self._referenced, outcome)

    def _event(self, event: ReferenceEvent) -> None:
        if not self.is_attached:
            return  # the screen was left: the work goes on, and is saved, without it
        bar = self.query_one("#refs-progress", ProgressBar)
        text = self.query_one("#refs-progress-text", Static)
        table = self.query_one("#refs-files", DataTable)
        if event.kind == "reading":
            text.update(self.t("references.reading"))
        elif event.kind == "file_done" and event.action is not None:
            self.files_done += 1
            bar.display = True
            bar.update(total=max(event.count, 1), progress=self.files_done)
            text.update(
                Text(  # not markup: a file name may hold `[/]`
                    self.t(
                        "references.progress",
                        index=self.files_done,
                        count=event.count,
                        path=event.path,
                    )
                )
            )
            self._set_state(table, event.path, self.t(f"references.state.{event.action.value}"))
        elif event.kind == "deleted":
            self._set_state(table, event.path, self.t("references.state.delete"))
        elif event.kind == "verified":
            text.update(self.t("references.verifying"))

    @staticmethod
    def _set_state(table: DataTable[Any], row: str, value: str) -> None:
        with contextlib.suppress(CellDoesNotExist):  # a row not shown
            table.update_cell(row, "state", value)

    def _refused(self, error: ApiError) -> None:
        if error.kind is ErrorKind.CANCELLED:
            self._stopped(self.t("references.cancelled"))
        else:
            self._stopped(self.explain(error))

    def _stopped(self, message: str) -> None:
        if not self.is_attached:
            self.app.notify(message, severity="error", timeout=15, markup=False)
            return
        self.running = False
        self.query_one("#refs-run", Button).disabled = False
        self.query_one("#refs-cancel", Button).disabled = True
        self.show_status(message, "error")
        self.show_files()
        self.refresh_checks()

    def _referenced(self, outcome: ReferencesOutcome) -> None:
        if not self.is_attached:
            self.app.notify(self.t("references.finished_elsewhere"), timeout=15)
            return
        self.running = False
        self.query_one("#refs-run", Button).disabled = False
        self.query_one("#refs-cancel", Button).disabled = True
        self.outcome = outcome
        self.show_status("", "")
        self.show_files()
        self.show_outcome()
        self.refresh_checks()

    # --- verification ----------------------------------------------------------------------------

    def verify(self) -> None:
        if self.running:  # read mid-run, the page would look half done
            self.notify(self.t("references.busy"), severity="warning")
            return
        dataset = dataset_of(self.release)
        if dataset is None:
            self.show_status(self.t("references.no_dataset"), "error")
            return
        objects, release = self.objects, self.release

        def check(client: DataGouvClient) -> ReferencesOutcome:
            return refs_flow.verify(client, release, objects, dataset.dataset_id)

        self.call_portal(check, self._verified, status=self.t("references.verifying"))

    def _verified(self, outcome: ReferencesOutcome) -> None:
        self.outcome = outcome
        self.show_files()
        self.show_outcome()

    def show_outcome(self) -> None:
        outcome = self.outcome
        if outcome is None:
            return
        result = self.query_one("#refs-result", Static)
        table = self.query_one("#refs-files", DataTable)
        wrong = {m.path for m in outcome.mismatches}  # paths as messages show them
        for referenced in outcome.record.files:
            state = "mismatch" if shown_path(referenced.path) in wrong else "verified"
            self._set_state(table, referenced.path, self.t(f"references.state.{state}"))
        if outcome.verified:
            dataset = dataset_of(self.release)
            page = dataset_page_url(dataset) if dataset else ""
            text = Text(
                self.t("references.verified", count=len(outcome.record.files), page=page),
                style="green",
            )
            if outcome.plan:
                text.append(
                    "\n"
                    + self.t(
                        "references.counts",
                        created=outcome.count(ReferenceAction.CREATE),
                        updated=outcome.count(ReferenceAction.UPDATE),
                        kept=outcome.count(ReferenceAction.KEEP),
                        deleted=outcome.count(ReferenceAction.DELETE),
                    )
                )
            if outcome.duplicates_removed:
                text.append(
                    "\n" + self.t("references.duplicates", count=len(outcome.duplicates_removed))
                )
            # What an update changed: a hosted file changed, or a resource edited by hand on
            # the page and put back as the state records it.
            for key, params in updated_fields(outcome):
                text.append("\n• " + self.t(key, **params))
            result.update(text)
        else:
            lines = [
                reference_mismatch_text(self.cat, m.path, m.key, m.params)
                for m in outcome.mismatches
            ]
            result.update(Text(self.t("references.not_verified") + "\n" + "\n".join(lines), "red"))

    # --- the step --------------------------------------------------------------------------------

    def read_outputs(self) -> dict[str, Any]:
        record = references_of(self.release)
        return record.to_outputs() if record is not None else {}

    def step_checks(self) -> list[Check]:
        record = references_of(self.release)
        dataset = dataset_of(self.release)
        dataset_id = dataset.dataset_id if dataset else ""
        outcome = self.outcome
        verified = (
            outcome is not None
            and outcome.verified
            and record is not None
            and set(outcome.record.files) == set(record.files)
        )
        return [
            Check("references.check.hosted", bool(self.objects), {"count": len(self.objects)}),
            Check("references.check.page", dataset is not None),
            Check(
                "references.check.all_referenced",
                references_match(record, self.objects, dataset_id),
            ),
            Check("references.check.verified", verified),
        ]
