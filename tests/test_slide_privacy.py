"""Identifying content of slide images (label, macro, tags, names and dates) and their clean copy.

The slides are synthetic, written with tifffile in the shape of the vendors' files: an Aperio SVS
(tiled pyramid, thumbnail, label and macro pages, `|Date = …|User = …` description) in classic
TIFF, BigTIFF and big-endian; a Hamamatsu NDPI, with its 64-bit offsets laid out by hand;
Philips-like XML. The label's pixels spell the patient's name, so "the name is nowhere in the
copy's bytes" also proves that the label's pixel data were zeroed.
"""

from __future__ import annotations

import hashlib
import struct
import time
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pytest
import tifffile
from numpy.typing import NDArray

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.inspect.progress import Cancelled, Progress
from hdh_wizard.inspect.risk import slide_privacy
from hdh_wizard.inspect.risk.slide_privacy import (
    ImageFinding,
    ImagePrivacyReport,
    ImageRule,
    scan_image_privacy,
    write_clean_copy,
)

APERIO_HEAD = "Aperio Image Library v12.0.15\r\n"
APERIO_FIELDS = (
    "|AppMag = 20|MPP = 0.499|Date = 12/03/21|Time = 10:01:02|User = jdupont"
    "|Filename = DUPONT_Jean_2021"
)
CLEAR_VALUES = ("DUPONT", "Dupont", "jdupont", "12/03/21", "2021:03:12", "10:01:02")
LABEL_PIXELS = b"DUPONT Jean 1234 "  # what a photo of the label shows, as raw pixel bytes


# --- synthetic slides --------------------------------------------------------------------------


def _pixels(height: int, width: int, seed: int = 0) -> NDArray[np.uint8]:
    return np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)


def _label_pixels() -> NDArray[np.uint8]:
    data = (LABEL_PIXELS * 1000)[: 40 * 60 * 3]
    return np.frombuffer(data, np.uint8).reshape(40, 60, 3)


def write_aperio(path: Path, **writer: Any) -> NDArray[np.uint8]:
    """An Aperio-like SVS: tiled baseline, thumbnail, one tiled level, label, macro."""
    base = _pixels(768, 1024)
    common: dict[str, Any] = {"photometric": "rgb", "metadata": None}
    with tifffile.TiffWriter(path, **writer) as tif:
        tif.write(
            base,
            tile=(256, 256),
            compression="zlib",
            description=APERIO_HEAD
            + "1024x768 [0,0 1024x768] (256x256) JPEG/RGB Q=70"
            + APERIO_FIELDS,
            datetime="2021:03:12 10:01:02",
            **common,
        )
        tif.write(
            base[::8, ::8], description=APERIO_HEAD + "1024x768 -> 128x96" + APERIO_FIELDS, **common
        )
        tif.write(
            base[::2, ::2],
            tile=(256, 256),
            compression="zlib",
            description=APERIO_HEAD + "512x384" + APERIO_FIELDS,
            **common,
        )
        tif.write(_label_pixels(), subfiletype=1, description=APERIO_HEAD + "label 60x40", **common)
        tif.write(
            base[::16, ::16], subfiletype=9, description=APERIO_HEAD + "macro 64x48", **common
        )
    return base


def write_plain(path: Path, **options: Any) -> NDArray[np.uint8]:
    pixels = _pixels(64, 96, seed=1)
    if isinstance(options.get("description"), str):
        options["description"] = options["description"].encode()  # UTF-8, as scanners write
    tifffile.imwrite(path, pixels, photometric="rgb", metadata=None, **options)
    return pixels


