"""The written risk analysis: the sections the HDH expects, figures, escaping, no clear value."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Catalogue, Lang, load_catalogue
from hdh_wizard.inspect.risk.analysis import (
    Choice,
    Criterion,
    TableRisk,
    TableScan,
    assess,
    scan_table,
)
from hdh_wizard.inspect.risk.measures import SIZE_BUCKETS
from hdh_wizard.inspect.risk.report import Replacement, RiskReport
from hdh_wizard.inspect.risk.tables import Table
from hdh_wizard.present.risk_document import (
    DOCUMENT_STEM,
    render_html,
    render_markdown,
    write_documents,
)
from tests.risk_helpers import (
    AFTER,
    BEFORE,
    ODD,
    full_report,
    hand_built_risk,
)

FR, EN = load_catalogue(Lang.FR), load_catalogue(Lang.EN)


def both(report: RiskReport, cat: Catalogue) -> tuple[str, str]:
    return render_markdown(report, cat), render_html(report, cat)


# --- the sections the Health Data Hub expects -------------------------------------------------


SECTIONS = {
    Lang.FR: (
        "1. Description des données",
        "2. Méthode",
        "3. Quasi-identifiants et attributs sensibles",
        "4. Les trois critères du G29",
        "5. Risque résiduel",
        "6. Mesures prises",
        "7. Attestation",
    ),
    Lang.EN: (
        "1. Data description",
        "2. Method",
        "3. Quasi-identifiers and sensitive attributes",
        "4. The three criteria of the Article 29 Working Party",
        "5. Residual risk",
        "6. Measures taken",
        "7. Attestation",
    ),
}


@pytest.mark.parametrize("lang", list(Lang))
def test_both_formats_hold_the_same_sections_in_order_in_the_users_language(lang: Lang) -> None:
    cat = load_catalogue(lang)
    markdown, page = both(full_report(), cat)
    headings = re.findall(r"^## (.+)$", markdown, flags=re.MULTILINE)
    assert tuple(headings) == SECTIONS[lang]
    html_headings = re.findall(r'<h2 id="section-\d">(.+?)</h2>', page)
    assert tuple(html_headings) == SECTIONS[lang]
    assert markdown.startswith(f"# {cat.t('risk.doc.title')}\n")
    assert f'<html lang="{lang.value}">' in page
    for criterion in Criterion:
        name = cat.t(f"risk.criterion.{criterion.value}")
        assert f"### {name}" in markdown and f"<h3>{name}</h3>" in page


def test_the_header_gives_the_release_the_date_and_the_purpose_in_french() -> None:
    markdown, page = both(full_report(), FR)
    assert "**Version** : Cohorte mélanome 2012-2016" in markdown
    assert "29 novembre 2026 à 10:05" in markdown and "29 novembre 2026 à 10:05" in page
    assert "prérequis obligatoire" in markdown
    assert "responsabilité juridique du partenaire" in markdown
    assert "moyens raisonnables" in markdown


def test_the_header_in_english() -> None:
    markdown = render_markdown(full_report(), EN)
    assert "**Release**: Cohorte mélanome 2012-2016" in markdown
    assert "29 November 2026 at 10:05" in markdown
    assert "mandatory prerequisite" in markdown


def test_the_data_description_lists_each_table_and_its_identifying_findings() -> None:
    markdown = render_markdown(full_report(), FR)
    assert "#### Table « cohorte.csv »" in markdown
    assert "- **Enregistrements** : 36" in markdown
    assert "- **Colonnes** : 6" in markdown
    assert "| tel | Numéros de téléphone français | 30 sur 36 | 99 99 99 99 99 |" in markdown
    assert "Xxxxxx, Xxxxx" in markdown


def test_the_data_description_lists_each_image_with_its_masked_excerpts() -> None:
    markdown, page = both(full_report(), FR)
    assert "#### Image « lames/lame 01.tiff »" in markdown
    assert "- **Pages (sous-images)** : 3" in markdown
    assert "- **Pages retirables (étiquette, image macroscopique)** : 3" in markdown  # 2 → page 3
    assert "Xxxxxx Xxxxx" in markdown and "ImageDescription" in page
    assert "Une copie nettoyée" not in markdown  # only the table was replaced


def test_the_method_names_the_threshold_and_the_two_conventions() -> None:
    markdown = render_markdown(full_report(), FR)
    assert "k-anonymat" in markdown and "l-diversité" in markdown
    assert "moins de 5 enregistrements" in markdown and "convention plus stricte de 11" in markdown
    assert "Seuil retenu : 5." in markdown
    assert "fichiers entiers" in markdown


def test_tables_with_different_thresholds_are_named_with_theirs() -> None:
    strict = hand_built_risk()
    strict = TableRisk(
        TableScan("sejours.csv", strict.scan.columns, (), strict.scan.roles),
        Choice(("age",), threshold=11),
        BEFORE,
        None,
        (),
        (),
        strict.scan.columns,
    )
    markdown = render_markdown(full_report(tables=(hand_built_risk(), strict)), FR)
    assert "Seuil retenu : 5 pour « cohorte.csv », 11 pour « sejours.csv »." in markdown


def test_roles_show_what_was_proposed_what_was_chosen_and_why() -> None:
    markdown = render_markdown(full_report(), FR)
    assert "- **Quasi-identifiants** : age, sexe, \\<b\\>x\\</b\\>" in markdown
    assert "- **Attributs sensibles** : stade" in markdown
    assert "- **Colonnes retirées** : nom, tel" in markdown
    assert "| tel | identifiant direct | identifiant direct | Numéros de téléphone français |" in (
        markdown
    )
    assert "| age | quasi-identifiant | quasi-identifiant | nom de la colonne |" in markdown
    assert "| \\<b\\>x\\</b\\> | autre | quasi-identifiant | rôle modifié par le partenaire |" in (
        markdown
    )


# --- the three criteria, with figures ---------------------------------------------------------


def test_singling_out_compares_before_and_after_generalisation_in_french_figures() -> None:
    markdown, page = both(full_report(), FR)
    assert "| Mesure | Original | Après généralisation |" in markdown
    row = "| Enregistrements dans une classe de moins de 5 | 11 (30,6\u00a0%) | 0 (0\u00a0%) |"
    assert row in markdown
    assert "| Plus petite classe (k) | 1 | 6 |" in markdown
    assert "| Risque de réidentification moyen | 0,444 | 0,111 |" in markdown
    assert "<td>11 (30,6\u00a0%)</td>" in page
    assert "✓ Verdict pour « cohorte.csv » — exclue par les mesures" in markdown


def test_english_figures_use_the_english_conventions() -> None:
    markdown = render_markdown(full_report(), EN)
    assert "| Records in a class smaller than 5 | 11 (30.6%) | 0 (0%) |" in markdown
    assert "| Average re-identification risk | 0.444 | 0.111 |" in markdown


def test_without_generalisation_a_single_column_of_values_and_the_verdicts_say_not_excluded() -> (
    None
):
    report = full_report(tables=(hand_built_risk(generalised=False),), replacements=())
    markdown = render_markdown(report, FR)
    assert "| Mesure | Valeur |" in markdown
    assert "Après généralisation" not in markdown.split("## 5.")[0]
    assert "| Enregistrements dans une classe de moins de 5 | 11 (30,6\u00a0%) |" in markdown
    assert "✗ Verdict pour « cohorte.csv » — non exclue : à réduire ou à justifier" in markdown
    assert "Identifiants directs encore présents : nom, tel." in markdown
    assert "« cohorte.csv » : aucune généralisation, la table est publiée telle quelle." in markdown
    assert "Aucune copie transformée" in markdown


def test_inference_shows_the_l_diversity_of_each_sensitive_attribute() -> None:
    markdown = render_markdown(full_report(), FR)
    inference = markdown.split("### Inférence")[1].split("## 5.")[0]
    assert "| l minimal de « stade » | 1 | 2 |" in inference
    assert "| Valeur de « stade » déduite (l = 1) | 7 (19,4\u00a0%) | 0 (0\u00a0%) |" in inference
    assert "Plus petite classe" not in inference


def test_inference_without_a_sensitive_attribute_asks_for_a_justification() -> None:
    risk = hand_built_risk()
    bare = replace(AFTER, diversity=())
    risk = TableRisk(risk.scan, Choice(("age",)), bare, None, (), (), risk.scan.columns)
    markdown = render_markdown(full_report(tables=(risk,)), FR)
    assert "Aucun attribut sensible n'est désigné" in markdown


def test_linkability_names_the_columns_that_ease_matching() -> None:
    markdown = render_markdown(full_report(), FR)
    linkability = markdown.split("### Corrélation")[1].split("### Inférence")[0]
    assert "se comporte comme un identifiant persistant (95\u00a0% de valeurs distinctes)" in (
        linkability
    )
    assert "✗ Corrélation pour l'ensemble de la version — non exclue" in linkability


def test_the_partners_justification_is_quoted_and_a_missing_one_is_a_dash() -> None:
    markdown, page = both(full_report(), FR)
    linkability = markdown.split("### Corrélation")[1].split("### Inférence")[0]
    assert "Justification du partenaire :" in linkability
    assert "> Le numéro « \\<b\\>x\\</b\\> » est propre à cette publication.\n" in linkability
    assert "> Il ne figure dans aucune autre source." in linkability
    singling_out = markdown.split("### Individualisation")[1].split("### Corrélation")[0]
    assert "\n> —" in singling_out
    assert (
        "<blockquote><p>Le numéro « &lt;b&gt;x&lt;/b&gt; » est propre à cette publication.<br>"
        "Il ne figure dans aucune autre source.</p></blockquote>"
    ) in page


def _table_that_excludes_singling_out() -> TableRisk:
    """The hand-built table at the open-data threshold, with classes of 12 and no identifier."""
    risk = hand_built_risk()
    after = replace(AFTER, threshold=11, k=12, size_histogram=(0, 0, 0, 0, 36, 0, 0, 0))
    return replace(risk, choice=replace(risk.choice, threshold=11), published=after, links=())


def test_images_whose_identifying_content_stays_are_named_under_singling_out() -> None:
    table = _table_that_excludes_singling_out()
    markdown = render_markdown(full_report(tables=(table,)), FR)
    singling_out = markdown.split("### Individualisation")[1].split("### Corrélation")[0]
    assert "Images dont le contenu identifiant reste publié : lames/lame 01.tiff." in singling_out
    # The table's measures exclude it, the image does not: the release needs a justification.
    assert "✓ Verdict pour « cohorte.csv » — exclue par les mesures" in singling_out
    assert "✗ Individualisation pour l'ensemble de la version — non exclue" in singling_out
    cleaned = Replacement("lames/lame 01.tiff", Path("publish/lame 01.tiff"), 10, "cd" * 32, 20)
    markdown = render_markdown(full_report(tables=(table,), replacements=(cleaned,)), FR)
    assert "Images dont le contenu" not in markdown
    assert "✓ Individualisation pour l'ensemble de la version — exclue" in markdown
    assert "Une copie nettoyée est publiée à la place de l'original" in markdown


# --- residual risk and its chart --------------------------------------------------------------


def test_residual_risk_summarises_the_final_measures() -> None:
    markdown = render_markdown(full_report(), FR)
    residual = markdown.split("## 5.")[1].split("## 6.")[0]
    assert "Individualisation : plus petite classe k = 6" in residual


def test_the_chart_has_one_bar_per_bucket_before_and_after_generalisation() -> None:
    page = render_html(full_report(), FR)
    assert page.count("<svg ") == 1
    assert page.count('class="bar before"') == len(SIZE_BUCKETS)
    assert page.count('class="bar after"') == len(SIZE_BUCKETS)
    assert "<title>Original, classes de 5–10 : 25 enregistrements (69,4\u00a0%)</title>" in page
    assert "<title>Après généralisation, classes de 11–20 : 12 enregistrements (33,3" in page
    # Sizes 1, 2 and 3–4 are under the threshold of 5: their ranges are shaded.
    assert page.count('<rect class="below" ') == 3


def test_without_generalisation_the_chart_has_the_original_bars_only() -> None:
    report = full_report(tables=(hand_built_risk(generalised=False),))
    page = render_html(report, FR)
    assert page.count('class="bar before"') == len(SIZE_BUCKETS)
    assert 'class="bar after"' not in page


def test_the_markdown_chart_is_a_table_of_bars_and_counts() -> None:
    markdown = render_markdown(full_report(), FR)
    assert "| Taille de la classe | Original | Après généralisation |" in markdown
    assert "| 5–10 | ████████████████████ 25 (69,4\u00a0%) | " in markdown
    assert "| 1 ⚠ | " in markdown and "| ≥ 101 | 0 (0\u00a0%) | 0 (0\u00a0%) |" in markdown


# --- measures taken and attestation ------------------------------------------------------------


def test_measures_taken_list_the_rules_and_the_copies_with_their_fingerprint() -> None:
    markdown, page = both(full_report(), FR)
    measures_taken = markdown.split("## 6.")[1].split("## 7.")[0]
    assert "- age → âge en tranches de 10 ans" in measures_taken
    assert "- nom → colonne retirée" in measures_taken
    assert "valeurs vues moins de 5 fois regroupées" in measures_taken
    assert "| donnees/cohorte.csv | publish/cohorte.csv | 2,4 Mo → 1,2 ko | " + "ab" * 32 in (
        measures_taken
    )
    assert "ab" * 32 in page


def test_the_attestation_says_who_takes_responsibility() -> None:
    markdown, page = both(full_report(), FR)
    attestation = markdown.split("## 7.")[1]
    assert (
        "Au nom de CHU de Nulle-Part, Camille Martin (Déléguée à la protection des données) "
        "atteste" in attestation
    )
    assert "assume la responsabilité de leur caractère anonyme" in attestation
    assert "- **Date** : 1er décembre 2026" in attestation
    assert "<dd>Camille Martin</dd>" in page


def test_an_unsigned_attestation_says_so() -> None:
    markdown = render_markdown(full_report(attestation=None), EN)
    assert "Not signed yet" in markdown.split("## 7.")[1]


def test_a_report_with_images_only_still_has_every_section() -> None:
    markdown, page = both(full_report(tables=(), replacements=()), FR)
    assert tuple(re.findall(r"^## (.+)$", markdown, flags=re.MULTILINE)) == SECTIONS[Lang.FR]
    assert "Aucune table dans cette version." in markdown
    assert "<svg" not in page


# --- no clear value, no markup from the user, nothing loaded from elsewhere ------------------


def test_a_clear_value_from_the_data_appears_nowhere_in_either_document() -> None:
    rows = 40
    frame = pl.DataFrame(
        {
            "nom": ["Dupont" if i % 2 else "Durand-Lefebvre" for i in range(rows)],
            "telephone": [f"06 12 34 {i:02d} 78" for i in range(rows)],
            "date_naissance": [f"{1 + i % 28:02d}/03/1961" for i in range(rows)],
            "sexe": ["F" if i % 2 else "M" for i in range(rows)],
            "diagnostic": ["C43.5" if i % 3 else "C43.9" for i in range(rows)],
        }
    )
    table = Table("patients.csv", frame.lazy())
    scan = scan_table(table)
    assert scan.findings  # the names, phones and birth dates are found…
    choice = Choice(("date_naissance", "sexe"), ("diagnostic",))
    report = full_report(tables=(assess(table, scan, choice),), images=(), replacements=())
    for cat in (FR, EN):
        for text in both(report, cat):
            # …and only their shape is written.
            for clear in ("Dupont", "Durand", "06 12 34", "/03/1961", "C43"):
                assert clear not in text


def test_the_html_page_is_self_contained_and_escapes_column_names() -> None:
    page = render_html(full_report(), FR)
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page and 'http-equiv="Content-Security-Policy"' in page
    for external in ("http://", "https://", "<script", "<link", " src=", "url("):
        assert external not in page
    assert ODD not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert page.count('<a href="#section-') == 7


def test_markdown_escapes_markup_in_user_text_but_keeps_column_names_readable() -> None:
    risk = hand_built_risk()
    scan = TableScan("a|b*c.csv", risk.scan.columns, risk.scan.findings, risk.scan.roles)
    risk = TableRisk(scan, risk.choice, BEFORE, AFTER, (), risk.links, risk.published_columns)
    markdown = render_markdown(full_report(tables=(risk,), release="[lien](x) _v1_"), FR)
    assert ODD not in markdown
    assert "Table « a\\|b\\*c.csv »" in markdown
    assert "\\[lien\\](x) \\_v1\\_" in markdown
    frame = pl.DataFrame({"date_naissance": ["01/02/1990"] * 6, "sexe": ["F"] * 6})
    table = Table("t.csv", frame.lazy())
    report = full_report(tables=(assess(table, scan_table(table), Choice(("sexe",))),))
    assert "| date_naissance |" in render_markdown(report, FR)


# --- writing the files -------------------------------------------------------------------------


def test_write_documents_writes_both_files_and_replaces_an_older_pair(tmp_path: Path) -> None:
    folder = tmp_path / "rapport" / "risque"
    written = write_documents(full_report(), folder, FR)
    assert written == [folder / f"{DOCUMENT_STEM}.md", folder / f"{DOCUMENT_STEM}.html"]
    assert written[0].read_text("utf-8") == render_markdown(full_report(), FR)
    assert written[1].read_text("utf-8") == render_html(full_report(), FR)
    write_documents(full_report(attestation=None), folder, EN)
    assert "Not signed yet" in written[0].read_text("utf-8")
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in written)


def test_an_unwritable_folder_gives_a_wizard_error_and_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "rapport"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(HdhWizardError) as caught:
        write_documents(full_report(), blocker / "risque", FR)
    assert caught.value.key == "risk.error.document_write"
    message = caught.value.message(FR)
    assert str(blocker / "risque") in message and "Impossible d'écrire" in message
    assert sorted(tmp_path.iterdir()) == [blocker]
