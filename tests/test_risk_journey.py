"""The anonymity step over a journey, without the screen: the measures kept with the files'
fingerprints, the progress of a long scan in words, and tables that describe no person."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.inspect.progress import Cancelled, Progress
from hdh_wizard.inspect.risk.analysis import (
    Choice,
    Criterion,
    choice_from_state,
    choice_to_state,
    with_no_person,
    with_role,
)
from hdh_wizard.inspect.risk.cache import cache_path, file_records, load_scanned, save_scanned
from hdh_wizard.inspect.risk.choices import choices_to_json, parse_choices
from hdh_wizard.inspect.risk.identifiers import Role
from hdh_wizard.inspect.risk.release import assess_ref, find_sources, scan_sources
from hdh_wizard.inspect.risk.report import table_to_json
from hdh_wizard.present.risk_document import render_markdown
from hdh_wizard.present.risk_presenters import criterion_facts, scan_progress_text

from .risk_helpers import full_report, hand_built_risk

FR = load_catalogue(Lang.FR)
MAPPING = "id_lame,stade_pronostique\n" + "".join(
    f"d6ly8nf{i},{stage}\n" for i, stage in enumerate(["I", "II", "III", "IV", "II", "I"])
)
REASON = "Correspondance lame → stade : aucune ligne ne concerne une personne."


def _project(tmp_path: Path) -> Path:
    data = tmp_path / "donnees"
    data.mkdir()
    (data / "cohorte.csv").write_text(
        "age,sexe,stade\n" + "".join(f"{40 + i % 7},{'FM'[i % 2]},{i % 3}\n" for i in range(60)),
        "utf-8",
    )
    (data / "lames_stades.csv").write_text(MAPPING, "utf-8")
    return tmp_path


def test_kept_measures_come_back_whole_while_the_files_are_unchanged(tmp_path: Path) -> None:
    project = _project(tmp_path)
    sources = find_sources(sorted((project / "donnees").iterdir()), project)
    scanned = scan_sources(
        sources,
        Progress(),
        lambda scan: (
            Choice(("age", "sexe"), ("stade",))
            if "age" in scan.columns
            else with_no_person(Choice(()), REASON)
        ),
    )
    assert len(scanned.risks) == 2
    save_scanned(project, file_records(sources), scanned)
    assert cache_path(project).parent.name == ".hdh-wizard"
    kept = load_scanned(project, find_sources(sorted((project / "donnees").iterdir()), project))
    assert kept is not None
    restored, _records = kept
    assert restored.tables == scanned.tables
    assert restored.risks == scanned.risks
    assert restored.choices == scanned.choices
    assert restored.images == scanned.images


def test_a_changed_file_makes_the_kept_measures_unusable(tmp_path: Path) -> None:
    project = _project(tmp_path)
    sources = find_sources(sorted((project / "donnees").iterdir()), project)
    scanned = scan_sources(sources, Progress(), lambda scan: Choice(tuple(scan.columns[:1])))
    save_scanned(project, file_records(sources), scanned)
    table = project / "donnees" / "cohorte.csv"
    table.write_text(table.read_text("utf-8") + "99,F,2\n", "utf-8")
    again = find_sources(sorted((project / "donnees").iterdir()), project)
    assert load_scanned(project, again) is None


def test_a_file_only_touched_keeps_its_measures(tmp_path: Path) -> None:
    project = _project(tmp_path)
    sources = find_sources(sorted((project / "donnees").iterdir()), project)
    scanned = scan_sources(sources, Progress(), lambda scan: Choice(tuple(scan.columns[:1])))
    save_scanned(project, file_records(sources), scanned)
    table = project / "donnees" / "cohorte.csv"
    later = table.stat().st_mtime_ns + 5_000_000_000
    os.utime(table, ns=(later, later))
    again = find_sources(sorted((project / "donnees").iterdir()), project)
    kept = load_scanned(project, again)
    assert kept is not None and kept[0].risks == scanned.risks


def test_a_broken_cache_file_means_scanning_again(tmp_path: Path) -> None:
    project = _project(tmp_path)
    sources = find_sources(sorted((project / "donnees").iterdir()), project)
    cache_path(project).parent.mkdir()
    cache_path(project).write_text('{"version": 1, "files": [', "utf-8")
    assert load_scanned(project, sources) is None


def test_the_cache_holds_no_value_of_the_tables_in_clear(tmp_path: Path) -> None:
    project = _project(tmp_path)
    phones = project / "donnees" / "contacts.csv"
    phones.write_text(
        "age,telephone\n" + "".join(f"{40 + i},06 12 34 56 {i:02d}\n" for i in range(20)), "utf-8"
    )
    sources = find_sources(sorted((project / "donnees").iterdir()), project)
    scanned = scan_sources(sources, Progress(), lambda scan: Choice(tuple(scan.columns[:1])))
    assert any(f.examples for _, scan in scanned.tables for f in scan.findings)
    save_scanned(project, file_records(sources), scanned)
    text = cache_path(project).read_text("utf-8")
    assert "06 12 34 56" not in text and "d6ly8nf3" not in text
    assert "telephone" in text  # the column's name and its masked finding are kept


def test_scan_progress_says_the_share_read_and_the_time_left() -> None:
    early = scan_progress_text(FR, "donnees/t.csv", 250_000_000, 1_000_000_000, 1.0)
    assert "25\u00a0%" in early and "reste" not in early  # too early for a pace
    later = scan_progress_text(FR, "donnees/t.csv", 500_000_000, 1_000_000_000, 60.0)
    assert "50\u00a0%" in later and "donnees/t.csv" in later
    assert "reste environ 1 min 00 s" in later
    assert "1 Go" in later or "1,0 Go" in later
    unknown = scan_progress_text(FR, "donnees/t.csv", 0, 0, 30.0)
    assert unknown == "donnees/t.csv"


def test_the_scan_counts_bytes_between_its_passes_and_stops_when_cancelled(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    sources = find_sources(sorted((project / "donnees").iterdir()), project)
    seen: list[int] = []
    total = sum(e.size for e in sources.tables)

    class Watched(Progress):
        def advance(self, nbytes: int) -> None:
            super().advance(nbytes)
            seen.append(self.done_bytes)

    progress = Watched(total_bytes=total)
    scan_sources(sources, progress, lambda scan: Choice(tuple(scan.columns[:1])))
    assert seen[-1] == total
    assert len(set(seen)) > len(sources.tables)  # it moved within files too
    stopped = Watched(total_bytes=total)
    stopped.cancel()
    with pytest.raises(Cancelled):
        scan_sources(sources, stopped, lambda scan: Choice(tuple(scan.columns[:1])))


def test_a_table_that_describes_no_person_has_its_criteria_excluded_with_its_reason(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    sources = find_sources([project / "donnees" / "lames_stades.csv"], project)
    scanned = scan_sources(sources, Progress())
    (ref, scan), *_ = scanned.tables
    # The slide code is a join key, kept; no column is a quasi-identifier.
    choice = with_no_person(with_role(Choice(()), "id_lame", Role.OTHER), REASON)
    risk = assess_ref(ref, scan, choice)
    for criterion in Criterion:
        verdict = risk.verdict(criterion)
        assert verdict.excluded, criterion
        assert verdict.figures["no_person"] == REASON
    report = full_report(tables=(risk,))
    facts = "\n".join(criterion_facts(FR, report, Criterion.SINGLING_OUT))
    assert REASON in facts
    document = render_markdown(report, FR)
    assert REASON in document and "considérant 26" in document
    assert table_to_json(risk)["no_person"] == REASON


def test_the_declaration_is_contradicted_by_a_published_direct_identifier() -> None:
    risk = hand_built_risk(generalised=False)  # publishes a name and a phone number
    declared = replace(risk, choice=with_no_person(risk.choice, REASON))
    verdict = declared.verdict(Criterion.INFERENCE)
    assert not verdict.excluded
    assert [r.key for r in verdict.reasons] == ["no_person_contradicted"]
    assert "nom" in verdict.reasons[0].text(FR)


def test_the_declaration_needs_a_reason_and_goes_with_a_quasi_identifier() -> None:
    choice = Choice(("age",), ("stade",))
    assert with_no_person(choice, "   ") == choice
    declared = with_no_person(choice, REASON)
    assert declared.quasi == () and declared.declares_no_person
    assert not with_role(declared, "age", Role.QUASI).declares_no_person
    assert with_role(declared, "stade", Role.OTHER).no_person == REASON


def test_the_declaration_is_saved_with_the_choice(tmp_path: Path) -> None:
    project = _project(tmp_path)
    sources = find_sources([project / "donnees" / "lames_stades.csv"], project)
    (_, scan), *_ = scan_sources(sources, Progress()).tables
    declared = with_no_person(Choice(()), REASON)
    assert choice_from_state(choice_to_state(declared), scan) == declared
    assert choice_from_state(choice_to_state(Choice(())), scan) is None  # no QI, no reason


def test_the_declaration_replays_from_the_choices_file_of_the_report(tmp_path: Path) -> None:
    project = _project(tmp_path)
    sources = find_sources([project / "donnees" / "lames_stades.csv"], project)
    (ref, scan), *_ = scan_sources(sources, Progress()).tables
    risk = assess_ref(ref, scan, with_no_person(Choice(()), REASON))
    written = json.dumps(choices_to_json([risk]))
    entry = parse_choices(written, "choix.json").for_table(ref.name)
    assert entry is not None and entry.choice == risk.choice
    with pytest.raises(HdhWizardError):
        parse_choices(written.replace(json.dumps(REASON), "12"), "choix.json")


def test_a_file_that_could_not_be_read_is_kept_with_its_message(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "donnees" / "casse.csv").write_text("a,b\n1,2\n3,4,5\n6,7\n", "utf-8")
    sources = find_sources(sorted((project / "donnees").iterdir()), project)
    scanned = scan_sources(sources, Progress(), lambda scan: Choice(tuple(scan.columns[:1])))
    assert scanned.failures
    save_scanned(project, file_records(sources), scanned)
    kept = load_scanned(project, sources)
    assert kept is not None
    restored = kept[0].failures
    assert [e.message(FR) for e in restored] == [e.message(FR) for e in scanned.failures]
    assert [e.params for e in restored] == [e.params for e in scanned.failures]


def test_measures_kept_by_another_version_of_the_wizard_are_measured_again(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    sources = find_sources(sorted((project / "donnees").iterdir()), project)
    scanned = scan_sources(sources, Progress(), lambda scan: Choice(tuple(scan.columns[:1])))
    save_scanned(project, file_records(sources), scanned)
    assert load_scanned(project, sources) is not None
    data = json.loads(cache_path(project).read_text("utf-8"))
    data["wizard"] = "0.0.0-older"
    cache_path(project).write_text(json.dumps(data), "utf-8")
    assert load_scanned(project, sources) is None


def test_a_one_word_reason_does_not_declare_a_table_without_person(tmp_path: Path) -> None:
    project = _project(tmp_path)
    sources = find_sources([project / "donnees" / "lames_stades.csv"], project)
    (ref, scan), *_ = scan_sources(sources, Progress()).tables
    choice = with_no_person(with_role(Choice(()), "id_lame", Role.OTHER), "ok")
    verdict = assess_ref(ref, scan, choice).verdict(Criterion.SINGLING_OUT)
    assert not verdict.excluded
    assert [r.key for r in verdict.reasons] == ["no_person_reason_short"]
