"""Open a web page for the user, when there is a desktop to open it on.

On a headless server (the usual case for our users) nothing is opened: the screen shows the
address to open elsewhere. A text browser in the same terminal would take over the wizard.
"""

from __future__ import annotations

import os
import sys
import webbrowser


def can_open_browser(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY"):
        return False  # the browser would open on the server, not before the user
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def open_in_browser(url: str) -> bool:
    if not can_open_browser():
        return False
    try:
        return webbrowser.open(url, new=2)
    except webbrowser.Error:
        return False
