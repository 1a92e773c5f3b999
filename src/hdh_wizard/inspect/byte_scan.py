"""One streaming read of a file's bytes: its SHA-256 and the byte counts the checks compare against.

Runs in its own thread beside the polars profile (hashlib releases the GIL on large buffers), so a
file is hashed while it is parsed. Costly counts (`bytes.count` is ~1 GB/s) are only made when they
are needed: a cheap `in` (memchr) first tells whether a chunk holds the byte at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from hdh_wizard.inspect.progress import Progress

CHUNK = 16 * 1024 * 1024


@dataclass
class ByteCounts:
    size: int = 0
    sha256: str = ""
    delimiters: int = 0  # every occurrence, quoted or not (-1: not counted)
    nul: int = 0
    cr: int = 0
    crlf: int = 0
    lf: int = 0  # counted from the first chunk holding a CR (to tell mixed endings)
    lf_before_cr: bool = False  # LF-only lines came before the first CR: mixed endings
    ascii_only: bool = True

    @property
    def line_ending(self) -> str:
        if not self.cr:
            return "\n"
        if self.lf_before_cr or self.crlf != self.cr or (self.lf and self.crlf != self.lf):
            return "\r" if not self.lf and not self.lf_before_cr else "mixed"
        return "\r\n"


def scan_bytes(path: Path, delimiter: bytes | None, progress: Progress | None = None) -> ByteCounts:
    """Hash the whole file and count what the tabular check needs. Raises OSError, Cancelled."""
    counts = ByteCounts()
    digest = hashlib.sha256()
    previous_cr = False
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            counts.size += len(chunk)
            if delimiter is not None:
                counts.delimiters += chunk.count(delimiter)
            if b"\x00" in chunk:
                counts.nul += chunk.count(b"\x00")
            if counts.ascii_only and not chunk.isascii():
                counts.ascii_only = False
            if counts.cr or b"\r" in chunk:
                counts.cr += chunk.count(b"\r")
                counts.crlf += chunk.count(b"\r\n") + (previous_cr and chunk.startswith(b"\n"))
                counts.lf += chunk.count(b"\n")
            elif not counts.lf_before_cr and b"\n" in chunk:
                counts.lf_before_cr = True
            previous_cr = chunk.endswith(b"\r")
            if progress is not None:
                progress.advance(len(chunk))
    counts.sha256 = digest.hexdigest()
    return counts


def sha256_of(path: Path, progress: Progress | None = None) -> tuple[int, str]:
    """(size, hex SHA-256) of any file, read once in chunks."""
    counts = scan_bytes(path, None, progress)
    return counts.size, counts.sha256
