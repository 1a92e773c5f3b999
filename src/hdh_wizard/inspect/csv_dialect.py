"""How a delimited text file is written, guessed from its beginning: encoding, delimiter, quote,
header. The whole file is then read with these settings (`csv_profile`), and checked against them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from hdh_wizard.inspect.report import Dialect

SNIFF_SIZE = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
UTF8_BOM = b"\xef\xbb\xbf"
# Bytes that Windows-1252 leaves undefined: their presence means Latin-1 (ISO-8859-1).
CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"
_NUMBER_OR_DATE = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|\d{1,4}[-/]\d{1,2}[-/]\d{1,4})\s*$")


@dataclass(frozen=True)
class Sniffed:
    dialect: Dialect
    header: tuple[str, ...]  # the first row's fields (column names when `dialect.header`)
    sample_rows: tuple[tuple[str, ...], ...]  # the next complete rows, decoded
    head_complete: bool  # the sample holds the whole file


def guess_encoding(data: bytes) -> tuple[str, bool]:
    """(encoding, bom) of a head of a file; incomplete UTF-8 at its very end is not an error."""
    bom = data.startswith(UTF8_BOM)
    body = data[3:] if bom else data
    try:
        body.decode("utf-8")
        return "utf-8", bom
    except UnicodeDecodeError as error:
        if error.start >= len(body) - 3 and error.reason == "unexpected end of data":
            return "utf-8", bom
    return legacy_encoding(body), bom


def legacy_encoding(data: bytes) -> str:
    """Windows-1252 unless a byte it leaves undefined appears (then Latin-1)."""
    if any(byte in data for byte in CP1252_UNDEFINED):
        return "latin-1"
    return "cp1252"


def sniff_dialect(path: Path) -> Sniffed:
    with path.open("rb") as handle:
        head = handle.read(SNIFF_SIZE)
        complete = not handle.read(1)
    encoding, bom = guess_encoding(head)
    text = head[3:] if bom else head
    decoded = text.decode(encoding, errors="replace")
    if not complete:
        # Drop the last, probably cut, line (unless it is the only one: a single huge line).
        cut = max(decoded.rfind("\n"), decoded.rfind("\r"))
        if cut > 0:
            decoded = decoded[: cut + 1]
    delimiter = _best_delimiter(decoded)
    rows = _rows(decoded, delimiter)
    header = tuple(rows[0]) if rows else ()
    sample = tuple(tuple(row) for row in rows[1:])
    dialect = Dialect(
        encoding=encoding,
        bom=bom,
        delimiter=delimiter,
        quote='"',
        header=_has_header(header, sample),
        line_ending=_line_ending(decoded),
    )
    return Sniffed(dialect, header, sample, complete)


def _rows(text: str, delimiter: str, limit: int = 20_000) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    rows: list[list[str]] = []
    try:
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass  # a NUL byte or a broken quote: what was read is enough to guess
    return rows


def _best_delimiter(text: str) -> str:
    """The delimiter that splits the sample's lines into the same number of fields (>1) the most
    consistently; ties go to the usual order (comma first)."""
    lines = [line for line in text.splitlines()[:200] if line.strip()]
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        counts = [len(row) for row in _rows("\n".join(lines), delimiter, 200)]
        if not counts:
            continue
        common = max(set(counts), key=counts.count)
        if common < 2:
            continue
        score = (counts.count(common) / len(counts), common)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _has_header(first: tuple[str, ...], sample: tuple[tuple[str, ...], ...]) -> bool:
    """A header row has no empty names and no numbers or dates where the data has them."""
    if not first or any(not name.strip() for name in first):
        return False
    return not any(_NUMBER_OR_DATE.match(name) for name in first)


def _line_ending(text: str) -> str:
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    kinds = [ending for ending, n in (("\r\n", crlf), ("\n", lf), ("\r", cr)) if n]
    if len(kinds) > 1:
        return "mixed"
    return kinds[0] if kinds else "\n"
