"""What a demanding partner or a hostile environment does to the data.gouv.fr part of the wizard,
against the real udata: `hdh-wizard publish` with no key, a wrong key, half-written state, files
that change or vanish, a portal switched, objects deleted on the server, the server failing
mid-upload; and the portal screens pasted into, pressed twice, left or quit mid-upload, shown
at 80x24.

Throughout: exit 1 with an explanation (never a traceback), the state never claims what the server
does not hold, and the API key appears nowhere (state, output, crash reports, error texts).
"""

from __future__ import annotations

import io
import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import keyring.backends.fail
import pytest
import yaml
from textual import events
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from hdh_wizard import project as projects
from hdh_wizard.cli import publish as publish_cli
from hdh_wizard.cli.main import main
from hdh_wizard.cli.publish import run_publish
from hdh_wizard.core import workflow
from hdh_wizard.core.checks import all_ok
from hdh_wizard.core.documentation import (
    Documentation,
    TemporalCoverage,
    description_template,
    documentation_to_outputs,
)
from hdh_wizard.core.enums import Environment, StepStatus
from hdh_wizard.core.portal_records import (
    AccountRecord,
    OrganizationRecord,
    account_of,
    dataset_of,
    publication_of,
)
from hdh_wizard.core.release import Release
from hdh_wizard.core.state_file import STATE_FILE_NAME
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.session import PortalSession
from hdh_wizard.services.datagouv.upload import file_digests
from hdh_wizard.services.secrets import SecretStore
from hdh_wizard.ui.app import HdhWizardApp
from hdh_wizard.ui.steps.account import AccountStepScreen
from hdh_wizard.ui.steps.base import StepScreen
from hdh_wizard.ui.steps.deposit import DepositStepScreen
from hdh_wizard.ui.steps.organization import OrganizationStepScreen
from tests.portal_helpers import new_organization, prerequisites_done
from tests.tui_helpers import ALICE, NOW, make_app, make_demo_project, until
from tests.udata_local.fault_proxy import FaultProxy, _Rule
from tests.udata_local.server import OPEN_SCIENCE, PARTNER, UdataServer

CAT = load_catalogue(Lang.FR)
CHUNK = 64 * 1024  # the slides (200 to 260 kB) go in 4 parts each
WHOLE = None  # the client's default chunk size: each file in one request (chunks not under test)
UPLOAD = r"/upload/$"
TABLE = "donnees/cohorte_melanome.csv"
SLIDE = "donnees/lames/3oqyr6yi.tif"  # the first slide sent (name order)
FILES_SENT = 6  # the table, the three slides, the data dictionary and the table's schema
WRONG_KEY = "udata_" + "5e" * 20
SECRETS = (PARTNER.api_key, OPEN_SCIENCE.api_key, WRONG_KEY)

DESCRIPTION = (
    "## Présentation\nCohorte synthétique de mélanome, pour éprouver la publication sans écran.\n\n"
    "## Méthode d'anonymisation\nDonnées synthétiques.\n\n## Comment citer\nhdh-wizard, 2026.\n"
)
GOOD_DOC = Documentation(
    title="Cohorte mélanome (entrées hostiles)",
    description=DESCRIPTION,
    license="lov2",
    tags=("ctest", "health-data-hub", "hdh", "melanoma"),
    temporal=TemporalCoverage(NOW.date().replace(year=2012), NOW.date().replace(year=2016)),
    frequency="punctual",
)


# --- set-up --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Made:
    """What a test prepared on the server: its organization, and its dataset's unique title."""

    org_id: str
    title: str


_SHARED_ORGANIZATIONS: dict[str, str] = {}


def shared_organization(server: UdataServer) -> str:
    """One organization for the whole file: the partner's organizations are all read at each
    run (`/me/` then one request each), so one per test would slow every later test."""
    if server.url not in _SHARED_ORGANIZATIONS:
        _SHARED_ORGANIZATIONS[server.url] = new_organization(server, "Consortium entrées hostiles")
    return _SHARED_ORGANIZATIONS[server.url]


def prepare(
    folder: Path,
    server: UdataServer,
    site: str | None = None,
    *,
    org_id: str | None = None,
    org_site: str | None = None,
    doc: Documentation | None = GOOD_DOC,
    organization: bool = True,
) -> Made:
    """The demo project aimed at `site` (the server itself, or a proxy in front of it), with what
    the wizard leaves for `publish`: prerequisites done, an organization, the documentation,
    whose title is made unique (the organization is shared by the tests)."""
    site = site or server.url
    project = make_demo_project(folder)
    release = workflow.set_target(
        project.release, Environment.CUSTOM, ALICE, NOW, url=site, confirmed=True
    )
    release = prerequisites_done(release)
    org_id = org_id or shared_organization(server)
    if organization:
        record = OrganizationRecord(org_site or site, org_id, "Consortium test", "CTEST")
        release = workflow.save_draft(release, StepId.ORGANIZATION, record.to_outputs(), ALICE, NOW)
    title = f"{GOOD_DOC.title} {uuid.uuid4().hex[:8]}"
    if doc is not None:
        if doc.title.strip():
            doc = replace(doc, title=title)
        outputs = {"documentation": documentation_to_outputs(doc)}
        release = workflow.save_draft(release, StepId.DEPOSIT, outputs, ALICE, NOW)
    projects.save(project, release)
    return Made(org_id, title)


def no_keyring() -> SecretStore:
    """Keys in memory only: the tests never touch the machine's keyring."""
    return SecretStore(environ={}, backend=keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]


def portal_for(
    site: str,
    key: str | None = PARTNER.api_key,
    *,
    timeout: float = 30.0,
    make: Callable[..., DataGouvClient] = DataGouvClient,
) -> PortalSession:
    """A session holding `key` for `site`; retries do not wait (the server is local)."""

    def client(where: str, api_key: str | None) -> DataGouvClient:
        return make(where, api_key, timeout=timeout, sleep=lambda _seconds: None)

    portal = PortalSession(no_keyring(), make_client=client)
    if key:
        portal.remember(site, key, keep=False)
    return portal


Hook = Callable[[str, str, Mapping[str, str], httpx.Response], None]


class HookedClient(DataGouvClient):
    """The real client, with a hook called after each answer: to act at an exact moment of an
    upload (the server goes down, the file changes) without guessing with sleeps."""

    def __init__(self, *args: Any, hook: Hook, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hook = hook

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, Any] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        response = super().send(
            method, path, json=json, params=params, data=data, files=files, timeout=timeout
        )
        self.hook(method, path, data or {}, response)
        return response


def hooked(hook: Hook) -> Callable[..., DataGouvClient]:
    def make(*args: Any, **kwargs: Any) -> DataGouvClient:
        return HookedClient(*args, hook=hook, **kwargs)

    return make


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def publish(
    capsys: pytest.CaptureFixture[str],
    folder: Path,
    portal: PortalSession,
    *,
    yes: bool = False,
    chunk_size: int | None = CHUNK,
) -> Run:
    code = run_publish(CAT, folder, yes=yes, portal=portal, chunk_size=chunk_size)
    captured = capsys.readouterr()
    run = Run(code, captured.out, captured.err)
    assert_explained(run)
    return run


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    code = main(["--lang", "fr", *args])
    captured = capsys.readouterr()
    run = Run(code, captured.out, captured.err)
    assert_explained(run)
    return run


