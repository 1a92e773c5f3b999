"""The release dossier kept for HDH: each step's facts on both routes, skipped steps with their
reason, people's words escaped in HTML and in Markdown, no secret and no identifier in it, the
same bytes when nothing changed, a page that loads nothing and opens in headless Chromium, and
the headless command."""

from __future__ import annotations

import dataclasses
import html
import re
import shutil
import subprocess
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hdh_wizard import __version__
from hdh_wizard.cli.main import main
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Environment, StepStatus
from hdh_wizard.core.release import AuditAction, AuditEntry, Release, StepRecord
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows.dossier import dossier_paths, write_dossier
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.i18n.formatting import format_datetime, format_size
from hdh_wizard.present.dossier import render_html, render_markdown
from tests.dossier_helpers import (
    CO_ADMIN,
    CONTRACT,
    DOC_TITLE,
    HOSTED_SHA,
    HOSTED_URL,
    ORGANIZATION,
    PAGE,
    PUBLISHED_AT,
    demo_patient_ids,
    later,
    route1_release,
    route2_release,
)
from tests.tui_helpers import ALICE, STAFF

FR = load_catalogue(Lang.FR)
EN = load_catalogue(Lang.EN)
CANARY = "hdhk-CANARY-7f3a9c1e5b2d4f60a8e1c3b5d7f9a1b3"
HOSTILE = "<script>alert(1)</script> [x](http://evil.example) | **gras** `code`"


def _documents(release: Release, lang: Lang = Lang.FR) -> tuple[str, str]:
    cat = load_catalogue(lang)
    return render_html(release, cat, __version__), render_markdown(release, cat, __version__)


def _as_read(html_text: str, md: str) -> tuple[str, str]:
    """Both documents as a reader sees them: HTML entities and Markdown escapes undone."""
    return html.unescape(html_text), re.sub(r"\\(.)", r"\1", md)


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


# --- the facts ------------------------------------------------------------------------------------


def test_route1_dossier_holds_each_steps_key_facts(tmp_path: Path) -> None:
    release = route1_release(tmp_path)

    written = write_dossier(release, tmp_path)

    assert written == dossier_paths(tmp_path)
    html_text, md = (p.read_text(encoding="utf-8") for p in written)
    published = release.record(StepId.INTEROPERABILITY).outputs["publish"]
    for text in _as_read(html_text, md):
        assert CONTRACT in text and ORGANIZATION in text and CO_ADMIN in text
        assert DOC_TITLE in text and PAGE in text
        assert FR.t("dossier.doc.quality_value", points=9, total=9, percent="100\u00a0%") in text
        assert format_size(release.measured_bytes or 0) in text
        for item in published:  # every deposited file with its size, SHA-256 and address
            assert item["sha256"] in text
            assert format_size(item["size"]) in text
        assert text.count(f"{PAGE.split('/datasets/')[0]}/fr/datasets/r/res-") >= len(published)
        assert FR.t("inspect.verdict.conform") in text
        assert FR.t("risk.criterion.inference") in text
        assert FR.t("dossier.anonymity.justified") in text
        assert format_datetime(datetime.fromisoformat(PUBLISHED_AT)) in text
        assert format_datetime(later(4)) in text  # when the contract was committed
        assert "Alice Martin (partenaire)" in text
        assert __version__ in text
        for step in workflow.active_steps(release):
            assert FR.t(step.title_key) in text
    # The risk report, beside the dossier in rapport/, linked by its relative path.
    assert 'href="analyse-risque-reidentification.html"' in html_text
    assert (written[0].parent / "analyse-risque-reidentification.html").is_file()
    assert "(<analyse-risque-reidentification.md>)" in md


def test_route2_dossier_shows_the_skipped_step_with_its_reason_and_hdh_staff(
    tmp_path: Path,
) -> None:
    release = route2_release(tmp_path, "Une seule table, assez petite pour être lue entière.")

    html_text, md = _documents(release)

    for text in _as_read(html_text, md):
        assert "Une seule table, assez petite pour être lue entière." in text
        assert FR.t("dossier.step.reason_skipped") in text
        assert FR.t("status.skipped") in text
        assert f"{STAFF.name} ({FR.t('role.hdh_staff')})" in text
        assert HOSTED_SHA in text
        assert FR.t("dossier.files.role.data") in text
        assert FR.t("route.hosted") in text
        assert FR.t("dossier.step.not_started") in text  # publication not done yet
    assert f'href="{HOSTED_URL}"' in html_text
    assert HOSTED_URL in md


