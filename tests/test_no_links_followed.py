"""No file the wizard writes in a project can be turned against the user by a symbolic link.

A project folder may come from someone else (an archive, a shared disk). Each test plants a link
at the path the wizard is about to write, pointing at a precious file outside the project, runs
the operation, and checks that the precious file is byte for byte what it was and that the user
is told why in a sentence (no traceback).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from hdh_wizard import project as projects
from hdh_wizard.cli.main import main
from hdh_wizard.core import safe_files
from hdh_wizard.core.lock import LOCK_FILE_NAME, ProjectLock
from hdh_wizard.core.safe_files import LinkedPathError, replace_atomically, write_atomically
from hdh_wizard.core.state_file import (
    STATE_FILE_NAME,
    backup_path,
    load_release,
    restore_backup,
    save_release,
)
from hdh_wizard.errors import ProjectError, StateFileError
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.inspect.convert import convert
from hdh_wizard.inspect.inspection import InventoryEntry, inspect_file
from hdh_wizard.inspect.preparation import Preparation, split_into_publish
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.report import Verdict
from hdh_wizard.inspect.split import split_table
from hdh_wizard.present.risk_document import DOCUMENT_STEM, write_documents
from tests.prepare_helpers import STAGE, TABLE, hosted_project, table_of
from tests.risk_helpers import full_report
from tests.tui_helpers import make_demo_project

pytestmark = pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges")

FR, EN = load_catalogue(Lang.FR), load_catalogue(Lang.EN)
PRECIOUS = b"the user's own file, outside the project\n" * 200
SEMICOLON_CSV = "id;poids\n1;70,5\n2;81,0\n"


@pytest.fixture
def precious(tmp_path: Path) -> Path:
    """A file of the user's, outside the project, that a link will point at."""
    path = tmp_path / "ailleurs" / "precieux.txt"
    path.parent.mkdir()
    path.write_bytes(PRECIOUS)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "projet"
    path.mkdir()
    return path


def untouched(path: Path) -> bool:
    return not path.is_symlink() and path.read_bytes() == PRECIOUS


def plant_link(at: Path, to: Path) -> None:
    at.parent.mkdir(parents=True, exist_ok=True)
    at.symlink_to(to)


def says_why(text: str, key: str) -> bool:
    """The message of `key` (in French, the default) is in `text`, and no traceback."""
    opening = FR.messages[key].split("{")[0]
    return opening in text and "Traceback" not in text


# --- the project's lock ---------------------------------------------------------------------


def test_a_linked_lock_file_never_empties_a_file_outside_the_project(
    folder: Path, precious: Path
) -> None:
    plant_link(folder / LOCK_FILE_NAME, precious)

    with pytest.raises(ProjectError) as caught:
        ProjectLock(folder).acquire()

    assert caught.value.key == "state.lock_not_a_file"
    assert untouched(precious)
    assert precious.stat().st_size == len(PRECIOUS)
    assert str(folder / LOCK_FILE_NAME) in caught.value.message(EN)


def test_a_lock_link_to_nowhere_creates_nothing_outside_the_project(
    folder: Path, tmp_path: Path
) -> None:
    nowhere = tmp_path / "ailleurs" / "nouveau.txt"
    plant_link(folder / LOCK_FILE_NAME, nowhere)

    with pytest.raises(ProjectError) as caught:
        ProjectLock(folder).acquire()

    assert caught.value.key == "state.lock_not_a_file"
    assert not nowhere.exists()