def assert_explained(run: Run) -> None:
    """Whatever happened: no traceback, no crash report, and no key in what was printed."""
    assert "Traceback" not in run.text, run.text
    assert run.code in (0, 1), run.text  # 3 is a crash
    assert_no_secret(run.text)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
        assert secret[-12:] not in text


@pytest.fixture(autouse=True)
def nothing_secret_left_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Crash reports land in tmp_path; after each test, no file there holds a key."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    for variable in ("HDH_WIZARD_API_KEY", "HDH_WIZARD_API_URL"):
        monkeypatch.delenv(variable, raising=False)
    yield
    for path in tmp_path.rglob("*"):
        if path.is_file() and not path.is_symlink() and "donnees" not in path.parts:
            content = path.read_bytes()
            for secret in SECRETS:
                assert secret.encode() not in content, path
                assert secret[-12:].encode() not in content, path


@pytest.fixture
def proxy(udata_server: UdataServer) -> Iterator[FaultProxy]:
    with FaultProxy(udata_server.url) as running:
        yield running


def delay_form(proxy: FaultProxy, seconds: float, fields: Mapping[str, str | None]) -> None:
    """Delay the next upload POST whose form has these fields (None: absent) before it reaches
    udata. FaultProxy.delay matches paths only; its rule type matches forms too."""
    rule = _Rule(re.compile(UPLOAD), "POST", 1, fields=fields)
    rule.seconds = seconds
    with proxy._lock:
        proxy._delays.append(rule)


# --- what the server holds, read with the API ---------------------------------------------------


def server_get(
    server: UdataServer, path: str, key: str | None = PARTNER.api_key, **params: Any
) -> Any:
    headers = {"X-API-KEY": key} if key else {}
    response = httpx.get(f"{server.api}{path}", params=params, headers=headers, timeout=30)
    response.raise_for_status()
    return response.json()


def live_datasets(
    server: UdataServer, made: Made, key: str | None = PARTNER.api_key
) -> list[dict[str, Any]]:
    """The test's datasets not deleted, as the key's user sees them (the partner, an admin,
    sees the private ones too; None: as anyone sees them)."""
    found: list[dict[str, Any]] = []
    for page in range(1, 100):
        path = f"/organizations/{made.org_id}/datasets/"
        body = server_get(server, path, key, page=page, page_size=50)
        found += [d for d in body["data"] if not d.get("deleted") and d["title"] == made.title]
        if page * 50 >= body["total"]:
            return found
    raise AssertionError("too many datasets")


def server_dataset(server: UdataServer, dataset_id: str) -> dict[str, Any]:
    body: dict[str, Any] = server_get(server, f"/datasets/{dataset_id}/")
    return body


def state(folder: Path) -> Release:
    return projects.read_project(folder)


def state_text(folder: Path) -> str:
    return (folder / STATE_FILE_NAME).read_text(encoding="utf-8")


def status(folder: Path, step: StepId) -> StepStatus:
    return state(folder).record(step).status


def deposited_id(folder: Path) -> str:
    record = dataset_of(state(folder))
    assert record is not None
    return record.dataset_id


def assert_published_whole(folder: Path, server: UdataServer) -> dict[str, Any]:
    """The state says published, and the server holds it: public, each local file once, same
    size and SHA-1 as here."""
    release = state(folder)
    for step in (StepId.ACCOUNT, StepId.ORGANIZATION, StepId.DEPOSIT, StepId.PUBLICATION):
        assert release.record(step).status is StepStatus.DONE, step
    record = dataset_of(release)
    assert record is not None
    dataset = server_dataset(server, record.dataset_id)
    assert dataset["private"] is False and not dataset.get("deleted")
    resources = {r["id"]: r for r in dataset["resources"]}
    assert len(resources) == len(record.files) == FILES_SENT
    for deposited in record.files:
        resource = resources[deposited.resource_id]
        digests = file_digests(folder / deposited.path)
        assert resource["filesize"] == digests.size, deposited.path
        assert resource["checksum"]["value"] == digests.sha1, deposited.path
    return dataset


