"""What route 2's steps record: prepared, hosted and referenced files; tolerant of hand edits."""

from __future__ import annotations

from typing import Any

import pytest

from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Environment
from hdh_wizard.core.hosting_records import (
    FileRole,
    HostedObject,
    PreparedFile,
    PreparedKind,
    ReferencedFile,
    ReferencesRecord,
    TransferRecord,
    file_format,
    files_to_host,
    hosted_objects,
    prepared_files,
    references_of,
    role_of,
    transfer_of,
)
from hdh_wizard.core.release import DataFile
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import StepError
from tests.conftest import PARTNER, STAFF, T0

DEMO = "https://demo.data.gouv.fr"
SHA = "a" * 64


def hosted_release() -> Any:
    files = (
        DataFile("donnees/sejours.csv", 3_000_000_000, 1, "sha256:x"),
        DataFile("lames", 2_000_000_000, 2, "sha256:y"),
    )
    release = workflow.new_release("Base", PARTNER, T0, files)
    for step in (StepId.ANONYMITY, StepId.INTEROPERABILITY):
        release = workflow.commit_step(release, step, {}, PARTNER, T0)
    release = workflow.record_volume(release, 5_000_000_000, PARTNER, T0)
    release = workflow.commit_step(release, StepId.VOLUME, {}, PARTNER, T0)
    return workflow.commit_step(release, StepId.CONTRACT, {}, STAFF, T0)


def test_records_round_trip_through_outputs() -> None:
    prepared = PreparedFile("publish/s__I.csv", PreparedKind.PART, 10, SHA, "s.csv", "I", 3)
    assert PreparedFile.from_outputs(prepared.to_outputs()) == prepared
    hosted = HostedObject("a.csv", "p/a.csv", 5, SHA, "https://h/p/a.csv", FileRole.SAMPLE, 7, "t")
    transfer = TransferRecord({"bucket": "b"}, (hosted,), {"b.csv": {"upload_id": "u"}}, "Karim")
    assert TransferRecord.from_outputs(transfer.to_outputs()) == transfer
    assert transfer.object("a.csv") == hosted and transfer.object("zzz") is None
    referenced = ReferencedFile("a.csv", "r1", "https://h/p/a.csv", 5, SHA, "a.csv", FileRole.DATA)
    references = ReferencesRecord(DEMO, "ds", (referenced,))
    assert ReferencesRecord.from_outputs(references.to_outputs()) == references
    assert references.file("a.csv") == referenced


@pytest.mark.parametrize(
    "outputs",
    [
        {"storage": {"bucket": "b"}, "objects": "nope", "uploads": [1]},
        {"storage": {"bucket": "b"}, "objects": [None, {"path": "a"}, {"size": "x", "url": 3}]},
        {"storage": {"bucket": "b"}, "objects": [{"path": "a", "key": "k", "url": "u"}]},
    ],
)
def test_hand_edited_transfer_reads_as_nothing_hosted(outputs: dict[str, Any]) -> None:
    record = TransferRecord.from_outputs(outputs)
    assert record is not None and record.objects == () and record.uploads == {}


def test_unknown_kinds_and_roles_are_dropped_or_defaulted() -> None:
    assert PreparedFile.from_outputs({"path": "a", "size": 1, "kind": "weird"}) is None
    assert PreparedFile.from_outputs({"path": "a", "size": -1, "kind": "part"}) is None
    hosted = HostedObject.from_outputs(
        {"path": "a", "key": "k", "url": "u", "size": 1, "sha256": SHA, "role": "??"}
    )
    assert hosted is not None and hosted.role is FileRole.DATA
    assert TransferRecord.from_outputs({"objects": []}) is None


def test_roles_and_formats_follow_the_files_extension() -> None:
    assert role_of("notice.PDF") is FileRole.DOCUMENTATION
    assert role_of("README.md") is FileRole.DOCUMENTATION
    assert role_of("sejours.csv") is FileRole.DATA
    assert role_of("sejours.csv", sample=True) is FileRole.SAMPLE
    assert file_format("lames/a.TIF") == "tiff"
    assert file_format("sans_extension") == ""


