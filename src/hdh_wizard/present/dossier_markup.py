"""The release dossier's building blocks, and how each is written in Markdown and in HTML.

Every text a block holds is plain text (a name, a reason, a file name typed or read from the
state file): it is escaped here, once, for the format written, so nobody's words can become
markup (`<script>`, `[x](y)`, a `|` splitting a table cell). Links are made only from addresses
checked by their maker (`Link`): an http(s) URL, or a relative path inside the project.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from hdh_wizard.i18n.catalogue import Catalogue


@dataclass(frozen=True)
class Link:
    text: str
    href: str  # an http(s) URL or a relative path, checked by `web_link` / `local_link`


@dataclass(frozen=True)
class Code:
    text: str  # a digest: hexadecimal digits only, checked by its maker


Cell = str | Link | Code


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    status: str = ""  # a step's status value, for its badge's colour in HTML


@dataclass(frozen=True)
class Paragraph:
    text: str
    note: bool = False


@dataclass(frozen=True)
class Fields:
    items: tuple[tuple[str, Cell], ...]


@dataclass(frozen=True)
class Table:
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


Block = Heading | Paragraph | Fields | Table

_URL = re.compile(r"^https?://[^\s<>\"'`\\]+$", re.IGNORECASE)
_RELATIVE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")


def web_link(url: object) -> Link | None:
    """A link to an http(s) address, or None for anything else (`javascript:`, spaces…)."""
    if isinstance(url, str) and _URL.match(url.strip()):
        return Link(url.strip(), url.strip())
    return None


def local_link(path: str, text: str) -> Link | None:
    """A link to a file beside the dossier, by a plain relative path (no "..", no scheme)."""
    if _RELATIVE.match(path) and ".." not in path.split("/"):
        return Link(text, path)
    return None


# --- Markdown -----------------------------------------------------------------------------------

# Characters that would turn text into markup: links, emphasis, raw HTML, code, table cells.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~#!])")
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")


def md_text(text: str) -> str:
    """One line of plain text, inert in Markdown."""
    return _MD_SPECIAL.sub(r"\\\1", _LINE_BREAKS.sub(" ", text.strip()))


def _md_cell(cell: Cell) -> str:
    if isinstance(cell, Code):
        return f"`{md_text(cell.text)}`"
    if isinstance(cell, Link):
        return f"[{md_text(cell.text)}](<{cell.href}>)"
    return md_text(cell)


def _md_row(cells: Sequence[Cell]) -> str:
    return "| " + " | ".join(_md_cell(c) for c in cells) + " |"


def markdown(blocks: Sequence[Block], cat: Catalogue) -> str:
    parts: list[str] = []
    for block in blocks:
        match block:
            case Heading(level, text, _):
                parts.append(f"{'#' * level} {md_text(text)}")
            case Paragraph(text, note):
                parts.append(f"*{md_text(text)}*" if note else md_text(text))
            case Fields(items):
                parts.append(
                    "\n".join(
                        "- " + cat.t("dossier.field", label=f"**{md_text(k)}**", value=_md_cell(v))
                        for k, v in items
                    )
                )
            case Table(caption, header, rows):
                lines = [f"**{md_text(caption)}**", ""] if caption else []
                lines.append(_md_row(header))
                lines.append("| " + " | ".join("---" for _ in header) + " |")
                lines += [_md_row(row) for row in rows]
                parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


# --- HTML ---------------------------------------------------------------------------------------


def h(text: str) -> str:
    return html.escape(text, quote=True)


def _html_cell(cell: Cell) -> str:
    if isinstance(cell, Code):
        return f"<code>{h(cell.text)}</code>"
    if isinstance(cell, Link):
        return f'<a href="{h(cell.href)}">{h(cell.text)}</a>'
    return h(cell)


def html_blocks(blocks: Sequence[Block]) -> str:
    parts: list[str] = []
    for block in blocks:
        match block:
            case Heading(level, text, status):
                css = f' class="step status-{h(status)}"' if status else ""
                parts.append(f"<h{level}{css}>{h(text)}</h{level}>")
            case Paragraph(text, note):
                css = ' class="note"' if note else ""
                parts.append(f"<p{css}>{h(text)}</p>")
            case Fields(items):
                rows = "".join(f"<dt>{h(k)}</dt><dd>{_html_cell(v)}</dd>" for k, v in items)
                parts.append(f"<dl>{rows}</dl>")
            case Table(caption, header, rows):
                head = "".join(f'<th scope="col">{h(c)}</th>' for c in header)
                body = "".join(
                    "<tr>" + "".join(f"<td>{_html_cell(c)}</td>" for c in row) + "</tr>"
                    for row in rows
                )
                title = f"<caption>{h(caption)}</caption>" if caption else ""
                parts.append(
                    f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
                )
    return "\n".join(parts)
