"""The phase breakdown the benchmarks read from the commands they run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hdh_wizard.phases import ENV, phase, read_phases


def test_phases_are_written_only_when_a_benchmark_asks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "phases.jsonl"
    monkeypatch.delenv(ENV, raising=False)
    with phase("identifiers"):
        pass
    assert not target.exists()
    monkeypatch.setenv(ENV, str(target))
    with phase("identifiers"):
        sum(range(100_000))
    with phase("measures"):
        pass
    with phase("identifiers"):
        pass
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["phase"] for line in lines] == ["identifiers", "measures", "identifiers"]
    assert all(line["wall"] >= 0 and line["cpu"] >= 0 and line["peak_mib"] > 0 for line in lines)
    totals = read_phases(target)
    assert list(totals) == ["identifiers", "measures"]  # summed by name, in first order
    assert totals["identifiers"]["wall"] == pytest.approx(lines[0]["wall"] + lines[2]["wall"])


def test_a_failing_phase_is_still_timed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "phases.jsonl"
    monkeypatch.setenv(ENV, str(target))
    with pytest.raises(ValueError), phase("report"):
        raise ValueError("boom")
    assert list(read_phases(target)) == ["report"]
    assert read_phases(tmp_path / "absent.jsonl") == {}


def test_the_risk_command_names_its_phases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hdh_wizard.cli.main import main

    table = tmp_path / "sejours.csv"
    rows = [f"{20 + i % 50},{'FM'[i % 2]},C{i % 7}" for i in range(200)]
    table.write_text("age,sexe,diagnostic\n" + "\n".join(rows) + "\n", encoding="utf-8")
    target = tmp_path / "phases.jsonl"
    monkeypatch.setenv(ENV, str(target))
    main(["risk", str(table), "--qi", "age,sexe", "--sensitive", "diagnostic", "--json"])
    assert set(read_phases(target)) >= {"checksums", "identifiers", "measures", "report"}
