"""Render every screen of the wizard to SVG in `screens/`, from the real app.

    python scripts/render_screens.py            # regenerate screens/*.svg
    python scripts/render_screens.py --check    # exit 1 if a stored SVG is out of date
    python scripts/render_screens.py --only=home-handover,home-80x24   # those scenarios alone

Each scenario builds a project on the demo's synthetic data in a fixed (relative) folder, with
a fixed clock, drives the app with Textual's Pilot to the screen, and exports its screenshot.
The test `tests/test_screens_up_to_date.py` runs the same scenarios and compares with the
stored files.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import keyring.backends.fail
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, DataTable, DirectoryTree, Input, Select, TextArea

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.documentation import Documentation, documentation_to_outputs
from hdh_wizard.core.enums import Environment, Role, Route
from hdh_wizard.core.hosting_records import FileRole, HostedObject, TransferRecord
from hdh_wizard.core.portal_records import DatasetRecord, OrganizationRecord
from hdh_wizard.core.release import Person, Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.demo.generate import create_demo_data
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.retry import RetryPolicy
from hdh_wizard.services.datagouv.session import PortalSession
from hdh_wizard.services.secrets import SecretStore
from hdh_wizard.services.storage import StorageConfig
from hdh_wizard.ui.app import HdhWizardApp
from hdh_wizard.ui.screens.dictionary import DictionaryScreen
from hdh_wizard.ui.steps.deposit import DepositStepScreen

SCREENS_DIR = Path(__file__).resolve().parent.parent / "screens"
# Relative, and opened from a private temporary folder: the screens that show the project's
# folder (new project, state error) then show this same text whatever TMPDIR, user or system.
WORK_ROOT = Path("hdh-wizard-screens")
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
ALICE = Person("Alice Martin", Role.PARTNER)
STAFF = Person("Hugo Bernard", Role.HDH_STAFF)

PORTAL_GROUPS = ("portal", "lists", "zones")
Setup = Callable[[Release], Release]
Drive = Callable[[Pilot[None]], Awaitable[None]]


@dataclass(frozen=True)
class Scenario:
    name: str
    size: tuple[int, int] = (100, 30)
    lang: Lang = Lang.FR
    setup: Setup | None = None  # changes made to the demo release before opening
    drive: Drive | None = None  # keys pressed once the app shows its first screen
    create: bool = True  # False: an empty folder, for the new project flow
    corrupt: bool = False  # the state file hand-edited into invalid YAML


def _progress(release: Release) -> Release:
    release = workflow.commit_step(
        release, StepId.CONTRACT, {"reference": "HDH-OD-2024-017"}, ALICE, NOW
    )
    release = workflow.commit_step(
        release, StepId.INTEROPERABILITY, {"note": "CSV, TIFF"}, ALICE, NOW
    )
    release = workflow.record_volume(release, sum(f.size for f in release.files), ALICE, NOW)
    release = workflow.commit_step(release, StepId.VOLUME, {}, ALICE, NOW)
    release = workflow.save_draft(release, StepId.ANONYMITY, {"note": "k=5"}, ALICE, NOW)
    return workflow.block_step(
        release, StepId.ACCOUNT, "Adresse e-mail institutionnelle attendue", ALICE, NOW
    )


def _offline(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("offline screenshots", request=request)


def offline_portal() -> PortalSession:
    """No keyring and no network: the screens render the same on every machine."""
    backend = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]

    def client(site: str, key: str | None) -> DataGouvClient:
        transport = httpx.MockTransport(_offline)
        return DataGouvClient(site, key, transport=transport, retry=RetryPolicy(attempts=1))

    return PortalSession(SecretStore(environ={}, backend=backend), make_client=client)


def _ready_to_deposit(release: Release) -> Release:
    release = workflow.commit_step(
        release, StepId.CONTRACT, {"reference": "HDH-OD-2024-017"}, ALICE, NOW
    )
    release = workflow.commit_step(release, StepId.ANONYMITY, {"note": "k=5"}, ALICE, NOW)
    release = workflow.commit_step(release, StepId.INTEROPERABILITY, {}, ALICE, NOW)
    release = workflow.record_volume(release, sum(f.size for f in release.files), ALICE, NOW)
    release = workflow.commit_step(release, StepId.VOLUME, {}, ALICE, NOW)
    release = workflow.commit_step(
        release,
        StepId.ACCOUNT,
        {"site": release.target.url, "user_id": "u1", "user_name": "Alice Martin"},
        ALICE,
        NOW,
    )
    org = OrganizationRecord(release.target.url, "o1", "Consortium VisioMel", "VISIOMEL")
    return workflow.commit_step(release, StepId.ORGANIZATION, org.to_outputs(), ALICE, NOW)


def _production_hosted(release: Release) -> Release:
    release = workflow.preview_route(release, Route.HOSTED, STAFF, NOW)
    return workflow.set_target(release, Environment.PRODUCTION, STAFF, NOW, confirmed=True)


HOSTED_URL = "https://stockage.health-data-hub.fr/open-data/visiomel"


def _hosted_file(path: str, size: int, role: FileRole = FileRole.DATA) -> HostedObject:
    sha256 = hashlib.sha256(path.encode()).hexdigest()
    return HostedObject(
        path, f"visiomel/{path}", size, sha256, f"{HOSTED_URL}/{path}", role, 1, NOW.isoformat()
    )


HOSTED_FILES = (
    _hosted_file("publish/patients__Stade_I.csv", 1_240_000_000),
    _hosted_file("publish/patients__Stade_II.csv", 980_000_000),
    _hosted_file("publish/patients__autres.csv", 310_000_000),
    _hosted_file("publish/patients__echantillon.csv", 4_800_000, FileRole.SAMPLE),
    _hosted_file("docs/dictionnaire.pdf", 240_000, FileRole.DOCUMENTATION),
)


def _hosted_to_reference(release: Release) -> Release:
    """Route 2: the files hosted by HDH (step 2 done by staff), the page made (step 5)."""
    release = _ready_to_deposit(release)
    release = workflow.record_volume(release, 2_700_000_000, ALICE, NOW)
    release = workflow.skip_step(release, StepId.PREPARE_DATA, "Déjà découpée", ALICE, NOW)
    transfer = TransferRecord({"bucket": "open-data"}, HOSTED_FILES, {}, STAFF.name)
    release = workflow.commit_step(
        release, StepId.SHARE_WITH_HDH, transfer.to_outputs(), STAFF, NOW
    )
    site = release.target.url
    page = DatasetRecord(site, "d1", "base-melanome", f"{site}/datasets/base-melanome/")
    doc = Documentation(title="Base mélanome", description="Base de test.")
    outputs = {"documentation": documentation_to_outputs(doc), "dataset": page.to_outputs()}
    return workflow.commit_step(release, StepId.DATASET_PAGE, outputs, ALICE, NOW)


def _references_by_staff(release: Release) -> Release:
    return workflow.set_actor(_hosted_to_reference(release), STAFF)


def _hosted_ready(release: Release) -> Release:
    """Route 2 with anonymity, formats and volume done: "prepare the data" is open."""
    release = workflow.commit_step(release, StepId.ANONYMITY, {"note": "k=5"}, ALICE, NOW)
    release = workflow.commit_step(release, StepId.INTEROPERABILITY, {}, ALICE, NOW)
    release = workflow.record_volume(release, 5_000_000_000, ALICE, NOW)
    return workflow.commit_step(release, StepId.VOLUME, {}, ALICE, NOW)


async def _wait(pilot: Pilot[None], ready: Callable[[], object]) -> None:
    for _ in range(300):
        if ready():
            return
        await pilot.pause(0.1)


async def _prepared(pilot: Pilot[None]) -> None:
    """Open "prepare the data", split the demo table by stage, draw a seeded stratified sample."""
    await _open(StepId.PREPARE_DATA)(pilot)
    screen = pilot.app.screen
    column = screen.query_one("#prep-column", Select)
    await _wait(pilot, lambda: len(column._options) > 1)
    column.value = 8  # stade_pronostique
    await pilot.pause()
    values = screen.query_one("#prep-values", DataTable)
    await _wait(pilot, lambda: values.row_count and not getattr(screen, "working", True))
    screen.query_one("#prep-split", Button).press()
    await pilot.pause()
    await _wait(pilot, lambda: not getattr(screen, "working", True))
    screen.query_one("#prep-size", Input).value = "100"
    screen.query_one("#prep-seed", Input).value = "20261128"
    screen.query_one("#prep-stratify", Checkbox).value = True
    screen.query_one("#prep-sample", Button).press()
    await pilot.pause()
    await _wait(pilot, lambda: not getattr(screen, "working", True))
    # The files prepared are listed once the job's result is saved on the UI thread: wait until
    # the list stops changing (a loaded machine delivers it later).
    parts, values = (screen.query_one(f"#prep-{n}", DataTable) for n in ("parts", "values"))

    def state() -> object:
        # The value counts are read again by a worker of their own once the sample is written.
        running = sum(1 for w in pilot.app.workers if w.is_running)
        return parts.row_count, values.row_count, running, getattr(screen, "working", True)

    await _steady(pilot, state)


async def _steady(pilot: Pilot[None], probe: Callable[[], object], checks: int = 5) -> None:
    """Wait until `probe()` gives the same answer `checks` times in a row, 0.1 s apart."""
    last, same = probe(), 0
    for _ in range(300):
        await pilot.pause(0.1)
        now = probe()
        same = same + 1 if now == last else 0
        last = now
        if same >= checks:
            return


STORAGE = StorageConfig(
    "https://s3.health-data-hub.fr", "fr-par", "hdh-open-data", "visiomel/2026/", "HDHOPENDATA042"
)


def _ready_to_share(release: Release) -> Release:
    """Route 2, step 2 under way: HDH staff typed the details; the table is hosted already."""
    release = _ready_to_deposit(release)
    release = workflow.record_volume(release, 2_700_000_000, ALICE, NOW)
    release = workflow.skip_step(release, StepId.PREPARE_DATA, "Déjà découpée", ALICE, NOW)
    table = release.files[0]  # donnees/cohorte_melanome.csv, as the demo made it
    key = f"visiomel/2026/{table.path}"
    url = f"https://s3.health-data-hub.fr/hdh-open-data/{key}"
    hosted = HostedObject(
        table.path, key, table.size, "0" * 64, url, FileRole.DATA, table.mtime_ns, NOW.isoformat()
    )
    record = TransferRecord(STORAGE.normalized().to_dict(), (hosted,))
    release = workflow.save_draft(release, StepId.SHARE_WITH_HDH, record.to_outputs(), STAFF, NOW)
    return workflow.set_actor(release, STAFF)


def _share_as_partner(release: Release) -> Release:
    return workflow.set_actor(_ready_to_share(release), ALICE)


async def _open_share(pilot: Pilot[None]) -> None:
    await _open(StepId.SHARE_WITH_HDH)(pilot)
    for _ in range(200):  # the keyring is looked at in a worker ("hosting-keys")
        if getattr(pilot.app.screen, "keyring", None) is not None:
            break
        await pilot.pause(0.05)
    await pilot.pause()


async def _share_files(pilot: Pilot[None]) -> None:
    """The same screen, scrolled down to the files to host and the transfer's buttons."""
    await _open_share(pilot)
    pilot.app.screen.query_one("#hosting-files").scroll_visible(animate=False, top=True)
    await pilot.pause()


