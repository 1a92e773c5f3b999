"""Name and role of the person at the keyboard, used in the new project flow and on resume."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, RadioButton, RadioSet

from hdh_wizard.core.enums import Role
from hdh_wizard.core.release import Person
from hdh_wizard.core.state_file import UnsavableValueError, check_name
from hdh_wizard.i18n.catalogue import Catalogue


class IdentityForm(Vertical):
    def __init__(self, cat: Catalogue, person: Person | None = None) -> None:
        super().__init__(classes="identity-form")
        self._cat = cat
        self._person = person

    def compose(self) -> ComposeResult:
        yield Label(self._cat.t("identity.name"), classes="field-label")
        yield Input(
            value=self._person.name if self._person else "",
            placeholder=self._cat.t("identity.name_placeholder"),
            id="actor-name",
        )
        yield Label(self._cat.t("identity.role"), classes="field-label")
        role = self._person.role if self._person else Role.PARTNER
        with RadioSet(id="actor-role"):
            for option in Role:
                yield RadioButton(
                    self._cat.t(f"role.{option.value}"), value=option is role, id=f"role-{option}"
                )

    def person(self) -> Person | None:
        """The person typed, or None while the name is empty."""
        name = self.query_one("#actor-name", Input).value.strip()
        pressed = self.query_one("#actor-role", RadioSet).pressed_button
        role = Role(pressed.id.removeprefix("role-")) if pressed and pressed.id else Role.PARTNER
        return Person(name, role) if name else None

    def refusal(self) -> str | None:
        """Why the name typed cannot be recorded (a line break, a terminal code, too long), by
        the state file's own rule; None when it can, or while it is empty."""
        name = self.query_one("#actor-name", Input).value.strip()
        if not name:
            return None
        try:
            check_name(name, self._cat.t("identity.name"))
        except UnsavableValueError as error:
            return error.message(self._cat)
        return None
