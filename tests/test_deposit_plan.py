"""The deposit's decisions: what to send, replace, keep or delete, and what the server must hold."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from hdh_wizard.core import workflow
from hdh_wizard.core.deposit_plan import (
    Action,
    LocalFile,
    compare_with_server,
    plan_deposit,
    unsupported_formats,
)
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.period import parse_bound
from hdh_wizard.core.portal_records import DatasetRecord, DepositedFile
from hdh_wizard.core.release import DataFile, StepRecord
from hdh_wizard.core.steps import StepId
from hdh_wizard.inspect.deposit_files import deposit_files
from tests.conftest import PARTNER, T0

SITE = "https://demo.data.gouv.fr"


def deposited(path: str, rid: str, size: int = 10, mtime: int = 1) -> DepositedFile:
    return DepositedFile(path, rid, size, mtime, "a" * 64, "b" * 40, path.rsplit("/", 1)[-1])


def test_first_deposit_uploads_every_file() -> None:
    files = [LocalFile("publish/a.csv", 10, 1), LocalFile("publish/b.tif", 20, 2)]
    plan = plan_deposit(files, None, None)
    assert [(p.path, p.action) for p in plan] == [
        ("publish/a.csv", Action.UPLOAD),
        ("publish/b.tif", Action.UPLOAD),
    ]


def test_rerun_keeps_unchanged_replaces_changed_and_deletes_removed_files() -> None:
    record = DatasetRecord(
        SITE,
        "ds1",
        files=(
            deposited("a.csv", "r1"),
            deposited("b.csv", "r2"),
            deposited("gone.csv", "r3"),
        ),
    )
    server = [
        {"id": "r1", "filesize": 10},
        {"id": "r2", "filesize": 10},
        {"id": "r3", "filesize": 10},
    ]
    files = [LocalFile("a.csv", 10, 1), LocalFile("b.csv", 12, 5), LocalFile("new.csv", 3, 1)]
    plan = {p.path: p.action for p in plan_deposit(files, record, server)}
    assert plan == {
        "a.csv": Action.KEEP,
        "b.csv": Action.REPLACE,
        "new.csv": Action.UPLOAD,
        "gone.csv": Action.DELETE,
    }


def test_a_resource_removed_on_the_server_is_sent_again() -> None:
    record = DatasetRecord(SITE, "ds1", files=(deposited("a.csv", "r1"),))
    plan = plan_deposit([LocalFile("a.csv", 10, 1)], record, [{"id": "other"}])
    assert plan[0].action is Action.UPLOAD


def test_an_upload_left_unverified_is_replaced_not_duplicated() -> None:
    record = DatasetRecord(SITE, "ds1", files=(deposited("a.csv", "r1", mtime=-1),))
    plan = plan_deposit([LocalFile("a.csv", 10, 1)], record, [{"id": "r1", "filesize": 10}])
    assert plan[0].action is Action.REPLACE
    assert plan[0].deposited is not None and plan[0].deposited.resource_id == "r1"


def test_upload_names_use_the_extensions_udata_accepts() -> None:
    slide = LocalFile("images/lame 01.TIF", 5, 1)
    assert slide.format == "tiff"
    assert slide.upload_name == "lame 01.tiff"
    assert LocalFile("doc/notice.pdf", 1, 1).kind == "documentation"
    assert LocalFile("t.csv", 1, 1).kind == "main"


def test_files_the_server_would_refuse_are_named_before_sending() -> None:
    files = [LocalFile("a.csv", 1, 1), LocalFile("b.parquet", 1, 1)]
    assert [f.path for f in unsupported_formats(files, {"csv", "tiff"})] == ["b.parquet"]
    assert unsupported_formats(files, set()) == []


def test_server_copy_is_compared_by_size_and_checksum() -> None:
    files = [deposited("a.csv", "r1"), deposited("b.csv", "r2"), deposited("c.csv", "r3")]
    server = [
        {"id": "r1", "filesize": 10, "checksum": {"type": "sha1", "value": "b" * 40}},
        {"id": "r2", "filesize": 11, "checksum": {"type": "sha1", "value": "b" * 40}},
    ]
    problems = {(m.path, m.key) for m in compare_with_server(files, server)}
    assert problems == {
        ("b.csv", "deposit.mismatch.size"),
        ("c.csv", "deposit.mismatch.missing"),
    }
    server[0]["checksum"] = {"type": "sha1", "value": "c" * 40}
    assert ("a.csv", "deposit.mismatch.checksum") in {
        (m.path, m.key) for m in compare_with_server(files, server)
    }


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("2012", False, date(2012, 1, 1)),
        ("2016", True, date(2016, 12, 31)),
        ("2016-02", True, date(2016, 2, 29)),
        ("03/2015", False, date(2015, 3, 1)),
        ("2015-03-04", False, date(2015, 3, 4)),
        ("04/03/2015", True, date(2015, 3, 4)),
        ("2016-02-30", False, None),
        ("mars 2015", False, None),
        ("", False, None),
    ],
)
def test_coverage_dates_are_read_as_partners_type_them(
    text: str, end: bool, expected: date | None
) -> None:
    assert parse_bound(text, end=end) == expected


def test_an_original_replaced_by_its_anonymised_copy_is_never_deposited(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "patients.csv").write_text("id,age\n1,42\n")
    (tmp_path / "data" / "visits.csv").write_text("id,date\n1,2020\n")
    (tmp_path / "anon").mkdir()
    (tmp_path / "anon" / "patients.generalised.csv").write_text("id,age\n1,40-49\n")
    release = workflow.new_release("x", PARTNER, T0, [DataFile("data", 100, 0, "")])
    replacement = {
        "source": "data/patients.csv",
        "path": "anon/patients.generalised.csv",
        "size": 15,
        "source_size": 12,
    }
    record = StepRecord(StepStatus.DONE, {"replacements": [replacement]})
    release = replace(release, steps={**release.steps, StepId.ANONYMITY: record})
    files, missing = deposit_files(release, tmp_path)
    assert [f.path for f in files] == ["data/visits.csv", "anon/patients.generalised.csv"]
    assert missing == []


def test_a_link_inside_a_published_folder_is_never_deposited(tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside.csv"
    outside.write_text("nom,prenom\nDupont,Jean\n")  # never checked by the anonymity step
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "visits.csv").write_text("id,date\n1,2020\n")
    (tmp_path / "data" / "patients.csv").symlink_to(outside)
    release = workflow.new_release("x", PARTNER, T0, [DataFile("data", 100, 0, "")])
    files, missing = deposit_files(release, tmp_path)
    assert [f.path for f in files] == ["data/visits.csv"]
    assert missing == []