def _keys(*keys: str) -> Drive:
    async def drive(pilot: Pilot[None]) -> None:
        for key in keys:
            await pilot.press(key)
            await pilot.pause()

    return drive


def _open(step: StepId, *then: str) -> Drive:
    async def drive(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, HdhWizardApp)
        app.open_step(step)
        await pilot.pause()
        for key in then:
            await pilot.press(key)
        await pilot.pause()

    return drive


async def _inspected(pilot: Pilot[None]) -> None:
    """Open the interoperability step and wait for its inspection worker to report."""
    await _open(StepId.INTEROPERABILITY)(pilot)
    screen = pilot.app.screen

    def state() -> object:
        tables = screen.query("#inventory")
        rows = tables.first().row_count if tables else 0
        running = sum(1 for w in pilot.app.workers if w.is_running)
        return bool(getattr(screen, "reports", None)), rows, running

    await _wait(pilot, lambda: state()[0] and state()[1])
    # The first row's highlight fills the detail below through a message: let everything settle,
    # also on a loaded machine.
    await _steady(pilot, state)


async def _anonymity_measured(pilot: Pilot[None]) -> None:
    """Open the anonymity step and wait for the scan and the first measures."""
    await _open(StepId.ANONYMITY)(pilot)
    for _ in range(600):
        screen = pilot.app.screen
        measures = screen.query("#risk-measures")
        done = getattr(screen, "risks", None) and not getattr(screen, "working", True)
        if done and measures and measures.first().row_count:
            break
        await pilot.pause(0.1)
    await pilot.pause(0.2)


