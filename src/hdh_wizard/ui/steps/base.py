"""The pattern of every step screen: the guide's words, the form, what is checked, commit.

A subclass composes its form, reads it into outputs, and lists its checks; this base adds the
step's prerequisites and who may commit it, saves drafts, and asks the app to commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Footer, Input, Markdown, Static, TextArea

from hdh_wizard.core import workflow
from hdh_wizard.core.checks import Check, all_ok
from hdh_wizard.core.enums import Actor, Role
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId, get_step
from hdh_wizard.ui.base import WizardScreen
from hdh_wizard.ui.help_texts import help_markdown
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
        self.refresh_checks()

    def on_checkbox_changed(self, _: Checkbox.Changed) -> None:
        self.refresh_checks()

    def on_text_area_changed(self, _: TextArea.Changed) -> None:
        self.refresh_checks()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {
            "commit": self.action_commit,
            "draft": self.action_draft,
            "back": self.action_back,
        }
        if event.button.id in actions:
            actions[event.button.id]()

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
        actor, now, outputs = self.wizard.actor, self.wizard.now(), self.read_outputs()
        if self.wizard.apply(
            lambda release: workflow.save_draft(release, self.step_id, outputs, actor, now)
        ):
            self.notify(self.t("step.draft_saved"))

    def action_toggle_help(self) -> None:
        self.query_one("#step-help").toggle_class("-hidden")

    def action_back(self) -> None:
        self.dismiss(None)
