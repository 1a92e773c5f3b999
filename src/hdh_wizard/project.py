"""Opening, creating and saving a release project: the state file, its lock and the data files.

Used by both the command line and the TUI; it joins the core (state) and the inspection of the
data files (fingerprints), so it sits above both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from hdh_wizard.core import workflow
from hdh_wizard.core.lock import ProjectLock
from hdh_wizard.core.release import AuditAction, DataFile, Person, Release
from hdh_wizard.core.state_file import (
    STATE_FILE_NAME,
    load_release,
    remove_leftover_temp_files,
    restore_backup,
    save_release,
)
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import ProjectError
from hdh_wizard.inspect.fingerprint import (
    FileChange,
    FileChangeKind,
    check_files,
    describe_file,
)

_NOT_STALE = frozenset({FileChangeKind.TOUCHED, FileChangeKind.UNREADABLE})


@dataclass
class Project:
    """An open project: its folder and its release as last saved."""

    folder: Path
    release: Release

    @property
    def state_path(self) -> Path:
        return self.folder / STATE_FILE_NAME


@dataclass(frozen=True)
class ResumeReport:
    """What changed in the data files since the last session, and the steps now to review."""

    changes: tuple[FileChange, ...] = ()
    stale_steps: tuple[StepId, ...] = field(default_factory=tuple)

    @property
    def needs_attention(self) -> bool:
        return any(c.kind is not FileChangeKind.TOUCHED for c in self.changes)


def state_path(folder: Path) -> Path:
    return folder / STATE_FILE_NAME


def has_project(folder: Path) -> bool:
    return state_path(folder).exists()


def ensure_folder(folder: Path) -> None:
    """Create the project folder (and its parents) if needed, or say why it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProjectError(
            "error.project_folder", folder=str(folder), reason=exc.strerror or str(exc)
        ) from exc


def acquire_lock(folder: Path) -> ProjectLock:
    """Refuse a second wizard on the same project (ProjectLockedError names the other one)."""
    lock = ProjectLock(folder)
    lock.acquire()
    return lock


def open_project(folder: Path, actor: Person | None, now: datetime) -> tuple[Project, ResumeReport]:
    """Load a project, then check its data files against their fingerprints.

    Changed or missing files mark the steps computed from them stale; the result is saved at
    once so the next session sees it too. `actor` defaults to the one who last worked on it.
    The caller holds the project's lock (`acquire_lock`).
    """
    # A save killed half-way leaves its temporary file behind; the lock says no save is running.
    remove_leftover_temp_files(state_path(folder))
    release = load_release(state_path(folder))
    release, report = _reconcile_files(release, folder, actor or release.actor, now)
    project = Project(folder, release)
    if report.changes:
        save(project, release)
    return project, report


def read_project(folder: Path) -> Release:
    """Load a project's release without changing it (for `status`)."""
    return load_release(state_path(folder))


def restore_project_backup(folder: Path, now: datetime) -> Path | None:
    """Put the backup back (the caller holds the lock) and note it in the audit trail.

    Returns where the unreadable state was kept, or None when there was no file to keep.
    """
    kept = restore_backup(state_path(folder), now=now)
    release = load_release(state_path(folder))
    detail = str(kept) if kept is not None else ""
    release = workflow.log_action(release, release.actor, now, AuditAction.BACKUP_RESTORED, detail)
    save_release(release, state_path(folder))
    return kept


def create_project(
    folder: Path,
    name: str,
    actor: Person,
    data_paths: Iterable[Path],
    now: datetime,
) -> Project:
    """Create the folder if needed and write a new release; refuses to overwrite one.

    The caller holds the folder's lock once it exists (`acquire_lock`).
    """
    if not name.strip():
        raise ProjectError("error.project_name_required")
    ensure_folder(folder)
    if has_project(folder):
        raise ProjectError("error.project_exists", folder=str(folder))
    release = workflow.new_release(name, actor, now, describe_paths(data_paths, folder))
    project = Project(folder, release)
    save(project, release)
    return project


def describe_paths(paths: Iterable[Path], folder: Path) -> tuple[DataFile, ...]:
    described: list[DataFile] = []
    for path in paths:
        if not path.exists():
            raise ProjectError("error.data_path_missing", path=str(path))
        resolved, project = path.resolve(), folder.resolve()
        if path.is_dir() and (
            (path / STATE_FILE_NAME).exists() or resolved == project or resolved in project.parents
        ):
            # The project folder holds the state file, which changes at every save.
            raise ProjectError("error.data_path_is_project", path=str(path))
        try:
            data_file = describe_file(path, folder)
        except OSError as exc:
            raise ProjectError(
                "error.data_path_unreadable", path=str(path), reason=exc.strerror or str(exc)
            ) from exc
        if data_file.path not in {d.path for d in described}:
            described.append(data_file)
    return tuple(described)


def save(project: Project, release: Release) -> Project:
    """Write the release atomically and keep it as the project's current state."""
    save_release(release, project.state_path)
    project.release = release
    return project


def _reconcile_files(
    release: Release, folder: Path, actor: Person, now: datetime
) -> tuple[Release, ResumeReport]:
    changes = tuple(check_files(release.files, folder))
    if not changes:
        return release, ResumeReport()
    current = {c.data_file.path: c.current for c in changes if c.current is not None}
    files = tuple(current.get(f.path, f) for f in release.files)
    release = replace(release, files=files)
    # Same content (touched) or not readable right now: nothing to redo, only to tell.
    if all(c.kind in _NOT_STALE for c in changes):
        return release, ResumeReport(changes)
    release, stale = workflow.mark_data_stale(release, "files_changed", actor, now)
    return release, ResumeReport(changes, stale)


def changed_paths(report: ResumeReport, kind: FileChangeKind | None = None) -> Sequence[str]:
    """Paths that need the user's attention, optionally of one kind of change only."""
    return [
        c.data_file.path
        for c in report.changes
        if c.kind is not FileChangeKind.TOUCHED and (kind is None or c.kind is kind)
    ]