async def _anonymity_searched(pilot: Pilot[None]) -> None:
    """The anonymity step after "Search for a generalisation": the solutions, least loss first."""
    await _anonymity_measured(pilot)
    screen = pilot.app.screen
    screen.query_one("#risk-search", Button).press()
    await _wait(pilot, lambda: getattr(screen, "searches", None))
    form = screen.query_one("#step-form")
    # The screen moves the focus to the solutions and scrolls them into view: let it finish.
    await _steady(pilot, lambda: (form.scroll_y, getattr(screen, "working", True)))
    screen.query_one("#risk-search").scroll_visible(top=True, animate=False)
    await _steady(pilot, lambda: form.scroll_y)


async def _deposit_files(pilot: Pilot[None]) -> None:
    """The deposit's second tab: what will be sent, before anything is."""
    await _open(StepId.DEPOSIT)(pilot)
    await _settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DepositStepScreen)
    screen.show_tab("tab-files")
    await pilot.pause()


async def _deposit_licence(pilot: Pilot[None]) -> None:
    """The deposit's documentation tab on a 120×36 terminal, Tab pressed down to the licence:
    the form has scrolled to it."""
    await _open(StepId.DEPOSIT)(pilot)
    await _settle(pilot)
    app = pilot.app
    for _ in range(40):
        focused = app.focused
        if focused is not None and focused.id == "doc-license":
            break
        await pilot.press("tab")
    form = app.screen.query_one("#step-form")
    await _steady(pilot, lambda: form.scroll_y)


