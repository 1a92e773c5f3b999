"""Home: the checklist as the guide numbers it, and the actions on the highlighted step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, OptionList, Static

from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Requirement, Route, StepStatus
from hdh_wizard.core.next_actor import next_actor
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId, get_step
from hdh_wizard.i18n.formatting import format_datetime
from hdh_wizard.present.handover import handover_text
from hdh_wizard.present.portal_presenters import portal_detail
from hdh_wizard.present.presenters import person_text, reason_text, status_text, step_list
from hdh_wizard.ui.base import WizardScreen
from hdh_wizard.ui.widgets.banner import ReleaseBanner
from hdh_wizard.ui.widgets.checklist import Checklist

# Below this width the key bar is compact and leaves out what the help lists (`?`).
NARROW_WIDTH = 100
WIDE_ONLY_KEYS = ("r",)  # the route preview: the volume decides it, the help explains it


class HomeScreen(WizardScreen[None]):
    # In the key bar's order: help, quit and who you are first, so a narrow terminal shows them.
    BINDINGS = [
        Binding("enter", "open_step", "key.open", show=True),
        Binding("question_mark", "help", "key.help"),
        Binding("q", "quit", "key.quit"),
        Binding("i", "identity", "key.identity"),
        Binding("f", "files", "key.files"),
        Binding("t", "target", "key.target"),
        Binding("u", "undo", "key.undo"),
        Binding("s", "skip", "key.skip"),
        Binding("b", "block", "key.block"),
        Binding("r", "route", "key.route"),
    ]

    def __init__(self, focus_step: StepId | None = None) -> None:
        super().__init__(id="home")
        self._focus_step = focus_step

    @property
    def release(self) -> Release:
        return self.wizard.project.release

    def compose(self) -> ComposeResult:
        yield ReleaseBanner(self.cat, self.release)
        yield Static(id="handover", markup=False)
        yield Checklist(self.cat)
        yield Static(id="step-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.show_release(self._focus_step)
        self.query_one(Checklist).focus()
        self._fit_key_bar(self.size.width)

    def on_resize(self, event: events.Resize) -> None:
        self._fit_key_bar(event.size.width)

    def _fit_key_bar(self, width: int) -> None:
        """On a narrow terminal, a compact key bar without the keys the help lists: every key
        shown whole (`i`, who you are, included) rather than the last ones cut."""
        narrow = width < NARROW_WIDTH
        self.query_one(Footer).compact = narrow
        bindings = self._bindings.key_to_bindings
        for key in WIDE_ONLY_KEYS:
            bindings[key] = [replace(b, show=not narrow) for b in bindings.get(key, [])]
        self.refresh_bindings()

    def on_screen_resume(self) -> None:
        self.show_release()

    def show_release(self, focus_step: StepId | None = None) -> None:
        release = self.release
        self.query_one(ReleaseBanner).show(release)
        self.query_one("#handover", Static).update(handover_text(self.cat, next_actor(release)))
        checklist = self.query_one(Checklist)
        checklist.show(release, focus_step or self.selected_step())
        self._show_detail(self.selected_step())

    def selected_step(self) -> StepId | None:
        checklist = self.query_one(Checklist)
        option = checklist.highlighted_option
        if option is None or option.id is None or option.id.startswith("group-"):
            return None
        return StepId(option.id)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show_detail(self.selected_step())

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_open_step()

    def _show_detail(self, step_id: StepId | None) -> None:
        detail = self.query_one("#step-detail", Static)
        if step_id is None:
            detail.update("")
            return
        cat, release = self.cat, self.release
        step = get_step(step_id)
        record = release.record(step_id)
        text = Text()
        text.append(cat.t(step.summary_key) + "\n")
        text.append(cat.t("home.detail.who", who=cat.t(f"actor.{step.actor.value}")))
        text.append(" · " + cat.t(f"requirement.{step.requirement.value}") + " · ")
        text.append_text(status_text(cat, record.status))
        if record.updated_at is not None and record.updated_by is not None:
            text.append(
                " · "
                + cat.t(
                    "home.detail.updated",
                    when=format_datetime(record.updated_at, cat.lang),
                    who=person_text(cat, record.updated_by),
                )
            )
        if record.reason:
            text.append(
                "\n"
                + cat.t(
                    f"checklist.reason_{record.status.value}",
                    reason=reason_text(cat, record.status, record.reason),
                )
            )
        portal = portal_detail(cat, release, step_id)
        if portal:
            text.append("\n" + portal)
        detail.update(text)

    # --- actions -----------------------------------------------------------------------------

    def action_open_step(self) -> None:
        step_id = self.selected_step()
        if step_id is not None:
            self.wizard.open_step(step_id)

    def action_help(self) -> None:
        self.wizard.show_help("home")

    def action_undo(self) -> None:
        step_id = self.selected_step()
        if step_id is None:
            return
        if workflow.status_of(self.release, step_id) not in {
            StepStatus.DONE,
            StepStatus.SKIPPED,
            StepStatus.STALE,
        }:
            self.notify(
                self.t("error.step_not_done", step=self._title(step_id)), severity="warning"
            )
            return
        stale = workflow.stale_after_undo(self.release, step_id)
        question = self.t("home.undo.question", step=self._title(step_id))
        if stale:
            question += "\n\n" + self.t("home.undo.stale", steps=step_list(self.cat, stale))

        def undo(release: Release) -> Release:
            return workflow.undo_step(release, step_id, self.wizard.actor, self.wizard.now())[0]

        self.wizard.confirm(question, lambda: self._apply(undo, step_id))

    def action_skip(self) -> None:
        step_id = self.selected_step()
        if step_id is None:
            return
        if get_step(step_id).requirement is not Requirement.RECOMMENDED:
            # Say it before asking for a reason that could not be used.
            self.notify(
                self.t("error.step_not_skippable", step=self._title(step_id)), severity="warning"
            )
            return

        def skip(reason: str) -> None:
            self._apply(
                lambda r: workflow.skip_step(
                    r, step_id, reason, self.wizard.actor, self.wizard.now()
                ),
                step_id,
            )

        self.wizard.ask_reason(self.t("home.skip.question", step=self._title(step_id)), skip)

    def action_block(self) -> None:
        step_id = self.selected_step()
        if step_id is None:
            return
        if workflow.status_of(self.release, step_id) is StepStatus.BLOCKED:
            self._apply(
                lambda r: workflow.unblock_step(r, step_id, self.wizard.actor, self.wizard.now()),
                step_id,
            )
            return

        def block(why: str) -> None:
            self._apply(
                lambda r: workflow.block_step(
                    r, step_id, why, self.wizard.actor, self.wizard.now()
                ),
                step_id,
            )

        self.wizard.ask_reason(self.t("home.block.question", step=self._title(step_id)), block)

    def action_route(self) -> None:
        current = workflow.route_of(self.release)
        other = Route.HOSTED if current is Route.DIRECT else Route.DIRECT
        self._apply(
            lambda r: workflow.preview_route(r, other, self.wizard.actor, self.wizard.now())
        )

    def action_target(self) -> None:
        self.wizard.choose_target()

    def action_files(self) -> None:
        self.wizard.edit_files()

    def action_identity(self) -> None:
        self.wizard.choose_identity()

    async def action_quit(self) -> None:
        await self.wizard.action_quit()  # it asks first if data.gouv.fr is being written to

    def _apply(self, change: Callable[[Release], Release], focus: StepId | None = None) -> None:
        if self.wizard.apply(change):
            self.show_release(focus)

    def _title(self, step_id: StepId) -> str:
        return self.t(get_step(step_id).title_key)
