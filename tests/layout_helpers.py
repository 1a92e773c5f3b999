"""What a user sees at a given terminal size: the screen as plain text, and whether a widget
lies wholly inside the part of its scrolling container that is on screen."""

from __future__ import annotations

import io
from typing import Any

import httpx
import keyring.backends.fail
from rich.console import Console
from textual.widget import Widget

from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.retry import RetryPolicy
from hdh_wizard.services.datagouv.session import PortalSession
from hdh_wizard.services.secrets import SecretStore


def screen_text(app: Any) -> str:
    """The screen as the terminal shows it, without colours (what `export_screenshot` draws)."""
    width = app.size.width
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


def shown_inside(widget: Widget, container: Widget) -> bool:
    """The widget is drawn whole within the container's region on screen (not scrolled away,
    not clipped by the container's edges)."""
    region = widget.region
    return bool(region.area) and container.region.contains_region(region)


def _offline(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("offline layout tests", request=request)


def offline_portal() -> PortalSession:
    """No keyring and no network: the data.gouv.fr screens open and their calls fail at once."""
    backend = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]

    def client(site: str, key: str | None) -> DataGouvClient:
        transport = httpx.MockTransport(_offline)
        return DataGouvClient(site, key, transport=transport, retry=RetryPolicy(attempts=1))

    return PortalSession(SecretStore(environ={}, backend=backend), make_client=client)


def widget_text(app: Any, widget: Widget) -> str:
    """The words drawn inside a widget's region, lines joined by spaces, borders left out."""
    region = widget.content_region
    lines = screen_text(app).splitlines()
    cropped = [line[region.x : region.right] for line in lines[region.y : region.bottom]]
    return " ".join(" ".join(cropped).split())
