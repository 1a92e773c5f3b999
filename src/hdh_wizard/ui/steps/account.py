"""Route step "account": the data.gouv.fr administrator account, proved by its API key.

The key is pasted once, verified with `/me/`, then kept in the system keyring under the
portal's URL (or, without a keyring, for this session only). The screen never shows it again:
only its masked form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Checkbox, Input, Label, Static

from hdh_wizard.core.checks import Check
from hdh_wizard.core.portal_records import AccountRecord, same_site
from hdh_wizard.core.steps import StepId
from hdh_wizard.services.browser import can_open_browser, open_in_browser
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.models import User
from hdh_wizard.services.secrets import (
    KeyringStatus,
    KeySource,
    Secret,
    SecretError,
    SecretKind,
    SecretNotSavedError,
)
from hdh_wizard.ui.steps.portal_base import PortalStepScreen
from hdh_wizard.ui.widgets.key_input import KeyInput


class AccountStepScreen(PortalStepScreen):
    step_id = StepId.ACCOUNT

    def __init__(self) -> None:
        super().__init__()
        self.record: AccountRecord | None = None
        self.user: User | None = None
        self.known: Secret | None = None  # the key found for this portal (read in a worker)

    def compose_form(self) -> ComposeResult:
        yield Static(id="account-site", classes="portal-site")
        yield Static(id="account-howto", classes="portal-howto")
        with Horizontal(classes="portal-buttons", id="browser-buttons"):
            yield Button(self.t("account.button.register"), id="open-register")
            yield Button(self.t("account.button.keys_page"), id="open-keys")
        yield Static(id="account-keyring", classes="portal-note")
        yield Label(self.t("account.field.key"), classes="field-label")
        yield KeyInput(placeholder=self.t("account.placeholder.key"), id="api-key")
        yield Checkbox(self.t("account.field.remember"), value=True, id="remember")
        with Horizontal(classes="portal-buttons"):
            yield Button(self.t("account.button.verify"), id="verify", variant="success")
            yield Button(self.t("account.button.forget"), id="forget-key")
        yield self.status_line()
        yield Static(id="account-result", classes="portal-result")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#account-site", Static).update(
            Text(self.t("portal.site", site=self.site_label()), style="bold")
        )
        self.query_one("#account-howto", Static).update(
            self.t(
                "account.howto",
                register=self.register_url(),
                keys=self.keys_url(),
            )
        )
        if not can_open_browser():  # a headless server: the addresses above are to open elsewhere
            self.query_one("#browser-buttons").display = False
        self._read_keys(self.site)

    @work(thread=True, exclusive=True, group="keys")
    def _read_keys(self, site: str) -> None:
        """The keyring may be slow (D-Bus) or ask to be unlocked: read it off the UI thread."""
        secrets = self.wizard.portal.secrets
        status = secrets.status()
        try:
            known = secrets.get(SecretKind.API_KEY, site)
        except SecretError as error:
            self.app.call_from_thread(self._keys_read, status, None, error.message(self.cat))
            return
        self.app.call_from_thread(self._keys_read, status, known, "")

    def _keys_read(self, status: KeyringStatus, known: Secret | None, problem: str) -> None:
        if not self.is_attached:
            return
        remember = self.query_one("#remember", Checkbox)
        if status.available:
            note = self.t("account.keyring.available", backend=status.backend)
        else:
            note = self.t("account.keyring.unavailable", reason=self.t(status.reason_key))
            remember.value = False
            remember.disabled = True
        self.query_one("#account-keyring", Static).update(note)
        self.known = known
        if problem:
            self.show_status(problem, "error")
        self.show_known_key()
        self.refresh_checks()

    def register_url(self) -> str:
        return f"{self.site.rstrip('/')}/register"

    def keys_url(self) -> str:
        return f"{self.site.rstrip('/')}/admin/me/profile"

    # --- the key -------------------------------------------------------------------------------

    def show_known_key(self) -> None:
        known = self.known
        result = self.query_one("#account-result", Static)
        if known is None:
            if self.record is None:
                result.update(self.t("account.no_key_yet"))
            return
        result.update(
            self.t(
                "account.key_known",
                masked=known.masked,
                source=self.t(f"account.source.{known.source.value}"),
            )
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        handlers: dict[str, Callable[[], object]] = {
            "verify": self.verify,
            "forget-key": self.forget_key,
            "open-register": lambda: open_in_browser(self.register_url()),
            "open-keys": lambda: open_in_browser(self.keys_url()),
        }
        handler = handlers.get(event.button.id or "")
        if handler is None:
            super().on_button_pressed(event)
            return
        handler()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "api-key":
            self.verify()

    def verify(self) -> None:
        typed = self.query_one("#api-key", Input).value.strip()
        keep = self.query_one("#remember", Checkbox).value
        site = self.site
        if typed:
            self.call_portal(
                lambda client: self._check_and_store(client, typed, keep),
                self.verified,
                client=lambda: self.wizard.portal.trial(site, typed),
                status=self.t("account.verifying"),
            )
            return
        known = self.known
        if known is None:
            self.show_status(self.t("account.key_required"), "error")
            return
        self.call_portal(
            lambda client: (client.me(), known),
            self.verified,
            client=lambda: self.wizard.portal.trial(site, known.value),
            status=self.t("account.verifying"),
        )

    def _check_and_store(self, client: DataGouvClient, key: str, keep: bool) -> tuple[User, Secret]:
        """In the worker: the key is stored only once the portal has accepted it."""
        user = client.me()
        try:
            source = self.wizard.portal.remember(self.site, key, keep=keep)
        except SecretNotSavedError as error:
            # Kept for this session by the store itself; say why the keyring refused it.
            self.app.call_from_thread(self.notify, error.message(self.cat), severity="warning")
            source = KeySource.SESSION
        return user, Secret(key.strip(), source)

    def verified(self, result: tuple[User, Secret]) -> None:
        user, key = result
        self.user = user
        self.known = key
        self.record = AccountRecord(self.site, user.id, user.display_name, key.source.value)
        self.query_one("#api-key", Input).value = ""  # never shown again, even masked by dots
        organizations = ", ".join(o.name for o in user.organizations) or self.t("account.no_org")
        self.query_one("#account-result", Static).update(
            Text(
                self.t(
                    "account.verified",
                    name=user.display_name,
                    organizations=organizations,
                    masked=key.masked,
                    source=self.t(f"account.source.{key.source.value}"),
                ),
                style="green",
            )
        )

    def forget_key(self) -> None:
        self._forget(self.site)

    @work(thread=True, exclusive=True, group="keys")
    def _forget(self, site: str) -> None:
        try:
            forgotten = self.wizard.portal.forget(site)
            still = self.wizard.portal.secrets.get(SecretKind.API_KEY, site)
        except SecretError as error:
            self.app.call_from_thread(self.show_status, error.message(self.cat), "error")
            return
        self.app.call_from_thread(self._forgotten, forgotten, still)

    def _forgotten(self, forgotten: bool, still: Secret | None) -> None:
        if not self.is_attached:
            return
        self.known = still
        self.user = None
        if still is not None:  # HDH_WIZARD_API_KEY is still set: say so rather than pretend
            message = self.t("account.forgotten_but_environment")
        else:
            message = self.t("account.forgotten" if forgotten else "account.nothing_to_forget")
        self.query_one("#account-result", Static).update(message)
        self.refresh_checks()

    # --- the step --------------------------------------------------------------------------------

    def load_outputs(self, outputs: dict[str, Any]) -> None:
        record = AccountRecord.from_outputs(outputs)
        if record is not None and same_site(record.site, self.site):
            self.record = record
            self.query_one("#account-result", Static).update(
                self.t("account.recorded", name=record.user_name)
            )

    def read_outputs(self) -> dict[str, Any]:
        if self.record is None:
            return {}
        # The same account verified again (another key source, a new display name) is no
        # change: committing different outputs would send the later steps back to review.
        saved = AccountRecord.from_outputs(self.release.record(self.step_id).outputs)
        if saved and saved.site == self.record.site and saved.user_id == self.record.user_id:
            return dict(self.release.record(self.step_id).outputs)
        return self.record.to_outputs()

    def step_checks(self) -> list[Check]:
        verified = self.record is not None and same_site(self.record.site, self.site)
        return [
            Check("account.check.verified", verified),
            Check("account.check.key_usable", self.known is not None),
        ]