def write_ndpi(path: Path) -> bytes:
    """A Hamamatsu NDPI as the scanner lays it out: classic TIFF entries, but 64-bit IFD offsets
    (the first one in the header too) and the high half of each entry's value after the IFD.
    Two grey pages: the baseline, with the slide's label text, and the macro (SourceLens -1).
    Returns the baseline's pixel bytes."""
    baseline = bytes(range(256)) * 48  # 128 × 96
    macro = (LABEL_PIXELS * 100)[: 32 * 24]
    out = bytearray(b"II*\x00" + bytes(8))
    pages = [
        (128, 96, baseline, 20.0, [(65427, "DUPONT Jean"), (65449, "Created=2021-03-12")]),
        (32, 24, macro, -1.0, []),
    ]
    previous_next = 4  # where the offset to the next IFD must be written
    for width, height, pixels, lens, texts in pages:
        data_offset = len(out)
        out += pixels
        entries: list[tuple[int, int, int, bytes]] = [
            (256, 4, 1, struct.pack("<I", width)),
            (257, 4, 1, struct.pack("<I", height)),
            (258, 3, 1, struct.pack("<HH", 8, 0)),
            (259, 3, 1, struct.pack("<HH", 1, 0)),
            (262, 3, 1, struct.pack("<HH", 1, 0)),
            (273, 4, 1, struct.pack("<I", data_offset)),
            (277, 3, 1, struct.pack("<HH", 1, 0)),
            (278, 4, 1, struct.pack("<I", height)),
            (279, 4, 1, struct.pack("<I", len(pixels))),
            (65420, 4, 1, struct.pack("<I", 1)),
            (65421, 11, 1, struct.pack("<f", lens)),
        ]
        for code, text in [(271, "Hamamatsu"), (305, "NDP.scan 3.2.15"), *texts]:
            value = text.encode("ascii") + b"\x00"
            if len(out) % 2:
                out += b"\x00"
            entries.append((code, 2, len(value), struct.pack("<I", len(out))))
            out += value
        entries.sort()
        if len(out) % 2:
            out += b"\x00"
        ifd_offset = len(out)
        out[previous_next : previous_next + 8] = struct.pack("<Q", ifd_offset)
        out += struct.pack("<H", len(entries))
        for code, dtype, count, value in entries:
            out += struct.pack("<HHI", code, dtype, count) + value
        previous_next = len(out)
        out += bytes(8) + bytes(4 * len(entries))  # next IFD, then the high halves (all zero)
    path.write_bytes(bytes(out))
    return baseline


EXIF_PLACEHOLDER = (65000, "I", 1, 0, True)  # tifffile will not write tag 34665 itself


def add_exif(path: Path, owner: str, taken: str) -> None:
    """Give page 0 an EXIF IFD (CameraOwnerName, DateTimeOriginal), appended to the file; the
    page must have `EXIF_PLACEHOLDER` as its last tag, which becomes the pointer to it."""
    with tifffile.TiffFile(path) as tif:
        entry = first_page(tif).tags[EXIF_PLACEHOLDER[0]].offset
    data = bytearray(path.read_bytes())
    if len(data) % 2:
        data += b"\x00"
    exif_offset = len(data)
    values = [(36867, taken.encode() + b"\x00"), (42032, owner.encode() + b"\x00")]
    values_offset = exif_offset + 2 + 12 * len(values) + 4
    body, blob = b"", b""
    for code, value in values:
        body += struct.pack("<HHII", code, 2, len(value), values_offset + len(blob))
        blob += value
    data += struct.pack("<H", len(values)) + body + bytes(4) + blob
    data[entry : entry + 12] = struct.pack("<HHII", 34665, 4, 1, exif_offset)
    path.write_bytes(bytes(data))


def first_page(tif: tifffile.TiffFile) -> tifffile.TiffPage:
    page = tif.pages[0]
    assert isinstance(page, tifffile.TiffPage)
    return page


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rules(report: ImagePrivacyReport) -> set[ImageRule]:
    return {finding.rule for finding in report.findings}


def assert_masked(findings: tuple[ImageFinding, ...]) -> None:
    for finding in findings:
        for clear in CLEAR_VALUES:
            assert clear not in finding.excerpt, finding


def assert_nowhere_in(path: Path, *clear: bytes) -> None:
    data = path.read_bytes()
    for value in clear:
        assert value not in data, value


# --- finding what identifies -------------------------------------------------------------------


def test_an_aperio_slide_shows_its_label_macro_and_identifying_fields(tmp_path: Path) -> None:
    slide = tmp_path / "slide.svs"
    write_aperio(slide, bigtiff=False)
    report = scan_image_privacy(slide, "publish/slide.svs")
    assert report.path == "publish/slide.svs"
    assert report.pages == 5
    assert report.removable_pages == (3, 4)
    found = {(f.rule, f.page, f.tag) for f in report.findings}
    assert (ImageRule.LABEL_IMAGE, 3, None) in found
    assert (ImageRule.MACRO_IMAGE, 4, None) in found
    assert (ImageRule.NAME_IN_TEXT, 0, "ImageDescription") in found  # User = jdupont
    assert (ImageRule.DATE_IN_TEXT, 0, "ImageDescription") in found  # Date, Time
    assert (ImageRule.IDENTIFYING_TAG, 0, "ImageDescription") in found  # Filename
    assert (ImageRule.IDENTIFYING_TAG, 0, "DateTime") in found
    excerpts = {f.excerpt for f in report.findings}
    assert {"User = xxxxxxx", "Date = 99/99/99", "Filename = XXXXXX_Xxxx_9999"} <= excerpts
    assert_masked(report.findings)


