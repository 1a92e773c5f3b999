"""Creating and resuming a release project: file tracking, stale steps, the lock."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.steps import StepId
from hdh_wizard.core.volume import commit_volume, summarize_volume
from hdh_wizard.errors import ProjectError, ProjectLockedError
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.inspect.fingerprint import FileChangeKind

from .tui_helpers import ALICE, NOW, make_demo_project


def _finish_data_steps(project: projects.Project) -> None:
    release = workflow.commit_step(project.release, StepId.INTEROPERABILITY, {}, ALICE, NOW)
    release = commit_volume(release, summarize_volume(release.files), ALICE, NOW)
    for step in (StepId.ANONYMITY, StepId.CONTRACT):
        release = workflow.commit_step(release, step, {}, ALICE, NOW)
    projects.save(project, release)


def test_new_project_records_files_relative_to_its_folder(tmp_path: Path) -> None:
    project = make_demo_project(tmp_path)
    paths = [f.path for f in project.release.files]
    assert paths == ["donnees/cohorte_melanome.csv", "donnees/lames"]
    assert all(f.size > 0 and f.fingerprint for f in project.release.files)


def test_files_outside_the_folder_are_kept_absolute(tmp_path: Path) -> None:
    data = tmp_path / "elsewhere.csv"
    data.write_text("a,b\n1,2\n", encoding="utf-8")
    project = projects.create_project(tmp_path / "release", "R", ALICE, [data], NOW)
    assert project.release.files[0].path == str(data)


def test_a_second_project_in_the_same_folder_is_refused(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    with pytest.raises(ProjectError) as error:
        projects.create_project(tmp_path, "Again", ALICE, [], NOW)
    assert error.value.key == "error.project_exists"


def test_missing_data_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(ProjectError) as error:
        projects.create_project(tmp_path, "R", ALICE, [tmp_path / "absent.csv"], NOW)
    assert error.value.params["path"].endswith("absent.csv")


def test_resume_without_changes_reports_nothing(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    _, report = projects.open_project(tmp_path, None, NOW)
    assert report.changes == ()
    assert not report.needs_attention


def test_modified_data_file_marks_dependent_steps_stale_on_resume(tmp_path: Path) -> None:
    project = make_demo_project(tmp_path)
    _finish_data_steps(project)
    csv = tmp_path / "donnees" / "cohorte_melanome.csv"
    with csv.open("a", encoding="utf-8") as handle:
        handle.write("VM-999999,F,50,2015-01-01,75,dos,1.2,non,I,0,,L-999\n")
    reopened, report = projects.open_project(tmp_path, None, NOW)
    assert [c.kind for c in report.changes] == [FileChangeKind.MODIFIED]
    release = reopened.release
    assert release.record(StepId.INTEROPERABILITY).status is StepStatus.STALE
    assert release.record(StepId.VOLUME).status is StepStatus.STALE
    assert release.record(StepId.ANONYMITY).status is StepStatus.STALE
    assert release.record(StepId.CONTRACT).status is StepStatus.DONE
    # Saved at once: the next session sees the same.
    assert projects.read_project(tmp_path).record(StepId.VOLUME).status is StepStatus.STALE


def test_moved_data_folder_is_reported_missing(tmp_path: Path) -> None:
    project = make_demo_project(tmp_path)
    _finish_data_steps(project)
    (tmp_path / "donnees" / "lames").rename(tmp_path / "lames-deplacees")
    _, report = projects.open_project(tmp_path, None, NOW)
    assert [c.kind for c in report.changes] == [FileChangeKind.MISSING]
    assert report.needs_attention
    assert StepId.VOLUME in report.stale_steps
    assert projects.changed_paths(report) == ["donnees/lames"]


def test_touched_file_with_same_content_changes_nothing(tmp_path: Path) -> None:
    project = make_demo_project(tmp_path)
    _finish_data_steps(project)
    csv = tmp_path / "donnees" / "cohorte_melanome.csv"
    os.utime(csv, ns=(1_800_000_000_000_000_000, 1_800_000_000_000_000_000))
    reopened, report = projects.open_project(tmp_path, None, NOW)
    assert [c.kind for c in report.changes] == [FileChangeKind.TOUCHED]
    assert not report.needs_attention
    assert reopened.release.record(StepId.VOLUME).status is StepStatus.DONE
    assert reopened.release.files[0].mtime_ns == 1_800_000_000_000_000_000


def test_lock_refuses_a_second_holder_in_the_same_process(tmp_path: Path) -> None:
    make_demo_project(tmp_path)
    lock = projects.acquire_lock(tmp_path)
    try:
        with pytest.raises(ProjectLockedError) as error:
            projects.acquire_lock(tmp_path)
        assert str(os.getpid()) in error.value.message(_cat())
    finally:
        lock.release()
    projects.acquire_lock(tmp_path).release()


def _cat() -> Catalogue:
    from hdh_wizard.i18n.catalogue import Lang, load_catalogue

    return load_catalogue(Lang.FR)


def test_the_project_folder_or_a_parent_cannot_be_data(tmp_path: Path) -> None:
    folder = tmp_path / "release"
    folder.mkdir()
    for data in (folder, tmp_path):
        with pytest.raises(ProjectError) as error:
            projects.create_project(folder, "R", ALICE, [data], NOW)
        assert error.value.key == "error.data_path_is_project"
