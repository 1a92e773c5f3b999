"""Identifying content of TIFF images (whole-slide images), and a copy of a slide without it.

A slide scanner's file holds, besides the pyramid of the tissue, a photo of the glass slide's
label (often the patient's name or number), an overview ("macro") that shows the label too, and
tags that can name the operator, the file or the day of the scan. `scan_image_privacy` lists
them, masked; `write_clean_copy` writes a copy without them, then checks the copy.

What is recognised:

- Label and macro pages: tifffile's series names (Aperio SVS: the pages after the pyramid, by
  NewSubfileType; Philips and Ventana: by their description; Hamamatsu NDPI: the macro's
  SourceLens tag is -1) and, on a page outside the main pyramid, "label", "macro" or "overview"
  in the head of its ImageDescription (before any Aperio `|` field). Page 0 is never dropped.
- Tags dropped whole: Artist, DateTime, HostComputer, DocumentName, the EXIF dates, owner and
  serial numbers, Windows XP* tags, NDPI SlideLabel and ScannerSerialNumber; the EXIF, GPS,
  Interoperability, XMP, IPTC and Photoshop blocks are dropped and their payload zeroed.
- The text of every other ASCII tag (ImageDescription, Software, PageName, NDPI Comments…):
  fields whose key speaks of a person, a date or a file (Aperio `|User = …|Date = …`, `key: value`
  text, XML elements and attributes such as Leica SCN `<barcode>`, Philips `<Attribute Name="…">`,
  whose embedded label and macro pictures are blanked too), then dates, e-mail addresses, user
  folders and "DUPONT Jean"-shaped names anywhere. Aperio fields are removed from the text; other
  matches are overwritten with spaces, so XML or key/value text keeps its structure.

Not handled: Leica SCN macro images (told apart only by their XML), MRXS (not a single TIFF),
vendor MakerNotes, SubIFDs chained by their next-IFD offset, text burnt into the tissue's pixels.
Names are found by their shape ("DUPONT Jean", "Jean DUPONT", "Dr Martin", a name-like key):
a name written in lower case in free text, without a key, is not.

The copy is the source's bytes, patched in place (the approach of the "anonymize-slide" tool):
label and macro IFDs unlinked from the IFD chain, their IFD, tag values and pixel data zeroed;
dropped tags removed from their IFD (entries shifted, the freed tail zeroed); edited texts
written over their old value, padded with NULs to the same length. Nothing moves, so every other
offset stays valid, and bytes still used by a kept page are never zeroed. The copy is written
under a temporary name, checked (re-scanned, one segment decoded, baseline pixels hashed against
the source), then renamed into place.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import struct
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

import tifffile

from hdh_wizard.core.safe_files import check_not_linked, replace_atomically
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.images import _detail, _TifffileLog
from hdh_wizard.inspect.progress import Cancelled, Progress
from hdh_wizard.inspect.risk.masking import mask


class ImageRule(StrEnum):
    LABEL_IMAGE = "label_image"  # a page that is the slide label
    MACRO_IMAGE = "macro_image"  # a macro/overview page
    IDENTIFYING_TAG = "identifying_tag"  # a tag or field that can carry an identity or a date
    NAME_IN_TEXT = "name_in_text"  # something looking like a person's name in a text
    DATE_IN_TEXT = "date_in_text"  # a date in a text


@dataclass(frozen=True)
class ImageFinding:
    rule: ImageRule
    page: int | None  # 0-based page index, None for the file as a whole
    tag: str | None  # tag name, e.g. "ImageDescription"
    excerpt: str  # masked (`masking.mask`), never the clear value


@dataclass(frozen=True)
class ImagePrivacyReport:
    path: str  # display path given by the caller
    findings: tuple[ImageFinding, ...]
    pages: int
    removable_pages: tuple[int, ...]  # label/macro pages the clean copy drops


# --- tags --------------------------------------------------------------------------------------

_DROPPED_TAGS = frozenset(
    {
        269,  # DocumentName
        306,  # DateTime
        315,  # Artist
        316,  # HostComputer
        36867,  # DateTimeOriginal (TIFF/EP puts EXIF dates in the IFD itself)
        36868,  # DateTimeDigitized
        36880,  # OffsetTime
        36881,  # OffsetTimeOriginal
        36882,  # OffsetTimeDigitized
        37520,  # SubsecTime
        37521,  # SubsecTimeOriginal
        37522,  # SubsecTimeDigitized
        40091,  # XPTitle
        40092,  # XPComment
        40093,  # XPAuthor
        40094,  # XPKeywords
        40095,  # XPSubject
        42016,  # ImageUniqueID
        42032,  # CameraOwnerName
        42033,  # BodySerialNumber
        50735,  # CameraSerialNumber
        65427,  # NDPI SlideLabel: the text of the slide's label
        65442,  # NDPI ScannerSerialNumber
    }
)
_POINTER_TAGS = frozenset({34665, 34853, 40965})  # EXIF, GPS, Interoperability IFDs
_BLOCK_TAGS = _POINTER_TAGS | {
    700,  # XMP
    33723,  # IPTC
    34377,  # Photoshop image resources
    37724,  # Photoshop ImageSourceData
}
_SUBIFDS = 330
_DESCRIPTION = 270
_NDPI_FILE_FORMAT = 65420
_NDPI_SOURCE_LENS = 65421  # magnification; -1 marks the macro
_DATA_TAGS = ((273, 279), (324, 325), (513, 514))  # strips, tiles, old-style JPEG
_ASCII = 2

# Bytes per item of each TIFF data type; an unknown type is kept as it is and never read.
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
_TYPE_SIZES |= {13: 4, 16: 8, 17: 8, 18: 8}
_UINT_FORMATS = {1: "B", 3: "H", 4: "I", 13: "I", 16: "Q", 18: "Q"}
_NUMBER_FORMATS = {3: "H", 4: "I", 8: "h", 9: "i", 11: "f", 12: "d", 16: "Q", 17: "q"}

MAX_IFDS = 1_000_000  # beyond, the chain is taken for a loop or garbage
MAX_ENTRIES = 4096  # as tifffile: more tags than this in one IFD is damage
MAX_SUBIFD_DEPTH = 4
COPY_CHUNK = 8 * 2**20
HEAD_CHARS = 200  # where a label/macro page names itself in its description

_KIND_WORD = re.compile(r"(?<![a-z])(label|macro|overview)(?![a-z])", re.IGNORECASE)
# tifffile's series names; exact, since an NDPI series is named after the slide's label text
_KIND_NAMES = {
    "label": ImageRule.LABEL_IMAGE,
    "macro": ImageRule.MACRO_IMAGE,
    "overview": ImageRule.MACRO_IMAGE,
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- keys of fields, folded: lower case, no accents, camelCase split, other characters spaces --

_NAME_KEYS = _words(
    "user username login operator operateur technician technicien author auteur owner "
    "proprietaire patient patientname nom prenom nomprenom surname firstname lastname "
    "givenname familyname fullname birthname nomdenaissance nomdusage experimenter physician "
    "medecin doctor docteur pathologist pathologiste scannedby createdby person personne "
    "email mail emailaddress courriel"
)
_NAME_TOKENS = _words(
    "patient user username operator operateur technician technicien author auteur owner nom "
    "prenom surname firstname lastname experimenter physician medecin pathologist "
    "pathologiste email courriel"
)
_DATE_KEYS = _words(
    "date time timezone heure datetime timestamp dob ddn birthdate birthday dateofbirth "
    "datedenaissance"
)
_DATE_TOKENS = _words("date datetime timestamp dob ddn birth birthdate naissance")
_OTHER_KEYS = _words(
    "filename file path filepath fullpath directory folder barcode scanscopeid dsrid imageid "
    "slideid slidename slidelabel label caseid case casenumber accession accessionnumber "
    "specimen specimenid sampleid serialnumber hostname host computer computername ipp nip "
    "nda nir ssn"
)
_OTHER_TOKENS = _words("filename filepath barcode accession specimen hostname serial")
_KNOWN_KEYS = _NAME_KEYS | _DATE_KEYS | _OTHER_KEYS
_KEY_WORDS = (
    _NAME_TOKENS
    | _DATE_TOKENS
    | _OTHER_TOKENS
    | _words(
        "dicom pim dp ufs scanned scanner scan slide image file name id number no num device "
        "acquisition creation created modified original digitized study series content time "
        "zone of by the last first given family full birth user operator de du d le la case "
        "sample specimen accession label host computer serial calibration"
    )
)
_PHILIPS_PICTURE = "pimdpimagedata"  # base64 JPEG of the label or macro, inside the XML

# --- free text ---------------------------------------------------------------------------------

_UP = "A-ZÀ-ÖØ-Þ"
_LOW = "a-zß-öø-ÿ"
_LETTERS = f"{_UP}{_LOW}"
# 12/03/2021, 12-03-21 (day or month first): day and month are checked by `_plausible`
_NUMERIC_DATE = re.compile(
    r"(?<![\d.:/])(?P<a>\d{1,2})(?P<sep>[/-])(?P<b>\d{1,2})(?P=sep)(?:\d{4}|\d{2})(?![\d/])"
)
# 12.03.2021: with dots, a 4-digit year only ("v12.0.15" is a version)
_DOTTED_DATE = re.compile(r"(?<![\d.vV])(?P<a>\d{1,2})\.(?P<b>\d{1,2})\.(?:19|20)\d\d(?![\d.])")
_DATE_PATTERNS = (
    # 2021-03-12, 2021/03/12, 2021-03-12T10:00:00; not with dots: "2026.3.3" is a version
    re.compile(r"(?<![\d.])(?:19|20)\d\d([-/])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])(?!\d)"),
    # 2021:03:12 10:00:00, as EXIF and the DateTime tag write it
    re.compile(r"(?<![\d.:])(?:19|20)\d\d:(?:0[1-9]|1[0-2]):(?:0[1-9]|[12]\d|3[01])(?!\d)"),
    _NUMERIC_DATE,
    _DOTTED_DATE,
    # 12 mars 2021, 1er janvier 2020, 3 Dec 2019
    re.compile(
        r"(?<![\w])\d{1,2}(?:er)?\s+(?:janv|f[ée]vr|mars|avr|mai|juin|juil|ao[ûu]t|sept|oct|nov|"
        r"d[ée]c|jan|feb|mar|apr|may|jun|jul|aug|sep|dec)[a-zéû]*\.?\s+(?:19|20)\d\d(?!\d)",
        re.IGNORECASE,
    ),
)
# Starts where a word starts: otherwise each letter of a long base64 run would be tried
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]+(?:\.[\w-]+)+")
_USER_FOLDER = re.compile(
    r"[\\/](?:users|home|utilisateurs|documents and settings)[\\/][^\\/\s|\"<>:;]+",
    re.IGNORECASE,
)
_TITLED_NAME = re.compile(
    rf"(?<![{_LETTERS}])(?:M\.|Mme|Mlle|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Pr\.?|Docteur|Professeur|"
    rf"Madame|Monsieur)\s+[{_UP}][{_LETTERS}'-]+"
)
_SURNAME_FIRST = re.compile(
    rf"(?<![{_LETTERS}])([{_UP}]{{2,}}(?:[-'][{_UP}]{{2,}})*)[ _,]+"
    rf"([{_UP}][{_LOW}]+(?:-[{_UP}][{_LOW}]+)?)(?![{_LETTERS}])"
)
_FIRST_SURNAME = re.compile(
    rf"(?<![{_LETTERS}])([{_UP}][{_LOW}]+(?:-[{_UP}][{_LOW}]+)?)[ _]+"
    rf"([{_UP}]{{2,}}(?:[-'][{_UP}]{{2,}})*)(?![{_LETTERS}])"
)
# Words that make "RGB Image" or "Coupe HES" look like "DUPONT Jean" but are not names:
# formats, vendors, imaging words, stains and markers of pathology, French and English.
_NOT_NAMES = _words(
    "jpeg jpg rgb rgba ycbcr cmyk lzw tiff tif bigtiff icc mpp svs ndpi xml ome dicom gps "
    "exif iptc xmp dpi utc gmt cet cest iso ascii png bmp jp2k yuv hdr raw roi lut api usb "
    "he ihc id uid uuid url ok na nan null none true false image data level tile tiles file "
    "label macro scan scanner slide version copyright aperio philips hamamatsu leica ventana "
    "roche zeiss olympus nikon tifffile imagej library profile compression quality "
    "photometric resolution baseline thumbnail overview magnification objective camera lens "
    "color colour channel focus stitching sample stack hes hps pas ihc fish cish sish her "
    "ki ck cd ema psa ttf gfap giemsa grocott perls orcein trichrome masson reticuline "
    "coupe coupes lame lames bloc blocs coloration marquage section sections stain staining "
    "tissue tissu biopsie biopsy block"
)
# Fields: Philips `<Attribute Name="KEY" …>VALUE</Attribute>`, XML elements and attributes,
# `KEY: VALUE` or `KEY = VALUE` text.
_PHILIPS_ATTRIBUTE = re.compile(
    r'<Attribute\s+Name="(?P<key>[^"]+)"[^>]*>(?P<value>[^<]*)</Attribute>'
)
# Leica SCN: <barcode>…</barcode>, <creationDate>…</creationDate>
_XML_ELEMENT = re.compile(r"<(?P<key>[A-Za-z_][\w:.-]*)(?:\s[^<>]*)?>(?P<value>[^<]+)</(?P=key)>")
_XML_ATTRIBUTE = re.compile(
    r'(?<![\w:.-])(?P<key>[A-Za-z_][\w:.-]*)\s*(?P<sep>=)\s*"(?P<value>[^"]*)"'
)
_KEY_VALUE = re.compile(
    rf"(?<![\w])(?P<key>[{_LETTERS}][\w{_LETTERS}' .-]{{0,40}}?)[ \t]*(?P<sep>[:=])[ \t]*"
    r'(?P<value>[^|\r\n;&<>"=]*[^|\r\n;&<>"=\s])'
)


# --- public API --------------------------------------------------------------------------------


def scan_image_privacy(path: Path, display: str) -> ImagePrivacyReport:
    """What in this TIFF can identify someone: label and macro pages, tags, names and dates.

    Reads the IFDs and tag values only, never pixel data. Raises `HdhWizardError`
    (`risk.image.error.unreadable`) when the file cannot be read or is damaged.
    """
    return _survey(path, display).report


def write_clean_copy(
    source: Path, output: Path, display: str, progress: Progress | None = None
) -> ImagePrivacyReport:
    """Write to `output` a copy of the slide without label, macro and identifying tags.

    The source is only read. The copy is checked before it takes its name: nothing left to
    report, the kept pages readable, the baseline's pixel bytes those of the source. Raises
    `HdhWizardError` (`risk.image.error.*`) or `Cancelled`; either way nothing is left at
    `output`'s folder but what was there before. Returns the report of the copy (no findings).
    """
    check_not_linked(output)  # a planted link: refused before any work
    if _same_file(source, output):
        raise HdhWizardError("risk.image.error.onto_source", file=display)
    before = _survey(source, display)
    # Same suffix as the output: tifffile tells NDPI's 64-bit layout by the ".ndpi" extension.
    temporary = output.parent / f".{output.stem}.part-{secrets.token_hex(6)}{output.suffix}"
    try:
        _copy(source, temporary, display, progress)
        _apply(temporary, _patch(before), display, progress)
        report = _verify(before, source, temporary, display, progress)
        try:
            replace_atomically(temporary, output)  # synced, and the folder too
        except OSError as exc:  # a folder in the way, a read-only destination…
            raise _write_failed(display, temporary, exc) from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return report


# --- reading the IFDs --------------------------------------------------------------------------


class _Damaged(Exception):
    """The structure of the file contradicts itself; the message is the technical detail."""


@dataclass(frozen=True)
class _Format:
    byteorder: str  # "<" or ">"
    bigtiff: bool
    ndpi: bool  # classic entries, 64-bit next-IFD offsets, high 32 bits after the IFD

    @property
    def count_format(self) -> str:
        return "Q" if self.bigtiff else "H"

    @property
    def count_size(self) -> int:
        return 8 if self.bigtiff else 2

    @property
    def entry_size(self) -> int:
        return 20 if self.bigtiff else 12

    @property
    def field_size(self) -> int:  # the value-or-offset field of an entry
        return 8 if self.bigtiff else 4

    @property
    def next_format(self) -> str:
        return "Q" if self.bigtiff or self.ndpi else "I"

    @property
    def next_size(self) -> int:
        return 8 if self.bigtiff or self.ndpi else 4

    @property
    def header_size(self) -> int:  # ends with the first IFD's offset (8 bytes for NDPI too)
        return 16 if self.bigtiff else 4 + self.next_size


@dataclass(frozen=True)
class _Entry:
    code: int
    dtype: int
    count: int
    position: int  # of the entry in the file
    raw: bytes  # the entry as stored
    high: bytes  # NDPI: the high 32 bits of its value or offset, stored after the IFD
    value_position: int
    value_size: int
    inline: bool  # the value sits in the entry itself


@dataclass(frozen=True)
class _Ifd:
    offset: int
    end: int  # first byte after the IFD's own structure
    page: int  # top-level page it belongs to
    entries: tuple[_Entry, ...]
    next_offset: int
    subifds: tuple[_Ifd, ...]  # tag 330: part of the image (pyramid levels, masks)
    blocks: tuple[_Ifd, ...]  # EXIF, GPS, Interoperability: dropped whole
    data: tuple[tuple[int, int], ...]  # byte ranges of its strips or tiles

    def entry(self, code: int) -> _Entry | None:
        return next((e for e in self.entries if e.code == code), None)


class _Reader:
    def __init__(self, handle: BinaryIO, size: int, fmt: _Format) -> None:
        self.handle = handle
        self.size = size
        self.fmt = fmt
        self.seen: set[int] = set()

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise _Damaged(
                f"bytes {offset} to {offset + length} are past the end of the file ({self.size})"
            )
        self.handle.seek(offset)
        data = self.handle.read(length)
        if len(data) != length:
            raise _Damaged(f"short read at byte {offset}")
        return data

    def chain(self) -> list[_Ifd]:
        fmt = self.fmt
        first = self.read(fmt.header_size - fmt.next_size, fmt.next_size)
        (offset,) = struct.unpack(fmt.byteorder + fmt.next_format, first)
        pages: list[_Ifd] = []
        while offset:
            ifd = self.ifd(offset, len(pages), 0)
            pages.append(ifd)
            offset = ifd.next_offset
        return pages

    def ifd(self, offset: int, page: int, depth: int) -> _Ifd:
        fmt = self.fmt
        if offset < fmt.header_size or offset in self.seen or len(self.seen) >= MAX_IFDS:
            raise _Damaged(f"invalid or repeated IFD offset {offset}")
        self.seen.add(offset)
        (count,) = struct.unpack(
            fmt.byteorder + fmt.count_format, self.read(offset, fmt.count_size)
        )
        if count > MAX_ENTRIES:
            raise _Damaged(f"IFD at byte {offset} claims {count} tags")
        entries_size = count * fmt.entry_size
        tail = fmt.next_size + (4 * count if fmt.ndpi else 0)
        body = self.read(offset + fmt.count_size, entries_size + tail)
        (next_offset,) = struct.unpack(
            fmt.byteorder + fmt.next_format, body[entries_size : entries_size + fmt.next_size]
        )
        high_start = entries_size + fmt.next_size
        entries = tuple(
            self._entry(
                offset + fmt.count_size + i * fmt.entry_size,
                body[i * fmt.entry_size : (i + 1) * fmt.entry_size],
                body[high_start + 4 * i : high_start + 4 * i + 4] if fmt.ndpi else b"",
            )
            for i in range(count)
        )
        subifds: list[_Ifd] = []
        blocks: list[_Ifd] = []
        if depth < MAX_SUBIFD_DEPTH:
            for entry in entries:
                if entry.code == _SUBIFDS:
                    # an offset already read is not read twice (nor taken for a loop)
                    offsets = [o for o in self.uints(entry) if o and o not in self.seen]
                    subifds.extend(self.ifd(o, page, depth + 1) for o in offsets)
                elif entry.code in _POINTER_TAGS:
                    blocks.extend(self._block(entry, page, depth))
        end = offset + fmt.count_size + entries_size + tail
        data = tuple(self._data_ranges(entries))
        return _Ifd(offset, end, page, entries, next_offset, tuple(subifds), tuple(blocks), data)

    def _block(self, entry: _Entry, page: int, depth: int) -> list[_Ifd]:
        """An EXIF/GPS IFD; when damaged it cannot be zeroed, but its pointer is dropped anyway."""
        try:
            offsets = [o for o in self.uints(entry) if o and o not in self.seen]
            return [self.ifd(o, page, depth + 1) for o in offsets]
        except _Damaged:
            return []

    def _entry(self, position: int, raw: bytes, high: bytes) -> _Entry:
        fmt = self.fmt
        count_format = "Q" if fmt.bigtiff else "I"
        code, dtype, count = struct.unpack(
            fmt.byteorder + "HH" + count_format, raw[: -fmt.field_size]
        )
        size = count * _TYPE_SIZES.get(dtype, 0)
        field_position = position + fmt.entry_size - fmt.field_size
        if size <= fmt.field_size:
            return _Entry(code, dtype, count, position, raw, high, field_position, size, True)
        (value_position,) = struct.unpack(fmt.byteorder + count_format, raw[-fmt.field_size :])
        if high:
            value_position |= int.from_bytes(high, "little") << 32
        if value_position < fmt.header_size or value_position + size > self.size:
            raise _Damaged(f"tag {code} points past the end of the file ({value_position})")
        return _Entry(code, dtype, count, position, raw, high, value_position, size, False)

    def value(self, entry: _Entry) -> bytes:
        if entry.inline:
            start = self.fmt.entry_size - self.fmt.field_size
            return entry.raw[start : start + entry.value_size]
        return self.read(entry.value_position, entry.value_size)

    def uints(self, entry: _Entry) -> tuple[int, ...]:
        item = _UINT_FORMATS.get(entry.dtype)
        if item is None or not entry.count:
            return ()
        values = struct.unpack(f"{self.fmt.byteorder}{entry.count}{item}", self.value(entry))
        if entry.inline and entry.count == 1 and entry.high.strip(b"\0"):
            # NDPI beyond 4 GiB: a single offset's high half lies after the IFD
            return (values[0] | int.from_bytes(entry.high, "little") << 32,)
        return tuple(int(v) for v in values)

    def number(self, entry: _Entry) -> float | None:
        if not entry.count:
            return None
        data = self.value(entry)
        if entry.dtype in (5, 10):  # (signed) rational
            num, den = struct.unpack(
                self.fmt.byteorder + ("II" if entry.dtype == 5 else "ii"), data[:8]
            )
            return num / den if den else None
        item = _NUMBER_FORMATS.get(entry.dtype)
        if item is None:
            return None
        size = struct.calcsize(item)
        return float(struct.unpack(self.fmt.byteorder + item, data[:size])[0])

    def text(self, entry: _Entry) -> tuple[str, str]:
        """The text of an ASCII value, without its trailing NULs, and the codec that decoded it."""
        data = self.value(entry).rstrip(b"\0")
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return data.decode("latin-1"), "latin-1"  # never fails: one character per byte

    def _data_ranges(self, entries: tuple[_Entry, ...]) -> list[tuple[int, int]]:
        by_code = {e.code: e for e in entries}
        ranges: list[tuple[int, int]] = []
        for offsets_code, counts_code in _DATA_TAGS:
            offsets, counts = by_code.get(offsets_code), by_code.get(counts_code)
            if offsets is None or counts is None:
                continue
            pairs = zip(self.uints(offsets), self.uints(counts), strict=False)
            ranges.extend((o, o + n) for o, n in pairs if n)
        return ranges


# --- what a file holds -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hit:
    """A span of a text to hide: blanked with spaces, or removed (an Aperio `|key = value`)."""

    start: int
    end: int
    rule: ImageRule
    excerpt: str
    remove: bool = False


@dataclass(frozen=True)
class _Survey:
    report: ImagePrivacyReport
    fmt: _Format
    pages: tuple[_Ifd, ...]  # the top-level IFDs, with their SubIFDs and blocks
    new_texts: dict[int, bytes]  # ASCII entry position → its cleaned value, same length


def _survey(path: Path, display: str) -> _Survey:
    try:
        size = path.stat().st_size
        with (
            _TifffileLog() as log,
            tifffile.TiffFile(str(path)) as tif,  # a str: tifffile reads NDPI by its extension
            path.open("rb") as handle,
        ):
            if not len(tif.pages):
                raise _Damaged(log.messages[0] if log.messages else "no image (0 pages)")
            fmt = _Format(str(tif.tiff.byteorder), bool(tif.is_bigtiff), bool(tif.tiff.is_ndpi))
            reader = _Reader(handle, size, fmt)
            pages = reader.chain()
            if len(pages) != len(tif.pages):
                raise _Damaged(f"{len(tif.pages)} pages read, {len(pages)} IFDs chained")
            return _inspect(reader, pages, *_series_info(tif), display)
    except HdhWizardError:
        raise
    except Exception as exc:  # tifffile and struct raise many kinds on bad bytes
        raise HdhWizardError(
            "risk.image.error.unreadable", file=display, detail=_detail(exc)
        ) from exc


def _series_info(tif: Any) -> tuple[dict[int, str], set[int]]:
    """Page index → name of the tifffile series it starts ("Label", "Macro"…), and the pages of
    the main image and its levels: a keyword in their description never drops those.

    A vendor's metadata that tifffile cannot make sense of (a malformed OME-XML) leaves names
    and series unknown: the pages are then judged on their own tags."""
    try:
        series = list(tif.series)
    except Exception:
        return {}, {0}
    names: dict[int, str] = {}
    for one in series:
        for page in one.pages:
            index = getattr(page, "index", None)
            if isinstance(index, int):
                names.setdefault(index, str(one.name or "").strip().lower())
    protected = {0}
    if series and str(series[0].name or "").strip().lower() not in _KIND_NAMES:
        for level in series[0].levels:
            indices = (getattr(page, "index", None) for page in level.pages)
            protected.update(i for i in indices if isinstance(i, int))
    return names, protected


def _inspect(
    reader: _Reader, pages: list[_Ifd], names: dict[int, str], protected: set[int], display: str
) -> _Survey:
    findings: list[ImageFinding] = []
    removable: list[int] = []
    new_texts: dict[int, bytes] = {}
    for ifd in pages:
        end = max(
            (stop for node in _tree(ifd, with_blocks=False) for _, stop in node.data), default=0
        )
        if end > reader.size:
            raise _Damaged(f"truncated: image data ends at byte {end}, the file has {reader.size}")
        kind = _page_kind(reader, ifd, names.get(ifd.page, ""), ifd.page in protected)
        if kind is not None:
            removable.append(ifd.page)
            findings.append(ImageFinding(kind, ifd.page, None, _size_excerpt(reader, ifd)))
            continue  # its tags go with it
        for node in _tree(ifd, with_blocks=False):
            findings.extend(_tag_findings(reader, node, new_texts))
    report = ImagePrivacyReport(display, _unique(findings), len(pages), tuple(removable))
    return _Survey(report, reader.fmt, tuple(pages), new_texts)


def _page_kind(reader: _Reader, ifd: _Ifd, series_name: str, protected: bool) -> ImageRule | None:
    if ifd.page == 0:
        return None
    # Markers set by the vendor or named by tifffile first: they hold wherever tifffile grouped
    # the page (it can take an NDPI macro for a level of the pyramid).
    lens = ifd.entry(_NDPI_SOURCE_LENS)
    if lens is not None and ifd.entry(_NDPI_FILE_FORMAT) is not None and reader.number(lens) == -1:
        return ImageRule.MACRO_IMAGE
    if series_name in _KIND_NAMES:
        return _KIND_NAMES[series_name]
    description = ifd.entry(_DESCRIPTION)
    if protected or description is None or description.dtype != _ASCII:
        return None
    head = reader.text(description)[0].split("|", 1)[0][:HEAD_CHARS]
    match = _KIND_WORD.search(head)
    return _KIND_NAMES[match[1].lower()] if match else None


def _size_excerpt(reader: _Reader, ifd: _Ifd) -> str:
    width, length = ifd.entry(256), ifd.entry(257)
    if width is None or length is None:
        return ""
    return mask(f"{reader.number(width) or 0:.0f}x{reader.number(length) or 0:.0f}")


def _tree(ifd: _Ifd, *, with_blocks: bool) -> Iterator[_Ifd]:
    yield ifd
    for child in (*ifd.subifds, *(ifd.blocks if with_blocks else ())):
        yield from _tree(child, with_blocks=with_blocks)


def _tag_findings(reader: _Reader, ifd: _Ifd, new_texts: dict[int, bytes]) -> list[ImageFinding]:
    findings = []
    for entry in ifd.entries:
        tag = _tag_name(entry.code)
        if entry.code in _BLOCK_TAGS:
            findings.append(ImageFinding(ImageRule.IDENTIFYING_TAG, ifd.page, tag, ""))
        elif entry.code in _DROPPED_TAGS:
            text = reader.text(entry)[0].strip() if entry.dtype == _ASCII else ""
            if text or (entry.dtype != _ASCII and entry.count):
                findings.append(ImageFinding(ImageRule.IDENTIFYING_TAG, ifd.page, tag, mask(text)))
        elif entry.dtype == _ASCII and entry.count:
            text, codec = reader.text(entry)
            aperio = entry.code == _DESCRIPTION and text.startswith("Aperio")
            hits = _aperio_hits(text) if aperio else _text_hits(text)
            findings.extend(ImageFinding(h.rule, ifd.page, tag, h.excerpt) for h in hits)
            if hits:
                cleaned = _cleaned(text, hits).encode(codec)
                new_texts[entry.position] = cleaned.ljust(entry.value_size, b"\0")
    return findings


def _tag_name(code: int) -> str:
    name = tifffile.TIFF.TAGS.get(code, None) or tifffile.TIFF.NDPI_TAGS.get(code, None)
    return str(name) if name else str(code)


def _unique(findings: Iterable[ImageFinding]) -> tuple[ImageFinding, ...]:
    """The same masked finding on every level of a pyramid is said once, at its first page."""
    seen: set[tuple[ImageRule, str | None, str]] = set()
    kept = []
    for finding in findings:
        key = (finding.rule, finding.tag, finding.excerpt)
        if key not in seen:
            seen.add(key)
            kept.append(finding)
    return tuple(kept)


# --- what a text holds -------------------------------------------------------------------------


def _fold(key: str) -> list[str]:
    key = re.sub(r"([a-z])([A-Z])", r"\1 \2", key)
    key = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", key)
    key = unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", " ", key.lower()).split()


def _key_rule(key: str) -> ImageRule | None:
    tokens = _fold(key)
    compact = "".join(tokens)
    if compact in _NAME_KEYS or _NAME_TOKENS.intersection(tokens):
        return ImageRule.NAME_IN_TEXT
    if compact in _DATE_KEYS or _DATE_TOKENS.intersection(tokens):
        return ImageRule.DATE_IN_TEXT
    if compact in _OTHER_KEYS or _OTHER_TOKENS.intersection(tokens):
        return ImageRule.IDENTIFYING_TAG
    return None


def _field_excerpt(key: str, sep: str, value: str) -> str:
    """`Key = masked value`. A key can hold a name too ("Patient DUPONT: …"), so it is shown
    only when all its words are known ones; otherwise it is masked as well."""
    tokens = _fold(key)
    known = "".join(tokens) in _KNOWN_KEYS or all(t in _KEY_WORDS for t in tokens)
    shown = key.strip() if known and tokens else mask(key.strip())
    return f"{shown}{':' if sep == ':' else ' ='} {mask(value.strip())}"


def _aperio_hits(text: str) -> list[_Hit]:
    """Aperio: "header|Key = Value|Key = Value": identifying fields are removed whole."""
    first = text.find("|")
    head_end = len(text) if first < 0 else first
    hits = _free_hits(text, 0, head_end, ())
    start = head_end
    while start < len(text):
        stop = text.find("|", start + 1)
        stop = len(text) if stop < 0 else stop
        key, sep, value = text[start + 1 : stop].partition("=")
        rule = _key_rule(key) if sep else None
        if rule is not None and value.strip():
            hits.append(_Hit(start, stop, rule, _field_excerpt(key, "=", value), remove=True))
        else:
            hits.extend(_free_hits(text, start + 1, stop, ()))
        start = stop
    return hits


def _text_hits(text: str) -> list[_Hit]:
    hits: list[_Hit] = []
    for pattern in (_PHILIPS_ATTRIBUTE, _XML_ELEMENT, _XML_ATTRIBUTE, _KEY_VALUE):
        for match in pattern.finditer(text):
            value = match["value"]
            start, end = match.span("value")
            if not value.strip() or _overlaps(start, end, hits):
                continue
            key = match["key"]
            if "".join(_fold(key)) == _PHILIPS_PICTURE:
                hits.append(_Hit(start, end, _philips_picture(text, start), ""))
                continue
            rule = _key_rule(key)
            if rule is not None:
                sep = match.groupdict().get("sep") or "="
                hits.append(_Hit(start, end, rule, _field_excerpt(key, sep, value)))
    # Free text is searched between the fields only: a Philips XML holds megabytes of base64.
    for start, stop in _gaps(hits, len(text)):
        hits.extend(_free_hits(text, start, stop, ()))
    return hits


def _gaps(hits: list[_Hit], length: int) -> list[tuple[int, int]]:
    gaps = []
    last = 0
    for hit in sorted(hits, key=lambda h: h.start):
        if hit.start > last:
            gaps.append((last, hit.start))
        last = max(last, hit.end)
    if last < length:
        gaps.append((last, length))
    return gaps


def _philips_picture(text: str, position: int) -> ImageRule:
    """A Philips DPScannedImage carries its picture as base64, with its type nearby."""
    start = text.rfind("<DataObject", 0, position)
    stop = text.find("</DataObject>", position)
    scope = text[max(start, 0) : stop if stop >= 0 else len(text)]
    if "LABELIMAGE" in scope:
        return ImageRule.LABEL_IMAGE
    if "MACROIMAGE" in scope:
        return ImageRule.MACRO_IMAGE
    return ImageRule.IDENTIFYING_TAG


def _free_hits(text: str, start: int, stop: int, taken: Iterable[_Hit]) -> list[_Hit]:
    """Dates, e-mail addresses, user folders and person names anywhere in text[start:stop]."""
    found: list[_Hit] = []
    patterns: list[tuple[re.Pattern[str], ImageRule]] = [
        *((p, ImageRule.DATE_IN_TEXT) for p in _DATE_PATTERNS),
        (_EMAIL, ImageRule.NAME_IN_TEXT),
        (_USER_FOLDER, ImageRule.NAME_IN_TEXT),
        (_TITLED_NAME, ImageRule.NAME_IN_TEXT),
        (_SURNAME_FIRST, ImageRule.NAME_IN_TEXT),
        (_FIRST_SURNAME, ImageRule.NAME_IN_TEXT),
    ]
    for pattern, rule in patterns:
        for match in pattern.finditer(text, start, stop):
            begin, end = match.span()
            if _overlaps(begin, end, chain(taken, found)) or not _plausible(pattern, match):
                continue
            found.append(_Hit(begin, end, rule, mask(match[0])))
    return found


def _plausible(pattern: re.Pattern[str], match: re.Match[str]) -> bool:
    if pattern is _NUMERIC_DATE or pattern is _DOTTED_DATE:
        first, second = int(match["a"]), int(match["b"])
        return 1 <= first <= 31 and 1 <= second <= 31 and min(first, second) <= 12
    if pattern is _SURNAME_FIRST or pattern is _FIRST_SURNAME:
        return not {match[1].lower(), match[2].lower()} & _NOT_NAMES
    return True


def _overlaps(start: int, end: int, hits: Iterable[_Hit]) -> bool:
    return any(start < hit.end and hit.start < end for hit in hits)


def _cleaned(text: str, hits: list[_Hit]) -> str:
    parts = []
    last = 0
    for hit in sorted(hits, key=lambda h: h.start):
        parts.append(text[last : hit.start])
        if not hit.remove:
            parts.append(" " * (hit.end - hit.start))  # never longer than the bytes it replaces
        last = hit.end
    parts.append(text[last:])
    return "".join(parts)


# --- the patch ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Patch:
    zeros: tuple[tuple[int, int], ...]  # byte ranges overwritten with zeros, first
    writes: tuple[tuple[int, bytes], ...]  # then these bytes at these offsets


def _patch(survey: _Survey) -> _Patch:
    """The edits that turn a copy of the source into the clean copy, from the source's survey."""
    removed = set(survey.report.removable_pages)
    kept_pages = [ifd for ifd in survey.pages if ifd.page not in removed]
    zeros: list[tuple[int, int]] = []
    kept: list[tuple[int, int]] = [(0, survey.fmt.header_size)]
    writes: list[tuple[int, bytes]] = []
    for ifd in survey.pages:
        if ifd.page in removed:
            zeros.extend(_tree_ranges(ifd))
    # Page 0 is never removed, so the header's first-IFD offset stays right.
    for index, page in enumerate(kept_pages):
        following = kept_pages[index + 1].offset if index + 1 < len(kept_pages) else 0
        for ifd in _tree(page, with_blocks=False):
            next_offset = following if ifd is page else ifd.next_offset
            writes.extend(_rewrite(ifd, next_offset, survey, zeros, kept))
    # A byte still used by a kept page is never zeroed, should two IFDs share a value.
    return _Patch(tuple(_subtract(_merged(zeros), _merged(kept))), tuple(writes))