def test_the_same_field_on_every_level_is_reported_once(tmp_path: Path) -> None:
    slide = tmp_path / "slide.svs"
    write_aperio(slide)
    report = scan_image_privacy(slide, "slide.svs")
    users = [f for f in report.findings if f.excerpt.startswith("User")]
    assert [(f.page, f.tag) for f in users] == [(0, "ImageDescription")]


def test_the_technical_fields_of_an_aperio_description_are_not_findings(tmp_path: Path) -> None:
    slide = tmp_path / "slide.svs"
    write_aperio(slide)
    excerpts = " ".join(f.excerpt for f in scan_image_privacy(slide, "s").findings)
    for technical in ("AppMag", "MPP", "Aperio", "JPEG"):
        assert technical not in excerpts


def test_a_plain_tiff_has_no_findings(tmp_path: Path) -> None:
    image = tmp_path / "plain.tif"
    write_plain(image, description="Coupe HES, grossissement x20", resolution=(2.0, 2.0))
    report = scan_image_privacy(image, "plain.tif")
    assert report == ImagePrivacyReport("plain.tif", (), 1, ())


def test_artist_and_datetime_tags_are_identifying_but_software_is_not(tmp_path: Path) -> None:
    image = tmp_path / "tags.tif"
    write_plain(
        image,
        software="ScanSoft 2.1",
        datetime="2021:03:12 10:00:00",
        extratags=[(315, "s", 0, "DUPONT Jean", True), (316, "s", 0, "PC-ANAPATH-07", True)],
    )
    report = scan_image_privacy(image, "tags.tif")
    tags = {f.tag for f in report.findings if f.rule is ImageRule.IDENTIFYING_TAG}
    assert tags == {"Artist", "DateTime", "HostComputer"}
    assert_masked(report.findings)
    artist = next(f for f in report.findings if f.tag == "Artist")
    assert artist.excerpt == "XXXXXX Xxxx"


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Patient: DUPONT Jean", ImageRule.NAME_IN_TEXT),
        ("Nom=Martin", ImageRule.NAME_IN_TEXT),
        ("Lame de DUPONT Jean, coupe 3", ImageRule.NAME_IN_TEXT),
        ("Scanned by Jean DUPONT", ImageRule.NAME_IN_TEXT),
        ("Relu par Dr Lefebvre", ImageRule.NAME_IN_TEXT),
        ("contact: jean.dupont@chu-exemple.fr", ImageRule.NAME_IN_TEXT),
        (r"C:\Users\jdupont\Desktop\lame.svs", ImageRule.NAME_IN_TEXT),
        ("Scan du 12/03/2021", ImageRule.DATE_IN_TEXT),
        ("acquired 2021-03-12T10:00:00", ImageRule.DATE_IN_TEXT),
        ("EXIF 2021:03:12 10:00:00", ImageRule.DATE_IN_TEXT),
        ("coupe du 12.03.2021", ImageRule.DATE_IN_TEXT),
        ("prélevé le 12 mars 2021", ImageRule.DATE_IN_TEXT),
        ('<Image AcquisitionDate="2021-03-12T10:00:00"/>', ImageRule.DATE_IN_TEXT),
        ('<Experimenter FirstName="Jean" LastName="Dupont"/>', ImageRule.NAME_IN_TEXT),
        ("Barcode: 21H01234", ImageRule.IDENTIFYING_TAG),
        (
            "<scn><collection><barcode>21H01234</barcode></collection></scn>",
            ImageRule.IDENTIFYING_TAG,
        ),
    ],
)
def test_names_dates_and_identifying_fields_are_found_in_free_text(
    tmp_path: Path, description: str, expected: ImageRule
) -> None:
    image = tmp_path / "text.tif"
    write_plain(image, description=description)
    report = scan_image_privacy(image, "text.tif")
    assert expected in rules(report)
    assert all(f.tag == "ImageDescription" and f.page == 0 for f in report.findings)
    for finding in report.findings:
        for word in ("DUPONT", "Dupont", "Jean", "Martin", "Lefebvre", "jdupont", "2021", "21H"):
            assert word not in finding.excerpt


