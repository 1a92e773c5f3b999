"""Check image files against the guide (TIFF for imaging) and convert PNG/JPEG to TIFF.

Inspection reads metadata only: a whole-slide TIFF weighs gigabytes and a partner's folder holds
thousands of them, so pixel data is never decoded here. Whatever a damaged file makes the parsers
raise becomes a `Problem`; the inspection of a folder never stops on one bad file.

Conversion writes under a temporary name next to the destination and renames it into place at the
end, so neither a crash, an error nor a cancellation leaves a half-written TIFF that looks finished.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import numpy as np
import tifffile
from numpy.typing import NDArray
from PIL import Image, ImageSequence

from hdh_wizard.core.safe_files import check_not_linked, replace_atomically
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.kinds import FileKind
from hdh_wizard.inspect.progress import Cancelled
from hdh_wizard.inspect.report import ImageReport, Problem, Severity

# The partner's own files, read locally: Pillow's guard against hostile uploads ("decompression
# bombs") would reject genuine large scans (a 20 000 × 20 000 photograph) as if they were attacks.
Image.MAX_IMAGE_PIXELS = None

CLASSIC_TIFF_LIMIT = 2**32  # classic TIFF offsets are 32-bit: nothing beyond 4 GiB is addressable
BIGTIFF_THRESHOLD = 2**31  # above this much pixel data, write BigTIFF (compression may not help)
READABLE_COMPRESSIONS = frozenset(
    {"NONE", "LZW", "ADOBE_DEFLATE", "DEFLATE", "JPEG", "PACKBITS"}
)  # what every TIFF reader (libtiff, ImageJ, QGIS, Python, R…) decodes without plug-ins
PAGES_SCANNED = 256  # pages checked one by one; beyond, only the last one (it ends the file)
DETAIL_MAX = 200

_NO_PAGE = "no image (0 pages)"
_TRUNCATED = "truncated: image data ends at byte {end}, the file has {size} bytes"
_CLASSIC_TOO_LARGE = "classic TIFF of {size} bytes, beyond the 4 GiB it can address{variant}"

# Pillow mode → numpy dtype of its pixels (modes not listed hold 8-bit samples).
_MODE_DTYPES = {
    "1": "bool",
    "I": "int32",
    "F": "float32",
    "I;16": "uint16",
    "I;16L": "uint16",
    "I;16B": "uint16",
    "I;16N": "uint16",
}
# Modes written as they are; the others are converted to RGB(A) first (palette, CMYK, YCbCr…).
_TIFF_READY_MODES = frozenset({"1", "L", "LA", "RGB", "RGBA", "I", "F", *_MODE_DTYPES})
_ALPHA_MODES = frozenset({"PA", "La", "RGBa"})


def check_image(path: Path, kind: FileKind) -> tuple[ImageReport | None, list[Problem]]:
    """Describe an image and say what stands between it and a publishable TIFF.

    Never raises for a bad file: an unreadable or damaged one is a BLOCKING problem, so one broken
    scan does not stop the inspection of the whole folder.
    """
    if kind in (FileKind.TIFF, FileKind.BIGTIFF):
        return _check_tiff(path)
    if kind in (FileKind.PNG, FileKind.JPEG):
        return _check_pillow(path, kind)
    if kind is FileKind.DICOM:
        # The headers carry the patient's identity: only the imaging software can export clean TIFF.
        return None, [Problem("image_dicom", Severity.BLOCKING)]
    return None, [Problem("image_unsupported", Severity.BLOCKING, {"kind": kind.value})]


def convert_to_tiff(
    source: Path, destination: Path, cancelled: Callable[[], bool] = lambda: False
) -> Path:
    """Write a lossless, deflate-compressed TIFF copy of a PNG or JPEG; the source is only read.

    Raises `HdhWizardError` when the source cannot be decoded or the copy cannot be written
    (`LinkedPathError` when the destination is a symbolic link), and `Cancelled` when
    `cancelled()` turns true; either way nothing is left at the destination.
    """
    check_not_linked(destination)  # a planted link: refused before any work
    if destination.exists() and source.exists() and destination.samefile(source):
        raise HdhWizardError("inspect.error.convert_onto_source", file=str(source))
    if cancelled():
        raise Cancelled
    try:
        image = Image.open(source)
    except Exception as exc:  # any parser error means the same to the user: unreadable
        raise _unreadable(source, exc) from exc
    temporary = destination.parent / f".{destination.name}.part-{secrets.token_hex(6)}"
    try:
        with image:
            _write_tiff(image, source, temporary, cancelled)
        if cancelled():
            raise Cancelled
        replace_atomically(temporary, destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return destination


# --- TIFF --------------------------------------------------------------------------------------


def _check_tiff(path: Path) -> tuple[ImageReport | None, list[Problem]]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        return None, [_problem("image_unreadable", exc)]
    try:
        with handle, _TifffileLog() as log, tifffile.TiffFile(handle) as tif:
            return _describe_tiff(tif, log)
    except Exception as exc:  # tifffile raises many kinds (struct.error, IndexError…) on bad bytes
        return None, [_problem("tiff_damaged", exc)]


def _describe_tiff(tif: Any, log: _TifffileLog) -> tuple[ImageReport | None, list[Problem]]:
    pages = len(tif.pages)
    if pages == 0:
        # tifffile only logs why (e.g. the first IFD offset points past the end of the file).
        detail = log.messages[0] if log.messages else _NO_PAGE
        return None, [_damaged(detail)]
    first = tif.pages[0]
    series = tif.series
    report = ImageReport(
        pages=pages,
        width=int(first.imagewidth),
        height=int(first.imagelength),
        bigtiff=bool(tif.is_bigtiff),
        tiled=bool(first.is_tiled),
        levels=len(series[0].levels) if series else 1,
        compression=_compression_name(first.compression),
        dtype=str(first.dtype) if first.dtype is not None else f"bits{first.bitspersample}",
        samples_per_pixel=int(first.samplesperpixel),
    )
    size = int(tif.filehandle.size)
    problems: list[Problem] = []
    if not tif.is_bigtiff and size > CLASSIC_TIFF_LIMIT:
        variant = " (NDPI)" if tif.is_ndpi else " (ImageJ)" if tif.is_imagej else ""
        problems.append(_damaged(_CLASSIC_TOO_LARGE.format(size=size, variant=variant)))
    scanned = list(_scanned_pages(tif, pages, series))
    end = max((_data_end(page) for page in scanned), default=0)
    if end > size:
        problems.append(_damaged(_TRUNCATED.format(end=end, size=size)))
    compressions = (getattr(page, "compression", None) for page in scanned)
    unusual = {_compression_name(c) for c in compressions if c is not None}
    unusual -= READABLE_COMPRESSIONS
    problems.extend(
        Problem("tiff_unusual_compression", Severity.INFO, {"compression": name})
        for name in sorted(unusual)
    )
    return report, problems


def _scanned_pages(tif: Any, pages: int, series: Any) -> Iterator[Any]:
    """The pages whose data must lie inside the file: the first ones, the last, each level's."""
    indices = range(pages) if pages <= PAGES_SCANNED else [*range(PAGES_SCANNED), pages - 1]
    yield from (tif.pages[i] for i in indices)
    if series:
        for level in series[0].levels[1:]:
            yield from (page for page in (level.pages[0], level.pages[-1]) if page is not None)


