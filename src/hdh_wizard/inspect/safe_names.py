"""File and folder names made from a table's values, safe on every system the files travel to.

A split writes one file per value of a column, and a value is whatever a partner typed:
`../../etc`, `CON`, a newline, a right-to-left mark, 300 characters. The names are:

- **ASCII only** (`A-Z a-z 0-9 . _ -`): accents are transliterated (`é` → `e`, `Stade Ⅲ` →
  `Stade_III`, `œ` → `oe`), not kept. The files become S3 object keys and URLs referenced on
  data.gouv.fr, where an accent is percent-encoded, and macOS writes `é` decomposed (NFD) where
  Linux keeps it composed (NFC): the same name would then be two different keys. Whatever has no
  Latin form (another script, a symbol, a control character) becomes a `_` separator.
- **one path component**: no `/`, `\\`, no `..`, no leading dot (a hidden file) or dash (read as
  an option by shell commands), no trailing dot or space (Windows drops them), never a name
  Windows reserves (`CON`, `NUL`, `COM1`…, with or without an extension: `nul.txt` too,
  which becomes `nul_txt`; as a file name, `nul_.txt`).
- **length-limited in bytes** (UTF-8, which for ASCII is the character count).
- **told apart without regard to case** (macOS and Windows file systems ignore case): a second
  value giving the same name gets `-2`, then `-3`…

A value with nothing left (only symbols, another script) is named by a hash of its text, so the
name stays the same from one run to the next whatever the other values are.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence

MAX_NAME_BYTES = 80
# Letters NFKD does not decompose into ASCII.
_LATIN = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "ł": "l",
        "Ł": "L",
        "þ": "th",
        "Þ": "Th",
        "ı": "i",
        "’": "'",
    }
)
_OUTSIDE = re.compile(r"[^A-Za-z0-9.-]+")
_DOTS = re.compile(r"\.{2,}")
_SEPARATORS = re.compile(r"[._-]*_[._-]*")  # a run of separators holding a "_" becomes one "_"
_EDGES = "._- "
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,16}")
WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{n}" for n in range(10)}
    | {f"LPT{n}" for n in range(10)}
)


def transliterate(text: str) -> str:
    """`text` in ASCII letters where it has a Latin form; other characters left as they are."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LATIN))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def safe_name(value: str, *, max_bytes: int = MAX_NAME_BYTES, fallback: str = "valeur") -> str:
    """One safe path component for `value` (see the module's rules); never empty.

    `fallback` is a plain ASCII word, the start of the hashed name of a value with nothing left.
    Idempotent: a name this function made is returned unchanged."""
    if max_bytes < 16:
        raise ValueError("max_bytes must leave room for a hashed name")
    name = _OUTSIDE.sub("_", transliterate(value))
    name = _SEPARATORS.sub("_", _DOTS.sub(".", name)).strip(_EDGES)
    name = _shorten(name, max_bytes)
    if not name:
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        name = f"{_shorten(fallback, max_bytes - 9)}-{digest}"
    return _not_reserved(name, max_bytes)


def safe_file_name(name: str, *, max_bytes: int = MAX_NAME_BYTES, fallback: str = "fichier") -> str:
    """A safe name for a file, its extension kept: `Lame n°1.TIFF` → `Lame_n_1.TIFF`.

    `fallback` is a plain ASCII word (it names a file whose name has nothing left)."""
    stem, dot, extension = name.rpartition(".")
    room = max_bytes - len(extension) - 1
    if not dot or not stem.strip(_EDGES) or not _EXTENSION.fullmatch(extension) or room < 16:
        return safe_name(name, max_bytes=max_bytes, fallback=fallback)
    return f"{safe_name(stem, max_bytes=room, fallback=fallback)}.{extension}"


def unique_names(
    values: Sequence[str],
    *,
    taken: Iterable[str] = (),
    max_bytes: int = MAX_NAME_BYTES,
    file_names: bool = False,
) -> list[str]:
    """A safe name for each value, in order, none equal to another or to `taken` when case is
    ignored: the second value giving a name gets `-2` (before the extension for `file_names`).

    The caller passes the values in a stable order (sorted), so the same values always get the
    same names."""
    used = {name.casefold() for name in taken}
    names: list[str] = []
    for value in values:
        if file_names:
            name = safe_file_name(value, max_bytes=max_bytes)
        else:
            name = safe_name(value, max_bytes=max_bytes)
        stem, extension = _split_extension(name) if file_names else (name, "")
        number = 1
        while name.casefold() in used:
            number += 1
            suffix = f"-{number}{extension}"
            name = _shorten(stem, max_bytes - len(suffix)) + suffix
        used.add(name.casefold())
        names.append(name)
    return names


def _split_extension(name: str) -> tuple[str, str]:
    stem, dot, extension = name.rpartition(".")
    return (stem, f".{extension}") if dot and stem else (name, "")


def _shorten(name: str, max_bytes: int) -> str:
    """At most `max_bytes` bytes of UTF-8, cut on a character, with no separator left at the end."""
    data = name.encode("utf-8")
    if len(data) <= max_bytes:
        return name
    return data[:max_bytes].decode("utf-8", "ignore").rstrip(_EDGES)


def _not_reserved(name: str, max_bytes: int) -> str:
    """`CON` → `CON_`, `nul.txt` → `nul_txt`: Windows reserves the device names whatever the
    extension. (`nul_.txt` would not survive the separators' flattening: names stay idempotent.)"""
    first, dot, rest = name.partition(".")
    if first.upper() not in WINDOWS_RESERVED:
        return name
    return _shorten(f"{first}_{rest}", max_bytes) if dot else f"{first}_"
