"""What every screen of the wizard shares: the catalogue, translated key bindings, the app."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from textual import events
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widgets import Input

from hdh_wizard.i18n.catalogue import Catalogue

if TYPE_CHECKING:
    from hdh_wizard.ui.app import HdhWizardApp

ResultT = TypeVar("ResultT")


class Translated:
    """Mixin: binding descriptions in BINDINGS are catalogue keys, translated on creation; and
    fields keep their content on focus (Textual selects it all, so the next key typed would
    replace a value the user meant to complete)."""

    def _on_mount(self, _: events.Mount) -> None:  # called besides Screen's and `on_mount`
        self._keep_content_on_focus()

    def _on_screen_resume(self, _: events.ScreenResume) -> None:  # fields mounted meanwhile
        self._keep_content_on_focus()

    def _keep_content_on_focus(self) -> None:
        for field in self.query(Input):  # type: ignore[attr-defined]
            field.select_on_focus = False

    def _translate_bindings(self) -> None:
        bindings = self._bindings  # type: ignore[attr-defined]
        cat = self.cat
        for key, items in bindings.key_to_bindings.items():
            bindings.key_to_bindings[key] = [
                replace(b, description=cat.t(b.description)) if cat.has(b.description) else b
                for b in items
            ]

    @property
    def wizard(self) -> HdhWizardApp:
        return cast("HdhWizardApp", self.app)  # type: ignore[attr-defined]

    @property
    def cat(self) -> Catalogue:
        return self.wizard.cat

    def t(self, key: str, **params: Any) -> str:
        return self.cat.t(key, **params)


class WizardScreen(Translated, Screen[ResultT], Generic[ResultT]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._translate_bindings()


class WizardModal(Translated, ModalScreen[ResultT], Generic[ResultT]):
    """A question over the current screen; Escape answers `cancel_result`."""

    BINDINGS = [Binding("escape", "cancel", "key.cancel")]
    cancel_result: Any = None

    def __init__(self) -> None:
        super().__init__(classes="dialog")
        self._translate_bindings()

    def action_cancel(self) -> None:
        self.dismiss(self.cancel_result)
