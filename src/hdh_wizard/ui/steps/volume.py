"""Prerequisite I.3: measure the total volume, which decides the route (1 Go = 10^9 octets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from hdh_wizard.core.checks import Check
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.core.volume import (
    VolumeSummary,
    commit_volume,
    published_files,
    summarize_release,
    volume_outputs,
)
from hdh_wizard.i18n.formatting import format_count, format_size
from hdh_wizard.ui.steps.base import StepScreen


class VolumeStepScreen(StepScreen):
    step_id = StepId.VOLUME

    def compose_form(self) -> ComposeResult:
        yield Static(id="volume-summary")

    def summary(self) -> VolumeSummary:
        return summarize_release(self.release)

    def on_mount(self) -> None:
        super().on_mount()
        summary = self.summary()
        lang = self.cat.lang
        text = Text()
        for path, size in published_files(self.release):
            text.append(f"• {path}  {format_size(size, lang)}\n")
        text.append(
            "\n"
            + self.t(
                "volume.total",
                size=format_size(summary.total_bytes, lang),
                count=summary.file_count,
                bytes=format_count(summary.total_bytes),
            )
            + "\n",
            style="bold",
        )
        text.append(self.t("route.threshold") + "\n")
        text.append(
            self.t(
                f"volume.decision.{summary.route.value}",
                route=self.t(f"route.{summary.route.value}"),
            ),
            style="bold",
        )
        self.query_one("#volume-summary", Static).update(text)

    def commit_change(self, outputs: dict[str, Any]) -> Callable[[Release], Release]:
        summary, actor, now = self.summary(), self.wizard.actor, self.wizard.now()
        return lambda release: commit_volume(release, summary, actor, now)

    def read_outputs(self) -> dict[str, Any]:
        return volume_outputs(self.summary())

    def step_checks(self) -> list[Check]:
        summary = self.summary()
        return [
            Check("volume.check.files", summary.file_count > 0),
            Check(
                "volume.check.threshold",
                True,
                {
                    "size": format_size(summary.total_bytes, self.cat.lang),
                    "side": self.t("volume.under" if summary.margin_bytes >= 0 else "volume.over"),
                },
            ),
        ]
