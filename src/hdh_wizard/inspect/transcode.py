"""Re-encode text to UTF-8, streaming: the legacy encodings partners' exports use, UTF-16 with a
byte order mark (Excel's "Texte Unicode"), and UTF-8 files with a few stray Windows-1252 bytes
(a hand edit in an old editor).

`MIXED` names that last case: valid UTF-8 sequences are kept, and each invalid byte is read as
Windows-1252, so one stray byte does not turn every other accent of the file into mojibake.
"""

from __future__ import annotations

import codecs
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.csv_dialect import MIXED, UTF16, Sniffed
from hdh_wizard.inspect.progress import Progress

__all__ = ["MIXED", "python_codec", "readable_as_utf8", "transcode_to_utf8"]
_FALLBACK = "hdh-cp1252-fallback"
CHUNK = 4 * 1024 * 1024


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return bytes(bad).decode("cp1252", errors="replace"), error.end


codecs.register_error(_FALLBACK, _cp1252_fallback)


def python_codec(encoding: str) -> tuple[str, str]:
    """(codec, errors) to decode a file of this encoding with Python."""
    if encoding == MIXED:
        return "utf-8", _FALLBACK
    if encoding in UTF16:
        return "utf-16", "strict"  # reads the byte order mark and drops it
    return encoding, "strict"


def transcode_to_utf8(
    source: Path, target: Path, encoding: str, progress: Progress | None = None
) -> None:
    """Write `source` re-encoded as UTF-8 (no BOM, line endings untouched). Raises Cancelled."""
    codec, errors = python_codec(encoding)
    decoder = codecs.getincrementaldecoder(codec)(errors=errors)
    try:
        with source.open("rb") as reader, target.open("w", encoding="utf-8", newline="") as out:
            while chunk := reader.read(CHUNK):
                out.write(decoder.decode(chunk))
                if progress is not None:
                    progress.check()
            out.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as error:
        raise HdhWizardError(
            "inspect.error.transcode", file=source.name, encoding=encoding, detail=error.reason
        ) from error


@contextmanager
def readable_as_utf8(
    path: Path, sniffed: Sniffed, progress: Progress | None = None
) -> Iterator[tuple[Path, Sniffed]]:
    """The file as polars can read it (polars reads only UTF-8): itself when it is UTF-8, else a
    UTF-8 copy in a temporary folder, removed when the block ends. Raises HdhWizardError."""
    if sniffed.dialect.encoding == "utf-8":
        yield path, sniffed
        return
    utf8 = replace(sniffed, dialect=replace(sniffed.dialect, encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="hdh-wizard-") as scratch:
        copy = Path(scratch) / "utf8.csv"
        transcode_to_utf8(path, copy, sniffed.dialect.encoding, progress)
        yield copy, utf8
