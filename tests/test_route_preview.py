"""The route before the volume is measured: previewed from the files' known sizes (a 1.2 GB
table shows route 2 from the start), a route chosen to look at kept until the files change, and
the measure deciding once the volume step is committed."""

from __future__ import annotations

from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Route
from hdh_wizard.core.release import DataFile, Release
from hdh_wizard.core.route import ONE_GO, known_bytes
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.present.route_preview import route_line

from .tui_helpers import ALICE, NOW

SMALL = (DataFile("donnees/cohorte.csv", 40_000_000, 1, "fp1:a"),)
LARGE = (
    DataFile("donnees/cohorte.csv", 700_000_000, 1, "fp1:b"),
    DataFile("donnees/lames", 500_000_000, 1, "fp1:c"),
)


def _release(files: tuple[DataFile, ...]) -> Release:
    return workflow.new_release("Cohorte test", ALICE, NOW, files)


def test_files_over_the_threshold_preview_route_two_from_the_start() -> None:
    release = _release(LARGE)
    assert known_bytes(release) > ONE_GO
    assert workflow.route_of(release) is Route.HOSTED
    assert not workflow.route_is_measured(release)


def test_files_under_the_threshold_preview_route_one() -> None:
    assert workflow.route_of(_release(SMALL)) is Route.DIRECT


def test_a_route_chosen_to_look_at_is_kept_until_the_files_change() -> None:
    release = workflow.preview_route(_release(LARGE), Route.DIRECT, ALICE, NOW)
    assert workflow.route_of(release) is Route.DIRECT
    release, _ = workflow.set_files(release, SMALL, ALICE, NOW)
    release, _ = workflow.set_files(release, LARGE, ALICE, NOW)
    assert workflow.route_of(release) is Route.HOSTED


def test_the_measured_volume_decides_over_the_preview() -> None:
    release = workflow.record_volume(_release(LARGE), 900_000_000, ALICE, NOW)
    assert workflow.route_of(release) is Route.DIRECT
    assert workflow.route_is_measured(release)


def test_the_preview_says_it_rests_on_the_files_sizes() -> None:
    cat = load_catalogue(Lang.FR)
    line = route_line(cat, _release(LARGE))
    assert line.startswith(cat.t("route.hosted"))
    assert line.endswith(cat.t("route.preview_known", size="1,2 Go"))
    chosen = workflow.preview_route(_release(LARGE), Route.DIRECT, ALICE, NOW)
    assert route_line(cat, chosen).endswith(cat.t("route.preview"))
    measured = workflow.record_volume(_release(LARGE), 1_200_000_000, ALICE, NOW)
    assert cat.t("route.measured", size="1,2 Go") in route_line(cat, measured)
