"""Fast fingerprints and the check of data files between two sessions."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from hdh_wizard.core.release import DataFile
from hdh_wizard.inspect import fingerprint as fp
from hdh_wizard.inspect.fingerprint import (
    SAMPLE_SIZE,
    FileChange,
    FileChangeKind,
    check_files,
    describe_file,
    fast_fingerprint,
    resolve_data_path,
)

T0 = 1_704_888_000_000_000_000  # 2024-01-10 12:00 UTC, in ns
FIVE_MB = 5 * 1000 * 1000


def write(path: Path, data: bytes, mtime_ns: int = T0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def patterned(size: int) -> bytes:
    """Bytes that differ from one offset to the next, so any edit changes what is sampled."""
    return bytes(range(251)) * (size // 251) + bytes(range(size % 251))


def set_mtime(path: Path, mtime_ns: int) -> None:
    os.utime(path, ns=(mtime_ns, mtime_ns), follow_symlinks=False)


def overwrite_byte(path: Path, offset: int) -> None:
    """Change one byte in place, keeping the size (and then the caller sets the mtime)."""
    with path.open("r+b") as handle:
        handle.seek(offset)
        old = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([old[0] ^ 0xFF]))


def only(changes: list[FileChange]) -> FileChange:
    assert len(changes) == 1, changes
    return changes[0]


# --- fast_fingerprint ----------------------------------------------------------------------


def test_fingerprint_format_and_content_only(tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", b"id,age\n1,42\n")
    b = write(tmp_path / "other name.csv", b"id,age\n1,42\n", mtime_ns=T0 + 99)
    c = write(tmp_path / "c.csv", b"id,age\n1,43\n")
    assert fast_fingerprint(a).startswith("fp1:")
    assert len(fast_fingerprint(a)) == len("fp1:") + 64
    # The fingerprint depends on the content, not on the name or the mtime.
    assert fast_fingerprint(a) == fast_fingerprint(b)
    assert fast_fingerprint(a) != fast_fingerprint(c)


def test_file_and_folder_fingerprints_never_mix(tmp_path: Path) -> None:
    empty_file = write(tmp_path / "empty", b"")
    empty_folder = tmp_path / "folder"
    empty_folder.mkdir()
    assert fast_fingerprint(empty_file) != fast_fingerprint(empty_folder)


def test_large_file_is_sampled_not_read_whole(tmp_path: Path) -> None:
    big = write(tmp_path / "big.bin", patterned(FIVE_MB))
    before = fast_fingerprint(big)
    # A byte in the middle lies in the middle sample: seen.
    overwrite_byte(big, FIVE_MB // 2)
    assert fast_fingerprint(big) != before


def test_small_file_is_hashed_whole(tmp_path: Path) -> None:
    # Up to three samples' worth, every byte counts: no blind spot in ordinary tables.
    size = 3 * SAMPLE_SIZE
    path = write(tmp_path / "t.csv", patterned(size))
    before = fast_fingerprint(path)
    overwrite_byte(path, SAMPLE_SIZE + 17)
    assert fast_fingerprint(path) != before


# --- describe_file and paths ---------------------------------------------------------------


def test_describe_file_inside_project_is_relative(tmp_path: Path) -> None:
    path = write(tmp_path / "donnees" / "patients.csv", b"a,b\n1,2\n")
    described = describe_file(path, tmp_path)
    assert described == DataFile("donnees/patients.csv", 8, T0, fast_fingerprint(path))
    assert resolve_data_path(described, tmp_path) == path


def test_describe_file_outside_project_is_absolute(tmp_path: Path) -> None:
    project = tmp_path / "projet"
    project.mkdir()
    path = write(tmp_path / "ailleurs" / "images.tif", b"II*\x00")
    described = describe_file(path, project)
    assert described.path == path.as_posix()
    assert Path(described.path).is_absolute()
    assert resolve_data_path(described, project) == path


def test_describe_file_relative_arguments_and_dotdot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "projet" / "donnees" / "a.csv", b"x\n")
    write(tmp_path / "ailleurs.csv", b"y\n")
    assert describe_file(Path("projet/donnees/a.csv"), Path("projet")).path == "donnees/a.csv"
    # A path that leaves the project through ".." is outside it: stored absolute.
    outside = describe_file(Path("projet/../ailleurs.csv"), Path("projet"))
    assert outside.path == (tmp_path / "ailleurs.csv").as_posix()


def test_moved_project_still_finds_relative_files(tmp_path: Path) -> None:
    project = tmp_path / "projet"
    files = [describe_file(write(project / "donnees" / "a.csv", b"1\n"), project)]
    moved = tmp_path / "serveur" / "projet"
    shutil.copytree(project, moved)  # copy2: mtimes kept, as rsync -a or cp -p would
    assert check_files(files, moved) == []


def test_describe_folder_sums_sizes_and_takes_latest_mtime(tmp_path: Path) -> None:
    folder = tmp_path / "lames"
    write(folder / "a.tif", b"a" * 10, mtime_ns=T0)
    write(folder / "sous" / "b.tif", b"b" * 32, mtime_ns=T0 + 5_000)
    set_mtime(folder / "sous", T0 - 1)
    set_mtime(folder, T0 + 1_000)
    described = describe_file(folder, tmp_path)
    assert described.path == "lames"
    assert described.size == 42
    assert described.mtime_ns == T0 + 5_000
    # The folder's own mtime counts when it is the latest.
    set_mtime(folder, T0 + 9_000)
    assert describe_file(folder, tmp_path).mtime_ns == T0 + 9_000


def test_describe_special_file_is_refused(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # Opening a FIFO would block for ever: it must be refused before that.
    with pytest.raises(OSError):
        describe_file(fifo, tmp_path)
    with pytest.raises(FileNotFoundError):
        describe_file(tmp_path / "absent.csv", tmp_path)


# --- check_files ---------------------------------------------------------------------------


def test_unchanged_file_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = write(tmp_path / "big.bin", patterned(FIVE_MB))
    folder = tmp_path / "lames"
    write(folder / "a.tif", b"a")
    set_mtime(folder, T0)
    files = [describe_file(big, tmp_path), describe_file(folder, tmp_path)]

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a file was opened: {args[0]}")

    monkeypatch.setattr(fp, "open", refuse, raising=False)
    assert check_files(files, tmp_path) == []


def test_modified_byte_in_middle_of_5mb_file(tmp_path: Path) -> None:
    big = write(tmp_path / "big.bin", patterned(FIVE_MB))
    recorded = describe_file(big, tmp_path)
    overwrite_byte(big, FIVE_MB // 2)
    set_mtime(big, T0 + 1)
    change = only(check_files([recorded], tmp_path))
    assert change.kind is FileChangeKind.MODIFIED
    assert change.data_file == recorded
    assert change.current == describe_file(big, tmp_path)
    assert change.current.size == recorded.size


def test_edit_outside_the_samples_is_not_a_full_checksum(tmp_path: Path) -> None:
    # Documents the limit: between the samples an edit that keeps the size goes unseen (the
    # full SHA-256 of the inspection step is what catches it).
    big = write(tmp_path / "big.bin", patterned(FIVE_MB))
    recorded = describe_file(big, tmp_path)
    overwrite_byte(big, SAMPLE_SIZE + 1000)
    set_mtime(big, T0 + 1)
    assert only(check_files([recorded], tmp_path)).kind is FileChangeKind.TOUCHED


def test_same_size_change_is_modified(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", b"id,stade\n1,II\n")
    recorded = describe_file(path, tmp_path)
    write(path, b"id,stade\n1,IV\n", mtime_ns=T0 + 1_000_000_000)
    change = only(check_files([recorded], tmp_path))
    assert change.kind is FileChangeKind.MODIFIED
    assert change.current is not None
    assert change.current.fingerprint != recorded.fingerprint


def test_size_change_is_modified(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", b"id\n1\n")
    recorded = describe_file(path, tmp_path)
    write(path, b"id\n1\n2\n")
    assert only(check_files([recorded], tmp_path)).kind is FileChangeKind.MODIFIED


def test_touch_only_is_touched(tmp_path: Path) -> None:
    path = write(tmp_path / "donnees" / "t.csv", b"id\n1\n")
    recorded = describe_file(path, tmp_path)
    set_mtime(path, T0 + 60_000_000_000)
    change = only(check_files([recorded], tmp_path))
    assert change.kind is FileChangeKind.TOUCHED
    # The caller replaces the recorded file by `current`: same path as stored, new mtime.
    assert change.current == DataFile(
        "donnees/t.csv", recorded.size, T0 + 60_000_000_000, recorded.fingerprint
    )


def test_deleted_and_moved_files_are_missing(tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", b"a\n")
    b = write(tmp_path / "b.csv", b"b\n")
    c = write(tmp_path / "c.csv", b"c\n")
    files = [describe_file(p, tmp_path) for p in (a, b, c)]
    a.unlink()
    c.rename(tmp_path / "renamed.csv")
    changes = check_files(files, tmp_path)
    assert [(ch.data_file.path, ch.kind, ch.current) for ch in changes] == [
        ("a.csv", FileChangeKind.MISSING, None),
        ("c.csv", FileChangeKind.MISSING, None),
    ]


def test_parent_replaced_by_a_file_is_missing(tmp_path: Path) -> None:
    recorded = describe_file(write(tmp_path / "donnees" / "a.csv", b"a\n"), tmp_path)
    shutil.rmtree(tmp_path / "donnees")
    (tmp_path / "donnees").write_text("not a folder any more")
    assert only(check_files([recorded], tmp_path)).kind is FileChangeKind.MISSING


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "t.csv", b"id\n1\n")
    recorded = describe_file(path, tmp_path)
    set_mtime(path, T0 + 1)

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(args[0]))

    monkeypatch.setattr(fp, "open", forbidden, raising=False)
    change = only(check_files([recorded], tmp_path))
    assert change.kind is FileChangeKind.UNREADABLE
    assert change.current is None


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="needs POSIX permissions, not root"
)
def test_unreadable_subfolder(tmp_path: Path) -> None:
    folder = tmp_path / "lames"
    write(folder / "prive" / "a.tif", b"a")
    recorded = describe_file(folder, tmp_path)
    (folder / "prive").chmod(0)
    try:
        assert only(check_files([recorded], tmp_path)).kind is FileChangeKind.UNREADABLE
    finally:
        (folder / "prive").chmod(0o755)


def test_special_file_where_data_was_is_unreadable(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    path = write(tmp_path / "t.csv", b"id\n1\n")
    recorded = describe_file(path, tmp_path)
    path.unlink()
    os.mkfifo(path)
    assert only(check_files([recorded], tmp_path)).kind is FileChangeKind.UNREADABLE


# --- folders -------------------------------------------------------------------------------


def make_slides(folder: Path) -> None:
    write(folder / "a.tif", b"a" * 100)
    write(folder / "stade II" / "b.tif", b"b" * 100)
    write(folder / "stade II" / "vide.txt", b"")
    for sub in (folder / "stade II", folder):
        set_mtime(sub, T0)


def test_folder_with_changed_inner_file_is_modified(tmp_path: Path) -> None:
    folder = tmp_path / "lames"
    make_slides(folder)
    recorded = describe_file(folder, tmp_path)
    write(folder / "stade II" / "b.tif", b"c" * 100, mtime_ns=T0 + 1)
    change = only(check_files([recorded], tmp_path))
    assert change.kind is FileChangeKind.MODIFIED
    assert change.current is not None
    assert change.current.size == recorded.size


def test_folder_touched_file_is_touched(tmp_path: Path) -> None:
    folder = tmp_path / "lames"
    make_slides(folder)
    recorded = describe_file(folder, tmp_path)
    set_mtime(folder / "a.tif", T0 + 1)
    assert only(check_files([recorded], tmp_path)).kind is FileChangeKind.TOUCHED


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda f: (f / "stade II" / "vide.txt").unlink(), id="empty file removed"),
        pytest.param(
            lambda f: (f / "stade II" / "vide.txt").rename(f / "stade II" / "autre.txt"),
            id="empty file renamed",
        ),
        pytest.param(lambda f: (f / "a.tif").rename(f / "z.tif"), id="file renamed"),
    ],
)
def test_folder_changes_that_keep_the_size(tmp_path: Path, edit: Any) -> None:
    # Neither the total size nor any file's mtime changes, only the folder's mtime: it must be
    # part of the folder's mtime, or the fast path would miss these.
    folder = tmp_path / "lames"
    make_slides(folder)
    recorded = describe_file(folder, tmp_path)
    edit(folder)
    change = only(check_files([recorded], tmp_path))
    assert change.kind is FileChangeKind.MODIFIED


def test_folder_fingerprint_ignores_traversal_order(tmp_path: Path) -> None:
    # "a-b" sorts before "a/…" as a string but after "a" as a name: order by path parts.
    first = tmp_path / "one"
    write(first / "a" / "x", b"1")
    write(first / "a-b", b"2")
    second = tmp_path / "two"
    write(second / "a-b", b"2")
    write(second / "a" / "x", b"1")
    assert fast_fingerprint(first) == fast_fingerprint(second)


def test_symlinks_inside_folder_are_not_followed(tmp_path: Path) -> None:
    outside = write(tmp_path / "ailleurs" / "enorme.bin", b"x" * 5000)
    folder = tmp_path / "lames"
    write(folder / "a.tif", b"a" * 10)
    (folder / "lien.bin").symlink_to(outside)
    (folder / "boucle").symlink_to(folder, target_is_directory=True)  # would loop if followed
    (folder / "ailleurs").symlink_to(outside.parent, target_is_directory=True)
    recorded = describe_file(folder, tmp_path)
    assert recorded.size == 10

    # Neither the linked file nor the linked folder is part of the data.
    write(outside, b"y" * 6000, mtime_ns=T0 + 1)
    write(outside.parent / "nouveau.bin", b"z")
    assert check_files([recorded], tmp_path) == []

    without_links = tmp_path / "sans_liens"
    write(without_links / "a.tif", b"a" * 10)
    assert recorded.fingerprint == fast_fingerprint(without_links)


def test_special_files_inside_folder_are_ignored(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    folder = tmp_path / "lames"
    write(folder / "a.tif", b"a")
    os.mkfifo(folder / "pipe")
    described = describe_file(folder, tmp_path)  # would block if the FIFO were opened
    assert described.size == 1


def test_check_files_keeps_order_and_leaves_out_unchanged(tmp_path: Path) -> None:
    paths = [write(tmp_path / f"{name}.csv", name.encode()) for name in "abcd"]
    files = [describe_file(p, tmp_path) for p in paths]
    set_mtime(paths[3], T0 + 1)
    write(paths[1], b"B", mtime_ns=T0 + 1)
    changes = check_files(files, tmp_path)
    assert [(c.data_file.path, c.kind) for c in changes] == [
        ("b.csv", FileChangeKind.MODIFIED),
        ("d.csv", FileChangeKind.TOUCHED),
    ]
