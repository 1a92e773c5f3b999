"""How a delimited text file is written, guessed from its beginning: encoding, delimiter, quote,
header. The whole file is then read with these settings (`csv_profile`), and checked against them.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hdh_wizard.inspect.report import Dialect

SNIFF_SIZE = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
UTF8_BOM = b"\xef\xbb\xbf"
# Excel's "Texte Unicode" export: UTF-16 with a byte order mark, in either byte order.
UTF16_BOMS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
UTF16 = frozenset(encoding for _bom, encoding in UTF16_BOMS)
# A UTF-8 file with a few stray Windows-1252 bytes (a hand edit in an old editor): valid
# sequences are kept, each invalid byte is read as Windows-1252 (see `transcode`).
MIXED = "utf-8+cp1252"
# Bytes that Windows-1252 leaves undefined: their presence means Latin-1 (ISO-8859-1).
CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"
# The single-byte encodings of partners' exports, in order of preference when they read a file
# equally well: Windows first (the usual case), then DOS code page 850 (old exports, SAS).
LEGACY_ENCODINGS = ("cp1252", "latin-1", "iso8859-15", "cp850")
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1 (ISO-8859-1)",
    "iso8859-15": "Latin-9 (ISO-8859-15)",
    "cp850": "DOS 850 (CP850)",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    MIXED: "UTF-8 + Windows-1252",
}
# Characters a French (or Western European) text holds outside ASCII: a reading that gives
# them is plausible, one that gives box drawings, control codes or Þ/Ú is not.
_PLAUSIBLE = frozenset("àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ€°«»’‘“”…–—²µ§ñÑ\u00a0")
UNCERTAIN_RUNNER_UP = 0.5  # another reading this good (share of the best score): uncertain
UNCERTAIN_EXPLAINED = 0.9  # the best reading explains less than this share: uncertain
_NUMBER_OR_DATE = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|\d{1,4}[-/]\d{1,2}[-/]\d{1,4})\s*$")
_WORD = re.compile(r"[^\s,;|\"'()\[\]{}]+")
READING_WORDS = 4  # words with accents shown per candidate encoding
READING_WORD_CHARS = 40


@dataclass(frozen=True)
class EncodingGuess:
    """The single-byte encoding read from a file's head, and how sure the guess is."""

    encoding: str
    uncertain: bool
    others: tuple[str, ...]  # other encodings that read the accents differently, best first


@dataclass(frozen=True)
class Sniffed:
    dialect: Dialect
    header: tuple[str, ...]  # the first row's fields (column names when `dialect.header`)
    sample_rows: tuple[tuple[str, ...], ...]  # the next complete rows, decoded
    head_complete: bool  # the sample holds the whole file
    legacy: EncodingGuess | None = None  # set for a single-byte (non-UTF) encoding


def encoding_name(encoding: str) -> str:
    return ENCODING_NAMES.get(encoding, encoding)


def guess_encoding(data: bytes) -> tuple[str, bool]:
    """(encoding, bom) of a head of a file; incomplete UTF-8 at its very end is not an error."""
    for mark, encoding in UTF16_BOMS:
        if data.startswith(mark):
            return encoding, True
    bom = data.startswith(UTF8_BOM)
    body = data[3:] if bom else data
    valid, invalid = _utf8_sequences(body)
    if not invalid:
        return "utf-8", bom
    # Valid multi-byte sequences beside the invalid bytes: a UTF-8 file with stray bytes. (A
    # legacy file forms a valid sequence only by chance: "Ã©" written on purpose.)
    if valid and valid * 4 >= invalid:
        return MIXED, bom
    return legacy_encoding(body), bom


def _utf8_sequences(body: bytes) -> tuple[int, int]:
    """(valid multi-byte sequences, invalid sequences) of a head; a character its end cuts in
    two is neither."""
    if body.isascii():
        return 0, 0
    # Incremental, not final: an incomplete sequence at the very end is held back, not replaced.
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(body, final=False)
    genuine = body.count("\ufffd".encode())  # U+FFFD written in the file itself: valid
    invalid = text.count("\ufffd") - genuine
    valid = sum(1 for char in text if ord(char) > 127) - invalid
    return valid, invalid


def legacy_encoding(data: bytes) -> str:
    """The single-byte encoding that reads the head's accents best (see `guess_legacy`)."""
    return guess_legacy(data).encoding