def _rewrite(
    ifd: _Ifd,
    next_offset: int,
    survey: _Survey,
    zeros: list[tuple[int, int]],
    kept: list[tuple[int, int]],
) -> list[tuple[int, bytes]]:
    """One kept IFD: tags dropped (later entries shifted up), texts replaced, next IFD updated."""
    fmt = survey.fmt
    writes: list[tuple[int, bytes]] = []
    entries: list[_Entry] = []
    for entry in ifd.entries:
        if entry.code in _DROPPED_TAGS or entry.code in _BLOCK_TAGS:
            if not entry.inline:
                zeros.append((entry.value_position, entry.value_position + entry.value_size))
            continue
        new = survey.new_texts.get(entry.position)
        if new is not None and entry.inline:
            start = fmt.entry_size - fmt.field_size
            entry = replace(entry, raw=entry.raw[:start] + new.ljust(fmt.field_size, b"\0"))
        elif new is not None:
            writes.append((entry.value_position, new))
        if not entry.inline:
            kept.append((entry.value_position, entry.value_position + entry.value_size))
        entries.append(entry)
    for block in ifd.blocks:
        zeros.extend(_tree_ranges(block))
    kept.append((ifd.offset, ifd.end))
    kept.extend(ifd.data)
    unchanged = next_offset == ifd.next_offset and [e.raw for e in entries] == [
        e.raw for e in ifd.entries
    ]
    if not unchanged:
        structure = struct.pack(fmt.byteorder + fmt.count_format, len(entries))
        structure += b"".join(e.raw for e in entries)
        structure += struct.pack(fmt.byteorder + fmt.next_format, next_offset)
        structure += b"".join(e.high for e in entries)  # NDPI only; empty otherwise
        writes.append((ifd.offset, structure.ljust(ifd.end - ifd.offset, b"\0")))
    return writes