def test_the_dossier_is_in_english_when_asked(tmp_path: Path) -> None:
    release = route1_release(tmp_path)

    html_text, md = _documents(release, Lang.EN)

    assert html_text.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert md.startswith(f"# {EN.t('dossier.title')} — {release.name}")
    assert format_datetime(later(4), Lang.EN) in md
    assert EN.t("dossier.section.audit") in md and FR.t("dossier.section.audit") not in md


def test_a_change_of_target_shows_the_steps_to_redo_and_why(tmp_path: Path) -> None:
    release = route1_release(tmp_path)
    moved = workflow.set_target(release, Environment.PRODUCTION, ALICE, later(40), confirmed=True)

    html_text, md = _as_read(*_documents(moved))

    for text in (html_text, md):
        assert FR.t("stale.target_changed") in text
        assert FR.t("status.stale") in text
        assert FR.t("dossier.audit.action.target_changed") in text
        assert FR.t("dossier.audit.action.marked_stale") in text
        assert FR.t("environment.production") in text
    assert '<a href="https://www.data.gouv.fr">' in _documents(moved)[0]


# --- what people type, and what must never be in it -----------------------------------------------


class _Tags(HTMLParser):
    """The tags of a page: those left open, the closings that match nothing, the attributes."""

    VOID = frozenset({"meta", "br", "hr", "img", "link", "input", "col", "wbr", "source"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.stray: list[str] = []
        self.seen: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.style = ""
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        self.in_style = tag == "style"
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.in_style = False
        if self.open and self.open[-1] == tag:
            self.open.pop()
        else:
            self.stray.append(tag)

    def handle_data(self, data: str) -> None:
        if self.in_style:
            self.style += data


def _parsed(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser


def test_typed_text_is_escaped_in_html_and_in_markdown(tmp_path: Path) -> None:
    release = route2_release(tmp_path, HOSTILE)
    release = dataclasses.replace(release, name=f"Cohorte {HOSTILE}")

    html_text, md = _documents(release)

    tags = _parsed(html_text)
    assert "script" not in tags.seen and "strong" not in tags.seen
    assert not [v for t, n, v in tags.attributes if n == "href" and "evil" in v]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert tags.open == [] and tags.stray == []
    assert "<script>" not in md and "[x](http" not in md and "**gras**" not in md
    assert r"\<script\>" in md and r"\[x\](http://evil.example) \|" in md
    audit = next(line for line in md.splitlines() if line.startswith("|") and "evil" in line)
    assert _unescaped_pipes(audit) == 6  # five cells: the reason's pipe splits nothing


def test_no_secret_nor_identifier_reaches_the_dossier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HDH_WIZARD_API_KEY", CANARY)
    release = route1_release(tmp_path, justification=f"Aucun risque, clé {CANARY}. " * 3)
    ids = demo_patient_ids(tmp_path)
    assert len(ids) > 100
    # Secrets and identifiers put by hand where the steps keep their outputs and the audit.
    steps = dict(release.steps)
    for step_id in (StepId.ACCOUNT, StepId.DEPOSIT, StepId.CONTRACT, StepId.ANONYMITY):
        record = steps[step_id]
        outputs = {**record.outputs, "api_key": CANARY, "note": ids[0], "storage_secret": CANARY}
        steps[step_id] = dataclasses.replace(record, outputs=outputs)
    anonymity = steps[StepId.ANONYMITY].outputs
    for verdict in anonymity["criteria"].values():  # the partner's words quote a patient
        verdict["justification"] = f"Seul {ids[3]} est unique ; {verdict['justification']}"
    leak = AuditEntry(later(20), ALICE, AuditAction.COMMITTED, StepId.ACCOUNT, CANARY + ids[1])
    draft = AuditEntry(later(21), ALICE, AuditAction.DRAFT_SAVED, StepId.DEPOSIT, ids[2])
    release = dataclasses.replace(release, steps=steps, audit=(*release.audit, leak, draft))

    rendered = _documents(release)  # what the document chooses to say, before any masking
    written = [p.read_text(encoding="utf-8") for p in write_dossier(release, tmp_path)]

    for text in (*_as_read(*rendered), *_as_read(*written)):
        assert CANARY not in text and CANARY[:20] not in text
        assert not [value for value in ids if value in text]
        assert FR.t("dossier.anonymity.justified") in text  # the verdict, not the words


def test_a_secret_typed_where_words_are_shown_is_masked_when_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HDH_WIZARD_API_KEY", CANARY)
    release = route2_release(tmp_path, f"Pas utile, clé {CANARY}")

    written = [p.read_text(encoding="utf-8") for p in write_dossier(release, tmp_path)]

    assert CANARY in _documents(release)[1]  # the reason is shown, as typed…
    for text in written:  # …but the environment's key never leaves the program
        assert "Pas utile, clé" in text and CANARY not in text


def test_hand_edited_outputs_show_dashes_and_never_crash(tmp_path: Path) -> None:
    release = route1_release(tmp_path)
    odd: dict[StepId, dict[str, object]] = {
        StepId.ANONYMITY: {
            "criteria": "tout va bien",
            "tables": [1, {"table": 5, "criteria": []}],
            "attestation": ["x"],
            "documents": ["../../etc/passwd.html", "rapport/javascript:alert(1).html", 3],
            "replacements": [{"path": None, "size": "1 Go", "sha256": "pas un hash"}],
        },
        StepId.INTEROPERABILITY: {"verdicts": [], "publish": [{"size": -4, "sha256": 7}]},
        StepId.VOLUME: {"total_bytes": "beaucoup", "file_count": True, "route": "avion"},
        StepId.CONTRACT: {"reference": 42, "signed_on": "hier"},
        StepId.DEPOSIT: {"documentation": "x", "dataset": {"site": 1, "files": "tous"}},
        StepId.PUBLICATION: {"site": "s", "dataset_id": "d", "page": "javascript:alert(1)"},
        StepId.CO_ADMIN: {"site": [], "accepted": "oui"},
    }
    steps = dict(release.steps)
    for step_id, outputs in odd.items():
        steps[step_id] = StepRecord(StepStatus.DONE, outputs, "", None, None)
    release = dataclasses.replace(release, steps=steps)

    for lang in Lang:
        html_text, md = _documents(release, lang)
        tags = _parsed(html_text)
        hrefs = [v for _, n, v in tags.attributes if n == "href"]
        assert not [h for h in hrefs if "javascript" in h or ".." in h], hrefs
        assert tags.open == [] and tags.stray == []
        assert "—" in md and "beaucoup" not in md and "pas un hash" not in md


# --- written once, the same bytes while nothing changes -------------------------------------------


def test_writing_again_without_change_gives_the_same_bytes(tmp_path: Path) -> None:
    release = route1_release(tmp_path)
    first = write_dossier(release, tmp_path)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in first}

    again = write_dossier(release, tmp_path)

    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in again} == before
    reopened, _ = workflow.undo_step(release, StepId.PUBLICATION, ALICE, later(30))
    write_dossier(reopened, tmp_path)
    changed = {p: p.read_bytes() for p in first}
    assert all(changed[p] != before[p][0] for p in first)
    assert format_datetime(later(30)).encode() in changed[first[1]]


# --- the page -------------------------------------------------------------------------------------


def test_the_page_is_well_formed_and_loads_nothing(tmp_path: Path) -> None:
    release = route1_release(tmp_path)
    html_text = write_dossier(release, tmp_path)[0].read_text(encoding="utf-8")

    tags = _parsed(html_text)

    assert tags.open == [] and tags.stray == []
    assert tags.seen[:2] == ["html", "head"] and "main" in tags.seen and "table" in tags.seen
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(tags.seen)
    assert not [(t, n) for t, n, _ in tags.attributes if n in ("src", "srcset", "style")]
    assert "url(" not in tags.style and "@import" not in tags.style and tags.style.strip()
    csp = next(v for _, n, v in tags.attributes if n == "content" and "default-src" in v)
    assert "default-src 'none'" in csp


def test_the_dossier_opens_in_headless_chromium(tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    release = route1_release(tmp_path)
    page = write_dossier(release, tmp_path)[0]

    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout

    assert f"<title>{FR.t('dossier.title')} — {release.name}</title>" in dom
    assert CONTRACT in dom and "</table>" in dom


# --- the command ----------------------------------------------------------------------------------


def test_dossier_command_writes_both_files_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    route1_release(tmp_path)

    code = main(["dossier", str(tmp_path)])

    out = capsys.readouterr().out
    assert code == 0
    for path in dossier_paths(tmp_path):
        assert path.is_file()
        assert FR.t("dossier.written", path=str(path)) in out
    code = main(["--lang", "en", "dossier", str(tmp_path)])
    assert code == 0
    assert EN.t("dossier.title") in dossier_paths(tmp_path)[1].read_text(encoding="utf-8")


def test_dossier_command_on_a_folder_without_project_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["dossier", str(tmp_path)])

    captured = capsys.readouterr()
    assert code == 1
    assert FR.t("error.no_project", folder=str(tmp_path)) in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not (tmp_path / "rapport").exists()