async def _dictionary(pilot: Pilot[None]) -> None:
    """The data dictionary, opened from the deposit's documentation by its button, the demo
    table read and a description typed for a column."""
    await _open(StepId.DEPOSIT)(pilot)
    await _settle(pilot)
    app = pilot.app
    app.screen.query_one("#doc-dictionary").focus()
    await pilot.press("enter")
    for _ in range(300):
        screen = app.screen
        if isinstance(screen, DictionaryScreen) and screen.draft is not None and not screen.busy:
            break
        await pilot.pause(0.1)
    await pilot.press("down", "tab", *"Sexe déclaré à l'inclusion")
    await _steady(pilot, lambda: str(app.screen.query_one("#dictionary-status").render()))


def _handover_to_staff(release: Release) -> Release:
    """Route 2: the partner did the prerequisites and the contract; HDH staff shares next."""
    release = workflow.commit_step(
        release, StepId.CONTRACT, {"reference": "HDH-OD-2024-017"}, ALICE, NOW
    )
    release = _hosted_ready(release)
    return workflow.skip_step(release, StepId.PREPARE_DATA, "Déjà découpée", ALICE, NOW)


def _fill_contract(pilot: Pilot[None]) -> Awaitable[None]:
    return _open(
        StepId.CONTRACT, *"HDH-OD-2024-017", "tab", *"15/01/2024", "tab", *"Dr Claire Petit", "tab"
    )(pilot)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("home"),
    Scenario("home-80x24", size=(80, 24)),
    Scenario("home-en", lang=Lang.EN),
    Scenario("home-progress", setup=_progress),
    Scenario("home-production-route2", setup=_production_hosted, drive=_keys("enter")),
    # HDH staff acts next: the wizard asks who is at the keyboard; Enter keeps the partner.
    Scenario("home-handover", setup=_handover_to_staff, drive=_keys("enter")),
    Scenario("help", drive=_keys("question_mark")),
    Scenario("contract", drive=_open(StepId.CONTRACT)),
    Scenario("contract-filled-wide", size=(120, 34), drive=_fill_contract),
    Scenario("step-account", size=(120, 40), drive=_open(StepId.ACCOUNT)),
    Scenario("step-deposit", size=(130, 50), setup=_ready_to_deposit, drive=_open(StepId.DEPOSIT)),
    Scenario("step-deposit-files", size=(130, 40), setup=_ready_to_deposit, drive=_deposit_files),
    Scenario(
        "step-deposit-licence-120x36",
        size=(120, 36),
        setup=_ready_to_deposit,
        drive=_deposit_licence,
    ),
    Scenario("dictionary", size=(130, 45), setup=_ready_to_deposit, drive=_dictionary),
    Scenario(
        "step-references",
        size=(140, 45),
        setup=_references_by_staff,
        drive=_open(StepId.REFERENCE_URLS),
    ),
    Scenario(
        "step-references-partner",
        size=(120, 40),
        setup=_hosted_to_reference,
        drive=_open(StepId.REFERENCE_URLS),
    ),
    Scenario("step-share-with-hdh", size=(130, 50), setup=_ready_to_share, drive=_open_share),
    Scenario(
        "step-share-with-hdh-files", size=(130, 40), setup=_ready_to_share, drive=_share_files
    ),
    Scenario(
        "step-share-with-hdh-partner", size=(120, 40), setup=_share_as_partner, drive=_open_share
    ),
    Scenario("step-prepare-data", size=(130, 60), setup=_hosted_ready, drive=_prepared),
    Scenario("step-volume", setup=_progress, drive=_open(StepId.VOLUME)),
    Scenario("step-interoperability", size=(130, 40), drive=_inspected),
    Scenario("step-anonymity", size=(130, 60), drive=_anonymity_measured),
    Scenario("step-anonymity-search", size=(130, 60), drive=_anonymity_searched),
    Scenario("dialog-undo", setup=_progress, drive=_keys("down", "down", "u")),
    Scenario("dialog-target", drive=_keys("t")),
    Scenario("new-project", create=False),
    Scenario("state-error", corrupt=True),
)


