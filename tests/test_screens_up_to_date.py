"""Every screen's SVG in screens/ matches what the real app draws now.

When this fails after a deliberate change, regenerate with `python scripts/render_screens.py`.
"""

from __future__ import annotations

import asyncio
import html
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "render_screens", ROOT / "scripts/render_screens.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["render_screens"] = module
    spec.loader.exec_module(module)
    return module


RENDERER = _renderer()
ATTEMPTS = 3


@pytest.mark.parametrize("scenario", RENDERER.SCENARIOS, ids=lambda s: s.name)
def test_screen_svg_is_up_to_date(scenario: object) -> None:
    stored = ROOT / "screens" / f"{scenario.name}.svg"  # type: ignore[attr-defined]
    assert stored.exists(), f"missing {stored}: run python scripts/render_screens.py"
    expected = stored.read_text(encoding="utf-8")
    # A screen filled by workers can be caught a frame early on a loaded machine (a table still
    # empty): a stale SVG differs on every try, a hurried frame does not on the next one.
    for _attempt in range(ATTEMPTS):
        svg = asyncio.run(RENDERER.render(scenario))
        if svg == expected:
            break
    changed = [(a, b) for a, b in zip(_lines(expected), _lines(svg), strict=False) if a != b]
    assert svg == expected, (
        f"{stored.name} is out of date: run python scripts/render_screens.py and review the diff;"
        f" first changed lines (stored → now): {changed[:5]}"
    )


def _lines(svg: str) -> list[str]:
    """The text the screen shows, line by line, out of its SVG."""
    texts = re.findall(r"<text[^>]*>.*?</text>", svg)
    return [html.unescape(re.sub(r"<[^>]+>", "", t)) for t in texts]


def test_snapshots_hold_no_secret() -> None:
    for svg in (ROOT / "screens").glob("*.svg"):
        text = svg.read_text(encoding="utf-8").lower()
        for marker in ("x-api-key", "udata_testkey", "aws_secret"):
            assert marker not in text, svg