def edit_state(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """As a partner editing the YAML by hand."""
    path = folder / STATE_FILE_NAME
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def part_requests(proxy: FaultProxy, upload_uuid: str | None = None) -> list[int]:
    return [
        int(r.fields["partindex"])
        for r in proxy.requests("POST", UPLOAD)
        if "partindex" in r.fields and (upload_uuid is None or r.fields["uuid"] == upload_uuid)
    ]


# =================================================================================================
# hdh-wizard publish: what it is given
# =================================================================================================


def test_publish_refuses_without_key_and_says_how_to_give_one(
    tmp_path: Path,
    udata_server: UdataServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mine = prepare(tmp_path, udata_server)
    # The command's own key lookup, with a machine that has no keyring at all.
    monkeypatch.setattr(
        publish_cli,
        "SecretStore",
        lambda: SecretStore(backend=keyring.backends.fail.Keyring()),  # type: ignore[no-untyped-call]
    )

    run = cli(capsys, "publish", str(tmp_path))

    assert run.code == 1
    assert "HDH_WIZARD_API_KEY" in run.err
    assert udata_server.url in run.err
    assert status(tmp_path, StepId.ACCOUNT) is not StepStatus.DONE
    assert status(tmp_path, StepId.DEPOSIT) is not StepStatus.DONE
    assert live_datasets(udata_server, mine) == []


def test_publish_takes_the_key_from_the_environment_with_spaces_and_newline_around_it(
    tmp_path: Path,
    udata_server: UdataServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepare(tmp_path, udata_server)
    monkeypatch.setattr(
        publish_cli,
        "SecretStore",
        lambda: SecretStore(backend=keyring.backends.fail.Keyring()),  # type: ignore[no-untyped-call]
    )
    monkeypatch.setenv("HDH_WIZARD_API_KEY", f"  {PARTNER.api_key} \n")
    monkeypatch.setenv("HDH_WIZARD_API_URL", udata_server.url)  # the key may go there

    run = cli(capsys, "publish", str(tmp_path))

    assert run.code == 0, run.err
    assert_published_whole(tmp_path, udata_server)
    account = account_of(state(tmp_path))
    assert account is not None and account.key_source == "environment"


def test_publish_with_a_wrong_key_is_refused_explained_and_creates_nothing(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = prepare(tmp_path, udata_server)

    run = publish(capsys, tmp_path, portal_for(udata_server.url, WRONG_KEY))

    assert run.code == 1
    assert CAT.t("datagouv.error.unauthorized") in run.err
    assert status(tmp_path, StepId.ACCOUNT) is not StepStatus.DONE
    assert live_datasets(udata_server, mine) == []


def test_publish_with_a_key_holding_a_line_break_never_prints_it(
    tmp_path: Path,
    udata_server: UdataServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `export HDH_WIZARD_API_KEY="$(cat keys.txt)"` with the old and the new key in the file.
    prepare(tmp_path, udata_server)
    monkeypatch.setattr(
        publish_cli,
        "SecretStore",
        lambda: SecretStore(backend=keyring.backends.fail.Keyring()),  # type: ignore[no-untyped-call]
    )
    monkeypatch.setenv("HDH_WIZARD_API_KEY", f"{WRONG_KEY}\n{PARTNER.api_key}")
    monkeypatch.setenv("HDH_WIZARD_API_URL", udata_server.url)  # the key may go there

    code = main(["--lang", "fr", "publish", str(tmp_path)])
    err = capsys.readouterr().err

    assert code == 1
    assert_no_secret(err)
    assert CAT.t("datagouv.error.unauthorized") in err  # a bad key, not "the network is down"


@pytest.mark.parametrize("org_site", [None, "https://demo.data.gouv.fr"], ids=["none", "other"])
def test_publish_stops_when_no_organization_was_chosen_on_this_portal(
    tmp_path: Path,
    udata_server: UdataServer,
    capsys: pytest.CaptureFixture[str],
    org_site: str | None,
) -> None:
    mine = prepare(tmp_path, udata_server, organization=org_site is not None, org_site=org_site)

    run = publish(capsys, tmp_path, portal_for(udata_server.url))

    assert run.code == 1
    assert CAT.t("publish.stop.organization") in run.err
    assert status(tmp_path, StepId.DEPOSIT) is not StepStatus.DONE
    assert live_datasets(udata_server, mine) == []


def test_publish_refuses_an_organization_the_account_is_not_a_member_of(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # The state names an organization of someone else (copied from a colleague's project).
    with DataGouvClient(udata_server.url, OPEN_SCIENCE.api_key) as other:
        foreign = other.create_organization(
            f"Organisation d'autrui {uuid.uuid4().hex[:6]}", "Une organisation d'un autre compte."
        )
    prepare(tmp_path, udata_server, org_id=foreign.id)

    run = publish(capsys, tmp_path, portal_for(udata_server.url))

    assert run.code == 1
    assert CAT.t("publish.stop.not_member", name="Consortium test") in run.err
    assert dataset_of(state(tmp_path)) is None


def test_publish_refuses_when_the_documentation_was_never_written(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = prepare(tmp_path, udata_server, doc=None)

    run = publish(capsys, tmp_path, portal_for(udata_server.url))

    assert run.code == 1
    assert CAT.t("publish.stop.documentation") in run.err
    assert live_datasets(udata_server, mine) == []


BAD_DOCS = {
    "template_placeholders": replace(
        GOOD_DOC, description=description_template("Cohorte test", None, Lang.FR)
    ),
    "no_title": replace(GOOD_DOC, title="   "),
    # udata would save it silently as "notspecified".
    "unknown_licence": replace(GOOD_DOC, license="cc-by-99"),
    # udata would swap the dates silently.
    "end_before_start": replace(
        GOOD_DOC,
        temporal=TemporalCoverage(NOW.date().replace(year=2016), NOW.date().replace(year=2012)),
    ),
    "bad_contact_email": replace(GOOD_DOC, contact_email="alice.martin@"),
}


@pytest.mark.parametrize("name", sorted(BAD_DOCS))
def test_publish_refuses_documentation_the_server_would_refuse_or_misread(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    mine = prepare(tmp_path, udata_server, doc=BAD_DOCS[name])

    run = publish(capsys, tmp_path, portal_for(udata_server.url))

    assert run.code == 1
    assert CAT.t("publish.stop.documentation_incomplete", count=1) in run.err
    assert live_datasets(udata_server, mine) == []  # nothing sent before it is right


# =================================================================================================
# hdh-wizard publish: the files under it
# =================================================================================================


def _delete(path: Path) -> None:
    path.unlink()


def _directory_instead(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "LISEZMOI.txt").write_text("un dossier à la place du fichier\n")


def _dangling_link(path: Path) -> None:
    path.unlink()
    path.symlink_to(path.with_name("parti-ailleurs.csv"))


def _fifo_instead(path: Path) -> None:
    # As root, chmod 000 does not stop reading: a named pipe is a file that cannot be read whole.
    path.unlink()
    os.mkfifo(path)


BREAKAGES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "slide_deleted": (SLIDE, _delete),
    "table_replaced_by_a_directory": (TABLE, _directory_instead),
    "table_a_dangling_link": (TABLE, _dangling_link),
    "table_replaced_by_a_named_pipe": (TABLE, _fifo_instead),
}


# Breakages after a publication (which must stay as it is), or before the first one.
PUBLISHED_FIRST = ("slide_deleted", "table_replaced_by_a_directory")


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_publish_after_a_data_file_vanished_stops_and_leaves_the_published_dataset_alone(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    mine = prepare(tmp_path, udata_server)
    portal = portal_for(udata_server.url)
    published = name in PUBLISHED_FIRST
    if published:
        assert publish(capsys, tmp_path, portal, chunk_size=WHOLE).code == 0
        before = assert_published_whole(tmp_path, udata_server)
    stored, breakage = BREAKAGES[name]
    breakage(tmp_path / stored)

    run = publish(capsys, tmp_path, portal, chunk_size=WHOLE)

    assert run.code == 1
    if published:
        after = server_dataset(udata_server, before["id"])
        assert [r["id"] for r in after["resources"]] == [r["id"] for r in before["resources"]]
        assert after["private"] is False  # nothing withdrawn, nothing deleted on the server
    else:
        assert all(d["private"] for d in live_datasets(udata_server, mine))
    assert status(tmp_path, StepId.PUBLICATION) is not StepStatus.DONE or published


def test_publish_after_a_data_file_vanished_names_the_file(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    prepare(tmp_path, udata_server)
    _directory_instead(tmp_path / TABLE)

    run = publish(capsys, tmp_path, portal_for(udata_server.url))

    assert run.code == 1
    assert TABLE in run.err


def test_publish_stops_when_a_file_changes_during_its_upload_then_sends_the_new_version(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    prepare(tmp_path, udata_server)
    slide = tmp_path / SLIDE
    changed: list[str] = []

    def rewrite_slide_after_its_second_part(
        method: str, path: str, form: Mapping[str, str], response: httpx.Response
    ) -> None:
        if form.get("partindex") == "1" and not changed:
            changed.append(form["uuid"])
            with slide.open("ab") as handle:  # an export still being written
                handle.write(b"\0" * 1000)

    run = publish(
        capsys,
        tmp_path,
        portal_for(udata_server.url, make=hooked(rewrite_slide_after_its_second_part)),
    )

    assert run.code == 1
    assert CAT.t("datagouv.error.file_changed") in run.err
    assert status(tmp_path, StepId.DEPOSIT) is StepStatus.IN_PROGRESS
    record = dataset_of(state(tmp_path))
    assert record is not None
    assert SLIDE not in {f.path for f in record.files}  # not claimed as sent

    # The data changed: the partner runs the checks again, then the command.
    project, _report = projects.open_project(tmp_path, None, NOW)
    projects.save(project, prerequisites_done(project.release))
    run = publish(capsys, tmp_path, portal_for(udata_server.url))

    assert run.code == 0, run.err
    dataset = assert_published_whole(tmp_path, udata_server)
    assert dataset["id"] == record.dataset_id  # the same draft, completed


def test_publish_after_a_file_was_only_touched_mid_upload_starts_that_file_over(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str], proxy: FaultProxy
) -> None:
    # A backup tool resets the modification time while the slide is being sent.
    prepare(tmp_path, udata_server, proxy.url)
    slide = tmp_path / SLIDE

    def touch_slide(
        method: str, path: str, form: Mapping[str, str], response: httpx.Response
    ) -> None:
        if form.get("partindex") == "1":
            stat = slide.stat()
            os.utime(slide, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    run = publish(capsys, tmp_path, portal_for(proxy.url, make=hooked(touch_slide)))
    assert run.code == 1
    assert CAT.t("datagouv.error.file_changed") in run.err
    proxy.clear()

    run = publish(capsys, tmp_path, portal_for(proxy.url))

    assert run.code == 0, run.err
    assert_published_whole(tmp_path, udata_server)
    slide_uploads = {r.fields["uuid"] for r in proxy.requests("POST", UPLOAD) if "uuid" in r.fields}
    # The three slides go in parts (the table, the dictionary and the schema in one request
    # each): the touched slide started over, under a new upload, with the other two.
    assert len(slide_uploads) == 3


# =================================================================================================
# hdh-wizard publish: a state edited by hand, a portal switched, objects removed on the server
# =================================================================================================


def _dataset_outputs(data: dict[str, Any]) -> dict[str, Any]:
    outputs: dict[str, Any] = data["steps"]["deposit"]["outputs"]
    return outputs


def _garbage_fields(data: dict[str, Any]) -> None:
    _dataset_outputs(data)["dataset"] = {
        "site": data["target"]["url"],
        "dataset_id": "000000000000000000000000",
        "files": ["x", {"path": TABLE, "resource_id": 42, "size": "grand"}, None],
        "uploads": {TABLE: {"uuid": "pas-un-uuid", "done_parts": -3}, SLIDE: [1, 2], "": None},
    }


def _garbage_id(data: dict[str, Any]) -> None:
    _dataset_outputs(data)["dataset"] = {"site": data["target"]["url"], "dataset_id": "../../me/"}


def _garbage_upload_of_another_dataset(data: dict[str, Any]) -> None:
    _dataset_outputs(data)["dataset"] = {
        "site": data["target"]["url"],
        "dataset_id": 12345,
        "uploads": {
            SLIDE: {
                "uuid": str(uuid.uuid4()),
                "filename": "3oqyr6yi-00000000.tiff",
                "size": 212208,
                "mtime_ns": 1,
                "chunk_size": CHUNK,
                "total_parts": 4,
                "done_parts": 4,
                "dataset_id": "ailleurs",
                "resource_id": None,
            }
        },
    }


GARBAGE = {
    "wrong_types_everywhere": _garbage_fields,
    "an_id_that_is_a_path": _garbage_id,
    "an_upload_of_another_dataset": _garbage_upload_of_another_dataset,
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_publish_survives_garbage_hand_written_in_the_draft_dataset_record(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    mine = prepare(tmp_path, udata_server)
    edit_state(tmp_path, GARBAGE[name])

    run = publish(capsys, tmp_path, portal_for(udata_server.url), chunk_size=WHOLE)

    assert run.code == 0, run.err
    assert_published_whole(tmp_path, udata_server)
    assert len(live_datasets(udata_server, mine)) == 1


def test_publish_recovers_when_the_finished_deposit_names_a_dataset_the_server_does_not_know(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = prepare(tmp_path, udata_server)
    portal = portal_for(udata_server.url)
    assert publish(capsys, tmp_path, portal, chunk_size=WHOLE).code == 0
    old = deposited_id(tmp_path)

    def lost_id(data: dict[str, Any]) -> None:
        _dataset_outputs(data)["dataset"]["dataset_id"] = "000000000000000000000000"

    edit_state(tmp_path, lost_id)  # or a dataset purged on the server
    run = publish(capsys, tmp_path, portal, chunk_size=WHOLE)

    assert run.code == 0, run.err
    assert_published_whole(tmp_path, udata_server)
    assert {d["id"] for d in live_datasets(udata_server, mine)} == {old, deposited_id(tmp_path)}


def test_publish_recreates_the_dataset_deleted_on_the_server_between_runs(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = prepare(tmp_path, udata_server)
    portal = portal_for(udata_server.url)
    assert publish(capsys, tmp_path, portal, chunk_size=WHOLE).code == 0
    old = deposited_id(tmp_path)
    with DataGouvClient(udata_server.url, PARTNER.api_key) as partner:
        partner.delete_dataset(old)

    run = publish(capsys, tmp_path, portal, chunk_size=WHOLE)

    assert run.code == 0, run.err
    assert deposited_id(tmp_path) != old
    assert_published_whole(tmp_path, udata_server)
    assert [d["id"] for d in live_datasets(udata_server, mine)] == [deposited_id(tmp_path)]


def test_publish_recreates_a_draft_deleted_on_the_server_before_the_deposit_finished(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str], proxy: FaultProxy
) -> None:
    mine = prepare(tmp_path, udata_server, proxy.url)
    proxy.fail("POST", UPLOAD, 423, times=None)  # maintenance: the draft exists, no file sent
    assert publish(capsys, tmp_path, portal_for(proxy.url), chunk_size=WHOLE).code == 1
    old = deposited_id(tmp_path)
    proxy.clear()
    with DataGouvClient(udata_server.url, PARTNER.api_key) as partner:
        partner.delete_dataset(old)

    run = publish(capsys, tmp_path, portal_for(proxy.url), chunk_size=WHOLE)

    assert run.code == 0, run.err
    assert deposited_id(tmp_path) != old
    assert_published_whole(tmp_path, udata_server)
    assert [d["id"] for d in live_datasets(udata_server, mine)] == [deposited_id(tmp_path)]


def test_publish_sends_again_a_resource_deleted_by_hand_on_the_server(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    prepare(tmp_path, udata_server)
    portal = portal_for(udata_server.url)
    assert publish(capsys, tmp_path, portal, chunk_size=WHOLE).code == 0
    record = dataset_of(state(tmp_path))
    assert record is not None
    removed = next(f for f in record.files if f.path == SLIDE)
    with DataGouvClient(udata_server.url, PARTNER.api_key) as partner:
        partner.delete_resource(record.dataset_id, removed.resource_id)

    run = publish(capsys, tmp_path, portal, chunk_size=WHOLE)

    assert run.code == 0, run.err
    dataset = assert_published_whole(tmp_path, udata_server)
    assert dataset["id"] == record.dataset_id
    again = dataset_of(state(tmp_path))
    assert again is not None
    resent = again.file(SLIDE)
    assert resent is not None and resent.resource_id != removed.resource_id
    kept = {f.path: f.resource_id for f in again.files if f.path != SLIDE}
    assert kept == {f.path: f.resource_id for f in record.files if f.path != SLIDE}


def test_publish_sends_again_a_file_replaced_on_the_server_by_another_of_the_same_size(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    prepare(tmp_path, udata_server)
    portal = portal_for(udata_server.url)
    assert publish(capsys, tmp_path, portal, chunk_size=WHOLE).code == 0
    record = dataset_of(state(tmp_path))
    assert record is not None
    table = record.file(TABLE)
    assert table is not None
    impostor = tmp_path / "autre" / "cohorte_melanome.csv"  # a colleague's older export
    impostor.parent.mkdir()
    impostor.write_bytes(b"x" * table.size)
    with DataGouvClient(udata_server.url, PARTNER.api_key) as colleague:
        colleague.upload_file(record.dataset_id, impostor, resource_id=table.resource_id)

    publish(capsys, tmp_path, portal, chunk_size=WHOLE)
    publish(capsys, tmp_path, portal, chunk_size=WHOLE)  # "run the command again"

    assert_published_whole(tmp_path, udata_server)  # same size and SHA-1 as here, each file


def test_publish_while_another_wizard_holds_the_project_is_refused_and_changes_nothing(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = prepare(tmp_path, udata_server)
    before = state_text(tmp_path)
    lock = projects.acquire_lock(tmp_path)  # the wizard open on the same project
    try:
        with pytest.raises(HdhWizardError) as refused:
            run_publish(CAT, tmp_path, yes=True, portal=portal_for(udata_server.url))
    finally:
        lock.release()

    assert str(os.getpid()) in refused.value.message(CAT)  # names the other process
    assert state_text(tmp_path) == before
    assert live_datasets(udata_server, mine) == []


def test_publish_run_three_times_without_changes_sends_nothing_again(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str], proxy: FaultProxy
) -> None:
    mine = prepare(tmp_path, udata_server, proxy.url)
    portal = portal_for(proxy.url)
    assert publish(capsys, tmp_path, portal, chunk_size=WHOLE).code == 0
    first = assert_published_whole(tmp_path, udata_server)
    published = publication_of(state(tmp_path))
    proxy.clear()

    for _ in range(2):
        run = publish(capsys, tmp_path, portal, chunk_size=WHOLE)
        assert run.code == 0, run.err
        assert CAT.t("publish.deposit_up_to_date", count=FILES_SENT) in run.out

    assert proxy.requests("POST") == []  # no dataset, resource, file or part sent again
    assert proxy.requests("DELETE") == []
    again = assert_published_whole(tmp_path, udata_server)
    assert [r["id"] for r in again["resources"]] == [r["id"] for r in first["resources"]]
    assert [d["id"] for d in live_datasets(udata_server, mine)] == [first["id"]]
    assert publication_of(state(tmp_path)) == published  # first publication date kept


def test_publish_after_switching_portal_makes_a_new_dataset_instead_of_reusing_the_old_id(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str], proxy: FaultProxy
) -> None:
    # Rehearsed on one portal, then aimed at another (the proxy: another address, as far as the
    # wizard knows, for the same server; so the old dataset id would be accepted if reused).
    mine = prepare(tmp_path, udata_server)
    assert publish(capsys, tmp_path, portal_for(udata_server.url), chunk_size=WHOLE).code == 0
    old = deposited_id(tmp_path)
    project, _ = projects.open_project(tmp_path, None, NOW)
    release = workflow.set_target(
        project.release, Environment.CUSTOM, ALICE, NOW, url=proxy.url, confirmed=True
    )
    projects.save(project, release)
    portal = portal_for(proxy.url)

    run = publish(
        capsys, tmp_path, portal, chunk_size=WHOLE
    )  # the organization was chosen on the other portal
    assert run.code == 1
    assert CAT.t("publish.stop.organization") in run.err
    assert dataset_of(state(tmp_path)) is None
    account = account_of(state(tmp_path))  # verified again, on the new portal
    assert account is not None and account.site == proxy.url

    project, _ = projects.open_project(tmp_path, None, NOW)
    chosen = OrganizationRecord(proxy.url, mine.org_id, "Consortium test", "CTEST").to_outputs()
    release = workflow.commit_step(project.release, StepId.ORGANIZATION, chosen, ALICE, NOW)
    projects.save(project, release)
    run = publish(capsys, tmp_path, portal, chunk_size=WHOLE)

    assert run.code == 0, run.err
    new = deposited_id(tmp_path)
    assert new != old
    assert_published_whole(tmp_path, udata_server)
    assert proxy.requests("PUT", rf"/datasets/{old}/") == []  # the old one never touched
    assert server_dataset(udata_server, old)["private"] is False
    assert {d["id"] for d in live_datasets(udata_server, mine)} == {old, new}
    published = publication_of(state(tmp_path))
    assert published is not None and published.dataset_id == new


# =================================================================================================
# hdh-wizard publish: production
# =================================================================================================


def _aim_at_production(folder: Path, site: str) -> None:
    """The local server stands in for www.data.gouv.fr: the target says production."""
    project, _ = projects.open_project(folder, None, NOW)
    target = replace(project.release.target, environment=Environment.PRODUCTION, url=site)
    projects.save(project, replace(project.release, target=target))


class _Terminal(io.StringIO):
    """A terminal on stdin, where the partner types an answer."""

    def isatty(self) -> bool:
        return True


def test_publish_to_production_without_yes_and_without_a_terminal_is_refused_and_nothing_public(
    tmp_path: Path,
    udata_server: UdataServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mine = prepare(tmp_path, udata_server)
    _aim_at_production(tmp_path, udata_server.url)
    monkeypatch.setattr(
        publish_cli,
        "SecretStore",
        lambda: SecretStore(backend=keyring.backends.fail.Keyring()),  # type: ignore[no-untyped-call]
    )
    monkeypatch.setenv("HDH_WIZARD_API_KEY", PARTNER.api_key)
    monkeypatch.setenv("HDH_WIZARD_API_URL", udata_server.url)  # the key may go there
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # a cron job, a pipe

    run = cli(capsys, "publish", str(tmp_path))

    assert run.code == 1
    assert "--yes" in run.err
    assert status(tmp_path, StepId.PUBLICATION) is not StepStatus.DONE
    assert publication_of(state(tmp_path)) is None
    assert all(d["private"] for d in live_datasets(udata_server, mine))
    assert live_datasets(udata_server, mine, key=None) == []  # nothing anyone can see


def test_publish_to_production_with_the_wrong_host_typed_is_refused_then_the_right_one_publishes(
    tmp_path: Path,
    udata_server: UdataServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepare(tmp_path, udata_server)
    _aim_at_production(tmp_path, udata_server.url)
    portal = portal_for(udata_server.url)
    host = udata_server.url.removeprefix("http://")

    for typed in ("oui\n", f" {host}x\n"):
        monkeypatch.setattr("sys.stdin", _Terminal(typed))
        run = publish(capsys, tmp_path, portal, chunk_size=WHOLE)
        assert run.code == 1, typed
        assert CAT.t("publish.stop.not_confirmed", host=host) in run.err
        record = dataset_of(state(tmp_path))
        assert record is not None
        assert server_dataset(udata_server, record.dataset_id)["private"] is True

    monkeypatch.setattr("sys.stdin", _Terminal(f"  {host}  \n"))
    run = publish(capsys, tmp_path, portal, chunk_size=WHOLE)
    assert run.code == 0, run.err
    assert CAT.t("publish.confirm_production", host=host) in run.out
    assert_published_whole(tmp_path, udata_server)

    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # published once: no question again
    assert publish(capsys, tmp_path, portal, chunk_size=WHOLE).code == 0


# =================================================================================================
# hdh-wizard publish: the server failing (a proxy in front of the real udata)
# =================================================================================================


def _upload_state(folder: Path, path: str) -> dict[str, Any]:
    record = dataset_of(state(folder))
    assert record is not None
    saved = record.uploads.get(path)
    assert saved is not None, record.uploads
    return saved


def test_publish_with_the_server_down_mid_upload_keeps_its_progress_then_resumes_from_it(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str], proxy: FaultProxy
) -> None:
    prepare(tmp_path, udata_server, proxy.url)

    def server_stops_after_three_parts(
        method: str, path: str, form: Mapping[str, str], response: httpx.Response
    ) -> None:
        if form.get("partindex") == "2":  # the first slide's third part: the table has one
            proxy.refuse()

    run = publish(
        capsys, tmp_path, portal_for(proxy.url, make=hooked(server_stops_after_three_parts))
    )

    assert run.code == 1
    assert CAT.t("datagouv.error.network") in run.err
    assert CAT.t("datagouv.error.resume_at", part=4, total=4) in run.err
    assert status(tmp_path, StepId.DEPOSIT) is StepStatus.IN_PROGRESS
    assert status(tmp_path, StepId.PUBLICATION) is not StepStatus.DONE
    progress = _upload_state(tmp_path, SLIDE)
    assert progress["done_parts"] == 3
    record = dataset_of(state(tmp_path))
    assert record is not None and [f.path for f in record.files] == [TABLE]
    assert server_dataset(udata_server, record.dataset_id)["private"] is True

    proxy.accept()
    proxy.clear()
    run = publish(capsys, tmp_path, portal_for(proxy.url))

    assert run.code == 0, run.err
    assert part_requests(proxy, progress["uuid"]) == [3]  # the three parts sent are not resent
    assert len(proxy.requests("POST", r"/datasets/$")) == 0  # the same draft
    dataset = assert_published_whole(tmp_path, udata_server)
    assert dataset["id"] == record.dataset_id
    assert dataset_of(state(tmp_path)).uploads == {}  # type: ignore[union-attr]


def test_publish_with_a_500_on_one_chunk_sends_it_again_and_completes(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str], proxy: FaultProxy
) -> None:
    prepare(tmp_path, udata_server, proxy.url)
    proxy.fail("POST", UPLOAD, 500, times=1, fields={"partindex": "2"})

    run = publish(capsys, tmp_path, portal_for(proxy.url))

    assert run.code == 0, run.err
    statuses = [
        r.status for r in proxy.requests("POST", UPLOAD) if r.fields.get("partindex") == "2"
    ]
    assert statuses[:2] == [500, 200]
    assert_published_whole(tmp_path, udata_server)


def test_publish_with_a_server_that_keeps_failing_a_chunk_explains_and_claims_nothing(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str], proxy: FaultProxy
) -> None:
    mine = prepare(tmp_path, udata_server, proxy.url)
    proxy.fail("POST", UPLOAD, 503, times=None, fields={"partindex": "1"})

    run = publish(capsys, tmp_path, portal_for(proxy.url))

    assert run.code == 1
    assert CAT.t("datagouv.error.server") in run.err
    assert status(tmp_path, StepId.DEPOSIT) is StepStatus.IN_PROGRESS
    assert [d["private"] for d in live_datasets(udata_server, mine)] == [True]


def test_publish_with_a_server_too_slow_to_answer_explains_the_timeout(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str], proxy: FaultProxy
) -> None:
    mine = prepare(tmp_path, udata_server, proxy.url)
    proxy.delay(r"/me/$", 1.0)

    run = publish(capsys, tmp_path, portal_for(proxy.url, timeout=0.3))

    assert run.code == 1
    assert CAT.t("datagouv.error.timeout") in run.err
    assert status(tmp_path, StepId.ACCOUNT) is not StepStatus.DONE
    assert proxy.wait_idle()
    assert live_datasets(udata_server, mine) == []


def test_publish_with_a_slow_answer_to_one_chunk_sends_it_again_and_completes(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str], proxy: FaultProxy
) -> None:
    # The part reaches udata after the client gave up on it; sent again, udata may refuse it as
    # already stored: either way the file on the server must be whole.
    prepare(tmp_path, udata_server, proxy.url)
    delay_form(proxy, 1.5, {"partindex": "1"})

    run = publish(capsys, tmp_path, portal_for(proxy.url, timeout=0.5))

    assert run.code == 0, run.err
    assert proxy.wait_idle()
    assert_published_whole(tmp_path, udata_server)


@pytest.mark.xfail(
    strict=True,
    reason="a whole-file upload answered later than the timeout plus the 1 s look-again is sent "
    "a second time: udata stores both; DepositRun._drop_duplicates looks once, before the "
    "late copy lands, so the dataset is published with the file twice",
)
def test_publish_with_a_slow_server_does_not_publish_a_file_twice(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str], proxy: FaultProxy
) -> None:
    # The table fits in one request; udata takes 4 s to take it (a loaded portal), the client
    # waits 0.5 s. Real waits between attempts here: the client's own look-again is under test.
    prepare(tmp_path, udata_server, proxy.url)
    delay_form(proxy, 4.0, {"partindex": None})  # the retry lands in another second
    portal = PortalSession(
        no_keyring(), make_client=lambda site, key: DataGouvClient(site, key, timeout=0.5)
    )
    portal.remember(proxy.url, PARTNER.api_key, keep=False)

    run = publish(capsys, tmp_path, portal)

    assert run.code == 0, run.err
    assert proxy.wait_idle()
    assert_published_whole(tmp_path, udata_server)


def test_publish_with_the_server_failing_at_the_publication_leaves_a_private_draft_then_publishes(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str], proxy: FaultProxy
) -> None:
    prepare(tmp_path, udata_server, proxy.url)
    proxy.fail("PUT", r"/datasets/[^/]+/$", 503, times=None)

    run = publish(capsys, tmp_path, portal_for(proxy.url), chunk_size=WHOLE)

    assert run.code == 1
    assert status(tmp_path, StepId.DEPOSIT) is StepStatus.DONE
    assert status(tmp_path, StepId.PUBLICATION) is not StepStatus.DONE
    assert server_dataset(udata_server, deposited_id(tmp_path))["private"] is True
    proxy.clear()
    assert publish(capsys, tmp_path, portal_for(proxy.url), chunk_size=WHOLE).code == 0
    assert_published_whole(tmp_path, udata_server)


def test_publish_recovers_when_the_first_chunk_after_a_resume_fails(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str], proxy: FaultProxy
) -> None:
    prepare(tmp_path, udata_server, proxy.url)

    def server_stops_after_two_parts(
        method: str, path: str, form: Mapping[str, str], response: httpx.Response
    ) -> None:
        if form.get("partindex") == "1":
            proxy.refuse()

    run = publish(
        capsys, tmp_path, portal_for(proxy.url, make=hooked(server_stops_after_two_parts))
    )
    assert run.code == 1
    progress = _upload_state(tmp_path, SLIDE)
    assert progress["done_parts"] == 2
    proxy.accept()
    proxy.clear()
    # Back, but its first answer is an error of its own (not "already stored").
    proxy.fail("POST", UPLOAD, 500, times=1, fields={"uuid": progress["uuid"], "partindex": "2"})
    first_after = publish(capsys, tmp_path, portal_for(proxy.url))
    proxy.clear()

    again = publish(capsys, tmp_path, portal_for(proxy.url))  # the server is fine now

    assert first_after.code == 0 or again.code == 0, again.err
    assert_published_whole(tmp_path, udata_server)


# =================================================================================================
# The screens (Textual Pilot), against the real udata
# =================================================================================================

SIZE = (130, 45)


def status_text(screen: Any) -> str:
    return str(screen.query_one("#portal-status", Static).render())


def screen_portal(
    site: str, key: str | None = None, chunk_size: int | None = CHUNK
) -> PortalSession:
    portal = PortalSession(no_keyring(), chunk_size=chunk_size)
    if key:
        portal.remember(site, key, keep=False)
    return portal


async def open_account(app: HdhWizardApp, pilot: Pilot[None]) -> AccountStepScreen:
    app.open_step(StepId.ACCOUNT)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, AccountStepScreen)
    return screen


@pytest.mark.parametrize(
    "pasted",
    [
        pytest.param(PARTNER.api_key, id="plain"),
        pytest.param(f"  {PARTNER.api_key}  ", id="spaces"),
        pytest.param(f"{PARTNER.api_key}\n", id="trailing_newline"),
        pytest.param(f"\t{PARTNER.api_key} \r\n", id="tab_and_crlf"),
        pytest.param(f"\n{PARTNER.api_key}\n", id="line_break_before"),
    ],
)
async def test_account_screen_takes_a_pasted_key_whatever_whitespace_comes_with_it(
    tmp_path: Path, udata_server: UdataServer, pasted: str
) -> None:
    prepare(tmp_path, udata_server)
    portal = screen_portal(udata_server.url)
    app = make_app(tmp_path, portal=portal)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(app, pilot)
        field = screen.query_one("#api-key", Input)
        field.focus()
        field.post_message(events.Paste(pasted))
        await pilot.pause()
        assert_no_secret(app.export_screenshot())  # typed, it shows as dots
        await pilot.press("enter")
        await pilot.pause()
        await until(pilot, lambda: not screen.busy)
        assert screen.record is not None, status_text(screen)
        assert field.value == ""  # not kept on screen, even as dots
        shown = str(screen.query_one("#account-result", Static).render())
        assert_no_secret(shown)
        assert_no_secret(app.export_screenshot())
        await pilot.press("ctrl+s")
        await pilot.pause()
    secret = portal.key(udata_server.url)
    assert secret is not None and secret.value == PARTNER.api_key  # stored without the spaces
    assert status(tmp_path, StepId.ACCOUNT) is StepStatus.DONE


async def test_account_screen_pressing_verify_twice_quickly_checks_the_key_once(
    tmp_path: Path, udata_server: UdataServer, proxy: FaultProxy
) -> None:
    prepare(tmp_path, udata_server, proxy.url)
    proxy.delay(r"/me/$", 0.5)  # a slow portal: the partner presses again
    portal = screen_portal(proxy.url)
    app = make_app(tmp_path, portal=portal)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(app, pilot)
        screen.query_one("#api-key", Input).value = PARTNER.api_key
        verify = screen.query_one("#verify", Button)
        verify.press()
        verify.press()
        await pilot.press("enter")
        await pilot.pause()
        await until(pilot, lambda: screen.record is not None and not screen.busy)
        await pilot.pause(0.3)
    assert proxy.wait_idle()
    assert len(proxy.requests("GET", r"/me/$")) == 1
    assert portal.key(proxy.url) is not None


async def test_account_screen_forgetting_the_key_blocks_the_step_and_later_calls_say_why(
    tmp_path: Path, udata_server: UdataServer
) -> None:
    prepare(tmp_path, udata_server)
    portal = screen_portal(udata_server.url, PARTNER.api_key)
    app = make_app(tmp_path, portal=portal)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(app, pilot)
        await until(pilot, lambda: screen.known is not None)
        screen.verify()  # the known key, checked again
        await until(pilot, lambda: screen.record is not None and not screen.busy)
        screen.query_one("#forget-key", Button).press()
        await until(pilot, lambda: screen.known is None)
        assert portal.key(udata_server.url) is None
        assert CAT.t("account.forgotten") in str(screen.query_one("#account-result").render())
        await pilot.press("ctrl+s")  # refused: no usable key any more
        await pilot.pause()
        assert app.screen is screen
        assert status(tmp_path, StepId.ACCOUNT) is not StepStatus.DONE
        screen.query_one("#forget-key", Button).press()  # again: nothing left, no error
        await until(
            pilot,
            lambda: (
                CAT.t("account.nothing_to_forget")
                in str(screen.query_one("#account-result").render())
            ),
        )
        await pilot.press("escape")
        await pilot.pause()

        app.open_step(StepId.ORGANIZATION)
        await pilot.pause()
        organization = app.screen
        assert isinstance(organization, OrganizationStepScreen)
        await until(pilot, lambda: not organization.busy)
        assert CAT.t("portal.no_key") in status_text(organization)


def deposit_project(folder: Path, server: UdataServer, site: str) -> Made:
    """A project ready for the deposit screen: organization chosen, documentation written."""
    made = prepare(folder, server, site)
    with DataGouvClient(server.url, PARTNER.api_key) as partner:
        me = partner.me()
    project, _ = projects.open_project(folder, None, NOW)
    account = AccountRecord(site, me.id, me.display_name, "session").to_outputs()
    release = workflow.commit_step(project.release, StepId.ACCOUNT, account, ALICE, NOW)
    org = project.release.record(StepId.ORGANIZATION).outputs
    release = workflow.commit_step(release, StepId.ORGANIZATION, dict(org), ALICE, NOW)
    projects.save(project, release)
    return made


async def open_deposit(app: HdhWizardApp, pilot: Pilot[None]) -> DepositStepScreen:
    app.open_step(StepId.DEPOSIT)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, DepositStepScreen)
    await until(pilot, lambda: screen.lists is not None)
    return screen


def saved_progress(app: HdhWizardApp) -> dict[str, Any] | None:
    """The slide's upload progress as last saved (the app's copy of the state: no file read)."""
    record = dataset_of(app.project.release)
    return record.uploads.get(SLIDE) if record else None


async def test_deposit_screen_cancelled_mid_upload_resumes_from_the_first_missing_chunk(
    tmp_path: Path, udata_server: UdataServer, proxy: FaultProxy
) -> None:
    deposit_project(tmp_path, udata_server, proxy.url)
    proxy.delay(UPLOAD, 0.1, method="POST")  # a slow line: time to press cancel
    app = make_app(tmp_path, portal=screen_portal(proxy.url, PARTNER.api_key))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deposit(app, pilot)
        screen.start_deposit()
        await until(pilot, lambda: (saved_progress(app) or {}).get("done_parts", 0) >= 1)
        screen.query_one("#deposit-cancel", Button).press()
        await until(pilot, lambda: not screen.running)
        assert CAT.t("deposit.cancelled") in status_text(screen)
        assert status(tmp_path, StepId.DEPOSIT) is StepStatus.IN_PROGRESS
        progress = saved_progress(app)
        assert progress is not None and 1 <= progress["done_parts"] < progress["total_parts"]
        assert proxy.wait_idle()
        proxy.clear()

        screen.start_deposit()
        await until(pilot, lambda: not screen.running and screen.outcome is not None)
        assert screen.outcome is not None and screen.outcome.verified, status_text(screen)
        resumed = part_requests(proxy, progress["uuid"])
        assert resumed and min(resumed) == progress["done_parts"]  # nothing sent twice
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert status(tmp_path, StepId.DEPOSIT) is StepStatus.DONE
    record = dataset_of(state(tmp_path))
    assert record is not None and record.uploads == {}
    dataset = server_dataset(udata_server, record.dataset_id)
    assert len(dataset["resources"]) == FILES_SENT


async def test_leaving_the_deposit_screen_while_it_uploads_is_refused_until_cancelled(
    tmp_path: Path, udata_server: UdataServer, proxy: FaultProxy
) -> None:
    deposit_project(tmp_path, udata_server, proxy.url)
    proxy.delay(UPLOAD, 0.3, method="POST")  # each file in one request, on a slow line
    app = make_app(tmp_path, portal=screen_portal(proxy.url, PARTNER.api_key, WHOLE))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deposit(app, pilot)
        screen.start_deposit()
        await until(pilot, lambda: saved_progress(app) is not None)
        await pilot.press("escape")  # back to the checklist, the upload still going: refused
        await pilot.pause()
        assert app.screen is screen
        assert any(n.message == CAT.t("deposit.busy") for n in app._notifications)
        await pilot.press("ctrl+s")  # nor committed half-way
        await pilot.pause()
        assert app.screen is screen
        screen.cancel_deposit()
        await until(pilot, lambda: not screen.running)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not screen
        assert proxy.wait_idle()

        screen = await open_deposit(app, pilot)
        await until(pilot, lambda: not screen.busy)
        screen.start_deposit()
        await until(pilot, lambda: not screen.running and screen.outcome is not None)
        assert screen.outcome is not None and screen.outcome.verified, status_text(screen)
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.return_code in (None, 0)
    assert status(tmp_path, StepId.DEPOSIT) is StepStatus.DONE
    record = dataset_of(state(tmp_path))
    assert record is not None
    assert len(server_dataset(udata_server, record.dataset_id)["resources"]) == FILES_SENT


@pytest.mark.xfail(
    strict=True,
    reason="quitting (Ctrl+Q) while the dataset is being created loses its id: the worker's "
    "save goes through the app, which is gone; the next session creates a second dataset "
    "(an orphan draft). The id is saved only after the creating request returns, and nothing "
    "finds a dataset made by an interrupted run",
)
async def test_quitting_the_wizard_while_the_dataset_is_created_makes_no_second_one(
    tmp_path: Path, udata_server: UdataServer, proxy: FaultProxy
) -> None:
    mine = deposit_project(tmp_path, udata_server, proxy.url)
    proxy.delay(r"/datasets/$", 1.0, times=1, method="POST")  # a slow portal
    app = make_app(tmp_path, portal=screen_portal(proxy.url, PARTNER.api_key, WHOLE))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deposit(app, pilot)
        screen.start_deposit()
        await until(pilot, lambda: not proxy.wait_idle(0))  # the creation is on its way
        await pilot.press("ctrl+q")
    assert proxy.wait_idle()

    app = make_app(tmp_path, portal=screen_portal(proxy.url, PARTNER.api_key, WHOLE))
    async with app.run_test(size=SIZE) as pilot:  # the next session
        screen = await open_deposit(app, pilot)
        await until(pilot, lambda: not screen.busy)
        screen.start_deposit()
        await until(pilot, lambda: dataset_of(app.project.release) is not None)
        screen.cancel_deposit()  # the files do not matter here
        await until(pilot, lambda: not screen.running)
    assert len(live_datasets(udata_server, mine)) == 1


@pytest.mark.parametrize("step", [StepId.ACCOUNT, StepId.DEPOSIT])
async def test_portal_screens_in_an_80x24_terminal_keep_the_commit_button_reachable(
    tmp_path: Path, udata_server: UdataServer, step: StepId
) -> None:
    deposit_project(tmp_path, udata_server, udata_server.url)
    app = make_app(tmp_path, portal=screen_portal(udata_server.url, PARTNER.api_key))
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_step(step)
        await pilot.pause()
        screen = app.screen
        await until(pilot, lambda: not getattr(screen, "busy", False))
        await pilot.pause(0.2)
        commit = screen.query_one("#commit", Button)
        commit.scroll_visible(animate=False)
        await pilot.pause()
        assert screen.find_widget(commit).region.bottom <= 24
        assert isinstance(screen, StepScreen)
        ready = all_ok(screen.all_checks())
        await pilot.click("#commit")  # clicked where it is on the screen
        await pilot.pause()
        if ready:  # committed, back to the checklist
            assert app.screen is not screen
            assert status(tmp_path, step) is StepStatus.DONE
        else:  # refused with the list of what is missing, nothing broken
            assert app.screen is screen
            assert any(n.title == CAT.t("step.not_ready") for n in app._notifications)
        assert app.return_code is None
    assert ready is (step is not StepId.DEPOSIT)  # nothing deposited yet
