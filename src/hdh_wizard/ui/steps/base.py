"""The pattern of every step screen: the guide's words, the form, what is checked, commit.

A subclass composes its form, reads it into outputs, and lists its checks; this base adds the
step's prerequisites and who may commit it, saves drafts, and asks the app to commit.

Typed work is never lost silently: leaving (Escape, "Retour", quitting the app) after the user
changed a field or pressed a button, with outputs that differ both from the saved record and from
what the form showed when it opened, asks to save the draft, discard the changes or stay (`leave`).
What the screen computed by itself (an inspection run on opening) is not asked about. A step
whose `read_outputs` is expensive or has side effects overrides `has_unsaved_changes`. Closing
the screen cancels its workers (Textual does it on unmount); thread workers stop at their next
cancel point (`hdh_wizard.ui.cancelling`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Input,
    Markdown,
    RadioSet,
    Select,
    Static,
    TextArea,
)

from hdh_wizard.core import workflow
from hdh_wizard.core.checks import Check, all_ok
from hdh_wizard.core.enums import Actor, Role
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId, get_step
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.ui.base import WizardScreen
from hdh_wizard.ui.help_texts import help_markdown
from hdh_wizard.ui.screens.dialogs import LeaveChoice, LeaveDialog
from hdh_wizard.ui.widgets.banner import ReleaseBanner
from hdh_wizard.ui.widgets.checks import ChecksPanel


class StepScreen(WizardScreen[None]):
    """Base of the step screens; `step_id` is set by each subclass."""

    step_id: StepId
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        # Priority: text fields would otherwise take these keys (Ctrl+D deletes a character).
        Binding("ctrl+s", "commit", "key.commit", priority=True),
        Binding("ctrl+d", "draft", "key.draft", priority=True),
        Binding("f1", "toggle_help", "key.toggle_help"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self) -> None:
        super().__init__(id=f"step-{self.step_id.value}", classes="step-screen")
        self._shown_outputs: dict[str, Any] | None = None  # the form as it opened, or last saved
        self._touched = False  # the user changed a field or pressed a button since then

    @property
    def release(self) -> Release:
        return self.wizard.project.release

    # --- to implement in each step -----------------------------------------------------------

    def compose_form(self) -> ComposeResult:
        raise NotImplementedError

    def load_outputs(self, outputs: dict[str, Any]) -> None:
        """Fill the form from a saved draft or a finished step."""

    def read_outputs(self) -> dict[str, Any]:
        raise NotImplementedError

    def step_checks(self) -> list[Check]:
        raise NotImplementedError

    def commit_change(self, outputs: dict[str, Any]) -> Callable[[Release], Release]:
        """The model change that finishing this step makes."""
        actor, now = self.wizard.actor, self.wizard.now()
        return lambda release: workflow.commit_step(release, self.step_id, outputs, actor, now)

    # --- the pattern -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        step = get_step(self.step_id)
        route = workflow.route_of(self.release)
        yield ReleaseBanner(self.cat, self.release)
        with Horizontal(id="step-body"):
            with VerticalScroll(id="step-help"):
                yield Markdown(help_markdown(self.step_id.value, self.cat.lang))
            with VerticalScroll(id="step-form"):
                yield Static(f"{step.number(route)} · {self.t(step.title_key)}", id="step-title")
                yield from self.compose_form()
                yield ChecksPanel(self.cat)
                with Horizontal(id="step-buttons"):
                    yield Button(self.t("step.button.commit"), id="commit", variant="primary")
                    yield Button(self.t("step.button.draft"), id="draft")
                    yield Button(self.t("step.button.back"), id="back")
        yield Footer()

    def on_mount(self) -> None:
        self.load_outputs(dict(self.release.record(self.step_id).outputs))
        self.refresh_checks()
        first = self.query("#step-form Input, #step-form TextArea, #step-form Checkbox")
        if first:
            first.first().focus()
        # Once the subclass's own mounting has filled the form: what "unchanged" means.
        self.call_after_refresh(self._remember_shown_outputs)

    def _remember_shown_outputs(self) -> None:
        self._shown_outputs = self._current_outputs()
        self._touched = False

    def _touch(self) -> None:
        if self._shown_outputs is not None:  # not while the form is being filled on opening
            self._touched = True

    def _current_outputs(self) -> dict[str, Any] | None:
        try:
            return self.read_outputs()
        except HdhWizardError:  # a form that cannot be read cannot be saved either
            return None

    def all_checks(self) -> list[Check]:
        checks = list(self.step_checks())
        blockers = workflow.blockers(self.release, self.step_id)
        names = ", ".join(self.t(get_step(b).title_key) for b in blockers)
        checks.append(Check("step.check.available", not blockers, {"steps": names or "—"}))
        if get_step(self.step_id).actor is Actor.HDH_STAFF:
            checks.append(Check("step.check.staff", self.wizard.actor.role is Role.HDH_STAFF))
        return checks

    def refresh_checks(self) -> None:
        self.query_one(ChecksPanel).show(self.all_checks())

    def on_input_changed(self, _: Input.Changed) -> None:
        self._touch()
        self.refresh_checks()

    def on_checkbox_changed(self, _: Checkbox.Changed) -> None:
        self._touch()
        self.refresh_checks()

    def on_text_area_changed(self, _: TextArea.Changed) -> None:
        self._touch()
        self.refresh_checks()

    def on_select_changed(self, _: Select.Changed) -> None:
        self._touch()

    def on_radio_set_changed(self, _: RadioSet.Changed) -> None:
        self._touch()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id not in ("commit", "draft", "back"):
            self._touch()
        actions = {
            "commit": self.action_commit,
            "draft": self.action_draft,
            "back": self.action_back,
        }
        if event.button.id in actions:
            actions[event.button.id]()
        # The last of the chain (subclasses hand their unknown buttons to `super()`): Textual
        # would otherwise call the handlers of the classes in between once more.
        event.prevent_default()

    def action_commit(self) -> None:
        checks = self.all_checks()
        if not all_ok(checks):
            failed = [self.t(c.key, **c.params) for c in checks if not c.ok]
            self.notify("\n".join(failed), title=self.t("step.not_ready"), severity="error")
            return
        if self.wizard.apply(self.commit_change(self.read_outputs())):
            self.notify(self.t("step.committed", step=self.t(get_step(self.step_id).title_key)))
            self.dismiss(None)

    def action_draft(self) -> None:
        self.save_draft()

    def save_draft(self) -> bool:
        try:
            outputs = self.read_outputs()
        except HdhWizardError as error:  # a field that cannot be read yet: said, work kept
            self.wizard.show_error(error)
            return False
        actor, now = self.wizard.actor, self.wizard.now()
        if self.wizard.apply(
            lambda release: workflow.save_draft(release, self.step_id, outputs, actor, now)
        ):
            self._shown_outputs, self._touched = outputs, False
            self.notify(self.t("step.draft_saved"))
            return True
        return False

    def action_toggle_help(self) -> None:
        """The guide beside the form on wide screens (shown until hidden); above it on narrow
        ones, folded until asked for, so that the form keeps the rows."""
        help_pane = self.query_one("#step-help")
        help_pane.toggle_class("-shown" if self.has_class("-narrow") else "-hidden")

    def action_back(self) -> None:
        self.leave(self._close)

    # --- leaving without losing typed work ---------------------------------------------------

    def has_unsaved_changes(self) -> bool:
        """The user changed the form, and it holds what neither the saved record (draft or
        finished) nor the form as it opened holds. Override when `read_outputs` is expensive
        or has side effects."""
        if not self._touched:
            return False
        current = self._current_outputs()
        if current is None:  # typed, but not readable as it is: asked too, never dropped
            return True
        saved = dict(self.release.record(self.step_id).outputs)
        return current != saved and current != self._shown_outputs

    def _close(self) -> None:
        self.dismiss(None)

    def leave(self, then: Callable[[], None]) -> None:
        """Run `then` (close the screen, quit the app) at once when nothing typed would be
        lost; otherwise ask: save the draft and go, discard and go, or stay (Escape)."""
        if not self.has_unsaved_changes():
            then()
            return

        def answered(choice: LeaveChoice | None) -> None:
            if choice is LeaveChoice.DISCARD or (choice is LeaveChoice.SAVE and self.save_draft()):
                then()

        self.app.push_screen(LeaveDialog(self.t("leave.question")), answered)
