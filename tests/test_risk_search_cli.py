"""`hdh-wizard risk --search / --population / --choices` and the report's provenance: the
automatic way to publishable, replayed through `--rule` and through the report's own choices."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from hdh_wizard.cli.main import main

pytestmark = pytest.mark.usefixtures("french_cli_in_tmp_path")

COHORT = "demo/donnees/cohorte_melanome.csv"
DROPS = ["--rule", "id_patient=drop", "--rule", "id_lame=drop"]
JUSTIFIED = "Ce critère est justifié par une analyse documentée et signée du partenaire."


@pytest.fixture
def demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["demo", str(tmp_path / "demo"), "--no-open"]) == 0
    capsys.readouterr()
    return tmp_path / COHORT


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["risk", "--json", *args])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_the_demo_cohort_search_finds_k_11_and_its_rules_replay_to_the_same_measures(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [COHORT, "--sensitive", "stade_pronostique", *DROPS]
    _, document, _ = _json(capsys, *args, "--search")
    search = document["tables"][0]["search"]
    assert search["optimal"] is True and search["bounded"] is False
    assert "ARX Loss" in search["measure"]
    best = search["solutions"][0]
    assert best["smallest_class"] >= 11 and best["suppressed"] == 0
    losses = [s["loss"] for s in search["solutions"]]
    assert losses == sorted(losses)
    _, replayed, _ = _json(capsys, *args[:3], *[o for opt in best["options"] for o in opt.split()])
    table = replayed["tables"][0]
    assert table["generalised"]["k"] == best["smallest_class"]
    assert table["generalised"]["classes"] == best["classes"]
    assert table["generalised"]["records_in_small_classes"] == 0
    assert table["details"]["information_loss"] == pytest.approx(best["loss"], abs=1e-9)


def test_the_search_prints_levels_in_words_the_loss_measure_and_whether_proven(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["risk", COHORT, "--sensitive", "stade_pronostique", *DROPS, "--search"])
    out = capsys.readouterr().out
    assert "Recherche automatique : classes d'au moins 11" in out
    assert "Loss d'ARX" in out and "Optimum prouvé" in out
    assert re.search(r"age_diagnostic : (tranches de \d+ ans|retirée|valeur exacte)", out)
    assert "à appliquer : --rule id_patient=drop" in out


def test_a_search_without_solution_says_so_and_shows_the_closest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every record has the same diagnosis: no class ever mixes values, inference cannot pass.
    rows = "\n".join(f"{20 + i % 50},{'FM'[i % 2]},grave" for i in range(40))
    (tmp_path / "t.csv").write_text("age,sexe,diagnostic\n" + rows + "\n", encoding="utf-8")
    code, document, _ = _json(
        capsys, "t.csv", "--qi", "age,sexe", "--sensitive", "diagnostic", "--search"
    )
    search = document["tables"][0]["search"]
    assert code == 1 and search["solutions"] == [] and search["closest"] is not None
    main(["risk", "t.csv", "--qi", "age,sexe", "--sensitive", "diagnostic", "--search"])
    assert "Aucune combinaison de niveaux ne respecte les règles" in capsys.readouterr().out


@pytest.mark.parametrize("budget", ["1", "100 %", "beaucoup", "-0.1", "nan"])
def test_a_suppression_budget_of_100_percent_or_text_is_a_usage_error(
    demo: Path, capsys: pytest.CaptureFixture[str], budget: str
) -> None:
    code = main(["risk", COHORT, "--search", "--max-suppression", budget])
    assert code == 2
    assert "Part d'enregistrements supprimables invalide" in capsys.readouterr().err


def test_a_budget_of_0_or_2_percent_is_accepted_and_counted_in_records(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, zero, _ = _json(capsys, COHORT, *DROPS, "--search", "--max-suppression", "0")
    _, two, _ = _json(capsys, COHORT, *DROPS, "--search", "--max-suppression", "2 %")
    assert zero["tables"][0]["search"]["rules"]["suppression_budget_records"] == 0
    assert two["tables"][0]["search"]["rules"]["suppression_budget_records"] == 16


def test_search_options_without_search_are_a_usage_error(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["risk", COHORT, "--max-suppression", "0.02"]) == 2
    assert "--max-suppression ne sert qu'avec --search" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "est vide"),
        ("F;*\nM\n", "1 niveau au lieu de 2"),
        ("F;*\nF;*\n", "figure déjà"),
        ("F;;*\n", "est vide"),
    ],
)
def test_a_faulty_hierarchy_csv_is_refused_with_its_line(
    demo: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    (demo.parent / "h.csv").write_text(text, encoding="utf-8")
    code = main(["risk", COHORT, "--search", "--hierarchy", f"sexe={demo.parent / 'h.csv'}"])
    assert code == 2
    assert message in capsys.readouterr().err


def test_a_hierarchy_missing_values_of_the_column_is_refused(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (demo.parent / "h.csv").write_text("F;*\n", encoding="utf-8")
    code = main(["risk", COHORT, "--search", "--hierarchy", f"sexe={demo.parent / 'h.csv'}"])
    assert code == 2
    assert "ne couvre pas 1 valeur de la colonne sexe" in capsys.readouterr().err


def test_a_hierarchy_csv_is_used_and_its_solutions_are_not_offered_as_rules(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (demo.parent / "h.csv").write_text("F;personne;*\nM;personne;*\n", encoding="utf-8")
    _, document, _ = _json(
        capsys, COHORT, *DROPS, "--search", "--hierarchy", f"sexe={demo.parent / 'h.csv'}"
    )
    search = document["tables"][0]["search"]
    assert search["hierarchies"]["sexe"] == {"kind": "file", "source": "h.csv", "levels": 3}
    for solution in search["solutions"]:
        if solution["levels"]["sexe"]["level"]:
            assert solution["rules"] is None


def test_more_than_20_quasi_identifiers_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = [f"c{i}" for i in range(21)]
    (tmp_path / "w.csv").write_text(",".join(names) + "\n" + ",".join("1" * 21) + "\n")
    assert main(["risk", "w.csv", "--qi", ",".join(names), "--search"]) == 2
    assert "21 quasi-identifiants" in capsys.readouterr().err


def test_the_population_view_shows_sample_uniques_pitman_zayatz_and_their_assumptions(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["risk", COHORT, *DROPS, "--population", "100000"])
    out = capsys.readouterr().out
    assert "Vue population (indicative, ne décide rien)" in out
    assert "uniques dans l'échantillon" in out and "Pitman" in out and "Zayatz" in out
    assert "Hypothèses" in out
    assert main(["risk", COHORT, "--population", "12"]) == 2
    assert "Taille de population invalide" in capsys.readouterr().err


def _report_choices(folder: Path) -> dict[str, Any]:
    markdown = (folder / "analyse-risque-reidentification.md").read_text(encoding="utf-8")
    block = re.search(r"```json\n(.*?)\n```", markdown, re.DOTALL)
    assert block is not None
    loaded: dict[str, Any] = json.loads(block.group(1))
    return loaded


def test_the_choices_block_of_the_report_replays_to_the_same_figures(
    demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = [COHORT, "--sensitive", "stade_pronostique", *DROPS, "--rule", "age_diagnostic=age_10"]
    _, first, _ = _json(capsys, *args, "--report", "rapport")
    choices = _report_choices(tmp_path / "rapport")
    (tmp_path / "choix.json").write_text(json.dumps(choices), encoding="utf-8")
    _, again, _ = _json(capsys, COHORT, "--choices", "choix.json")
    for key in ("original", "generalised", "quasi_identifiers", "rules", "verdicts"):
        assert again["tables"][0][key] == first["tables"][0][key]


def test_a_missing_justification_exits_1_and_names_it(
    demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    choices = {
        "tables": [
            {"table": COHORT, "quasi_identifiers": ["sexe"], "sensitive": [], "threshold": 11}
        ],
        "justifications": {"singling_out": JUSTIFIED, "inference": "trop court"},
    }
    (tmp_path / "choix.json").write_text(json.dumps(choices), encoding="utf-8")
    code = main(["risk", COHORT, "--choices", "choix.json"])
    captured = capsys.readouterr()
    assert code == 1
    assert "Justification manquante : Inférence" in captured.err
    assert "Justification manquante : Corrélation" in captured.err
    assert f"Justification : {JUSTIFIED}" in captured.out


def test_with_every_criterion_justified_the_replay_exits_0(
    demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    choices = {
        "tables": [{"table": COHORT, "quasi_identifiers": ["sexe"]}],
        "justifications": {c: JUSTIFIED for c in ("singling_out", "linkability", "inference")},
    }
    (tmp_path / "choix.json").write_text(json.dumps(choices), encoding="utf-8")
    assert main(["risk", COHORT, "--choices", "choix.json"]) == 0
    assert "Chaque critère non exclu est justifié" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "n'est pas du JSON valide (ligne 1"),
        ("[]", "doit être un objet JSON"),
        ('{"tables": [{"table": 3}]}', "tables[0].table : un texte est attendu"),
        ('{"tables": [{"table": "x", "quasi_identifiers": "age"}]}', "liste de noms"),
        ('{"tables": [{"table": "x", "threshold": 1}]}', "seuil « 1 » invalide"),
        ('{"tables": [{"table": "x", "rules": [{"column": "a", "rule": "z"}]}]}', "règle"),
        ('{"tables": [], "justifications": {"secret": "x"}}', "critère « secret » inconnu"),
    ],
)
def test_a_malformed_choices_file_is_a_clear_usage_error(
    demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "choix.json").write_text(text, encoding="utf-8")
    assert main(["risk", COHORT, "--choices", "choix.json"]) == 2
    assert message in capsys.readouterr().err


def test_choices_with_qi_options_is_a_usage_error(
    demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "choix.json").write_text('{"tables": []}', encoding="utf-8")
    assert main(["risk", COHORT, "--choices", "choix.json", "--qi", "sexe"]) == 2
    assert main(["risk", COHORT, "--choices", "choix.json"]) == 2  # nothing for the table
    assert "ne donne rien pour la table" in capsys.readouterr().err


def test_the_report_has_versions_fingerprints_counts_loss_and_no_identifying_value(
    demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cohort = demo.read_text(encoding="utf-8")
    (tmp_path / "demo/donnees/cohorte_melanome.csv").write_text(
        cohort.replace(",73,2012-01-12,", ",inconnu,2012-01-12,", 1), encoding="utf-8"
    )
    canaries = re.findall(r"VM-\d{6}", cohort)[:20]
    args = [COHORT, "--qi", "id_patient,age_diagnostic,sexe", "--sensitive", "stade_pronostique"]
    main(["risk", *args, "--rule", "age_diagnostic=age_10", "--report", "rapport"])
    capsys.readouterr()
    for suffix in ("md", "html"):
        text = (tmp_path / f"rapport/analyse-risque-reidentification.{suffix}").read_text()
        text = html.unescape(text) if suffix == "html" else text.replace("\\", "")
        assert "Outils et empreintes" in text and "Choix rejouables" in text
        assert "polars" in text and "Python" in text
        assert re.search(r"[0-9a-f]{64}", text)  # the input's SHA-256
        assert "Simulé (aucune copie écrite)" in text
        assert "Après généralisation" not in text
        assert "pas un âge en années entre 0 et 199" in text  # "inconnu" left unread
        assert "Perte d'information de la généralisation appliquée" in text
        assert "Classes sous le seuil de 11" in text
        assert "XX-999999" in text  # the identifiers' shape, masked
        for canary in canaries:
            assert canary not in text


def test_a_generalised_then_removed_column_is_not_called_a_direct_identifier(
    demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    main(["risk", COHORT, "--qi", "sexe,departement", *DROPS, "--rule", "departement=drop",
          "--report", "rapport"])  # fmt: skip
    capsys.readouterr()
    text = (tmp_path / "rapport/analyse-risque-reidentification.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| departement |"))
    assert "retirée (généralisée jusqu'au retrait)" in row
    assert "identifiant direct" not in row
