"""Where exactly a delimited file goes wrong, with line numbers: the slow, exact second reading.

The fast pass (`csv_profile` + `byte_scan`) only says *that* something is wrong (polars refuses a
byte, or the delimiters do not add up to the same number of fields on every row). This pass
then reads the file once with Python's csv module, which counts physical lines (quoted newlines
included), to name the first offending lines and count them all.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.transcode import python_codec

FIRST_N = 10
CHUNK = 4 * 1024 * 1024
csv.field_size_limit(2**31 - 1)  # a single 50 MB field is data, not an attack


@dataclass
class Findings:
    """The first offending lines (1-based) and the totals."""

    bad_utf8_offsets: list[int] = field(default_factory=list)
    bad_utf8_lines: list[int] = field(default_factory=list)
    bad_utf8_total: int = 0
    nul_lines: list[int] = field(default_factory=list)
    nul_total: int = 0
    ragged_lines: list[int] = field(default_factory=list)
    ragged_counts: list[int] = field(default_factory=list)  # fields found on those lines
    ragged_total: int = 0
    unclosed_quote_line: int = 0  # the line where a quote opens and never closes (0: none)


def find_byte_problems(path: Path, progress: Progress | None = None) -> Findings:
    """Invalid UTF-8 sequences and NUL bytes: their offsets and lines."""
    findings = Findings()
    carry = b""  # an incomplete UTF-8 sequence cut by the chunk boundary
    offset, line = 0, 1  # of the first byte of `carry + chunk`, and its line
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(CHUNK)
            data = carry + chunk
            if not data:
                break
            carry = _utf8_errors(data, offset, line, not chunk, findings)
            if b"\x00" in chunk:
                start = 0
                while (position := chunk.find(b"\x00", start)) >= 0:
                    findings.nul_total += 1
                    if len(findings.nul_lines) < FIRST_N:
                        findings.nul_lines.append(
                            line + data.count(b"\n", 0, len(carry) + position)
                        )
                    start = position + 1
            consumed = len(data) - len(carry)
            line += data.count(b"\n", 0, consumed)
            offset += consumed
            if progress is not None:
                progress.advance(len(chunk))
            if not chunk:
                break
    return findings


def _utf8_errors(data: bytes, offset: int, line: int, final: bool, findings: Findings) -> bytes:
    """Record each invalid sequence of `data`; return its cut tail to decode with what follows."""
    start = 0
    while True:
        try:
            data[start:].decode("utf-8")
            return b""
        except UnicodeDecodeError as error:
            position = start + error.start
            if not final and error.reason == "unexpected end of data" and position >= len(data) - 3:
                return data[position:]
            findings.bad_utf8_total += 1
            if len(findings.bad_utf8_offsets) < FIRST_N:
                findings.bad_utf8_offsets.append(offset + position)
                findings.bad_utf8_lines.append(line + data.count(b"\n", 0, position))
            start = start + error.end


def find_ragged_rows(
    path: Path,
    encoding: str,
    delimiter: str,
    expected: int,
    progress: Progress | None = None,
) -> Findings:
    """Rows whose field count is not `expected`, by the line they start on."""
    findings = Findings()
    with path.open("rb") as raw:
        counted = _CountingReader(raw, progress)
        buffered = io.BufferedReader(counted)
        codec, _errors = python_codec(encoding)
        text = io.TextIOWrapper(buffered, encoding=codec, errors="replace", newline="")
        # strict: a quote left open at the end of the file is an error, not a last field.
        reader = csv.reader(text, delimiter=delimiter, quotechar='"', strict=True)
        previous_line = 0
        try:
            for row in reader:
                start = previous_line + 1
                previous_line = reader.line_num
                if not row:
                    continue  # blank line
                if len(row) != expected:
                    findings.ragged_total += 1
                    if len(findings.ragged_lines) < FIRST_N:
                        findings.ragged_lines.append(start)
                        findings.ragged_counts.append(len(row))
        except csv.Error:
            # A quote opened on that row never closes (or is followed by stray characters).
            findings.unclosed_quote_line = previous_line + 1
    return findings


class _CountingReader(io.RawIOBase):
    """Passes bytes through, reporting progress."""

    def __init__(self, raw: io.BufferedReader, progress: Progress | None) -> None:
        self._raw = raw
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        if self._progress is not None:
            self._progress.advance(len(data))
        return len(data)