@pytest.mark.parametrize(
    "description",
    [
        "Aperio Image Library v12.0.15\r\n1024x768 [0,0 1024x768] (256x256) JPEG/RGB Q=70",
        "ImageJ=1.53t\nimages=3\nunit=micron\nspacing=0.25",
        '{"shape": [768, 1024, 3], "axes": "YXS"}',
        "Coupe HES 3 µm, objectif x40, résolution 0.25 µm/pixel, RGB Image",
        '<OME><Image ID="Image:0" Name="HES"><Pixels SizeX="1024"/></Image></OME>',
        "Exposure Time = 109|Focus Offset = 0.000000|LineCameraSkew = -0.000424",
    ],
)
def test_technical_descriptions_are_not_taken_for_names_or_dates(
    tmp_path: Path, description: str
) -> None:
    image = tmp_path / "technical.tif"
    write_plain(image, description=description)
    assert scan_image_privacy(image, "technical.tif").findings == ()


def test_xmp_iptc_and_exif_blocks_are_identifying(tmp_path: Path) -> None:
    image = tmp_path / "blocks.tif"
    xmp = b"<x:xmpmeta><dc:creator>DUPONT Jean</dc:creator></x:xmpmeta>"
    iptc = b"\x1c\x02\x50\x00\x0bDUPONT Jean"
    write_plain(
        image,
        extratags=[
            (700, "B", len(xmp), xmp, True),
            (33723, "B", len(iptc), iptc, True),
            EXIF_PLACEHOLDER,
        ],
    )
    add_exif(image, owner="Jean DUPONT", taken="2021:03:12 10:00:00")
    report = scan_image_privacy(image, "blocks.tif")
    tags = {f.tag for f in report.findings if f.rule is ImageRule.IDENTIFYING_TAG}
    assert {"XMP", "IPTCNAA", "ExifTag"} <= tags
    assert_masked(report.findings)


def test_an_ndpi_macro_and_slide_label_are_found(tmp_path: Path) -> None:
    slide = tmp_path / "slide.ndpi"
    write_ndpi(slide)
    report = scan_image_privacy(slide, "slide.ndpi")
    assert report.pages == 2
    assert report.removable_pages == (1,)
    assert (ImageRule.MACRO_IMAGE, 1) in {(f.rule, f.page) for f in report.findings}
    assert (ImageRule.IDENTIFYING_TAG, "SlideLabel") in {(f.rule, f.tag) for f in report.findings}
    assert (ImageRule.DATE_IN_TEXT, "Comments") in {(f.rule, f.tag) for f in report.findings}
    assert_masked(report.findings)


def test_philips_xml_fields_are_found_and_its_label_page_too(tmp_path: Path) -> None:
    image = tmp_path / "philips.tiff"
    with tifffile.TiffWriter(image) as tif:
        tif.write(_pixels(64, 96), photometric="rgb", metadata=None, description=PHILIPS_XML)
        tif.write(_label_pixels(), photometric="rgb", metadata=None, description="Label")
    report = scan_image_privacy(image, "philips.tiff")
    assert report.removable_pages == (1,)
    found = {(f.rule, f.page) for f in report.findings}
    assert (ImageRule.IDENTIFYING_TAG, 0) in found  # the barcode
    assert (ImageRule.DATE_IN_TEXT, 0) in found  # DICOM_ACQUISITION_DATETIME
    assert (ImageRule.LABEL_IMAGE, 0) in found  # the label's picture, as base64 in the XML
    assert (ImageRule.LABEL_IMAGE, 1) in found


