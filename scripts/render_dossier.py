"""Render the release dossier of the demo project brought through route 1, and screenshot it.

The demo project goes through every step with the workflow's own functions: formats inspected
and anonymity measured for real (the risk report written to `rapport/`), the data.gouv.fr steps
committed with the records their flows write (no portal is needed). The dossier is then opened
in headless Chromium and saved as `screens/dossier-ouverture.png`.

Usage: `.venv/bin/python scripts/render_dossier.py [--keep DIR]` (needs `chromium`).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests' helpers build the release, as the tests do

from tests.dossier_helpers import route1_release  # noqa: E402

from hdh_wizard.flows.dossier import write_dossier  # noqa: E402

SCREENSHOT = ROOT / "screens" / "dossier-ouverture.png"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("render_dossier: Chromium not found (Debian: apt-get install chromium)")


def screenshot(page: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            browser(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={target}",
            "--window-size=1200,1800",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", metavar="DIR", help="build the project in DIR and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(args.keep) if args.keep else Path(temporary) / "cohorte"
        folder.mkdir(parents=True, exist_ok=True)
        release = route1_release(folder)
        html_path, _ = write_dossier(release, folder)
        screenshot(html_path, SCREENSHOT)
    print(f"render_dossier: {SCREENSHOT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
