"""What the "share with HDH" screen knows and shows: its form, the files to host and their
state, the progress of a transfer, the URLs, the public access, and the storage secret (the
keyring, read off the UI thread, or this session's memory). The screen (`share_with_hdh`) adds
the actions and the workers that run `flows.transfer`.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DataTable, Input, Label, ProgressBar, Static
from textual.widgets.data_table import CellDoesNotExist

from hdh_wizard.core.enums import Role
from hdh_wizard.core.hosting_records import HostedObject, TransferRecord
from hdh_wizard.i18n.formatting import format_size
from hdh_wizard.inspect.hosting_files import HostingFile
from hdh_wizard.present.portal_presenters import transfer_amounts
from hdh_wizard.services.progress import UploadProgress
from hdh_wizard.services.secrets import (
    ENV_VARS,
    KeyringStatus,
    KeySource,
    Secret,
    SecretError,
    SecretKind,
    SecretNotSavedError,
    SecretStore,
)
from hdh_wizard.services.storage import ConnectionReport, RemoteObject, StorageConfig
from hdh_wizard.services.storage.hosting import (
    HostedCheck,
    HostingProgress,
    pending_files,
    resume_states,
)
from hdh_wizard.services.storage.hosting_choice import left_out
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


SECRET_VARIABLE = ENV_VARS[SecretKind.STORAGE_SECRET]


class HostingView(JobStepScreen):
    """Base of `ShareWithHdhStepScreen`: its form, its state, the secret, what is shown."""

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
        # The connection test's result, under its button (not below the files' table).
        yield Static("", id="storage-test-result", classes="portal-status")
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

    def action_transfer(self) -> None:
        raise NotImplementedError

    @property
    def secrets(self) -> SecretStore:
        return self.wizard.portal.secrets  # one store per run: its session memory is shared

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
            elif self.known is not None and self.known.source is KeySource.ENVIRONMENT:
                lines.append(self.t("hosting.journey.no_keyring_env", variable=SECRET_VARIABLE))
            else:
                # Said once, here where the secret is typed: it will be asked again next time.
                lines.append(
                    self.t(
                        "hosting.journey.no_keyring",
                        reason=self.t(status.reason_key),
                        variable=SECRET_VARIABLE,
                    )
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

    # --- what is shown -------------------------------------------------------------------------

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

    def show_status(self, message: str, kind: str, where: str = "#hosting-status") -> None:
        status = self.query_one(where, Static)
        status.set_classes(f"portal-status -{kind}" if kind else "portal-status")
        status.update(Text(message))

    def show_test_result(self, message: str, kind: str) -> None:
        """What the connection test says, next to its button."""
        self.show_status(message, kind, "#storage-test-result")

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
        whole = sorted(left_out(self.release))
        if whole:
            lines.append(self.t("hosting.journey.whole_left_out", paths=", ".join(whole)))
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