PHILIPS_XML = (
    '<?xml version="1.0" encoding="UTF-8" ?><DataObject ObjectType="DPUfsImport">'
    '<Attribute Name="DICOM_ACQUISITION_DATETIME" Group="0x0008" Element="0x002A" '
    'PMSVR="IString">20210312101010.000000</Attribute>'
    '<Attribute Name="PIM_DP_UFS_BARCODE" Group="0x301D" Element="0x1002" '
    'PMSVR="IString">MjFIMDEyMzQ=</Attribute>'
    '<Attribute Name="PIM_DP_SCANNED_IMAGES" Group="0x301D" Element="0x1003" '
    'PMSVR="IDataObjectArray">'
    '<Array><DataObject ObjectType="DPScannedImage">'
    '<Attribute Name="PIM_DP_IMAGE_TYPE" Group="0x301D" Element="0x1004" PMSVR="IString">LABELIMAGE'
    '</Attribute><Attribute Name="PIM_DP_IMAGE_DATA" Group="0x301D" Element="0x1005" '
    'PMSVR="IString">RFVQT05UIEplYW4=</Attribute></DataObject></Array></Attribute>'
    "</DataObject>"
)


# --- damaged files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="cut-in-half"),
        pytest.param(lambda data: data[:-100], id="last-bytes-missing"),
        pytest.param(lambda data: data[:6], id="header-only"),
        pytest.param(lambda data: b"II*\x00" + b"\xff" * 100, id="garbage-ifd-offset"),
        pytest.param(lambda data: b"not a tiff at all" * 10, id="not-a-tiff"),
        pytest.param(lambda data: b"", id="empty"),
    ],
)
def test_a_damaged_file_is_a_clear_error_not_a_traceback(tmp_path: Path, damage: Any) -> None:
    good = tmp_path / "good.svs"
    write_aperio(good)
    bad = tmp_path / "bad.svs"
    bad.write_bytes(damage(good.read_bytes()))
    with pytest.raises(HdhWizardError) as raised:
        scan_image_privacy(bad, "publish/bad.svs")
    assert raised.value.key == "risk.image.error.unreadable"
    assert raised.value.params["file"] == "publish/bad.svs"
    assert raised.value.params["detail"]
    for lang in Lang:
        assert "publish/bad.svs" in raised.value.message(load_catalogue(lang))


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(HdhWizardError) as raised:
        scan_image_privacy(tmp_path / "absent.svs", "absent.svs")
    assert raised.value.key == "risk.image.error.unreadable"


# --- the clean copy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "writer",
    [
        pytest.param({}, id="classic"),
        pytest.param({"bigtiff": True}, id="bigtiff"),
        pytest.param({"byteorder": ">"}, id="big-endian"),
        pytest.param({"bigtiff": True, "byteorder": ">"}, id="bigtiff-big-endian"),
    ],
)
def test_clean_copy_drops_the_label_and_keeps_the_slide_pixels(
    tmp_path: Path, writer: dict[str, Any]
) -> None:
    source = tmp_path / "slide.svs"
    base = write_aperio(source, **writer)
    before = sha256(source)
    output = tmp_path / "clean" / "slide_sans-etiquette.svs"
    output.parent.mkdir()

    report = write_clean_copy(source, output, "publish/slide.svs")

    assert report == ImagePrivacyReport("publish/slide.svs", (), 3, ())
    assert sha256(source) == before
    assert scan_image_privacy(output, "copy").findings == ()
    assert np.array_equal(tifffile.imread(output, key=0), base)
    with tifffile.TiffFile(output) as tif, tifffile.TiffFile(source) as original:
        assert len(tif.pages) == 3
        assert tif.is_svs and tif.is_bigtiff == original.is_bigtiff
        assert tif.byteorder == original.byteorder
        assert [s.name for s in tif.series] == ["Baseline", "Thumbnail"]
        assert len(tif.series[0].levels) == 2
        description = first_page(tif).description
        assert "|AppMag = 20|MPP = 0.499" in description and "Date" not in description
        assert "DateTime" not in first_page(tif).tags
        for index in (1, 2):
            assert np.array_equal(tif.pages[index].asarray(), original.pages[index].asarray())
    assert_nowhere_in(output, b"DUPONT", b"jdupont", b"12/03/21", b"2021:03:12", LABEL_PIXELS)
    assert sorted(p.name for p in output.parent.iterdir()) == [output.name]


