"""Identifying columns: the NIR check, the name rules, and the content rules over a whole file.

NIR keys are computed in the tests from the rule (97 - body mod 97, 2A read as 19, 2B as 18) by
Horner's method digit by digit, independently of the module; a few literals were checked by hand.
Content tests write a CSV in `tmp_path` and read it as the caller does, `pl.scan_csv(path,
infer_schema=False)`, every column as text.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hdh_wizard.inspect.risk import identifiers
from hdh_wizard.inspect.risk.identifiers import (
    Finding,
    IdRule,
    Role,
    direct_identifier_name,
    find_identifiers,
    fold,
    looks_identifying,
    propose_role,
)
from hdh_wizard.inspect.risk.linkability import _DAY_DATE
from hdh_wizard.inspect.risk.masking import mask
from hdh_wizard.inspect.risk.nir import SHAPE, SPACED_SHAPE, nir_is_valid, nir_valid_expr


def key_of(body: str) -> str:
    """The NIR key of a 13-character body, by the rule, one digit at a time."""
    digits = body.upper().replace("2A", "19").replace("2B", "18")
    remainder = 0
    for digit in digits:
        remainder = (remainder * 10 + int(digit)) % 97
    return f"{97 - remainder:02d}"


def nir(body: str) -> str:
    return body + key_of(body)


def wrong_key(body: str) -> str:
    return body + f"{(int(key_of(body)) % 97) + 1:02d}"


def polars_valid(values: Sequence[str | None]) -> list[bool]:
    frame = pl.DataFrame({"v": list(values)}, schema={"v": pl.String})
    return frame.select(nir_valid_expr(pl.col("v"))).to_series().to_list()


def scan(path: Path, columns: dict[str, list[str]]) -> pl.LazyFrame:
    pl.DataFrame(columns).write_csv(path)
    return pl.scan_csv(path, infer_schema=False)


def by_rule(findings: list[Finding]) -> dict[tuple[str, IdRule], Finding]:
    return {(f.column, f.rule): f for f in findings}


# --- the NIR --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "269054958815780",  # hand-checked: 2690549588157 = 97 x 27737624620 + 17, 97 - 17 = 80
        "2 69 05 49 588 157 80",
        "180012A12345620",  # Corse-du-Sud: 1800119123456 mod 97 = 77, key 20
        "1 80 01 2B 123 456 47",  # Haute-Corse: 1800118123456 mod 97 = 50, key 47
    ],
)
def test_hand_checked_nirs_are_valid(text: str) -> None:
    assert nir_is_valid(text)
    assert polars_valid([text]) == [True]


@pytest.mark.parametrize(
    "body", ["1850775123456", "2690549588157", "1000101001001", "2991299999999", "1859997123456"]
)
def test_a_nir_with_the_key_of_the_rule_is_valid(body: str) -> None:
    assert nir_is_valid(nir(body))
    assert polars_valid([nir(body)]) == [True]


@pytest.mark.parametrize("body", ["1850775123456", "2690549588157", "180012A123456"])
def test_a_nir_with_a_wrong_key_is_not_counted(body: str) -> None:
    assert not nir_is_valid(wrong_key(body))
    assert polars_valid([wrong_key(body)]) == [False]


@pytest.mark.parametrize("department", ["2A", "2B", "2a", "2b"])
def test_a_corsican_nir_reads_2a_as_19_and_2b_as_18(department: str) -> None:
    body = f"18001{department}123456"
    assert nir_is_valid(nir(body))
    assert polars_valid([nir(body)]) == [True]
    # The key computed as if the letters were "20" (the pre-1976 département) does not fit.
    naive = body + key_of(body[:5] + "20" + body[7:])
    assert not nir_is_valid(naive)
    assert polars_valid([naive]) == [False]


@pytest.mark.parametrize(
    "text",
    [
        "1 85 07 75 123 456 {key}",
        "1.85.07.75.123.456.{key}",
        "1-85-07-75-123-456-{key}",
        "1\u00a085\u00a007\u00a075\u00a0123\u00a0456\u00a0{key}",
        " 1850775123456 {key} ",
    ],
)
def test_separators_are_tolerated(text: str) -> None:
    written = text.format(key=key_of("1850775123456"))
    assert nir_is_valid(written)
    assert polars_valid([written]) == [True]


@pytest.mark.parametrize(
    "text",
    [
        nir("1850775123456")[:-1],  # 14 characters
        nir("1850775123456") + "0",  # 16 characters
        "1" + nir("1850775123456"),
        nir("1850775123456") + "\n",
        "",
        "185077512345 6" + "X" * 2,
        "1850775 1234 56" + key_of("1850775123456") + "/",
    ],
)
def test_a_value_of_the_wrong_length_or_shape_is_not_a_nir(text: str) -> None:
    assert not nir_is_valid(text)
    assert polars_valid([text]) == [False]


@pytest.mark.parametrize("sex", ["1", "2", "3", "4", "7", "8"])
def test_provisional_numbers_are_valid_nirs(sex: str) -> None:
    body = sex + "850775123456"
    assert nir_is_valid(nir(body))
    assert polars_valid([nir(body)]) == [True]


@pytest.mark.parametrize("sex", ["0", "5", "6", "9"])
def test_an_unknown_sex_digit_is_not_a_nir(sex: str) -> None:
    assert not nir_is_valid(nir(sex + "850775123456"))


@pytest.mark.parametrize(
    ("month", "valid"),
    [
        *(("01", True), ("12", True), ("20", True), ("35", True), ("42", True), ("50", True)),
        *(("99", True), ("00", False), ("13", False), ("19", False), ("43", False), ("49", False)),
    ],
)
def test_the_month_is_a_month_or_an_unknown_month_code(month: str, valid: bool) -> None:
    body = f"185{month}75123456"
    assert nir_is_valid(nir(body)) is valid
    assert polars_valid([nir(body)]) == [valid]


def test_a_null_value_is_not_a_nir() -> None:
    assert polars_valid([None, nir("1850775123456")]) == [False, True]


def _nir_like() -> st.SearchStrategy[str]:
    """Valid NIRs, the same with one character changed or separators added, and noise."""
    department = st.one_of(
        st.sampled_from(["2A", "2B", "2a", "2b"]), st.integers(0, 99).map("{:02d}".format)
    )
    body = st.builds(
        lambda sex, year, month, dept, rest: f"{sex}{year:02d}{month:02d}{dept}{rest:06d}",
        st.sampled_from("0123456789"),
        st.integers(0, 99),
        st.integers(0, 99),
        department,
        st.integers(0, 999_999),
    )
    valid = body.map(nir)
    mutated = st.tuples(valid, st.integers(0, 14), st.sampled_from("0123456789ABC\u0661 ")).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :]
    )
    separated = st.tuples(valid, st.lists(st.sampled_from(" .-\t\u00a0_/\n"), max_size=4)).map(
        lambda t: "".join(t[1][:2]) + t[0][:3] + "".join(t[1][2:]) + t[0][3:]
    )
    noise = st.text(alphabet="0123456789ABab .-\n\u0661\u00a0", max_size=20)
    return st.one_of(valid, mutated, separated, noise)


@settings(max_examples=400, deadline=None)
@given(st.lists(_nir_like(), min_size=1, max_size=5))
def test_python_and_polars_agree_on_every_value(values: list[str]) -> None:
    assert polars_valid(list(values)) == [nir_is_valid(v) for v in values]


@settings(max_examples=400, deadline=None)
@given(st.lists(_nir_like(), min_size=1, max_size=5))
def test_the_scan_finds_nir_shapes_with_separators_as_the_key_check_reads_them(
    values: list[str],
) -> None:
    """The scan's one-regex shape test (separators allowed anywhere) picks exactly the values
    whose compact form has the shape: the key check, run only on those columns, misses none."""
    compact = [re.sub(r"[ \t\u00a0\u202f.\-]", "", v) for v in values]
    expected = [re.fullmatch(SHAPE.rstrip("$"), c) is not None for c in compact]
    found = pl.Series(values).str.contains(SPACED_SHAPE).to_list()
    assert found == expected


def test_python_and_polars_agree_on_a_few_hundred_generated_numbers() -> None:
    rng = random.Random(20260131)
    values = []
    for _ in range(600):
        department = rng.choice(["75", "2A", "2B", "97", "99", "01"])
        body = (
            f"{rng.choice('123478')}{rng.randrange(100):02d}{rng.choice(['01', '12', '30', '55'])}"
        )
        body += f"{department}{rng.randrange(10**6):06d}"
        key = key_of(body) if rng.random() < 0.5 else f"{rng.randrange(100):02d}"
        values.append(body + key)
    expected = [nir_is_valid(v) for v in values]
    assert polars_valid(values) == expected
    assert 250 < sum(expected) < 400  # both kinds are exercised


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("Date_De_Naissance", "date de naissance"),
        ("dateNaissance", "date naissance"),
        ("  N° Sécu ", "n secu"),
        ("Prénom-Patient.2", "prenom patient 2"),
        ("nom d'usage", "nom d usage"),
        ("E-MAIL", "e mail"),
        ("cœur__état", "coeur etat"),
    ],
)
def test_a_name_is_folded_before_the_rules_read_it(name: str, folded: str) -> None:
    assert fold(name) == folded


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("nom", "nom"),
        ("NOM_PATIENT", "nom"),
        ("Nom de naissance", "nom"),
        ("nom_d_usage", "nom"),
        ("Nom marital", "nom"),
        ("prénom", "prenom"),
        ("Prenoms", "prenom"),
        ("name", "name"),
        ("First Name", "name"),
        ("lastName", "name"),
        ("surname", "name"),
        ("given_name", "name"),
        ("NIR", "nir"),
        ("numéro de sécurité sociale", "nir"),
        ("N° sécu", "nir"),
        ("num_secu", "nir"),
        ("SSN", "nir"),
        ("INS", "ins"),
        ("identifiant national de santé", "ins"),
        ("IPP", "ipp"),
        ("NIP", "nip"),
        ("numéro de dossier", "dossier"),
        ("num_dossier", "dossier"),
        ("n° dossier", "dossier"),
        ("medical record number", "mrn"),
        ("MRN", "mrn"),
        ("adresse", "adresse"),
        ("Address", "adresse"),
        ("rue", "adresse"),
        ("téléphone", "telephone"),
        ("tel", "telephone"),
        ("Tel_domicile", "telephone"),
        ("phone", "telephone"),
        ("mobile", "telephone"),
        ("portable", "telephone"),
        ("email", "email"),
        ("e-mail", "email"),
        ("mail", "email"),
        ("courriel", "email"),
        ("date de naissance", "date_naissance"),
        ("DDN", "date_naissance"),
        ("dob", "date_naissance"),
        ("birth_date", "date_naissance"),
        ("dateOfBirth", "date_naissance"),
        ("IP address", "ip"),
        ("adresse_ip", "ip"),
    ],
)
def test_a_direct_identifier_is_recognised_by_its_name(name: str, rule: str) -> None:
    assert direct_identifier_name(name) == rule
    assert looks_identifying(name)
    assert propose_role(name) is Role.DIRECT


@pytest.mark.parametrize(
    "name",
    [
        "nombre_sejours",
        "nomenclature",
        "hotel",
        "insuline",
        "insee",
        "telemedecine",
        "dobutamine",
        "mailing_list_size",
        "nom_etablissement",
        "hospital_name",
        "drug name",
        "adresse_etablissement",
        "tel_service",
        "annee_naissance",
        "poids_naissance",
        "age",
        "sexe",
        "diagnostic",
    ],
)
def test_a_name_that_only_looks_like_an_identifier_is_not_one(name: str) -> None:
    assert direct_identifier_name(name) is None
    assert propose_role(name) is not Role.DIRECT


@pytest.mark.parametrize(
    ("name", "identifying"),
    [
        ("code_postal", True),
        ("CP", True),
        ("commune_residence", True),
        ("code_insee", True),
        ("ville", True),
        ("commentaire", True),
        ("Observations", True),
        ("annee_naissance", True),
        ("age", False),
        ("stade", False),
        ("nombre_sejours", False),
    ],
)
def test_columns_whose_examples_must_be_masked(name: str, identifying: bool) -> None:
    assert looks_identifying(name) is identifying


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("age", Role.QUASI),
        ("age_diagnostic", Role.QUASI),
        ("sexe", Role.QUASI),
        ("Genre", Role.QUASI),
        ("département", Role.QUASI),
        ("region", Role.QUASI),
        ("commune", Role.QUASI),
        ("code postal", Role.QUASI),
        ("code_geographique", Role.QUASI),
        ("ville", Role.QUASI),
        ("date_admission", Role.QUASI),
        ("date_deces", Role.QUASI),
        ("annee_diagnostic", Role.QUASI),
        ("mois", Role.QUASI),
        ("durée de séjour", Role.QUASI),
        ("etablissement", Role.QUASI),
        ("finess", Role.QUASI),
        ("profession", Role.QUASI),
        ("diagnostic_principal", Role.SENSITIVE),
        ("diagnosis", Role.SENSITIVE),
        ("code_cim10", Role.SENSITIVE),
        ("ICD10", Role.SENSITIVE),
        ("pathologie", Role.SENSITIVE),
        ("stade", Role.SENSITIVE),
        ("stage", Role.SENSITIVE),
        ("grade", Role.SENSITIVE),
        ("décès", Role.SENSITIVE),
        ("outcome", Role.SENSITIVE),
        ("rechute", Role.SENSITIVE),
        ("relapse", Role.SENSITIVE),
        ("traitement", Role.SENSITIVE),
        ("survie", Role.SENSITIVE),
        ("poids", Role.OTHER),
        ("nombre_sejours", Role.OTHER),
        ("garage", Role.OTHER),
    ],
)
def test_the_role_proposed_from_the_name(name: str, role: Role) -> None:
    assert propose_role(name) is role


# --- content over the whole file ------------------------------------------------------------


def _health_table(rows: int = 40) -> dict[str, list[str]]:
    rng = random.Random(7)
    nirs = [nir(f"{rng.choice('12')}85{rng.randrange(1, 13):02d}75{rng.randrange(10**6):06d}")]
    nirs += [nir(f"2900{rng.randrange(1, 10)}2A{rng.randrange(10**6):06d}")]
    return {
        "telephone_contact": [
            rng.choice(["06 {} {} {} {}", "+33 6 {} {} {} {}", "07.{}.{}.{}.{}"]).format(
                *(f"{rng.randrange(100):02d}" for _ in range(4))
            )
            for _ in range(rows)
        ],
        "courriel_patient": [f"patient{i}@exemple.fr" for i in range(rows)],
        "poste": [f"10.0.{i // 256}.{i % 256}" for i in range(rows)],
        # Two real NIRs among wrong keys and other numbers: each one counts.
        "identifiant": [*nirs, wrong_key("1850775123456"), *(str(i) for i in range(rows - 3))],
        "date_naissance": [
            f"{rng.randrange(1, 29):02d}/03/19{rng.randrange(30, 99)}" for _ in range(rows)
        ],
        "code_postal": [rng.choice(["75015", "13001", "01000", "69003"]) for _ in range(rows)],
        "commune": [rng.choice(["2A004", "2B033", "75115", "69123"]) for _ in range(rows)],
        "commentaire": [
            f"Patient revu en consultation numéro {i}, état stable, à revoir dans {i} mois"
            for i in range(rows)
        ],
        "nombre_sejours": [str(10_000 + 37 * i) for i in range(rows)],
        "mesure": [f"0.{rng.randrange(10**9):09d}" for _ in range(rows)],
    }


def test_identifying_content_is_found_over_the_whole_file(tmp_path: Path) -> None:
    table = _health_table()
    findings = find_identifiers(scan(tmp_path / "t.csv", table))
    found = by_rule(findings)
    assert set(found) == {
        ("telephone_contact", IdRule.NAME),
        ("telephone_contact", IdRule.PHONE),
        ("courriel_patient", IdRule.NAME),
        ("courriel_patient", IdRule.EMAIL),
        ("poste", IdRule.IPV4),
        ("identifiant", IdRule.NIR),
        ("date_naissance", IdRule.NAME),
        ("date_naissance", IdRule.BIRTH_DATE),
        ("code_postal", IdRule.POSTAL_CODE),
        ("commune", IdRule.COMMUNE_CODE),
        ("commentaire", IdRule.FREE_TEXT),
    }
    assert found["telephone_contact", IdRule.PHONE].matches == 40
    assert found["identifiant", IdRule.NIR].matches == 2
    assert found["identifiant", IdRule.NIR].values == 40
    assert found["date_naissance", IdRule.BIRTH_DATE].matches == 40
    assert found["commentaire", IdRule.FREE_TEXT].matches == 40
    for finding in findings:
        assert 1 <= len(finding.examples) <= 3
        column = table[finding.column]
        # Every example is the mask of a value: no clear value ever comes out.
        assert all(example in {mask(v) for v in column} for example in finding.examples)
        assert not set(finding.examples) & set(column)


def test_findings_are_sorted_by_column_order_then_rule(tmp_path: Path) -> None:
    findings = find_identifiers(scan(tmp_path / "t.csv", _health_table()))
    order = list(_health_table())
    rules = list(IdRule)
    keys = [(order.index(f.column), rules.index(f.rule)) for f in findings]
    assert keys == sorted(keys)


def test_examples_are_the_masked_shapes_of_matching_values(tmp_path: Path) -> None:
    frame = scan(
        tmp_path / "t.csv",
        {"contact": ["Jean Dupont", "jean.dupont@exemple.fr", "06 12 34 56 78", "NA"]},
    )
    found = by_rule(find_identifiers(frame))
    assert found["contact", IdRule.EMAIL].examples == ("xxxx.xxxxxx@xxxxxxx.xx",)
    assert found["contact", IdRule.PHONE].examples == ("99 99 99 99 99",)
    assert found["contact", IdRule.EMAIL].values == 3  # "NA" is a missing value


def test_random_long_numbers_are_not_reported_for_their_chance_nir_keys(tmp_path: Path) -> None:
    rng = random.Random(3)
    numbers = [f"1{rng.randrange(10**14):014d}" for _ in range(2000)]
    chance = sum(nir_is_valid(n) for n in numbers)
    assert chance > 0  # about one in 97 has a valid key
    assert find_identifiers(scan(tmp_path / "t.csv", {"reference": numbers})) == []


def test_a_decimal_is_not_a_phone_number(tmp_path: Path) -> None:
    frame = scan(tmp_path / "t.csv", {"x": ["0.612345678", "0.1234567890", "0612345678"]})
    assert by_rule(find_identifiers(frame))["x", IdRule.PHONE].matches == 1


def test_five_digit_numbers_without_a_place_name_or_a_leading_zero_are_not_codes(
    tmp_path: Path,
) -> None:
    numbers = [str(n) for n in range(10_000, 99_999, 997)]
    assert find_identifiers(scan(tmp_path / "a.csv", {"montant": numbers})) == []
    # With a leading zero somewhere, nearly all of them codes: postal codes, even unnamed.
    codes = ["01000", *(["75015"] * 99)]
    found = by_rule(find_identifiers(scan(tmp_path / "b.csv", {"lieu_x": codes, "z": codes})))
    assert ("z", IdRule.POSTAL_CODE) in found
    assert ("lieu_x", IdRule.POSTAL_CODE) in found


def test_postal_codes_need_ninety_percent_of_the_values_under_a_place_name(
    tmp_path: Path,
) -> None:
    mostly = ["75015"] * 9 + ["inconnu"]
    partly = ["75015"] * 8 + ["inconnu"] * 2
    frame = scan(tmp_path / "t.csv", {"cp": mostly, "code_postal": partly})
    found = by_rule(find_identifiers(frame))
    assert found["cp", IdRule.POSTAL_CODE].matches == 9
    assert ("code_postal", IdRule.POSTAL_CODE) not in found


def test_corsican_letters_or_the_name_make_commune_codes(tmp_path: Path) -> None:
    frame = scan(
        tmp_path / "t.csv",
        {
            "code_postal": [
                "2A004",
                "75015",
                "13001",
            ],  # letters: not postal codes, whatever the name
            "code_insee": ["75115", "13201", "69123"],
            "cp": ["75015", "13001", "69003"],
        },
    )
    found = by_rule(find_identifiers(frame))
    assert ("code_postal", IdRule.COMMUNE_CODE) in found
    assert ("code_insee", IdRule.COMMUNE_CODE) in found
    assert ("cp", IdRule.POSTAL_CODE) in found
    assert not {("code_postal", IdRule.POSTAL_CODE), ("code_insee", IdRule.POSTAL_CODE)} & set(
        found
    )


def test_birth_dates_are_looked_for_only_under_a_birth_name(tmp_path: Path) -> None:
    dates = ["1985-03-12", "12/03/1985", "19850312", "1985"]
    frame = scan(
        tmp_path / "t.csv", {"naissance": dates, "date_admission": dates, "ddn": ["1985"] * 4}
    )
    found = by_rule(find_identifiers(frame))
    assert found["naissance", IdRule.BIRTH_DATE].matches == 3
    assert not [key for key in found if key[0] == "date_admission"]
    assert ("ddn", IdRule.BIRTH_DATE) not in found  # a year alone is not a full date
    assert ("ddn", IdRule.NAME) in found


def test_short_or_repeated_text_is_not_free_text(tmp_path: Path) -> None:
    label = "Adénocarcinome du poumon sans autre précision"
    frame = scan(
        tmp_path / "t.csv",
        {
            "libelle": [label] * 10,
            "court": [f"mot {i}" for i in range(10)],
            "notes": [f"{label}, vu le {i} mars par le docteur" for i in range(10)],
        },
    )
    found = by_rule(find_identifiers(frame))
    assert set(found) == {("notes", IdRule.FREE_TEXT)}


# --- the streaming query on files of every size ---------------------------------------------


def test_a_file_with_one_row(tmp_path: Path) -> None:
    frame = scan(tmp_path / "t.csv", {"nir": [nir("2690549588157")], "x": ["1"]})
    found = by_rule(find_identifiers(frame))
    assert set(found) == {("nir", IdRule.NAME), ("nir", IdRule.NIR)}
    assert found["nir", IdRule.NIR] == Finding("nir", IdRule.NIR, 1, 1, ("999999999999999",))


def test_a_header_only_file_has_name_findings_only(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("nom,code_postal,commentaire\n", encoding="utf-8")
    findings = find_identifiers(pl.scan_csv(path, infer_schema=False))
    assert findings == [Finding("nom", IdRule.NAME, 0, 0, ())]


def test_an_entirely_null_column_has_no_content_finding(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("telephone,code_postal,x\n,,1\n,,2\nNA,,3\n", encoding="utf-8")
    findings = find_identifiers(pl.scan_csv(path, infer_schema=False))
    assert findings == [Finding("telephone", IdRule.NAME, 0, 0, ())]


def test_a_large_file_is_read_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identifiers, "EXPRESSIONS_PER_PASS", 20)
    table = _health_table(rows=3000)
    found = by_rule(find_identifiers(scan(tmp_path / "t.csv", table)))
    assert found["identifiant", IdRule.NIR].matches == 2
    assert found["poste", IdRule.IPV4].matches == 3000


def test_only_the_named_columns_are_looked_at(tmp_path: Path) -> None:
    frame = scan(tmp_path / "t.csv", _health_table())
    findings = find_identifiers(frame, ["poste", "nombre_sejours"])
    assert [(f.column, f.rule) for f in findings] == [("poste", IdRule.IPV4)]
    assert find_identifiers(frame, []) == []
    with pytest.raises(ValueError, match="absente"):
        find_identifiers(frame, ["absente"])


def test_other_dtypes_are_read_as_text() -> None:
    frame = pl.LazyFrame(
        {
            "code_postal": [1000, 75015, 13001],  # an integer column lost the leading zero
            "securite_sociale": [int(nir("1850775123456")), int(nir("2690549588157")), 1],
            "date_of_birth": pl.Series(["1985-03-12", "1990-01-01", None]).str.to_date(),
            "poids": [70.5, 80.0, 65.2],
            "nom": [["a"], ["b"], ["c"]],  # nested: its name alone is read
        }
    )
    found = by_rule(find_identifiers(frame))
    assert found["code_postal", IdRule.POSTAL_CODE].matches == 3
    assert found["securite_sociale", IdRule.NIR].matches == 2
    assert found["date_of_birth", IdRule.BIRTH_DATE].matches == 2
    assert found["nom", IdRule.NAME] == Finding("nom", IdRule.NAME, 0, 0, ())
    assert not [key for key in found if key[0] == "poids"]


def test_a_column_named_like_a_pattern_is_read_as_itself() -> None:
    frame = pl.LazyFrame({"*": ["a@b.fr"], "^x$": ["1"], "x": ["06 12 34 56 78"]})
    found = by_rule(find_identifiers(frame))
    assert set(found) == {("*", IdRule.EMAIL), ("x", IdRule.PHONE)}


# --- plain shapes: columns scanned with one regex instead of every rule ------------------------


def _all_rules_on(values: list[str]) -> dict[str, list[bool]]:
    """Every content rule's matcher (as a column without a shape gets them) on these values."""
    plan = identifiers._Column(0, "valeur", pl.String())
    frame = pl.DataFrame({"valeur": values}).lazy()
    prepared = identifiers._prepare(frame, [plan])
    matchers = {str(k): e for k, e in plan.example_matchers().items()}
    found = prepared.select(e.fill_null(False).alias(k) for k, e in matchers.items()).collect()
    return {k: found[k].to_list() for k in found.columns}


