"""Route 2, step 2: the base shared with HDH, i.e. sent to HDH's S3-compatible storage.

HDH staff give the connection details; the partner may type them in advance (kept as a draft).
The secret key goes to the keyring (or this session's memory), never to the state. "Tester la
connexion" checks the bucket is reachable and writable under the prefix; "Transférer" sends
every file to host, part by part, each acknowledged part recorded so a quit, a kill or a dropped
network resumes from the first missing part; each object is then verified and its URL shown.
Only an HDH staff member may mark the step done. All network work runs in workers; the
sequence (checks, reopen, send, verify, commit) is `flows.transfer`, the one `hdh-wizard
transfer` runs too. The form and what is shown are in `hosting_view`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import work
from textual.binding import Binding
from textual.widgets import Button, Checkbox, DataTable, Input

from hdh_wizard.core.checks import Check
from hdh_wizard.core.hosting_records import HostedObject, TransferRecord, transfer_of
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.flows import transfer as transfer_flow
from hdh_wizard.flows.port import FlowContext
from hdh_wizard.flows.transfer import AlreadyHosted, Plan, Refused, TransferEvents
from hdh_wizard.services.secrets import Secret
from hdh_wizard.services.storage import (
    ConnectionReport,
    RemoteObject,
    StorageConfig,
    StorageError,
    connect,
    describe,
    test_connection,
)
from hdh_wizard.services.storage.hosting import (
    HostedCheck,
    HostingOutcome,
    look_up,
    stored_details,
    with_details,
)
from hdh_wizard.services.storage.hosting_choice import chosen_hosting_files
from hdh_wizard.ui.steps.hosting_view import HostingView


class ShareWithHdhStepScreen(HostingView):
    step_id = StepId.SHARE_WITH_HDH
    busy_key = "hosting.busy"
    BINDINGS = [
        Binding("ctrl+t", "transfer", "hosting.key.transfer"),
        Binding("ctrl+q", "quit_guarded", show=False, priority=True),
    ]
    # The transfer's tuning, for tests and benchmarks (None: the storage service's defaults).
    transfer_part_size: int | None = None
    transfer_workers: int | None = None

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#hosting-files", DataTable)
        for key in ("file", "size", "role", "state"):
            table.add_column(self.t(f"hosting.col.{key}"), key=key)
        for bar in ("#hosting-file-bar", "#hosting-overall-bar"):
            self.query_one(bar).display = False  # shown once something is sent
        self.files, self.missing = chosen_hosting_files(self.release, self.wizard.project.folder)
        self.show_staff_note()
        self.show_files()
        self.show_urls()
        self.refresh_checks()
        self._read_secret(self.secrets, self.config())

    # --- buttons -------------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        handlers: dict[str, Callable[[], object]] = {
            "storage-test": self.test,
            "storage-forget": self.forget_secret,
            "storage-transfer": self.action_transfer,
            "storage-cancel": self.cancel_transfer,
            "storage-verify": self.verify,
        }
        handler = handlers.get(event.button.id or "")
        if handler is None:
            super().on_button_pressed(event)
            return
        handler()

    def usable(self, say: Callable[[str, str], None] | None = None) -> StorageConfig | None:
        """The details typed, if they can be used; else the first problem is shown (by `say`,
        next to the button pressed; the status line by default)."""
        say = say or self.show_status
        config = self.config()
        problems = config.problems()
        if problems:
            say(self.t(problems[0]), "error")
            return None
        if not self.secret():
            say(self.t("storage.config.secret_missing"), "error")
            return None
        return config

    # --- the connection test -------------------------------------------------------------------

    def test(self) -> None:
        if self.running or self.busy:
            return
        config = self.usable(self.show_test_result)
        if config is None:
            return
        self.busy = True
        self.connection = None
        self.show_test_result(self.t("hosting.testing"), "working")
        keep = self.query_one("#storage-remember", Checkbox).value
        self._test(config, self.secret(), self.typed_secret(), keep)

    @work(thread=True, exclusive=True, group="hosting-check")
    def _test(self, config: StorageConfig, secret: str, typed: str, keep: bool) -> None:
        report = test_connection(config, secret)
        kept: Secret | None = None
        remote: dict[str, RemoteObject | None] = {}
        message = ""
        if report.ok:
            if typed:
                kept = self._keep_secret(config, typed, keep)
            try:
                remote = look_up(connect(config, secret), self.files)
            except StorageError as error:
                message = describe(error, self.cat)
        self.app.call_from_thread(self._tested, report, kept, remote, message)

    def _tested(
        self,
        report: ConnectionReport,
        kept: Secret | None,
        remote: dict[str, RemoteObject | None],
        message: str,
    ) -> None:
        if not self.is_attached:
            return
        self.busy = False
        self.connection = report
        self._secret_kept(kept)
        self.remote = remote
        if report.ok:
            self.show_test_result(message or report.message(self.cat), "error" if message else "ok")
        else:
            self.show_test_result(report.message(self.cat), "error")
        self.show_files()
        self.refresh_checks()

    # --- the transfer --------------------------------------------------------------------------

    def action_transfer(self) -> None:
        if self.running or self.busy:
            return
        if self.keyring is None and not self.typed_secret():
            # Pressed before the keyring (or the environment) was read: go on once it is.
            self.transfer_asked = True
            self.show_status(self.t("hosting.reading_secret"), "working")
            return
        folder = self.wizard.project.folder
        plan = transfer_flow.refusal(self.release, folder, self.config(), self.secret())
        if isinstance(plan, Refused):
            self.show_status(plan.message(self.cat), "error")
            return
        self.running = True
        self.busy = True
        self.cancel_event = threading.Event()
        self.checked = {}
        self.query_one("#storage-transfer", Button).disabled = True
        self.query_one("#storage-cancel", Button).disabled = False
        # A done step still hosted is not sent again: its objects are checked (see the flow).
        redo = not transfer_flow.nothing_to_redo(self.release, plan)
        self.show_status(self.t("hosting.running" if redo else "hosting.verifying"), "working")
        self.query_one("#hosting-files").scroll_visible()  # the progress is shown down there
        keep = self.query_one("#storage-remember", Checkbox).value
        full = self.query_one("#storage-full-read", Checkbox).value
        ctx = self.flow_context(self.cancel_event)
        self._transfer(ctx, folder, plan, self.typed_secret(), keep, full)

    @work(thread=True, exclusive=True, group="hosting")
    def _transfer(
        self, ctx: FlowContext, folder: Path, plan: Plan, typed: str, keep: bool, full: bool
    ) -> None:
        events = TransferEvents(
            progress=lambda p: self.tell(self._progress, p),
            checked=lambda c: self.tell(self._checked, c),
            saved=lambda r: self.tell(self._saved, r),
        )
        kwargs: dict[str, Any] = {"part_size": self.transfer_part_size}
        if self.transfer_workers is not None:
            kwargs["workers"] = self.transfer_workers
        try:
            if typed and not transfer_flow.nothing_to_redo(ctx.release, plan):
                # A new secret is tried (and kept) before anything is sent with it.
                report = test_connection(plan.config, plan.secret)
                if not report.ok:
                    self.tell(self._stopped, report.message(self.cat))
                    return
                self.tell(self._secret_kept, self._keep_secret(plan.config, typed, keep))
            result = transfer_flow.transfer(
                ctx,
                folder,
                plan.config,
                plan.secret,
                events=events,
                full_read=full,
                resend=frozenset(self.resend),
                **kwargs,
            )
        except StorageError as error:
            self.tell(self._stopped, describe(error, self.cat))
            return
        except HdhWizardError as error:
            self.tell(self._stopped, error.message(self.cat))
            return
        if isinstance(result, Refused):
            self.tell(self._stopped, result.message(self.cat))
        elif isinstance(result, AlreadyHosted):
            self.tell(self._verified, list(result.checks))
        else:
            self.tell(self._transferred, result)

    def _saved(self, record: TransferRecord) -> None:
        self.record = record  # the progress report updates the table's row

    def cancel_transfer(self) -> None:
        self.cancel_event.set()
        self.show_status(self.t("hosting.cancelling"), "working")

    def _stopped(self, message: str) -> None:
        self.running = False
        self.busy = False
        if not self.is_attached:
            self.app.notify(message, severity="error", timeout=15)
            return
        self.query_one("#storage-transfer", Button).disabled = False
        self.query_one("#storage-cancel", Button).disabled = True
        self.record = transfer_of(self.release)
        self.show_status(message, "error")
        self.notify(message, severity="error", timeout=15)
        self.show_files()
        self.refresh_checks()

    def _transferred(self, outcome: HostingOutcome) -> None:
        self.running = False
        self.busy = False
        if not self.is_attached:
            self.app.notify(self.t("hosting.finished_elsewhere"), timeout=15)
            return
        self.query_one("#storage-transfer", Button).disabled = False
        self.query_one("#storage-cancel", Button).disabled = True
        self.record = outcome.record
        self.checked = {c.path: c for c in outcome.checks}
        self.resend -= {c.path for c in outcome.checks if c.ok}
        if outcome.ok:
            message = self.t("hosting.done", count=len(outcome.checks))
            self.show_status(message, "ok")
            self.notify(message, timeout=10)  # the status line may be scrolled out of sight
            self._check_public(outcome.record.objects)
        else:
            self.show_status(self.failures_text(outcome.failed), "error")
            self.notify(self.t("hosting.not_verified", count=len(outcome.failed)), severity="error")
        self.show_files()
        self.show_urls()
        self.refresh_checks()

    # --- verification alone --------------------------------------------------------------------

    def verify(self) -> None:
        if self.running or self.busy:
            return
        record = transfer_of(self.release)
        if record is None or not record.objects:
            self.show_status(self.t("hosting.nothing_to_verify"), "error")
            return
        config = self.usable()
        if config is None:
            return
        self.busy = True
        self.show_status(self.t("hosting.verifying"), "working")
        full = self.query_one("#storage-full-read", Checkbox).value
        self._verify(self.flow_context(), config, self.secret(), full)

    @work(thread=True, exclusive=True, group="hosting-check")
    def _verify(self, ctx: FlowContext, config: StorageConfig, secret: str, full: bool) -> None:
        try:
            checks = transfer_flow.verify(ctx, config, secret, full_read=full)
        except StorageError as error:
            self.tell(self._verify_failed, describe(error, self.cat))
            return
        except HdhWizardError as error:
            self.tell(self._verify_failed, error.message(self.cat))
            return
        self.tell(self._verified, checks)

    def _verify_failed(self, message: str) -> None:
        self.busy = False
        if self.is_attached:
            self.show_status(message, "error")

    def _verified(self, checks: list[HostedCheck]) -> None:
        """Objects checked again (by "Vérifier", or a transfer of a done step): what is wrong
        on the server is no longer hosted (the flow reopened the step), and is sent again."""
        self.running = False
        self.busy = False
        if not self.is_attached:
            return
        self.query_one("#storage-transfer", Button).disabled = False
        self.query_one("#storage-cancel", Button).disabled = True
        self.record = transfer_of(self.release)
        self.checked = {c.path: c for c in checks}
        failed = tuple(c for c in checks if not c.ok)
        if failed:
            self.resend |= {c.path for c in failed}
            self.show_status(self.failures_text(failed), "error")
        else:
            self.show_status(self.t("hosting.verified", count=len(checks)), "ok")
            if self.record is not None:
                self._check_public(self.record.objects)
        self.show_files()
        self.show_urls()
        self.refresh_checks()

    @work(thread=True, exclusive=True, group="hosting-public")
    def _check_public(self, objects: tuple[HostedObject, ...]) -> None:
        """The URLs to reference, asked as the public would: a closed bucket is said now."""
        closed = transfer_flow.closed_to_public(objects)
        self.tell(self._public_checked, len(objects), closed)

    # --- leaving, quitting ---------------------------------------------------------------------

    def job_running(self) -> bool:
        return self.running

    async def action_quit_guarded(self) -> None:
        if not self.running:
            await self.wizard.action_quit()
            return

        def stop_then_quit() -> None:
            self.cancel_event.set()  # the parts under way finish; the next run resumes after
            self.app.exit()

        self.wizard.confirm(self.t("hosting.quit_while_sending"), stop_then_quit)

    # --- the step ------------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "storage-secret" and not self.running:
            self.connection = None  # other details: the test is to be done again
            self.show_test_result("", "")  # its result said nothing of these
            config = self.config()
            if self.known is not None and config.secret_url != self.known_url:
                self.known = None  # that secret goes with other details
            if self.is_mounted and self.keyring is not None and not config.problems():
                self._read_secret(self.secrets, config)  # the secret of these details, if any
        super().on_input_changed(event)

    def read_outputs(self) -> dict[str, Any]:
        details = stored_details(self.config())
        return with_details(self.record, details).to_outputs()

    def commit_change(self, outputs: dict[str, Any]) -> Callable[[Release], Release]:
        actor, now = self.wizard.actor, self.wizard.now()
        record = TransferRecord.from_outputs(outputs) or TransferRecord({})
        return lambda release: transfer_flow.committed(release, record, actor, now)

    def step_checks(self) -> list[Check]:
        config = self.config()
        problems = config.problems()
        checks = [Check(p, False) for p in problems] or [Check("hosting.check.details", True)]
        failed = [c for c in self.checked.values() if not c.ok]
        pending = self.pending() if not problems else [f.path for f in self.files]
        return [
            *checks,
            Check("hosting.check.secret", bool(self.secret())),
            Check("hosting.check.files", bool(self.files) and not self.missing),
            Check(
                "hosting.check.hosted",
                bool(self.files) and not pending,
                {"count": len(self.files) - len(pending), "total": len(self.files)},
            ),
            Check("hosting.check.verified", not failed and not self.running),
        ]
