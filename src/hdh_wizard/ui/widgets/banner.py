"""Always visible above a screen: release, actor, route and target (loud in production)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from hdh_wizard.core.enums import Environment
from hdh_wizard.core.release import Release
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.present.presenters import person_text, target_text
from hdh_wizard.present.route_preview import route_line


class ReleaseBanner(Vertical):
    """Shows where this release stands; re-rendered by `show(release)` after every change."""

    def __init__(self, cat: Catalogue, release: Release) -> None:
        super().__init__(id="banner")
        self._cat = cat
        self._release = release

    def compose(self) -> ComposeResult:
        # Not markup: the release's and the person's names, and the portal's address, are the
        # user's text (a name like `Cohorte [/] 2012` would not parse).
        yield Static(id="banner-release", markup=False)
        yield Static(id="banner-route", markup=False)
        yield Static(id="banner-target", markup=False)

    def on_mount(self) -> None:
        self.show(self._release)

    def show(self, release: Release) -> None:
        cat = self._cat
        self._release = release
        self.query_one("#banner-release", Static).update(
            cat.t("banner.release", name=release.name, actor=person_text(cat, release.actor))
        )
        self.query_one("#banner-route", Static).update(
            cat.t("banner.route", route=route_line(cat, release))
        )
        production = release.target.environment is Environment.PRODUCTION
        key = "banner.target_production" if production else "banner.target"
        target = self.query_one("#banner-target", Static)
        target.update(cat.t(key, target=target_text(cat, release)))
        target.set_class(production, "-production")
