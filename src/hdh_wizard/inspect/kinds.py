"""What a file is, told by its first bytes rather than its name: partners rename exports freely.

`sniff_kind` reads at most `HEAD_SIZE` bytes (plus, for ZIP files, the archive's directory) so the
inventory of thousands of files stays quick.
"""

from __future__ import annotations

import re
import zipfile
from enum import StrEnum
from pathlib import Path

HEAD_SIZE = 64 * 1024


class FileKind(StrEnum):
    TEXT = "text"  # delimited text: CSV, TSV… (the dialect is sniffed by the tabular check)
    XLSX = "xlsx"
    XLS = "xls"  # legacy Excel (OLE2)
    ODS = "ods"
    PARQUET = "parquet"
    TIFF = "tiff"
    BIGTIFF = "bigtiff"
    PNG = "png"
    JPEG = "jpeg"
    DICOM = "dicom"
    PDF = "pdf"
    GZIP = "gzip"
    ZIP = "zip"
    SAS7BDAT = "sas7bdat"
    SAS_XPORT = "sas_xport"
    DOCUMENTATION = "documentation"  # a README, notes in prose: goes with the data, is not data
    EMPTY = "empty"
    BINARY = "binary"  # unknown binary content

    @property
    def is_tabular(self) -> bool:
        return self in TABULAR

    @property
    def is_image(self) -> bool:
        return self in IMAGES


TABULAR = frozenset({FileKind.TEXT, FileKind.XLSX, FileKind.XLS, FileKind.ODS, FileKind.PARQUET})
IMAGES = frozenset({FileKind.TIFF, FileKind.BIGTIFF, FileKind.PNG, FileKind.JPEG, FileKind.DICOM})

_SAS7BDAT_MAGIC = bytes.fromhex("000000000000000000000000c2ea8160b31411cfbd92080009c7318c181f1011")
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_PREFIXES: tuple[tuple[bytes, FileKind], ...] = (
    (b"II*\x00", FileKind.TIFF),
    (b"MM\x00*", FileKind.TIFF),
    (b"II+\x00", FileKind.BIGTIFF),
    (b"MM\x00+", FileKind.BIGTIFF),
    (b"\x89PNG\r\n\x1a\n", FileKind.PNG),
    (b"\xff\xd8\xff", FileKind.JPEG),
    (b"PAR1", FileKind.PARQUET),
    (b"%PDF", FileKind.PDF),
    (b"\x1f\x8b", FileKind.GZIP),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", FileKind.XLS),
    (b"HEADER RECORD*******LIBRARY HEADER RECORD", FileKind.SAS_XPORT),
    (b"HEADER RECORD*******LIBV8   HEADER RECORD", FileKind.SAS_XPORT),
)


def sniff_kind(path: Path) -> FileKind:
    """Classify a regular file by content. Raises OSError when it cannot be read."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_SIZE)
    if not head:
        return FileKind.EMPTY
    for prefix, kind in _PREFIXES:
        if head.startswith(prefix):
            return kind
    if head[128:132] == b"DICM":
        return FileKind.DICOM
    if head.startswith(_SAS7BDAT_MAGIC):
        return FileKind.SAS7BDAT
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path, head)
    text = utf16_text(head)
    if text is None and looks_like_text(head):
        text = head.decode("utf-8", errors="replace")
    if text is None:
        return FileKind.BINARY
    return FileKind.DOCUMENTATION if is_documentation(path, text) else FileKind.TEXT


_UTF16_BOMS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def utf16_text(head: bytes) -> str | None:
    """The head decoded when it is UTF-16 text with a byte order mark (Excel's "Texte
    Unicode" export), else None. Its NUL bytes are half of every character, not damage."""
    for mark, codec in _UTF16_BOMS:
        if head.startswith(mark) and not head.startswith(b"\xff\xfe\x00\x00"):  # not UTF-32
            body = head[len(mark) :]
            text = body[: len(body) - len(body) % 2].decode(codec, errors="replace")
            if text.count("\ufffd") > max(1, len(text) // 100):
                return None
            # A table's delimiters, line breaks and digits are ASCII, whatever its language:
            # bytes that pair into other characters mostly are a binary format's.
            if sum(1 for char in text if char.isascii()) * 2 < len(text):
                return None
            return text if looks_like_text(text.encode("utf-8")) else None
    return None


# Documentation by name (README, LISEZMOI, LICENCE… with any suffix but a table's) or by suffix.
_DOC_NAME = re.compile(
    r"^(readme|lisez[-_ .]?moi|licen[cs]e|changelog|changes|notice|copying|authors|auteurs)"
    r"(?![a-z])",
    re.IGNORECASE,
)
_DOC_SUFFIXES = frozenset({".md", ".markdown", ".rst", ".adoc"})
_TABLE_SUFFIXES = frozenset({".csv", ".tsv", ".tab", ".psv"})
_PROSE_WORDS = 4  # words on a line of prose
_TABLE_SHAPED = 0.9  # share of lines with the first line's field count: a table


def is_documentation(path: Path, text: str) -> bool:
    """Whether a text file is documentation rather than a table: named so (README.txt,
    LISEZMOI, notes.md), or written in prose (paragraphs of sentences, not rows of fields).
    A file with a table's suffix (.csv, .tsv…) is always a table: the partner said so."""
    suffix = path.suffix.lower()
    if suffix in _TABLE_SUFFIXES:
        return False
    if suffix in _DOC_SUFFIXES or _DOC_NAME.match(path.name):
        return True
    return _prose(text)


def _prose(text: str) -> bool:
    from hdh_wizard.inspect.csv_dialect import best_delimiter, split_rows  # (imports this module)

    lines = text.splitlines()[:200]
    filled = [line for line in lines if line.strip()]
    if len(filled) < 2 or len(filled) == len(lines):
        return False  # prose comes in paragraphs: a blank line between them
    wordy = sum(1 for line in filled if len(line.split()) >= _PROSE_WORDS)
    if wordy * 2 < len(filled) or len(filled[0].split()) < 2:
        return False
    rows = split_rows("\n".join(filled), best_delimiter("\n".join(filled)), 200)
    width = len(rows[0]) if rows else 0
    shaped = sum(1 for row in rows if len(row) == width)
    return width < 2 or shaped < _TABLE_SHAPED * len(rows)


def looks_like_text(head: bytes) -> bool:
    """Text in any of the encodings partners use: few control bytes, hardly any NUL.

    A stray NUL byte in a CSV is a problem the tabular check reports with its line, so it must
    not turn the whole file into "binary": only a NUL-heavy head (UTF-16, binary formats) does.
    """
    nuls = head.count(0)
    if nuls > max(2, len(head) // 1000):
        return False
    controls = sum(head.count(byte) for byte in _CONTROL_BYTES)
    return controls <= len(head) // 100


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 0))


def _zip_kind(path: Path, head: bytes) -> FileKind:
    if head[30:38] == b"mimetype" and _ODS_MIME in head[38:120]:
        return FileKind.ODS
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        # A truncated workbook has no central directory: still say what it claims to be.
        if b"xl/" in head or b"[Content_Types].xml" in head:
            return FileKind.XLSX
        return FileKind.ZIP
    if "xl/workbook.xml" in names:
        return FileKind.XLSX
    if "content.xml" in names and "mimetype" in names:
        return FileKind.ODS
    return FileKind.ZIP
