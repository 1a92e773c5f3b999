"""`hdh-wizard prepare`: the screen's sequence (`flows.prepare`) headless: the demo cohort split
by stage, its sample drawn from a seed, the slides grouped by the cohort table, the step
committed; options missing their companion are usage errors; a table or a column not found is
said with what there is; before anonymity is done, nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from hdh_wizard import project as projects
from hdh_wizard.cli.main import main
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.preparation import preparation_of
from hdh_wizard.core.release import AuditAction
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows.port import FlowContext, ProjectStore
from hdh_wizard.inspect.preparation import missing_outputs
from tests.prepare_helpers import TABLE, hosted_project
from tests.tui_helpers import ALICE, NOW

STEP = StepId.PREPARE_DATA


def prepare(folder: Path, *args: str) -> int:
    return main(["prepare", str(folder), "--lang", "fr", *args])


def test_split_sample_and_slides_then_commit_headless(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hosted_project(tmp_path)

    code = prepare(
        tmp_path,
        "--split",
        TABLE,
        "--column",
        "stade_pronostique",
        "--sample",
        TABLE,
        "--size",
        "5",
        "--seed",
        "42",
        "--slides",
        "donnees/lames",
        "--mapping",
        TABLE,
        "--file-column",
        "id_lame",
        "--value-column",
        "stade_pronostique",
        "--commit",
    )

    out, err = capsys.readouterr()
    assert code == 0, err
    assert "selon « stade_pronostique »" in out and "graine 42" in out
    assert "publish/lames__stade_pronostique" in out
    assert "Étape « Préparer les données (échantillon, découpage) » validée" in out
    release = projects.read_project(tmp_path)
    assert release.record(STEP).status is StepStatus.DONE
    prepared = preparation_of(release)
    assert prepared.split_files(TABLE) and prepared.sample_file(TABLE) is not None
    assert prepared.folders and missing_outputs(tmp_path, prepared) == []
    sample = prepared.table(TABLE).sample
    assert sample is not None and sample.seed == 42 and sample.rows == 5

    # Drawn again after the commit: the step is reopened, as on the screen, and said.
    assert prepare(tmp_path, "--sample", TABLE, "--size", "6") == 0
    assert "rouverte" in capsys.readouterr().out
    release = projects.read_project(tmp_path)
    assert release.record(STEP).status is StepStatus.IN_PROGRESS
    assert AuditAction.UNDONE in {e.action for e in release.audit}


def test_options_missing_their_companion_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for lang in ("fr", "en"):
        with pytest.raises(SystemExit) as shown:
            main(["prepare", "--help", "--lang", lang])
        assert shown.value.code == 0 and "--fraction" in capsys.readouterr().out
    hosted_project(tmp_path)
    before = (tmp_path / "hdh-release.yaml").read_bytes()
    assert prepare(tmp_path) == 2
    assert "--split, --sample, --slides ou --commit" in capsys.readouterr().err
    assert prepare(tmp_path, "--split", TABLE) == 2
    assert "--split demande aussi --column" in capsys.readouterr().err
    assert prepare(tmp_path, "--sample", TABLE) == 2  # neither a size nor a share
    assert prepare(tmp_path, "--sample", TABLE, "--size", "-3") == 2
    capsys.readouterr()
    assert (tmp_path / "hdh-release.yaml").read_bytes() == before


def test_a_table_or_a_column_not_found_is_said_with_what_there_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hosted_project(tmp_path)
    assert prepare(tmp_path, "--split", "donnees/absente.csv", "--column", "x") == 1
    assert TABLE in capsys.readouterr().err  # the published tables, listed
    assert prepare(tmp_path, "--split", TABLE, "--column", "stade") == 1
    err = capsys.readouterr().err
    assert "pas de colonne « stade »" in err and "stade_pronostique" in err
    assert not (tmp_path / "publish").exists() or not list((tmp_path / "publish").iterdir())


def test_before_anonymity_nothing_is_written_and_the_commit_waits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hosted_project(tmp_path)
    project = projects.open_project(tmp_path, None, NOW)[0]
    FlowContext(ProjectStore(project), ALICE, lambda: NOW).reopen(StepId.ANONYMITY)

    assert prepare(tmp_path, "--split", TABLE, "--column", "stade_pronostique") == 1
    assert capsys.readouterr().err
    assert not (tmp_path / "publish").exists() or not list((tmp_path / "publish").iterdir())
    assert prepare(tmp_path, "--commit") == 1
    assert "ne peut pas encore être validée" in capsys.readouterr().err
    assert projects.read_project(tmp_path).record(STEP).status is not StepStatus.DONE