def _tree_ranges(ifd: _Ifd) -> Iterator[tuple[int, int]]:
    """Every byte an IFD owns: its structure, tag values, pixel data, SubIFDs and blocks."""
    for node in _tree(ifd, with_blocks=True):
        yield node.offset, node.end
        for entry in node.entries:
            if not entry.inline:
                yield entry.value_position, entry.value_position + entry.value_size
        yield from node.data


def _merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(ranges: list[tuple[int, int]], holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`ranges` minus `holes`, both sorted and merged."""
    result: list[tuple[int, int]] = []
    index = 0
    for start, end in ranges:
        while index < len(holes) and holes[index][1] <= start:
            index += 1
        probe = index
        while start < end and probe < len(holes) and holes[probe][0] < end:
            hole_start, hole_end = holes[probe]
            if hole_start > start:
                result.append((start, hole_start))
            start = max(start, hole_end)
            probe += 1
        if start < end:
            result.append((start, end))
    return result


# --- writing and checking the copy -------------------------------------------------------------


def _same_file(source: Path, output: Path) -> bool:
    try:
        if output.exists() and output.samefile(source):
            return True
    except OSError:
        pass
    return output.resolve() == source.resolve()


def _copy(source: Path, temporary: Path, display: str, progress: Progress | None) -> None:
    if progress is not None:
        progress.check()
    try:
        with source.open("rb") as reader, temporary.open("xb") as writer:
            while chunk := reader.read(COPY_CHUNK):
                writer.write(chunk)
                if progress is not None:
                    progress.advance(len(chunk))
    except OSError as exc:
        raise _write_failed(display, temporary, exc) from exc


def _apply(temporary: Path, patch: _Patch, display: str, progress: Progress | None) -> None:
    zeros = bytes(COPY_CHUNK)
    try:
        with temporary.open("r+b") as handle:
            for start, end in patch.zeros:
                handle.seek(start)
                while start < end:
                    step = min(end - start, COPY_CHUNK)
                    handle.write(zeros[:step])
                    start += step
                    if progress is not None:
                        progress.check()
            for offset, data in patch.writes:
                handle.seek(offset)
                handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the rename makes it look finished
    except OSError as exc:
        raise _write_failed(display, temporary, exc) from exc


def _verify(
    before: _Survey, source: Path, temporary: Path, display: str, progress: Progress | None
) -> ImagePrivacyReport:
    try:
        report = _survey(temporary, display).report
    except HdhWizardError as error:
        raise _verify_failed(display, str(error.params.get("detail", error.key))) from error
    if report.findings or report.removable_pages:
        rules = sorted({f.rule.value for f in report.findings})
        raise _verify_failed(display, f"still found in the copy: {', '.join(rules) or 'pages'}")
    expected = before.report.pages - len(before.report.removable_pages)
    if report.pages != expected:
        raise _verify_failed(display, f"the copy has {report.pages} pages, {expected} expected")
    try:
        with (
            _TifffileLog(),  # tifffile's warnings stay off the screen
            tifffile.TiffFile(str(temporary)) as copy,
            tifffile.TiffFile(str(source)) as original,
        ):
            _decode_smallest(copy)
            if _baseline_hash(copy, progress) != _baseline_hash(original, progress):
                raise _verify_failed(display, "the baseline's pixel data differs from the source's")
    except (HdhWizardError, Cancelled):
        raise
    except Exception as exc:  # whatever tifffile or a codec raises on a broken copy
        raise _verify_failed(display, _detail(exc)) from exc
    return report


def _decode_smallest(tif: Any) -> None:
    """The smallest kept page decodes, or at least its first segment reads, when the codec is
    missing (JPEG and JPEG 2000 need the optional imagecodecs package)."""
    pages = [tif.pages[i] for i in range(len(tif.pages))]
    page = min(pages, key=lambda p: int(p.imagewidth) * int(p.imagelength))
    segments = [(o, n) for o, n in zip(page.dataoffsets, page.databytecounts, strict=False) if n]
    if not segments:
        raise _Damaged(f"page {page.index} has no pixel data")
    handle = tif.filehandle
    offset, count = segments[0]
    handle.seek(offset)
    data = handle.read(count)
    if len(data) != count:
        raise _Damaged(f"page {page.index}: its data ends past the end of the file")
    index = list(page.dataoffsets).index(offset)
    if _decodable(page):
        decoded = page.decode(data, index, jpegtables=page.jpegtables, jpegheader=page.jpegheader)
        if decoded[0] is None or not decoded[0].size:
            raise _Damaged(f"page {page.index}: its first segment does not decode")


def _decodable(page: Any) -> bool:
    predictor = int(getattr(page, "predictor", 1) or 1)
    return int(page.compression) in tifffile.TIFF.DECOMPRESSORS and (
        predictor == 1 or predictor in tifffile.TIFF.UNPREDICTORS
    )


def _baseline_hash(tif: Any, progress: Progress | None) -> str:
    page = tif.pages[0]
    handle = tif.filehandle
    digest = hashlib.sha256()
    for offset, count in zip(page.dataoffsets, page.databytecounts, strict=False):
        handle.seek(offset)
        remaining = int(count)
        while remaining:
            chunk = handle.read(min(remaining, COPY_CHUNK))
            if not chunk:
                raise _Damaged("the baseline's data ends past the end of the file")
            digest.update(chunk)
            remaining -= len(chunk)
        if progress is not None:
            progress.check()
    return digest.hexdigest()


def _write_failed(display: str, temporary: Path, exc: BaseException) -> HdhWizardError:
    return HdhWizardError(
        "risk.image.error.write_failed",
        file=display,
        folder=str(temporary.parent),
        detail=_detail(exc),
    )


def _verify_failed(display: str, detail: str) -> HdhWizardError:
    return HdhWizardError("risk.image.error.verify_failed", file=display, detail=detail)