def test_prepared_files_join_the_files_to_host_once_the_step_is_done() -> None:
    release = hosted_release()
    part = PreparedFile("publish/s__I.csv", PreparedKind.PART, 10, SHA, "donnees/sejours.csv", "I")
    sample = PreparedFile("publish/s__echantillon.csv", PreparedKind.SAMPLE, 4, SHA, "x")
    outputs = {"files": [part.to_outputs(), sample.to_outputs(), {"junk": True}]}
    draft = workflow.save_draft(release, StepId.PREPARE_DATA, outputs, PARTNER, T0)
    assert prepared_files(draft) == ()
    assert [p for p, _ in files_to_host(draft)] == ["donnees/sejours.csv", "lames"]
    done = workflow.commit_step(release, StepId.PREPARE_DATA, outputs, PARTNER, T0)
    assert prepared_files(done) == (part, sample)
    assert sample.role is FileRole.SAMPLE and part.role is FileRole.DATA
    assert files_to_host(done) == (
        ("donnees/sejours.csv", 3_000_000_000),
        ("lames", 2_000_000_000),
        ("publish/s__I.csv", 10),
        ("publish/s__echantillon.csv", 4),
    )


def test_hosted_objects_need_the_transfer_done_by_hdh_staff() -> None:
    release = workflow.skip_step(hosted_release(), StepId.PREPARE_DATA, "déjà fait", PARTNER, T0)
    hosted = HostedObject("donnees/sejours.csv", "p/sejours.csv", 3, SHA, "https://h/s.csv")
    outputs = TransferRecord({"bucket": "b"}, (hosted,), done_by=STAFF.name).to_outputs()
    draft = workflow.save_draft(release, StepId.SHARE_WITH_HDH, outputs, PARTNER, T0)
    assert hosted_objects(draft) == ()
    record = transfer_of(draft)
    assert record is not None and record.objects == (hosted,)  # the draft is still readable
    with pytest.raises(StepError):
        workflow.commit_step(release, StepId.SHARE_WITH_HDH, outputs, PARTNER, T0)
    done = workflow.commit_step(release, StepId.SHARE_WITH_HDH, outputs, STAFF, T0)
    assert hosted_objects(done) == (hosted,)


def test_references_of_another_portal_are_ignored() -> None:
    release = hosted_release()
    outputs = ReferencesRecord(DEMO, "ds", ()).to_outputs()
    release = workflow.save_draft(release, StepId.REFERENCE_URLS, outputs, STAFF, T0)
    assert references_of(release) == ReferencesRecord(DEMO, "ds", ())
    production = workflow.set_target(release, Environment.PRODUCTION, STAFF, T0, confirmed=True)
    assert references_of(production) is None


def test_the_home_screen_says_what_each_route2_step_holds() -> None:
    from hdh_wizard.i18n.catalogue import Lang, load_catalogue
    from hdh_wizard.present.portal_presenters import portal_detail

    cat = load_catalogue(Lang.FR)
    release = hosted_release()
    sample = PreparedFile("publish/s__echantillon.csv", PreparedKind.SAMPLE, 1_200_000, SHA, "x")
    release = workflow.commit_step(
        release, StepId.PREPARE_DATA, {"files": [sample.to_outputs()]}, PARTNER, T0
    )
    assert portal_detail(cat, release, StepId.PREPARE_DATA).startswith("1 fichier préparé")
    assert "1,2 Mo" in portal_detail(cat, release, StepId.PREPARE_DATA)
    under_way = TransferRecord({"bucket": "b"}, (), {"a.csv": {"upload_id": "u"}})
    draft = workflow.save_draft(release, StepId.SHARE_WITH_HDH, under_way.to_outputs(), STAFF, T0)
    assert "1 fichier à reprendre" in portal_detail(cat, draft, StepId.SHARE_WITH_HDH)
    hosted = HostedObject("a.csv", "p/a.csv", 3_000_000_000, SHA, "https://h/a.csv")
    done = workflow.commit_step(
        release,
        StepId.SHARE_WITH_HDH,
        TransferRecord({"bucket": "open-data"}, (hosted,), done_by=STAFF.name).to_outputs(),
        STAFF,
        T0,
    )
    assert portal_detail(cat, done, StepId.SHARE_WITH_HDH) == (
        "1 fichier hébergé et vérifié (3 Go), compartiment « open-data »"
    )