def test_a_folder_or_a_fifo_in_place_of_the_lock_is_refused_without_waiting(
    folder: Path,
) -> None:
    (folder / LOCK_FILE_NAME).mkdir()
    with pytest.raises(ProjectError) as caught:
        ProjectLock(folder).acquire()
    assert caught.value.key == "state.lock_not_a_file"

    (folder / LOCK_FILE_NAME).rmdir()
    os.mkfifo(folder / LOCK_FILE_NAME)
    outcome: list[str] = []

    def try_lock() -> None:
        try:
            ProjectLock(folder).acquire()
            outcome.append("acquired")
        except ProjectError as error:
            outcome.append(error.key)

    worker = threading.Thread(target=try_lock, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert outcome == ["state.lock_not_a_file"]


def test_an_ordinary_lock_file_left_by_an_earlier_run_still_works(folder: Path) -> None:
    (folder / LOCK_FILE_NAME).write_bytes(b"")
    with ProjectLock(folder) as lock:
        assert lock.held


def test_the_transfer_command_refuses_a_linked_lock_and_says_why(
    folder: Path, precious: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_demo_project(folder)
    plant_link(folder / LOCK_FILE_NAME, precious)

    code = main(["--lang", "fr", "transfer", str(folder)])

    assert code == 1
    assert says_why(capsys.readouterr().err, "state.lock_not_a_file")
    assert untouched(precious)


def test_the_status_command_reads_only_and_leaves_a_linked_lock_alone(
    folder: Path, precious: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `status` never takes the lock (it writes nothing): the outside file is not even opened.
    make_demo_project(folder)
    plant_link(folder / LOCK_FILE_NAME, precious)

    code = main(["--lang", "fr", "status", str(folder)])

    assert code == 0, capsys.readouterr().err
    assert untouched(precious)


# --- the state file, its backup, its temporary file ------------------------------------------


def test_a_linked_state_file_is_not_overwritten_through_the_link(
    folder: Path, precious: Path
) -> None:
    project = make_demo_project(folder)
    state = folder / STATE_FILE_NAME
    state.unlink()
    plant_link(state, precious)

    with pytest.raises(LinkedPathError) as caught:
        save_release(project.release, state)

    assert caught.value.key == "state.linked_path"
    assert untouched(precious)
    assert state.is_symlink()
    assert says_why(caught.value.message(FR), "state.linked_path")


def test_a_linked_backup_is_not_overwritten_and_the_state_file_stays_as_it_was(
    folder: Path, precious: Path
) -> None:
    project = make_demo_project(folder)
    state = folder / STATE_FILE_NAME
    before = state.read_bytes()
    backup_path(state).unlink(missing_ok=True)
    plant_link(backup_path(state), precious)

    with pytest.raises(LinkedPathError):
        projects.save(project, project.release)

    assert untouched(precious)
    assert state.read_bytes() == before


def test_a_link_planted_at_the_temporary_name_is_never_written_through(
    folder: Path, precious: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_demo_project(folder)
    state = folder / STATE_FILE_NAME
    before = state.read_bytes()
    guessed = folder / f".{STATE_FILE_NAME}.4242.0badc0de.tmp"
    plant_link(guessed, precious)
    # Someone who could guess every name: the save gives up with a clear error.
    monkeypatch.setattr(safe_files, "temporary_name", lambda path: guessed)

    with pytest.raises(StateFileError) as caught:
        save_release(project.release, state)

    assert caught.value.key == "state.save_failed"
    assert untouched(precious)
    assert state.read_bytes() == before
    assert "Traceback" not in caught.value.message(FR)


def test_a_link_at_one_temporary_name_only_costs_another_name(
    folder: Path, precious: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_demo_project(folder)
    state = folder / STATE_FILE_NAME
    guessed = folder / f".{STATE_FILE_NAME}.4242.0badc0de.tmp"
    plant_link(guessed, precious)
    names = iter([guessed])
    real = safe_files.temporary_name
    monkeypatch.setattr(safe_files, "temporary_name", lambda path: next(names, None) or real(path))

    save_release(project.release, state)

    assert untouched(precious)
    assert load_release(state).name == project.release.name


def test_restoring_the_backup_over_a_linked_state_file_keeps_the_link_aside(
    folder: Path, precious: Path
) -> None:
    project = make_demo_project(folder)
    state = folder / STATE_FILE_NAME
    projects.save(project, project.release)  # a backup exists
    state.unlink()
    plant_link(state, precious)

    kept = restore_backup(state)

    assert untouched(precious)
    assert kept is not None and kept.is_symlink()
    assert not state.is_symlink()
    assert load_release(state).name == project.release.name


# --- outputs in publish/ and the risk documents -----------------------------------------------


def test_a_linked_output_of_convert_is_refused_before_any_work(
    folder: Path, precious: Path
) -> None:
    source = folder / "mesures.csv"
    source.write_text(SEMICOLON_CSV, encoding="utf-8")
    info = source.stat()
    entry = InventoryEntry(source, source.name, info.st_size, info.st_mtime_ns)
    report = inspect_file(entry)
    assert report.verdict is Verdict.FIXABLE, report.problems
    publish = folder / "publish"
    plant_link(publish / "mesures.csv", precious)

    with pytest.raises(LinkedPathError):
        convert(entry, report, publish)

    assert untouched(precious)
    assert sorted(p.name for p in publish.iterdir()) == ["mesures.csv"]  # no part file left


def test_the_convert_command_names_the_linked_output(
    french_cli_in_tmp_path: Path, precious: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (french_cli_in_tmp_path / "mesures.csv").write_text(SEMICOLON_CSV, encoding="utf-8")
    plant_link(french_cli_in_tmp_path / "publish" / "mesures.csv", precious)

    code = main(["convert", "mesures.csv", "--to", "publish"])

    assert code == 1
    assert says_why(capsys.readouterr().err, "state.linked_path")
    assert untouched(precious)


def test_a_linked_part_of_a_split_into_publish_is_refused_and_nothing_moves(
    folder: Path, precious: Path
) -> None:
    release = hosted_project(folder)
    table = table_of(release, folder)
    first = split_into_publish(release, folder, Preparation(), table, STAGE, None, Progress())
    parts = [folder / f.path for f in first.split_files(TABLE)]
    for part in parts:
        part.unlink()
    plant_link(parts[0], precious)

    # As if the state had lost the first run: the parts are new names, one of them a link.
    with pytest.raises(LinkedPathError):
        split_into_publish(release, folder, Preparation(), table, STAGE, None, Progress())

    assert untouched(precious)
    assert parts[0].is_symlink()
    assert not any(p.exists() for p in parts[1:])
    assert not [p for p in (folder / "publish").iterdir() if p.name.startswith(".")]


def test_a_linked_publish_folder_is_refused_before_any_work(folder: Path, tmp_path: Path) -> None:
    release = hosted_project(folder)
    table = table_of(release, folder)
    elsewhere = tmp_path / "ailleurs-dossier"
    elsewhere.mkdir()
    (folder / "publish").symlink_to(elsewhere, target_is_directory=True)

    with pytest.raises(LinkedPathError):
        split_into_publish(release, folder, Preparation(), table, STAGE, None, Progress())

    assert list(elsewhere.iterdir()) == []


def test_a_linked_part_of_a_plain_split_is_refused(folder: Path, precious: Path) -> None:
    source = folder / "t.csv"
    source.write_text("id,stade\n1,I\n2,II\n3,I\n", encoding="utf-8")
    out = folder / "parts"
    plant_link(out / "t__I.csv", precious)

    with pytest.raises(LinkedPathError):
        split_table(source, 1, out)

    assert untouched(precious)
    assert sorted(p.name for p in out.iterdir()) == ["t__I.csv"]


def test_a_linked_risk_document_is_refused_and_neither_document_is_written(
    folder: Path, precious: Path
) -> None:
    report_dir = folder / "rapport"
    plant_link(report_dir / f"{DOCUMENT_STEM}.md", precious)

    with pytest.raises(LinkedPathError) as caught:
        write_documents(full_report(), report_dir, FR)

    assert untouched(precious)
    assert not (report_dir / f"{DOCUMENT_STEM}.html").exists()
    assert says_why(caught.value.message(FR), "state.linked_path")


# --- the helper itself ------------------------------------------------------------------------


def test_the_helper_refuses_a_linked_folder_inside_the_project_but_not_the_project_itself(
    tmp_path: Path,
) -> None:
    real = tmp_path / "vrai-projet"
    (real / "publish").mkdir(parents=True)
    linked_project = tmp_path / "projet-lien"
    linked_project.symlink_to(real, target_is_directory=True)

    # The user may keep the project itself behind a link.
    write_atomically(linked_project / "publish" / "a.csv", b"a\n", project=linked_project)
    assert (real / "publish" / "a.csv").read_bytes() == b"a\n"

    elsewhere = tmp_path / "ailleurs-dossier"
    elsewhere.mkdir()
    (real / "sortie").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(LinkedPathError):
        write_atomically(real / "sortie" / "b.csv", b"b\n", project=real)
    assert list(elsewhere.iterdir()) == []


def test_the_helper_writes_through_a_callback_and_keeps_the_files_mode(folder: Path) -> None:
    target = folder / "a.txt"
    target.write_bytes(b"old")
    target.chmod(0o640)

    write_atomically(target, lambda stream: stream.write(b"new"))

    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in folder.iterdir()] == ["a.txt"]


def test_replacing_onto_a_link_moves_nothing(folder: Path, precious: Path) -> None:
    temporary = folder / ".a.part"
    temporary.write_bytes(b"new")
    plant_link(folder / "a.csv", precious)

    with pytest.raises(LinkedPathError):
        replace_atomically(temporary, folder / "a.csv")

    assert untouched(precious)
    assert temporary.read_bytes() == b"new"