@pytest.mark.parametrize("shape", identifiers.PLAIN_SHAPES)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_no_content_rule_can_match_a_value_of_a_plain_shape(
    shape: str, data: st.DataObject
) -> None:
    """What lets a column whose values all have a plain shape skip the rules: none can fire."""
    values = data.draw(st.lists(st.from_regex(shape, fullmatch=True), min_size=1, max_size=20))
    for rule, matched in _all_rules_on(values).items():
        assert not any(matched), (rule, [v for v, m in zip(values, matched, strict=True) if m])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.from_regex(identifiers.DIGITS_SHAPE, fullmatch=True), min_size=1, max_size=20))
def test_digits_need_only_the_number_rules(values: list[str]) -> None:
    """A column of digits is scanned for phones (whole value), NIRs and codes only: the text
    rules it skips cannot match digits, and a phone inside text is then the whole value."""
    found = _all_rules_on(values)
    kept = {str(k) for k in identifiers.DIGITS_RULES} | {"phone", "nir", "birth_date"}
    for rule in set(found) - kept:
        assert not any(found[rule]), rule
    phone_whole = pl.Series(values).str.contains(identifiers.PHONE).to_list()
    assert found["phone"] == phone_whole


@pytest.mark.parametrize(
    ("shape", "dates"),
    [
        (identifiers.DATE_SHAPE, True),
        (identifiers.NUMBER_SHAPE, False),
        (identifiers.WORD_SHAPE, False),
    ],
)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_the_date_facts_of_a_plain_shape_are_known_without_reading_them(
    shape: str, dates: bool, data: st.DataObject
) -> None:
    values = data.draw(st.lists(st.from_regex(shape, fullmatch=True), min_size=1, max_size=20))
    assert pl.Series(values).str.contains(_DAY_DATE).to_list() == [dates] * len(values)


def test_a_column_whose_later_values_leave_its_shape_is_read_again_with_every_rule() -> None:
    """The shape comes from the first rows: a phone number far down a column of small numbers is
    still found (the column is counted again with every rule)."""
    values = [str(i % 90) for i in range(5_000)] + ["06 12 34 56 78"]
    frame = pl.DataFrame({"rappel": values}).lazy()
    findings = find_identifiers(frame)
    assert [(f.column, f.rule) for f in findings] == [("rappel", IdRule.PHONE)]
    assert findings[0].matches == 1


@pytest.mark.parametrize(("distinct", "free_text"), [(1_960, False), (2_040, True)])
def test_free_text_close_to_its_distinct_bound_is_decided_on_an_exact_count(
    distinct: int, free_text: bool
) -> None:
    """Half the values distinct is the free-text rule's bound; the estimate of distinct values
    (5 to 15 % off under polars' streaming engine) is replaced by a count when it is close."""
    rows = 4_000
    values = [
        f"patient revu en consultation le matin, note numero {i % distinct}" for i in range(rows)
    ]
    frame = pl.DataFrame({"observations": values}).lazy()
    rules = {f.rule for f in find_identifiers(frame)}
    assert (IdRule.FREE_TEXT in rules) is free_text
