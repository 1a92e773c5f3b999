"""What HDH hosts on route 2 once a table is split: its parts and its sample only, or the whole
table too. The partner chooses it on the "prepare the data" step; the transfer (screen and
`hdh-wizard transfer`) sends what was chosen.

The choice is kept in the prepare_data step's record (`outputs["hosting"]`). A record without
it (written before the choice existed) hosts the whole table too, as it did then: nothing
already hosted changes until the partner chooses.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from hdh_wizard.core.hosting_records import PreparedFile, prepared_files
from hdh_wizard.core.preparation import SPLIT_KINDS
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.core.volume import published_files
from hdh_wizard.inspect.hosting_files import HostingFile, hosting_files

HOSTING_KEY = "hosting"


class HostingChoice(StrEnum):
    PARTS = "parts"  # the split parts and the sample: the whole table is not hosted
    WHOLE_TOO = "whole_too"  # the whole table as well as its parts


def hosting_choice(outputs: Mapping[str, Any]) -> HostingChoice:
    """The choice a prepare_data record holds (an unknown value reads as the default)."""
    try:
        return HostingChoice(str(outputs.get(HOSTING_KEY, HostingChoice.WHOLE_TOO)))
    except ValueError:
        return HostingChoice.WHOLE_TOO


def chosen(release: Release) -> HostingChoice:
    return hosting_choice(release.record(StepId.PREPARE_DATA).outputs)


def with_choice(outputs: Mapping[str, Any], choice: HostingChoice) -> dict[str, Any]:
    return {**outputs, HOSTING_KEY: choice.value}


def choice_outputs(release: Release) -> dict[str, Any]:
    """The choice as the step's record keeps it ({} when never made): what a new record of the
    step carries over."""
    outputs = release.record(StepId.PREPARE_DATA).outputs
    return {HOSTING_KEY: outputs[HOSTING_KEY]} if HOSTING_KEY in outputs else {}


def split_sources(prepared: Iterable[PreparedFile]) -> set[str]:
    """The tables split into parts (their parts were written)."""
    return {f.source for f in prepared if f.kind in SPLIT_KINDS}


def left_out(release: Release) -> set[str]:
    """The paths not hosted by the choice: the split tables, when only their parts are."""
    if chosen(release) is not HostingChoice.PARTS:
        return set()
    return split_sources(prepared_files(release))


def chosen_hosting_files(release: Release, folder: Path) -> tuple[list[HostingFile], list[str]]:
    """`hosting_files` as the choice has it: a whole table not hosted is neither sent nor
    needed on disk."""
    files, missing = hosting_files(release, folder)
    out = left_out(release)
    return [f for f in files if f.path not in out], [m for m in missing if m not in out]


@dataclass(frozen=True)
class HostingCosts:
    """Bytes hosted by each choice."""

    parts: int  # everything to host but the split tables
    whole: int  # the split tables themselves (hosted too with WHOLE_TOO)

    @property
    def whole_too(self) -> int:
        return self.parts + self.whole


def hosting_costs(
    published: Sequence[tuple[str, int]], prepared: Collection[PreparedFile]
) -> HostingCosts:
    """What each choice hosts: the published files (`published_files`) and the prepared ones."""
    sources = split_sources(prepared)
    known = {path for path, _ in published}
    others = sum(size for path, size in published if path not in sources)
    extra = sum(f.size for f in prepared if f.path not in known)
    whole = sum(size for path, size in published if path in sources)
    return HostingCosts(others + extra, whole)


def release_costs(release: Release, prepared: Collection[PreparedFile]) -> HostingCosts:
    return hosting_costs(published_files(release), prepared)