def test_clean_copy_removes_tags_and_zeroes_the_exif_xmp_and_iptc_payloads(tmp_path: Path) -> None:
    source = tmp_path / "tagged.tif"
    xmp = b"<x:xmpmeta><dc:creator>Marie CURIE</dc:creator></x:xmpmeta>"
    pixels = write_plain(
        source,
        software="ScanSoft 2.1",
        datetime="2021:03:12 10:00:00",
        description="Patient: DUPONT Jean, lame 3",
        extratags=[
            (315, "s", 0, "LEFEBVRE Paul", True),
            (700, "B", len(xmp), xmp, True),
            EXIF_PLACEHOLDER,
        ],
    )
    add_exif(source, owner="Pierre MARTIN", taken="2020:01:02 03:04:05")
    output = tmp_path / "clean.tif"

    report = write_clean_copy(source, output, "tagged.tif")

    assert report.findings == () and report.pages == 1
    assert np.array_equal(tifffile.imread(output), pixels)
    with tifffile.TiffFile(output) as tif:
        tags = first_page(tif).tags
        assert not {"Artist", "DateTime", "XMP", "ExifTag"} & {t.name for t in tags}
        assert tags["Software"].value == "ScanSoft 2.1"
        assert tags["ImageDescription"].value.startswith("Patient:")
    assert_nowhere_in(output, b"DUPONT", b"LEFEBVRE", b"CURIE", b"MARTIN", b"2021:03", b"2020:01")


def test_clean_copy_of_an_ndpi_keeps_its_64_bit_layout(tmp_path: Path) -> None:
    source = tmp_path / "slide.ndpi"
    baseline = write_ndpi(source)
    output = tmp_path / "slide_sans-etiquette.ndpi"

    report = write_clean_copy(source, output, "slide.ndpi")

    assert report == ImagePrivacyReport("slide.ndpi", (), 1, ())
    with tifffile.TiffFile(output) as tif:
        assert tif.is_ndpi and len(tif.pages) == 1
        assert tif.pages[0].asarray().tobytes() == baseline
        assert first_page(tif).tags["Make"].value == "Hamamatsu"
    assert_nowhere_in(output, b"DUPONT", b"2021-03-12", LABEL_PIXELS[:8])


def test_clean_copy_of_philips_xml_stays_valid_xml(tmp_path: Path) -> None:
    source = tmp_path / "philips.tiff"
    with tifffile.TiffWriter(source) as tif:
        tif.write(_pixels(64, 96), photometric="rgb", metadata=None, description=PHILIPS_XML)
        tif.write(_label_pixels(), photometric="rgb", metadata=None, description="Label")
    output = tmp_path / "clean.tiff"

    write_clean_copy(source, output, "philips.tiff")

    with tifffile.TiffFile(output) as tif:
        tree = ElementTree.fromstring(first_page(tif).description)
    values = {a.get("Name"): (a.text or "").strip() for a in tree.iter("Attribute")}
    assert values["PIM_DP_UFS_BARCODE"] == ""
    assert values["DICOM_ACQUISITION_DATETIME"] == ""
    assert values["PIM_DP_IMAGE_DATA"] == ""
    assert values["PIM_DP_IMAGE_TYPE"] == "LABELIMAGE"


def test_clean_copy_of_a_clean_file_is_an_identical_copy(tmp_path: Path) -> None:
    source = tmp_path / "plain.tif"
    write_plain(source)
    output = tmp_path / "copy.tif"
    assert write_clean_copy(source, output, "plain.tif").findings == ()
    assert output.read_bytes() == source.read_bytes()


def test_clean_copy_reports_its_progress(tmp_path: Path) -> None:
    source = tmp_path / "slide.svs"
    write_aperio(source)
    progress = Progress(total_bytes=source.stat().st_size)
    write_clean_copy(source, tmp_path / "copy.svs", "slide.svs", progress)
    assert progress.done_bytes == source.stat().st_size


def test_clean_copy_refuses_to_overwrite_its_source(tmp_path: Path) -> None:
    source = tmp_path / "slide.svs"
    write_aperio(source)
    before = sha256(source)
    for output in (source, tmp_path / "." / "slide.svs"):
        with pytest.raises(HdhWizardError) as raised:
            write_clean_copy(source, output, "slide.svs")
        assert raised.value.key == "risk.image.error.onto_source"
    assert sha256(source) == before
    assert [p.name for p in tmp_path.iterdir()] == ["slide.svs"]


def test_cancelling_mid_copy_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slide_privacy, "COPY_CHUNK", 4096)  # many chunks from a small slide
    source = tmp_path / "slide.svs"
    write_aperio(source)

    class CancelAfterFirstChunk(Progress):
        def advance(self, nbytes: int) -> None:
            self.cancel()
            super().advance(nbytes)

    progress = CancelAfterFirstChunk()
    with pytest.raises(Cancelled):
        write_clean_copy(source, tmp_path / "copy.svs", "slide.svs", progress)
    assert progress.done_bytes == 4096
    assert [p.name for p in tmp_path.iterdir()] == ["slide.svs"]


