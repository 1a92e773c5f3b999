"""Route 2, step 2: the base shared with HDH, i.e. sent to HDH's S3-compatible storage.

HDH staff give the connection details; the partner may type them in advance (kept as a draft).
The secret key goes to the keyring (or this session's memory), never to the state. "Tester la
connexion" checks the bucket is reachable and writable under the prefix; "Transférer" sends
every file to host, part by part, each acknowledged part recorded so a quit, a kill or a dropped
network resumes from the first missing part; each object is then verified and its URL shown.
Only an HDH staff member may mark the step done. All network work runs in workers.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DataTable, Input, Label, ProgressBar, Static
from textual.widgets.data_table import CellDoesNotExist

from hdh_wizard.core.checks import Check
from hdh_wizard.core.enums import Role
from hdh_wizard.core.hosting_records import HostedObject, TransferRecord, transfer_of
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.flows import transfer as transfer_flow
from hdh_wizard.flows.port import FlowContext
from hdh_wizard.flows.transfer import AlreadyHosted, Plan, Refused, TransferEvents
from hdh_wizard.i18n.formatting import format_size
from hdh_wizard.inspect.hosting_files import HostingFile, hosting_files
from hdh_wizard.present.portal_presenters import transfer_amounts
from hdh_wizard.services.progress import UploadProgress
from hdh_wizard.services.secrets import (
    KeyringStatus,
    KeySource,
    Secret,
    SecretError,
    SecretKind,
    SecretNotSavedError,
    SecretStore,
)
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
    HostingProgress,
    look_up,
    pending_files,
    resume_states,
    stored_details,
    with_details,
)
from hdh_wizard.services.storage.public_access import PublicCheck
from hdh_wizard.ui.steps.jobs import JobStepScreen
from hdh_wizard.ui.widgets.key_input import KeyInput

FIELDS = (
    ("endpoint_url", "storage-endpoint"),
    ("region", "storage-region"),
    ("bucket", "storage-bucket"),
    ("prefix", "storage-prefix"),
    ("access_key_id", "storage-access-key"),
    ("public_base_url", "storage-public-url"),
)
MAX_URLS_SHOWN = 30


class ShareWithHdhStepScreen(JobStepScreen):
    step_id = StepId.SHARE_WITH_HDH
    busy_key = "hosting.busy"
    BINDINGS = [
        Binding("ctrl+t", "transfer", "hosting.key.transfer"),
        Binding("ctrl+q", "quit_guarded", show=False, priority=True),
    ]
    # The transfer's tuning, for tests and benchmarks (None: the storage service's defaults).
    transfer_part_size: int | None = None
    transfer_workers: int | None = None

    def __init__(self) -> None:
        super().__init__()
        self.files: list[HostingFile] = []
        self.missing: list[str] = []
        self.record: TransferRecord | None = None
        self.known: Secret | None = None
        self.known_url = ""  # the details (StorageConfig.secret_url) `known` goes with
        self.keyring: KeyringStatus | None = None
        self.remote: dict[str, RemoteObject | None] = {}
        self.checked: dict[str, HostedCheck] = {}
        self.connection: ConnectionReport | None = None
        self.running = False
        self.busy = False  # a connection test or a verification under way
        self.cancel_event = threading.Event()
        self.transfer_asked = False  # Ctrl+T before the secret was looked up
        self.resend: set[str] = set()  # found altered by reading back: sent again, always

    # --- the form ----------------------------------------------------------------------------

    def compose_form(self) -> ComposeResult:
        yield Static(self.t("hosting.howto"), id="hosting-howto", classes="portal-howto")
        yield Static(id="hosting-staff", classes="portal-note")
        # Two fields a row: the whole form and the transfer fit on a 40-line terminal.
        fields = [
            (self.t(f"hosting.field.{name}"), Input, self.t(f"hosting.placeholder.{name}"), wid)
            for name, wid in FIELDS
        ]
        secret: tuple[str, type[Input], str, str] = (
            self.t("hosting.field.secret"),
            KeyInput,
            self.t("hosting.placeholder.secret"),
            "storage-secret",
        )
        fields.insert(5, secret)  # beside the access key id
        for row in range(0, len(fields), 2):
            with Horizontal(classes="hosting-row"):
                for label, kind, placeholder, widget_id in fields[row : row + 2]:
                    with Vertical(classes="hosting-field"):
                        yield Label(label, classes="field-label")
                        yield kind(placeholder=placeholder, id=widget_id)
        yield Static(id="hosting-keyring", classes="portal-note")
        yield Checkbox(self.t("hosting.field.remember"), value=True, id="storage-remember")
        with Horizontal(classes="portal-buttons"):
            yield Button(self.t("hosting.button.test"), id="storage-test")
            yield Button(self.t("hosting.button.forget"), id="storage-forget")
        yield Static(id="hosting-summary", classes="portal-note")
        yield DataTable(id="hosting-files", cursor_type="row", zebra_stripes=True)
        yield ProgressBar(id="hosting-file-bar", show_eta=False)
        yield Static(id="hosting-file-text", classes="hosting-progress")
        yield ProgressBar(id="hosting-overall-bar", show_eta=False)
        yield Static(id="hosting-overall-text", classes="hosting-progress")
        with Horizontal(classes="portal-buttons"):
            yield Button(
                self.t("hosting.button.transfer"), id="storage-transfer", variant="success"
            )
            yield Button(self.t("hosting.button.cancel"), id="storage-cancel", disabled=True)
            yield Button(self.t("hosting.button.verify"), id="storage-verify")
        yield Checkbox(self.t("hosting.field.full_read"), value=False, id="storage-full-read")
        yield Static("", id="hosting-status", classes="portal-status")
        yield Static(id="hosting-result", classes="portal-result")
        yield Static(id="hosting-public", classes="portal-result")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#hosting-files", DataTable)
        for key in ("file", "size", "role", "state"):
            table.add_column(self.t(f"hosting.col.{key}"), key=key)
        for bar in ("#hosting-file-bar", "#hosting-overall-bar"):
            self.query_one(bar).display = False  # shown once something is sent
        self.files, self.missing = hosting_files(self.release, self.wizard.project.folder)
        self.show_staff_note()
        self.show_files()
        self.show_urls()
        self.refresh_checks()
        self._read_secret(self.secrets, self.config())

    @property
    def secrets(self) -> SecretStore:
        return self.wizard.portal.secrets  # one store per run: its session memory is shared

    def load_outputs(self, outputs: dict[str, Any]) -> None:
        self.record = TransferRecord.from_outputs(outputs)
        config = StorageConfig.from_dict(self.record.storage) if self.record else None
        if config is None:
            return
        for name, widget_id in FIELDS:
            self.query_one(f"#{widget_id}", Input).value = getattr(config, name)

    def config(self) -> StorageConfig:
        values = {name: self.query_one(f"#{wid}", Input).value for name, wid in FIELDS}
        return StorageConfig(**values)

    def typed_secret(self) -> str:
        return self.query_one("#storage-secret", Input).value.strip()

    def show_staff_note(self) -> None:
        actor = self.wizard.actor
        note = self.query_one("#hosting-staff", Static)
        if actor.role is Role.HDH_STAFF:
            note.update(self.t("hosting.staff_note", name=actor.name))
        else:
            note.update(Text(self.t("hosting.partner_note", name=actor.name), style="yellow"))

    # --- the secret ----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="hosting-keys")
    def _read_secret(self, secrets: SecretStore, config: StorageConfig) -> None:
        """The keyring may be slow (D-Bus) or ask to be unlocked: read it off the UI thread."""
        status = secrets.status()
        known: Secret | None = None
        problem = ""
        if not config.problems():
            try:
                known = secrets.get(SecretKind.STORAGE_SECRET, config.secret_url)
            except SecretError as error:
                problem = error.message(self.cat)
        self.app.call_from_thread(self._secret_read, config, status, known, problem)

    def _secret_read(
        self, config: StorageConfig, status: KeyringStatus, known: Secret | None, problem: str
    ) -> None:
        if not self.is_attached or config.secret_url != self.config().secret_url:
            return  # the details changed meanwhile: another look is under way
        self.keyring = status
        self.known = known
        self.known_url = config.secret_url
        remember = self.query_one("#storage-remember", Checkbox)
        if not status.available:
            remember.value = False
            remember.disabled = True
        if problem:
            self.show_status(problem, "error")
        self.show_secret()
        self.refresh_checks()
        if self.transfer_asked:
            self.transfer_asked = False
            self.action_transfer()

    def show_secret(self) -> None:
        status = self.keyring
        lines: list[str] = []
        if status is not None:
            if status.available:
                lines.append(self.t("hosting.keyring.available", backend=status.backend))
            else:
                lines.append(
                    self.t("hosting.keyring.unavailable", reason=self.t(status.reason_key))
                )
        if self.known is not None:
            lines.append(
                self.t(
                    "hosting.secret_known",
                    masked=self.known.masked,
                    source=self.t(f"hosting.source.{self.known.source.value}"),
                )
            )
        self.query_one("#hosting-keyring", Static).update("\n".join(lines))

    def secret(self) -> str:
        typed = self.typed_secret()
        return typed or (self.known.value if self.known is not None else "")

    def _keep_secret(self, config: StorageConfig, typed: str, keep: bool) -> Secret:
        """In a worker, once the storage accepted it: the keyring, or this session's memory."""
        try:
            source = self.secrets.save(
                SecretKind.STORAGE_SECRET, config.secret_url, typed, remember=keep
            )
        except SecretNotSavedError as error:
            self.app.call_from_thread(self.notify, error.message(self.cat), severity="warning")
            source = KeySource.SESSION
        return Secret(typed, source)

    def _secret_kept(self, secret: Secret | None) -> None:
        if secret is not None:
            self.known = secret
            self.known_url = self.config().secret_url
            self.query_one("#storage-secret", Input).value = ""  # never shown again
        self.show_secret()

    def forget_secret(self) -> None:
        config = self.config()
        if config.problems():
            self.show_status(self.t(config.problems()[0]), "error")
            return
        self._forget(self.secrets, config)

    @work(thread=True, exclusive=True, group="hosting-keys")
    def _forget(self, secrets: SecretStore, config: StorageConfig) -> None:
        try:
            secrets.forget(SecretKind.STORAGE_SECRET, config.secret_url)
            still = secrets.get(SecretKind.STORAGE_SECRET, config.secret_url)
        except SecretError as error:
            self.app.call_from_thread(self.show_status, error.message(self.cat), "error")
            return
        self.app.call_from_thread(self._forgotten, still)

    def _forgotten(self, still: Secret | None) -> None:
        if not self.is_attached:
            return
        self.known = still
        key = "hosting.forgotten_but_environment" if still is not None else "hosting.forgotten"
        self.show_status(self.t(key), "")
        self.show_secret()
        self.refresh_checks()

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

    def usable(self) -> StorageConfig | None:
        """The details typed, if they can be used; else the first problem is shown."""
        config = self.config()
        problems = config.problems()
        if problems:
            self.show_status(self.t(problems[0]), "error")
            return None
        if not self.secret():
            self.show_status(self.t("storage.config.secret_missing"), "error")
            return None
        return config

    # --- the connection test -------------------------------------------------------------------

    def test(self) -> None:
        if self.running or self.busy:
            return
        config = self.usable()
        if config is None:
            return
        self.busy = True
        self.connection = None
        self.show_status(self.t("hosting.testing"), "working")
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
            self.show_status(message or report.message(self.cat), "error" if message else "ok")
        else:
            self.show_status(report.message(self.cat), "error")
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

    def _progress(self, report: HostingProgress) -> None:
        if not self.is_attached:
            return
        self._show_bar("#hosting-file-bar", report.file)
        self._show_bar("#hosting-overall-bar", report.overall)
        phase = self.t(f"storage.phase.{report.phase.value}")
        self.query_one("#hosting-file-text", Static).update(
            self.t(
                "hosting.progress.file",
                path=report.path,
                phase=phase,
                **transfer_amounts(self.cat, report.file),
            )
        )
        self.query_one("#hosting-overall-text", Static).update(
            self.t(
                "hosting.progress.overall",
                index=report.index + 1,
                count=report.count,
                **transfer_amounts(self.cat, report.overall),
            )
        )
        percent = int(report.file.fraction * 100)
        self._set_state(report.path, f"{phase} {percent} %")

    def _show_bar(self, selector: str, progress: UploadProgress) -> None:
        bar = self.query_one(selector, ProgressBar)
        bar.display = True
        bar.update(total=max(progress.total, 1), progress=progress.sent)

    def _checked(self, check: HostedCheck) -> None:
        self.checked[check.path] = check
        if self.is_attached:
            file = next((f for f in self.files if f.path == check.path), None)
            if file is not None:
                self._set_state(file.path, self.file_state(file))

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

    def _public_checked(self, count: int, closed: list[tuple[HostedObject, PublicCheck]]) -> None:
        if not self.is_attached:
            return
        if not closed:
            text = Text(self.t("hosting.public.all_open", count=count), style="green")
        else:
            lines = [self.t("hosting.public.some_closed", count=len(closed))]
            lines += ["• " + check.message(self.cat, hosted.path) for hosted, check in closed]
            text = Text("\n".join(lines), style="yellow")
        self.query_one("#hosting-public", Static).update(text)

    def failures_text(self, failed: tuple[HostedCheck, ...]) -> str:
        lines = [self.t("hosting.not_verified", count=len(failed))]
        for check in failed:
            problems = " ".join(self.t(p) for p in check.check.problems)
            lines.append(f"• {check.path} : {problems}")
        return "\n".join(lines)

    # --- what is shown -------------------------------------------------------------------------

    def show_status(self, message: str, kind: str) -> None:
        status = self.query_one("#hosting-status", Static)
        status.set_classes(f"portal-status -{kind}" if kind else "portal-status")
        status.update(Text(message))

    def show_files(self) -> None:
        table = self.query_one("#hosting-files", DataTable)
        table.clear()
        lang = self.cat.lang
        for file in self.files:
            table.add_row(
                file.path,
                format_size(file.size, lang),
                self.t(f"hosting.role.{file.role.value}"),
                self.file_state(file),
                key=file.path,
            )
        total = sum(f.size for f in self.files)
        lines = [self.t("hosting.summary", count=len(self.files), size=format_size(total, lang))]
        if self.missing:
            lines.append(self.t("hosting.error.missing", paths=", ".join(self.missing)))
        self.query_one("#hosting-summary", Static).update("\n".join(lines))

    def file_state(self, file: HostingFile) -> str:
        check = self.checked.get(file.path)
        if check is not None:
            return self.t("hosting.state.verified" if check.ok else "hosting.state.altered")
        record = self.record
        hosted = record.object(file.path) if record else None
        if hosted is not None and file.path not in self.pending():
            return self.t("hosting.state.hosted")
        upload = resume_states(record).get(file.path)
        if upload is not None:
            return self.t("hosting.state.parts", done=upload.done_parts, total=upload.total_parts)
        if file.path in self.remote:
            found = self.remote[file.path]
            if found is None:
                return self.t("hosting.state.absent")
            same = found.size == file.size
            return self.t("hosting.state.present_same" if same else "hosting.state.present_other")
        return "—"

    def _set_state(self, path: str, value: str) -> None:
        with contextlib.suppress(CellDoesNotExist):
            self.query_one("#hosting-files", DataTable).update_cell(path, "state", value)

    def show_urls(self) -> None:
        record = self.record
        result = self.query_one("#hosting-result", Static)
        if record is None or not record.objects:
            result.update("")
            return
        lines = [self.t("hosting.urls_title")]
        for hosted in record.objects[:MAX_URLS_SHOWN]:
            lines.append(f"• {hosted.path} → {hosted.url}")
        if len(record.objects) > MAX_URLS_SHOWN:
            lines.append(self.t("hosting.more_urls", count=len(record.objects) - MAX_URLS_SHOWN))
        result.update(Text("\n".join(lines)))

    def pending(self) -> list[str]:
        return pending_files(self.files, self.record, self.config())

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
