"""The guide's checklist as a list: group headings, then one row per step of the route."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Group, Requirement, StepStatus
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId, get_step, group_title_key
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.present.presenters import reason_text, status_text, step_title

_FINISHED = {StepStatus.DONE, StepStatus.SKIPPED}


class Checklist(OptionList):
    """Options are steps (id = step id) or disabled group headings (id = "group-…")."""

    def __init__(self, cat: Catalogue) -> None:
        super().__init__(id="checklist")
        self._cat = cat

    def show(self, release: Release, focus_step: StepId | None) -> None:
        cat = self._cat
        route = workflow.route_of(release)
        options: list[Option] = []
        group: Group | None = None
        next_id = workflow.next_step(release)
        for step in workflow.active_steps(release):
            if step.group is not group:
                group = step.group
                key = group_title_key(group, route)
                options.append(
                    Option(
                        Text(cat.t(key), style="bold underline"), id=f"group-{group}", disabled=True
                    )
                )
            options.append(Option(self._row(release, step.id, step.id is next_id), id=step.id))
        highlighted = self.highlighted
        self.set_options(options)
        shown = {option.id for option in options}
        # A step of the other route is not in the list after a route change.
        target = focus_step if focus_step is not None and focus_step.value in shown else next_id
        if target is not None:
            self.highlighted = self.get_option_index(target.value)
        elif highlighted is not None:
            self.highlighted = min(highlighted, self.option_count - 1)

    def _row(self, release: Release, step_id: StepId, is_next: bool) -> Table:
        cat = self._cat
        step = get_step(step_id)
        status = workflow.status_of(release, step_id)
        route = workflow.route_of(release)
        grid = Table.grid(expand=True, padding=(0, 1))
        grid.add_column(width=4)
        grid.add_column(ratio=1)
        grid.add_column(width=12)
        grid.add_column(width=17)
        title = Text(step_title(cat, step_id), style="bold" if is_next else "")
        if step.requirement is Requirement.RECOMMENDED:
            title.append(f" ({cat.t('requirement.recommended')})", style="italic")
        if is_next:
            # In words, not a symbol: without colour a "▶" reads as the cursor, which the
            # highlight is; the cursor can be elsewhere.
            title.append(f" {cat.t('checklist.next')}", style="bold")
        who = Text(cat.t(f"actor.{step.actor.value}"), style="cyan")
        grid.add_row(step.number(route), title, status_text(cat, status), who)
        blockers = workflow.blockers(release, step_id)
        note: str | None = None
        if status is StepStatus.BLOCKED or status is StepStatus.STALE:
            reason = reason_text(cat, status, release.record(step_id).reason)
            note = cat.t(f"checklist.reason_{status.value}", reason=reason)
        elif blockers and status not in _FINISHED:
            names = ", ".join(step_title(cat, b) for b in blockers)
            note = cat.t("checklist.waiting_for", steps=names)
        if note:
            grid.add_row("", Text("↳ " + note, style="dim"), "", "")
        return grid
