"""The image check (metadata only, never raising on a bad file) and the PNG/JPEG → TIFF copy."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from numpy.typing import NDArray
from PIL import Image

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Lang, load_catalogue, placeholders
from hdh_wizard.inspect.images import check_image, convert_to_tiff
from hdh_wizard.inspect.kinds import IMAGES, FileKind, sniff_kind
from hdh_wizard.inspect.progress import Cancelled
from hdh_wizard.inspect.report import ImageReport, Problem, Severity, Verdict, verdict_of

COMPRESSION_TAG = 259


def gradient(height: int = 96, width: int = 128, samples: int = 0) -> NDArray[np.uint8]:
    """Pixels that differ everywhere, so a shifted or mangled copy cannot compare equal."""
    rows, cols = np.mgrid[0:height, 0:width]
    plane = rows * 7 + cols * 3
    if samples:
        plane = np.stack([plane + 40 * s for s in range(samples)], axis=-1)
    pixels: NDArray[np.uint8] = (plane % 256).astype(np.uint8)
    return pixels


def write_pyramid(path: Path) -> Path:
    """A tiled, deflate-compressed TIFF with one reduced level in a SubIFD, as slide scanners do."""
    full = gradient(256, 256)
    with tifffile.TiffWriter(path) as tif:
        tif.write(full, tile=(64, 64), subifds=1, compression="zlib")
        tif.write(full[::2, ::2], tile=(64, 64), subfiletype=1, compression="zlib")
    return path


def write_plain_tiff(path: Path, **options: Any) -> Path:
    tifffile.imwrite(path, gradient(), **options)
    return path


def patch_first_ifd_tag(path: Path, tag: int, value: int) -> None:
    """Overwrite a SHORT tag value in the first IFD of a little-endian classic TIFF."""
    data = bytearray(path.read_bytes())
    ifd = struct.unpack_from("<I", data, 4)[0]
    (count,) = struct.unpack_from("<H", data, ifd)
    for index in range(count):
        entry = ifd + 2 + 12 * index
        if struct.unpack_from("<H", data, entry)[0] == tag:
            struct.pack_into("<H", data, entry + 8, value)
            path.write_bytes(bytes(data))
            return
    raise AssertionError(f"tag {tag} not in the first IFD")


def codes(problems: list[Problem]) -> list[tuple[str, Severity]]:
    return [(p.code, p.severity) for p in problems]


def only_file_in(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


# --- TIFF ---------------------------------------------------------------------------------------


def test_a_tiled_pyramid_tiff_is_described_from_its_metadata_and_conforms(tmp_path: Path) -> None:
    path = write_pyramid(tmp_path / "lame.tif")
    report, problems = check_image(path, FileKind.TIFF)
    assert report == ImageReport(
        pages=1,
        width=256,
        height=256,
        bigtiff=False,
        tiled=True,
        levels=2,
        compression="ADOBE_DEFLATE",
        dtype="uint8",
        samples_per_pixel=1,
    )
    assert problems == []
    assert verdict_of(problems) is Verdict.CONFORM


def test_a_bigtiff_is_recognised_as_bigtiff_and_conforms(tmp_path: Path) -> None:
    path = write_plain_tiff(tmp_path / "grand.tif", bigtiff=True, photometric="minisblack")
    assert sniff_kind(path) is FileKind.BIGTIFF
    report, problems = check_image(path, FileKind.BIGTIFF)
    assert report is not None
    assert report.bigtiff and not report.tiled
    assert (report.width, report.height, report.levels, report.pages) == (128, 96, 1, 1)
    assert report.compression == "NONE"
    assert problems == []


def test_a_multi_page_rgb_tiff_counts_its_pages_and_samples(tmp_path: Path) -> None:
    path = tmp_path / "pile.tif"
    with tifffile.TiffWriter(path) as tif:
        for _ in range(3):
            tif.write(gradient(samples=3), photometric="rgb", compression="zlib")
    report, problems = check_image(path, FileKind.TIFF)
    assert report is not None
    assert (report.pages, report.samples_per_pixel, report.compression) == (3, 3, "ADOBE_DEFLATE")
    assert problems == []


def test_tiff_whose_ifd_offset_points_past_the_end_is_reported_damaged(tmp_path: Path) -> None:
    path = write_plain_tiff(tmp_path / "coupe.tif")
    data = bytearray(path.read_bytes())
    data[4:8] = struct.pack("<I", 0xFFFFFF00)
    path.write_bytes(bytes(data))
    report, problems = check_image(path, FileKind.TIFF)
    assert report is None
    assert codes(problems) == [("tiff_damaged", Severity.BLOCKING)]
    # tifffile only logs this one: the log line becomes the detail instead of a bare "0 pages".
    assert "offset" in problems[0].params["detail"]


@pytest.mark.parametrize("keep", [4, 12, 100], ids=["magic-only", "header", "inside-ifd"])
def test_a_tiff_cut_inside_its_structure_is_reported_damaged(tmp_path: Path, keep: int) -> None:
    path = write_plain_tiff(tmp_path / "coupe.tif")
    path.write_bytes(path.read_bytes()[:keep])
    report, problems = check_image(path, FileKind.TIFF)
    assert report is None
    assert codes(problems) == [("tiff_damaged", Severity.BLOCKING)]
    assert problems[0].params["detail"]


def test_a_tiff_cut_inside_its_pixel_data_is_reported_damaged_from_metadata(
    tmp_path: Path,
) -> None:
    path = write_plain_tiff(tmp_path / "coupe.tif")
    path.write_bytes(path.read_bytes()[:-10])
    report, problems = check_image(path, FileKind.TIFF)
    assert report is not None and report.width == 128  # what could be read is still described
    assert codes(problems) == [("tiff_damaged", Severity.BLOCKING)]
    assert verdict_of(problems) is Verdict.NOT_FIXABLE


def test_a_pyramid_whose_reduced_level_is_cut_off_is_reported_damaged(tmp_path: Path) -> None:
    path = write_pyramid(tmp_path / "lame.tif")
    with tifffile.TiffFile(path) as tif:
        level0 = tif.series[0].levels[0].pages[0]
        assert isinstance(level0, tifffile.TiffPage)
        level0_end = max(
            o + n for o, n in zip(level0.dataoffsets, level0.databytecounts, strict=True)
        )
    size = path.stat().st_size
    assert level0_end < size - 4  # the reduced level's data comes last in the file
    os.truncate(path, size - 4)
    _, problems = check_image(path, FileKind.TIFF)
    assert codes(problems) == [("tiff_damaged", Severity.BLOCKING)]


def test_a_classic_tiff_larger_than_4_gib_is_reported_damaged(tmp_path: Path) -> None:
    path = write_plain_tiff(tmp_path / "enorme.tif")
    os.truncate(path, 2**32 + 4096)  # sparse: no disk space used
    report, problems = check_image(path, FileKind.TIFF)
    assert report is not None and not report.bigtiff
    assert codes(problems) == [("tiff_damaged", Severity.BLOCKING)]
    assert "4 GiB" in problems[0].params["detail"]


def test_a_bigtiff_larger_than_4_gib_is_fine(tmp_path: Path) -> None:
    path = write_plain_tiff(tmp_path / "enorme.tif", bigtiff=True)
    os.truncate(path, 2**32 + 4096)
    _, problems = check_image(path, FileKind.BIGTIFF)
    assert problems == []


@pytest.mark.parametrize(
    ("code", "name"),
    [(34712, "JPEG2000"), (33003, "APERIO_JP2000_YCBC"), (6, "OJPEG"), (65123, "65123")],
)
def test_an_uncommon_tiff_compression_is_only_information(
    tmp_path: Path, code: int, name: str
) -> None:
    path = write_plain_tiff(tmp_path / "lame.tif")
    patch_first_ifd_tag(path, COMPRESSION_TAG, code)
    report, problems = check_image(path, FileKind.TIFF)
    assert report is not None and report.compression == name
    assert problems == [Problem("tiff_unusual_compression", Severity.INFO, {"compression": name})]
    assert verdict_of(problems) is Verdict.CONFORM


@pytest.mark.parametrize(
    ("code", "name"),
    [(5, "LZW"), (8, "ADOBE_DEFLATE"), (32946, "DEFLATE"), (32773, "PACKBITS"), (7, "JPEG")],
)
def test_widely_readable_tiff_compressions_raise_no_problem(
    tmp_path: Path, code: int, name: str
) -> None:
    path = write_plain_tiff(tmp_path / "lame.tif")
    patch_first_ifd_tag(path, COMPRESSION_TAG, code)  # only the metadata is read
    report, problems = check_image(path, FileKind.TIFF)
    assert report is not None and report.compression == name
    assert problems == []


@pytest.mark.parametrize("kind", [FileKind.TIFF, FileKind.PNG, FileKind.JPEG])
def test_a_missing_file_is_unreadable_not_an_exception(tmp_path: Path, kind: FileKind) -> None:
    report, problems = check_image(tmp_path / "parti.img", kind)
    assert report is None
    assert codes(problems) == [("image_unreadable", Severity.BLOCKING)]
    assert problems[0].params["detail"]


# --- PNG and JPEG -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "pixels", "dtype", "samples"),
    [
        ("L", gradient(), "uint8", 1),
        ("RGB", gradient(samples=3), "uint8", 3),
        ("RGBA", gradient(samples=4), "uint8", 4),
        ("I;16", gradient().astype(np.uint16) * 257, "uint16", 1),
    ],
)
def test_a_png_is_described_from_its_header_and_is_fixable(
    tmp_path: Path, mode: str, pixels: NDArray[Any], dtype: str, samples: int
) -> None:
    path = tmp_path / "photo.png"
    Image.fromarray(pixels).save(path)
    report, problems = check_image(path, FileKind.PNG)
    assert report == ImageReport(
        pages=1,
        width=128,
        height=96,
        bigtiff=False,
        tiled=False,
        levels=1,
        compression="png",
        dtype=dtype,
        samples_per_pixel=samples,
    )
    assert problems == [Problem("image_not_tiff", Severity.FIXABLE, {"format": "PNG"})]
    assert verdict_of(problems) is Verdict.FIXABLE


def test_a_jpeg_is_described_from_its_header_and_is_fixable(tmp_path: Path) -> None:
    path = tmp_path / "dermato.jpg"
    Image.fromarray(gradient(samples=3)).save(path, quality=90)
    report, problems = check_image(path, FileKind.JPEG)
    assert report is not None
    assert (report.width, report.height, report.compression) == (128, 96, "jpeg")
    assert (report.dtype, report.samples_per_pixel, report.pages) == ("uint8", 3, 1)
    assert problems == [Problem("image_not_tiff", Severity.FIXABLE, {"format": "JPEG"})]


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        (FileKind.PNG, b"\x89PNG\r\n\x1a\n" + b"\x00" * 40),
        (FileKind.JPEG, b"\xff\xd8\xff" + b"\x00" * 40),
    ],
)
def test_an_image_with_a_broken_header_is_reported_damaged(
    tmp_path: Path, kind: FileKind, content: bytes
) -> None:
    path = tmp_path / "casse.img"
    path.write_bytes(content)
    assert sniff_kind(path) is kind
    report, problems = check_image(path, kind)
    assert report is None
    assert codes(problems) == [("image_damaged", Severity.BLOCKING)]


@pytest.mark.parametrize(
    "pixels",
    [
        gradient(),
        gradient(samples=2),
        gradient(samples=3),
        gradient(samples=4),
        gradient().astype(np.uint16) * 257,
    ],
    ids=["grey", "grey-alpha", "rgb", "rgba", "grey16"],
)
def test_a_png_converts_to_a_deflate_tiff_with_the_same_pixels(
    tmp_path: Path, pixels: NDArray[Any]
) -> None:
    source = tmp_path / "photo.png"
    Image.fromarray(pixels).save(source)
    out = tmp_path / "out"
    out.mkdir()
    destination = convert_to_tiff(source, out / "photo.tif")
    assert destination == out / "photo.tif"
    assert only_file_in(out) == ["photo.tif"]
    np.testing.assert_array_equal(tifffile.imread(destination), pixels)
    report, problems = check_image(destination, sniff_kind(destination))
    assert problems == []
    assert report is not None and report.compression == "ADOBE_DEFLATE"
    with tifffile.TiffFile(destination) as tif:
        page = tif.pages[0]
        assert isinstance(page, tifffile.TiffPage)
        samples = pixels.shape[2] if pixels.ndim == 3 else 1
        assert tifffile.PHOTOMETRIC(page.photometric).name == (
            "RGB" if samples >= 3 else "MINISBLACK"
        )
        alpha = [tifffile.EXTRASAMPLE.UNASSALPHA] if samples in (2, 4) else []
        assert list(page.extrasamples) == alpha


def test_a_palette_png_converts_to_rgb(tmp_path: Path) -> None:
    source = tmp_path / "palette.png"
    Image.fromarray(gradient(samples=3)).quantize(colors=16).save(source)
    expected = np.asarray(Image.open(source).convert("RGB"))
    destination = convert_to_tiff(source, tmp_path / "palette.tif")
    np.testing.assert_array_equal(tifffile.imread(destination), expected)


def test_a_jpeg_converts_to_tiff_without_further_loss(tmp_path: Path) -> None:
    source = tmp_path / "dermato.jpg"
    Image.fromarray(gradient(samples=3)).save(source, quality=85, dpi=(300, 300))
    decoded = np.asarray(Image.open(source))
    destination = convert_to_tiff(source, tmp_path / "dermato.tif")
    np.testing.assert_array_equal(tifffile.imread(destination), decoded)
    with tifffile.TiffFile(destination) as tif:
        assert tif.pages[0].get_resolution() == pytest.approx((300, 300))


def test_an_animated_png_keeps_every_frame_as_a_page(tmp_path: Path) -> None:
    source = tmp_path / "anime.png"
    frames = [Image.fromarray(gradient(samples=3)), Image.fromarray(255 - gradient(samples=3))]
    frames[0].save(source, save_all=True, append_images=frames[1:])
    report, _ = check_image(source, FileKind.PNG)
    assert report is not None and report.pages == 2
    destination = convert_to_tiff(source, tmp_path / "anime.tif")
    with tifffile.TiffFile(destination) as tif:
        assert len(tif.pages) == 2
        np.testing.assert_array_equal(tif.pages[1].asarray(), np.asarray(frames[1]))


def test_the_source_is_never_touched(tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    Image.fromarray(gradient(samples=3)).save(source)
    before = (source.read_bytes(), source.stat().st_mtime_ns)
    convert_to_tiff(source, tmp_path / "photo.tif")
    assert (source.read_bytes(), source.stat().st_mtime_ns) == before


def test_converting_onto_the_source_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "photo.tif"  # a PNG wearing a TIFF name: the sniffer goes by content
    Image.fromarray(gradient()).save(source, format="PNG")
    content = source.read_bytes()
    with pytest.raises(HdhWizardError) as raised:
        convert_to_tiff(source, tmp_path / "." / "photo.tif")
    assert raised.value.key == "inspect.error.convert_onto_source"
    assert source.read_bytes() == content
    assert only_file_in(tmp_path) == ["photo.tif"]


def test_an_existing_destination_is_replaced_whole(tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    Image.fromarray(gradient()).save(source)
    destination = tmp_path / "photo.tif"
    destination.write_bytes(b"an older, stale conversion")
    convert_to_tiff(source, destination)
    np.testing.assert_array_equal(tifffile.imread(destination), gradient())


def cancel_on_call(number: int, calls: list[int]) -> Callable[[], bool]:
    """A cancel button pressed just before the `number`-th look at it (0: never)."""

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) == number

    return cancelled


def test_a_cancelled_conversion_leaves_no_file_in_the_destination_folder(tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    Image.fromarray(gradient(samples=3)).save(source)
    out = tmp_path / "out"
    out.mkdir()
    written: list[int] = []  # at each look, how much of the copy is on disk

    def watch() -> bool:
        written.append(sum(entry.stat().st_size for entry in out.iterdir()))
        return False

    convert_to_tiff(source, out / "reference.tif", watch)
    complete = (out / "reference.tif").stat().st_size
    (out / "reference.tif").unlink()
    assert written[0] == 0  # a look before anything is written…
    assert written[-1] == complete  # …and a last one with the copy whole, before the rename
    for number in range(1, len(written) + 1):
        with pytest.raises(Cancelled):
            convert_to_tiff(source, out / "photo.tif", cancel_on_call(number, []))
        assert only_file_in(out) == [], number


def test_a_png_cut_inside_its_pixel_data_raises_and_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    source = tmp_path / "photo.png"
    Image.fromarray(gradient(400, 400, samples=3)).save(source)
    source.write_bytes(source.read_bytes()[:2000])
    _, problems = check_image(source, FileKind.PNG)  # the header alone looks fine
    assert codes(problems) == [("image_not_tiff", Severity.FIXABLE)]
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(HdhWizardError) as raised:
        convert_to_tiff(source, out / "photo.tif")
    assert raised.value.key == "inspect.error.image_unreadable"
    assert raised.value.params["file"] == str(source)
    assert raised.value.params["detail"]
    assert only_file_in(out) == []


def test_a_png_with_a_broken_header_cannot_be_converted(tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    source.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(HdhWizardError) as raised:
        convert_to_tiff(source, tmp_path / "photo.tif")
    assert raised.value.key == "inspect.error.image_unreadable"
    assert only_file_in(tmp_path) == ["photo.png"]


def test_a_destination_folder_that_does_not_exist_is_a_write_error(tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    Image.fromarray(gradient()).save(source)
    with pytest.raises(HdhWizardError) as raised:
        convert_to_tiff(source, tmp_path / "absent" / "photo.tif")
    assert raised.value.key == "inspect.error.tiff_write_failed"
    assert only_file_in(tmp_path) == ["photo.png"]


# --- DICOM and the rest -------------------------------------------------------------------------


def test_a_dicom_file_is_blocking_and_not_described(tmp_path: Path) -> None:
    path = tmp_path / "IRM0001"
    path.write_bytes(b"\x00" * 128 + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00junk" * 8)
    assert sniff_kind(path) is FileKind.DICOM
    assert check_image(path, FileKind.DICOM) == (
        None,
        [Problem("image_dicom", Severity.BLOCKING)],
    )


@pytest.mark.parametrize("kind", sorted(set(FileKind) - IMAGES))
def test_a_file_that_is_not_an_image_is_unsupported(tmp_path: Path, kind: FileKind) -> None:
    path = tmp_path / "autre"
    path.write_bytes(b"a,b\n1,2\n")
    assert check_image(path, kind) == (
        None,
        [Problem("image_unsupported", Severity.BLOCKING, {"kind": kind.value})],
    )


# --- every finding and error reads in both languages ---------------------------------------------


PROBLEM_PARAMS = {
    "tiff_damaged": {"detail"},
    "tiff_unusual_compression": {"compression"},
    "image_unreadable": {"detail"},
    "image_not_tiff": {"format"},
    "image_damaged": {"detail"},
    "image_dicom": set(),
    "image_unsupported": {"kind"},
}
ERROR_PARAMS = {
    "inspect.error.image_unreadable": {"file", "detail"},
    "inspect.error.tiff_write_failed": {"folder", "detail"},
    "inspect.error.convert_onto_source": {"file"},
}


@pytest.mark.parametrize("lang", list(Lang))
def test_every_problem_and_error_has_a_message_with_exactly_its_parameters(lang: Lang) -> None:
    catalogue = load_catalogue(lang)
    keys = {f"inspect.problem.{code}": params for code, params in PROBLEM_PARAMS.items()}
    for key, params in (keys | ERROR_PARAMS).items():
        assert placeholders(catalogue.messages[key]) == params, key
        assert "{" not in catalogue.t(key, **{p: "x" for p in params})


def test_the_problems_found_here_are_those_the_catalogue_knows(tmp_path: Path) -> None:
    path = write_plain_tiff(tmp_path / "coupe.tif")
    path.write_bytes(path.read_bytes()[:12])
    found = [
        *check_image(path, FileKind.TIFF)[1],
        *check_image(tmp_path / "absent.png", FileKind.PNG)[1],
        *check_image(tmp_path / "x", FileKind.PDF)[1],
        *check_image(tmp_path / "x", FileKind.DICOM)[1],
    ]
    for problem in found:
        assert set(problem.params) == PROBLEM_PARAMS[problem.code]
        assert load_catalogue(Lang.FR).t(problem.key, **problem.params)
