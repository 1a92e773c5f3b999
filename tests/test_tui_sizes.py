"""Every field reachable at real terminal sizes: the documentation form scrolls to the field
that takes the focus, from 80×24 up."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widget import Widget

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.release import Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.core.volume import commit_volume, summarize_release
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.ui.app import HdhWizardApp
from hdh_wizard.ui.steps.deposit import DepositStepScreen

from .layout_helpers import offline_portal, shown_inside, widget_text
from .tui_helpers import ALICE, NOW, make_app, make_demo_project, until

SIZES = [(120, 36), (80, 24)]
# The fields below the description, which a short terminal used to hide.
LOWER_FIELDS = (
    "doc-license",
    "doc-tags",
    "doc-start",
    "doc-frequency",
    "doc-zones",
    "doc-granularity",
    "doc-contact-name",
    "doc-contact-email",
)


def _ready_to_deposit(release: Release) -> Release:
    for step_id in (StepId.CONTRACT, StepId.ANONYMITY, StepId.INTEROPERABILITY):
        release = workflow.commit_step(release, step_id, {}, ALICE, NOW)
    return commit_volume(release, summarize_release(release), ALICE, NOW)


def _open_deposit(tmp_path: Path) -> HdhWizardApp:
    project = make_demo_project(tmp_path)
    projects.save(project, _ready_to_deposit(project.release))
    return HdhWizardApp(
        tmp_path, load_catalogue(Lang.FR), clock=lambda: NOW, portal=offline_portal()
    )


def _open_dataset_page(tmp_path: Path) -> HdhWizardApp:
    """Route 2: the documentation form on the dataset page (step 5)."""
    project = make_demo_project(tmp_path)
    release = workflow.record_volume(project.release, 2_000_000_000, ALICE, NOW)
    release = workflow.commit_step(release, StepId.CONTRACT, {}, ALICE, NOW)
    projects.save(project, release)
    return HdhWizardApp(
        tmp_path, load_catalogue(Lang.FR), clock=lambda: NOW, portal=offline_portal()
    )


def _scanned(screen: object) -> bool:
    return bool(getattr(screen, "risks", None)) and not getattr(screen, "working", True)


def _composed(app: HdhWizardApp) -> bool:
    return bool(app.screen.query("#doc-contact-email"))


async def _deposit_form(pilot: Pilot[None], app: HdhWizardApp) -> Widget:
    """The deposit step opened and laid out: its scrolling form."""
    await pilot.pause()
    app.open_step(StepId.DEPOSIT)
    await until(pilot, lambda: isinstance(app.screen, DepositStepScreen) and _composed(app))
    return app.screen.query_one("#step-form")


async def _tab_to(pilot: object, app: HdhWizardApp, field_id: str) -> Widget:
    for _ in range(40):
        focused = app.focused
        if focused is not None and focused.id == field_id:
            return focused
        await pilot.press("tab")  # type: ignore[attr-defined]
    raise AssertionError(f"Tab never reached #{field_id}")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_tab_to_the_licence_scrolls_it_into_view(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = _open_deposit(tmp_path)
    async with app.run_test(size=size) as pilot:
        form = await _deposit_form(pilot, app)
        licence = await _tab_to(pilot, app, "doc-license")
        await until(pilot, lambda: shown_inside(licence, form), seconds=5)
        assert shown_inside(licence, form)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_field_below_the_description_is_shown_when_focused(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = _open_deposit(tmp_path)
    async with app.run_test(size=size) as pilot:
        form = await _deposit_form(pilot, app)
        for field_id in LOWER_FIELDS:
            field = await _tab_to(pilot, app, field_id)
            await until(pilot, lambda f=field: shown_inside(f, form), seconds=5)


async def test_the_dataset_page_scrolls_to_the_contact_at_80x24(tmp_path: Path) -> None:
    app = _open_dataset_page(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_step(StepId.DATASET_PAGE)
        await until(pilot, lambda: _composed(app))
        form = app.screen.query_one("#step-form")
        contact = await _tab_to(pilot, app, "doc-contact-email")
        await until(pilot, lambda: shown_inside(contact, form), seconds=5)


@pytest.mark.parametrize("size", [(120, 36), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_anonymity_attestation_is_shown_whole(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    make_demo_project(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.open_step(StepId.ANONYMITY)
        await until(pilot, lambda: bool(app.screen.query("#attest-confirm")))
        screen = app.screen
        # The scan of the tables runs first and moves the view when it reports: let it finish.
        await until(pilot, lambda: _scanned(screen))
        box = screen.query_one("#attest-confirm")
        box.focus()
        form = app.screen.query_one("#step-form")
        await until(pilot, lambda: shown_inside(box, form), seconds=10)
        sentence = app.cat.t("risk.screen.attest.confirm")
        assert len(sentence) > size[0] - 10  # the case: longer than one line of the form
        assert sentence in widget_text(app, box)