def guess_legacy(data: bytes) -> EncodingGuess:
    """Score each legacy encoding by the characters it reads the non-ASCII bytes as: French
    letters and punctuation count for it, control codes, box drawings, other letters and
    a capital or a symbol inside a lower-case word against it. The best wins (ties go to the
    order of `LEGACY_ENCODINGS`); the guess is uncertain when it leaves accents unexplained
    or another reading of the same bytes scores nearly as well."""
    scored: list[tuple[float, int, str, str]] = []
    for order, encoding in enumerate(LEGACY_ENCODINGS):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue  # a byte this encoding leaves undefined (0x81 for Windows-1252)
        scored.append((_plausibility(text), order, encoding, _accents(text)))
    scored.sort(key=lambda item: (-item[0], item[1]))
    best_score, _order, best, best_accents = scored[0]
    others: list[tuple[float, str]] = []
    seen = {best_accents}
    for score, _order, encoding, accents in scored[1:]:
        if accents not in seen:  # Latin-1 and Latin-9 read most files alike: shown once
            seen.add(accents)
            others.append((score, encoding))
    accents_count = len(best_accents)
    runner_up = others[0][0] if others else float("-inf")
    uncertain = bool(accents_count) and (
        best_score < UNCERTAIN_EXPLAINED * accents_count
        or runner_up >= UNCERTAIN_RUNNER_UP * best_score
    )
    return EncodingGuess(best, uncertain, tuple(e for _s, e in others))


def _accents(text: str) -> str:
    return "".join(char for char in text if ord(char) > 127)


def _plausibility(text: str) -> float:
    score = 0.0
    for index, char in enumerate(text):
        if ord(char) < 128:
            continue
        before = text[index - 1] if index else " "
        after = text[index + 1] if index + 1 < len(text) else " "
        if char not in _PLAUSIBLE:
            score -= 1
        elif char.isalpha() and char.isupper() and before.isalpha() and before.islower():
            score -= 1  # "HÚlÞne": a capital inside a lower-case word
        elif not char.isalpha() and char != "\u00a0" and before.isalpha() and after.isalpha():
            score -= 1  # "M‚lanome": a symbol inside a word
        else:
            score += 1
    return score


def accent_readings(
    sniffed: Sniffed, shown: Callable[[str], bool]
) -> list[tuple[str, tuple[str, ...]]]:
    """The words with accents of the head (column names, then values of the columns `shown`
    allows: never an identifying column's), as the guessed encoding and each other candidate
    read them: the partner recognises the right one."""
    guess = sniffed.legacy
    if guess is None:
        return []
    words: list[str] = []
    fields = list(sniffed.header)
    columns = [i for i, name in enumerate(sniffed.header) if shown(name)]
    for row in sniffed.sample_rows:
        fields.extend(row[i] for i in columns if i < len(row))
    for field_text in fields:
        for word in _WORD.findall(field_text):
            if not word.isascii() and word not in words:
                words.append(word[:READING_WORD_CHARS])
        if len(words) >= READING_WORDS:
            break
    words = words[:READING_WORDS]
    readings = []
    for encoding in (guess.encoding, *guess.others):
        read = tuple(
            word.encode(guess.encoding, errors="replace").decode(encoding, errors="replace")
            for word in words
        )
        readings.append((encoding, read))
    return readings


def sniff_dialect(path: Path) -> Sniffed:
    with path.open("rb") as handle:
        head = handle.read(SNIFF_SIZE)
        complete = not handle.read(1)
    encoding, bom = guess_encoding(head)
    legacy = None
    if encoding in UTF16:
        body = head[2:]
        decoded = body[: len(body) - len(body) % 2].decode(encoding, errors="replace")
    else:
        text = head[3:] if bom else head
        if encoding not in ("utf-8", MIXED):
            legacy = guess_legacy(text)
        decoded = text.decode("utf-8" if encoding == MIXED else encoding, errors="replace")
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
    return Sniffed(dialect, header, sample, complete, legacy)


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


def best_delimiter(text: str) -> str:
    """The delimiter of a decoded head (see `_best_delimiter`)."""
    return _best_delimiter(text)


def split_rows(text: str, delimiter: str, limit: int = 20_000) -> list[list[str]]:
    """The non-empty rows of a decoded head, read as CSV."""
    return _rows(text, delimiter, limit)