def test_a_copy_whose_baseline_changed_fails_its_check_and_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "slide.svs"
    write_aperio(source)
    with tifffile.TiffFile(source) as tif:
        tile = int(tif.pages[0].dataoffsets[0])
    real_patch = slide_privacy._patch

    def patch_that_breaks_a_tile(survey: Any) -> Any:
        patch = real_patch(survey)
        return slide_privacy._Patch(patch.zeros, (*patch.writes, (tile + 10, b"\x00" * 8)))

    monkeypatch.setattr(slide_privacy, "_patch", patch_that_breaks_a_tile)
    with pytest.raises(HdhWizardError) as raised:
        write_clean_copy(source, tmp_path / "copy.svs", "slide.svs")
    assert raised.value.key == "risk.image.error.verify_failed"
    assert [p.name for p in tmp_path.iterdir()] == ["slide.svs"]


def test_a_copy_still_holding_a_name_fails_its_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "tags.tif"
    write_plain(source, extratags=[(315, "s", 0, "DUPONT Jean", True)])
    monkeypatch.setattr(slide_privacy, "_DROPPED_TAGS", frozenset())  # a bug that keeps Artist
    monkeypatch.setattr(slide_privacy, "_patch", lambda survey: slide_privacy._Patch((), ()))
    with pytest.raises(HdhWizardError) as raised:
        write_clean_copy(source, tmp_path / "copy.tif", "tags.tif")
    assert raised.value.key == "risk.image.error.verify_failed"
    assert not (tmp_path / "copy.tif").exists()


def test_a_copy_into_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "slide.svs"
    write_aperio(source)
    with pytest.raises(HdhWizardError) as raised:
        write_clean_copy(source, tmp_path / "absent" / "copy.svs", "slide.svs")
    assert raised.value.key == "risk.image.error.write_failed"
    assert raised.value.params["folder"] == str(tmp_path / "absent")


def test_a_damaged_source_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    source = tmp_path / "bad.svs"
    source.write_bytes(b"II*\x00" + b"\xff" * 100)
    with pytest.raises(HdhWizardError) as raised:
        write_clean_copy(source, tmp_path / "copy.svs", "bad.svs")
    assert raised.value.key == "risk.image.error.unreadable"
    assert [p.name for p in tmp_path.iterdir()] == ["bad.svs"]


# --- speed -------------------------------------------------------------------------------------


def test_a_slide_of_many_tiles_scans_without_reading_its_pixels(tmp_path: Path) -> None:
    """65 536 tiles of a 64k × 64k baseline (pre-encoded, so the file stays small): the scan
    reads IFDs and tile offsets only, as for a multi-gigabyte slide."""
    slide = tmp_path / "huge.svs"
    tile = tifffile.TIFF.COMPRESSORS[8](np.zeros((256, 256, 3), np.uint8).tobytes())
    with tifffile.TiffWriter(slide, bigtiff=True) as tif:
        tif.write(
            iter([tile] * 256 * 256),
            shape=(65536, 65536, 3),
            dtype=np.uint8,
            tile=(256, 256),
            compression="zlib",
            photometric="rgb",
            metadata=None,
            description=APERIO_HEAD + "65536x65536 (256x256)" + APERIO_FIELDS,
        )
        tif.write(_label_pixels(), photometric="rgb", metadata=None, description="label")
    started = time.perf_counter()
    report = scan_image_privacy(slide, "huge.svs")
    assert time.perf_counter() - started < 1.0
    assert report.removable_pages == (1,)


# --- messages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "params"),
    [
        ("risk.image.error.unreadable", {"file": "a.svs", "detail": "x"}),
        ("risk.image.error.write_failed", {"file": "a.svs", "folder": "/p", "detail": "x"}),
        ("risk.image.error.verify_failed", {"file": "a.svs", "detail": "x"}),
        ("risk.image.error.onto_source", {"file": "a.svs"}),
    ],
)
@pytest.mark.parametrize("lang", list(Lang))
def test_every_error_has_a_message_in_both_languages(
    key: str, params: dict[str, str], lang: Lang
) -> None:
    text = HdhWizardError(key, **params).message(load_catalogue(lang))
    assert "a.svs" in text and "{" not in text
