"""Help texts live as Markdown files beside the screens: `help/<topic>.<lang>.md`."""

from __future__ import annotations

from importlib import resources

from hdh_wizard.i18n.catalogue import Lang


def help_markdown(topic: str, lang: Lang) -> str:
    folder = resources.files("hdh_wizard.ui").joinpath("help")
    for candidate in (f"{topic}.{lang.value}.md", f"{topic}.fr.md"):
        entry = folder.joinpath(candidate)
        if entry.is_file():
            return entry.read_text(encoding="utf-8")
    raise FileNotFoundError(f"no help text for {topic!r}")