def _data_end(page: Any) -> int:
    return max(
        (int(o) + int(n) for o, n in zip(page.dataoffsets, page.databytecounts, strict=False) if n),
        default=0,
    )


def _compression_name(value: Any) -> str:
    """The tifffile enum name ("ADOBE_DEFLATE"), or the bare code of a vendor's private scheme."""
    return str(getattr(value, "name", None) or int(value))


_TIFFFILE_LOGGERS = ("tifffile", "tifffile.tifffile")


class _TifffileLog(logging.Handler):
    """Collects what tifffile logs while this thread reads a file.

    tifffile reports some damage (a first IFD past the end) only as a log warning: kept as the
    problem's detail, and kept off stderr, which would scribble over the screen or the JSON output.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []
        self._saved: list[tuple[logging.Logger, bool, int]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            message = record.getMessage()
            if message.startswith("<") and "> " in message:  # "<tifffile.TiffPages @8> invalid…"
                message = message.split("> ", 1)[1]
            self.messages.append(message)

    def __enter__(self) -> _TifffileLog:
        # Another library may have configured logging meanwhile (a `dictConfig` disables the
        # loggers that exist, a level may hide warnings): tifffile's own loggers are made to
        # speak for the time of the read, then put back as they were.
        self._saved = []
        for name in _TIFFFILE_LOGGERS:
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.disabled, logger.level))
            logger.disabled = False
            if logger.level > logging.WARNING:
                logger.setLevel(logging.WARNING)
        logging.getLogger("tifffile").addHandler(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        logging.getLogger("tifffile").removeHandler(self)
        for logger, disabled, level in self._saved:
            logger.disabled = disabled
            logger.setLevel(level)


# --- PNG and JPEG ------------------------------------------------------------------------------


def _check_pillow(path: Path, kind: FileKind) -> tuple[ImageReport | None, list[Problem]]:
    """Header only: `Image.open` is lazy and decodes nothing until pixels are asked for."""
    fmt = kind.value.upper()
    try:
        handle = path.open("rb")
    except OSError as exc:
        return None, [_problem("image_unreadable", exc)]
    try:
        with handle, Image.open(handle) as image:
            report = ImageReport(
                pages=int(getattr(image, "n_frames", 1)),
                width=image.width,
                height=image.height,
                bigtiff=False,
                tiled=False,
                levels=1,
                compression=kind.value,
                dtype=_MODE_DTYPES.get(image.mode, "uint8"),
                samples_per_pixel=len(image.getbands()),
            )
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError… on bad headers
        return None, [_problem("image_damaged", exc)]
    return report, [Problem("image_not_tiff", Severity.FIXABLE, {"format": fmt})]


def _write_tiff(
    image: Image.Image, source: Path, temporary: Path, cancelled: Callable[[], bool]
) -> None:
    frames = int(getattr(image, "n_frames", 1))
    samples = len(image.getbands()) if image.mode in _TIFF_READY_MODES else 4
    estimate = image.width * image.height * samples * frames
    estimate *= np.dtype(_MODE_DTYPES.get(image.mode, "uint8")).itemsize
    try:
        handle = temporary.open("xb")
    except OSError as exc:
        raise _write_failed(temporary, exc) from exc
    with handle:
        writer = _open_writer(handle, temporary, bigtiff=estimate > BIGTIFF_THRESHOLD)
        with writer:
            for frame in ImageSequence.Iterator(image):
                if cancelled():
                    raise Cancelled
                pixels = _decode(frame, source)
                _write_page(writer, pixels, image.info.get("dpi"), temporary)
        try:
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the rename makes it look finished
        except OSError as exc:
            raise _write_failed(temporary, exc) from exc


def _open_writer(handle: BinaryIO, temporary: Path, *, bigtiff: bool) -> Any:
    try:
        return tifffile.TiffWriter(handle, bigtiff=bigtiff)
    except Exception as exc:
        raise _write_failed(temporary, exc) from exc


def _decode(frame: Image.Image, source: Path) -> NDArray[Any]:
    """Pixels of one frame, in a mode every TIFF reader knows (palette and CMYK become RGB)."""
    try:
        frame.load()
        if frame.mode not in _TIFF_READY_MODES:
            has_alpha = frame.mode in _ALPHA_MODES or "transparency" in frame.info
            frame = frame.convert("RGBA" if has_alpha else "RGB")
        pixels = np.asarray(frame)
    except Exception as exc:  # truncated data, bad CRC, zlib errors…
        raise _unreadable(source, exc) from exc
    return pixels.astype(pixels.dtype.newbyteorder("="), copy=False)  # "I;16B" is big-endian


def _write_page(writer: Any, pixels: NDArray[Any], dpi: Any, temporary: Path) -> None:
    samples = pixels.shape[2] if pixels.ndim == 3 else 1
    options: dict[str, Any] = {
        "compression": "zlib",
        "photometric": "rgb" if samples >= 3 else "minisblack",
        "metadata": None,  # no tifffile-specific JSON description in the partner's file
    }
    if samples in (2, 4):
        options["extrasamples"] = ("unassalpha",)  # Pillow's alpha is straight, not premultiplied
    if isinstance(dpi, tuple) and len(dpi) == 2 and all(float(v) > 0 for v in dpi):
        options["resolution"] = (float(dpi[0]), float(dpi[1]))
        options["resolutionunit"] = "INCH"
    try:
        writer.write(pixels, **options)
    except Exception as exc:  # a full disk, a network share gone…
        raise _write_failed(temporary, exc) from exc


# --- problems and errors -----------------------------------------------------------------------


def _detail(exc: BaseException) -> str:
    """A short technical reason, shown after the translated message."""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


def _problem(code: str, exc: BaseException) -> Problem:
    return Problem(code, Severity.BLOCKING, {"detail": _detail(exc)})


def _damaged(detail: str) -> Problem:
    return Problem("tiff_damaged", Severity.BLOCKING, {"detail": detail})


def _unreadable(source: Path, exc: BaseException) -> HdhWizardError:
    return HdhWizardError("inspect.error.image_unreadable", file=str(source), detail=_detail(exc))


def _write_failed(temporary: Path, exc: BaseException) -> HdhWizardError:
    folder = str(temporary.parent)
    return HdhWizardError("inspect.error.tiff_write_failed", folder=folder, detail=_detail(exc))
