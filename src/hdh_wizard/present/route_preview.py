"""The route in words, with what the preview rests on before the volume is measured."""

from __future__ import annotations

from hdh_wizard.core import workflow
from hdh_wizard.core.release import Release
from hdh_wizard.core.route import decide_route, known_bytes
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.i18n.formatting import format_size
from hdh_wizard.present.presenters import route_text


def route_line(cat: Catalogue, release: Release) -> str:
    """ "Cas 2 : > 1 Go … — aperçu d'après les fichiers (1,2 Go)…" while the preview is the
    files' known sizes; the measured route, or a route chosen to look at, as before."""
    if workflow.route_is_measured(release) or not release.files:
        return route_text(cat, release)
    route = workflow.route_of(release)
    size = known_bytes(release)
    if route is not decide_route(size):  # the other route, chosen to look at (`r`)
        return route_text(cat, release)
    preview = cat.t("route.preview_known", size=format_size(size, cat.lang))
    return f"{cat.t(f'route.{route.value}')} — {preview}"