def _prepare(scenario: Scenario) -> Path:
    folder = WORK_ROOT / scenario.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if not scenario.create:
        create_demo_data(folder)
        return folder
    paths = create_demo_data(folder)
    project = projects.create_project(
        folder, "Cohorte mélanome synthétique (démo)", ALICE, paths, NOW
    )
    if scenario.setup is not None:
        projects.save(project, scenario.setup(project.release))
    if scenario.corrupt:
        # A second save gives a backup; then a hand edit breaks the YAML.
        projects.save(project, project.release)
        state = projects.state_path(folder)
        text = state.read_text(encoding="utf-8").replace("name:", "name: [oops", 1)
        state.write_text(text, encoding="utf-8")
    return folder


async def _settle(pilot: Pilot[None]) -> None:
    """Let the screen finish drawing: a folder tree loads its entries in a worker that never
    ends (it waits for more folders to open), so wait for the entries, not for the worker."""
    await pilot.pause()
    for _ in range(200):
        trees = list(pilot.app.screen.query(DirectoryTree))
        if all(tree.root.children for tree in trees):
            break
        await pilot.pause(0.05)
    for _ in range(200):  # the data.gouv.fr screens' calls (offline here: they fail at once)
        calls = [w for w in pilot.app.workers if w.group in PORTAL_GROUPS and w.is_running]
        if not calls:
            break
        await pilot.pause(0.05)
    await pilot.pause()


@contextmanager
def _in_private_folder() -> Iterator[None]:
    """Work in a new temporary folder (removed after), so `WORK_ROOT` is relative to it."""
    previous = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="hdh-wizard-screens-") as work:
        os.chdir(work)
        try:
            yield
        finally:
            os.chdir(previous)


async def render(scenario: Scenario) -> str:
    with _in_private_folder():
        return await _render_here(scenario)


async def _render_here(scenario: Scenario) -> str:
    folder = _prepare(scenario)
    app = HdhWizardApp(
        folder, load_catalogue(scenario.lang), clock=lambda: NOW, portal=offline_portal()
    )
    async with app.run_test(size=scenario.size) as pilot:
        await _settle(pilot)
        if scenario.drive is not None:
            await scenario.drive(pilot)
        await _settle(pilot)
        for widget in app.screen.query("Input, TextArea"):
            if isinstance(widget, Input | TextArea):
                widget.cursor_blink = False
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()
        return app.export_screenshot(title=f"hdh-wizard · {scenario.name}")


def render_all(only: frozenset[str] = frozenset()) -> dict[str, str]:
    return {s.name: asyncio.run(render(s)) for s in SCENARIOS if not only or s.name in only}


def _only(argv: list[str]) -> frozenset[str]:
    """`--only=home-handover,home-80x24`: those scenarios alone."""
    for arg in argv:
        if arg.startswith("--only="):
            return frozenset(n for n in arg.removeprefix("--only=").split(",") if n)
    return frozenset()


def main(argv: list[str]) -> int:
    check = "--check" in argv
    only = _only(argv)
    unknown = only - {s.name for s in SCENARIOS}
    if unknown:
        print("unknown scenario: " + ", ".join(sorted(unknown)))
        return 2
    SCREENS_DIR.mkdir(exist_ok=True)
    stale = []
    for name, svg in render_all(only).items():
        path = SCREENS_DIR / f"{name}.svg"
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != svg:
                stale.append(name)
        else:
            path.write_text(svg, encoding="utf-8")
            print(f"wrote {path.relative_to(SCREENS_DIR.parent)}")
    if stale:
        print("out of date: " + ", ".join(stale) + " (run: python scripts/render_screens.py)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
