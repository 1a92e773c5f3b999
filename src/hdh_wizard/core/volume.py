"""The volume prerequisite: the total size of the data to release, which decides the route."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Route, StepStatus
from hdh_wizard.core.release import DataFile, Person, Release
from hdh_wizard.core.route import ONE_GO, decide_route
from hdh_wizard.core.steps import StepId


@dataclass(frozen=True)
class VolumeSummary:
    total_bytes: int
    file_count: int
    route: Route

    @property
    def margin_bytes(self) -> int:
        """How far the total is from the 1 Go threshold (positive: under it)."""
        return ONE_GO - self.total_bytes


def summarize_volume(files: Iterable[DataFile]) -> VolumeSummary:
    files = tuple(files)
    total = sum(f.size for f in files)
    return VolumeSummary(total, len(files), decide_route(total))


def release_files(release: Release) -> tuple[tuple[str, int], ...]:
    """(path, size) of the data as the interoperability step left it: the files it kept and wrote
    (conformant originals and converted copies) once it is done, else the declared data paths."""
    record = release.record(StepId.INTEROPERABILITY)
    publish = record.outputs.get("publish") if record.status is StepStatus.DONE else None
    if isinstance(publish, list):
        return tuple((str(item["path"]), int(item["size"])) for item in publish)
    return tuple((f.path, f.size) for f in release.files)


def published_files(release: Release) -> tuple[tuple[str, int], ...]:
    """(path, size) of what will be published: `release_files`, where the anonymity step wrote a
    transformed copy of a file (generalised table, cleaned slide), that copy instead."""
    files = list(release_files(release))
    record = release.record(StepId.ANONYMITY)
    replacements = record.outputs.get("replacements") if record.status is StepStatus.DONE else None
    removed: set[str] = set()
    for item in replacements if isinstance(replacements, list) else []:
        try:
            # A workbook's sheet ("suivi.xlsx › Patients") replaces the workbook file itself.
            source = str(item["source"]).partition(" › ")[0]
            output, size = str(item["path"]), int(item["size"])
            source_size = int(item.get("source_size", 0))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # a hand-edited entry that says nothing usable
        exact = [i for i, (path, _) in enumerate(files) if path == source]
        if exact:  # the copy takes the source's place in the list
            files[exact[0]] = (output, size)
            removed.add(source)
            continue
        files.append((output, size))
        if source in removed:
            continue
        removed.add(source)
        # The source lies in a declared folder: the folder is published without it.
        for i, (path, folder_size) in enumerate(files):
            if source.startswith(path.rstrip("/") + "/"):
                files[i] = (path, max(folder_size - source_size, 0))
                break
    return tuple(files)


def replaced_sources(release: Release) -> frozenset[str]:
    """The files the anonymity step replaced by a transformed copy: never to be published, even
    when they lie in a declared folder that is published otherwise."""
    record = release.record(StepId.ANONYMITY)
    replacements = record.outputs.get("replacements") if record.status is StepStatus.DONE else None
    sources: set[str] = set()
    for item in replacements if isinstance(replacements, list) else []:
        if isinstance(item, dict) and isinstance(item.get("source"), str):
            sources.add(item["source"].partition(" › ")[0])
    return frozenset(sources)


def summarize_release(release: Release) -> VolumeSummary:
    files = published_files(release)
    total = sum(size for _, size in files)
    return VolumeSummary(total, len(files), decide_route(total))


def volume_outputs(summary: VolumeSummary) -> dict[str, int | str]:
    return {
        "total_bytes": summary.total_bytes,
        "file_count": summary.file_count,
        "route": summary.route.value,
    }


def commit_volume(
    release: Release, summary: VolumeSummary, actor: Person, now: datetime
) -> Release:
    """Record the measured volume (which decides the route), then mark the step done."""
    release = workflow.record_volume(release, summary.total_bytes, actor, now)
    return workflow.commit_step(release, StepId.VOLUME, volume_outputs(summary), actor, now)
