"""Reading and identifying an image: by its content, header first, with our limits checked
before any pixel is decoded. Every failure becomes an `ImageRejected` a user can read.

Pillow's own ``DecompressionBombWarning`` is silenced around ``open``/``load`` with
``warnings.catch_warnings`` (which swaps the process-wide filter list: harmless here, but not
thread-isolated on Python 3.11), and its ``DecompressionBombError`` (above twice
``Image.MAX_IMAGE_PIXELS``, about 179 MP) becomes "too_many_pixels". ``MAX_IMAGE_PIXELS`` is
never changed, so a ``max_pixels`` limit above 179 MP is capped by Pillow.
"""

from __future__ import annotations

import io
import logging
import struct
import warnings
from typing import IO

import pillow_heif
from PIL import Image, ImageFile, UnidentifiedImageError

from enhancement.imaging.formats import (
    ACCEPTED_TYPES_TEXT,
    HEIF_BRANDS,
    OPEN_FORMATS,
    PNG_SIGNATURE,
    ImageRejected,
)

pillow_heif.register_heif_opener()

logger = logging.getLogger(__name__)


def read_limited(fileobj: IO[bytes] | bytes, max_bytes: int) -> bytes:
    if isinstance(fileobj, bytes | bytearray | memoryview):
        return bytes(fileobj[: max_bytes + 1])
    seekable = getattr(fileobj, "seekable", None)
    if seekable is not None and seekable():
        fileobj.seek(0)
    chunks = []
    remaining = max_bytes + 1
    while remaining > 0:
        chunk = fileobj.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def open_accepted(data: bytes, max_pixels: int | None) -> ImageFile.ImageFile:
    """Open (header only) an image of an accepted type, or raise ImageRejected."""
    try:
        # Pillow warns above its own MAX_IMAGE_PIXELS; we check our own limit just below.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=OPEN_FORMATS)
    except Image.DecompressionBombError:
        raise too_many_pixels(max_pixels) from None
    except UnidentifiedImageError:
        raise _classify_unaccepted(data) from None
    except Exception:  # plugins (pillow-heif too) raise many types on broken headers
        logger.info("Image header could not be read", exc_info=True)
        raise _corrupt() from None

    width, height = img.size
    if max_pixels is not None and width * height > max_pixels:
        img.close()
        raise too_many_pixels(max_pixels, (width, height))
    return img


def _classify_unaccepted(data: bytes) -> ImageRejected:
    if _sniff_accepted(data):
        # Looks like one of ours but Pillow found no valid header.
        return _corrupt()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as other:  # header only, never decoded
                detected = other.format
    except Image.DecompressionBombError:
        return too_many_pixels(None)
    except Exception:  # anything Pillow cannot even identify is simply not an image
        detected = None
    if detected is None:
        return ImageRejected(
            "not_an_image",
            f"This file is not an image. Please upload a {ACCEPTED_TYPES_TEXT} image.",
        )
    return ImageRejected(
        "unsupported_type",
        f"{detected} images are not supported. Please upload a {ACCEPTED_TYPES_TEXT} image.",
    )


def _sniff_accepted(data: bytes) -> bool:
    head = data[:32]
    return (
        head.startswith(b"\xff\xd8\xff")
        or head.startswith(PNG_SIGNATURE)
        or head.startswith((b"GIF87a", b"GIF89a"))
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or (head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS)
    )


def verify_png_checksums(data: bytes) -> None:
    # Pillow's decoder skips the CRC of IDAT chunks; verify() checks every chunk.
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as probe:
            probe.verify()
    except Exception as exc:
        raise _decode_error(exc) from None


def decode(img: ImageFile.ImageFile, max_pixels: int | None) -> None:
    """Decode all pixels of the current frame, turning any failure into ImageRejected."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Someone switched it on globally: truncated uploads would be stored half grey.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img.load()
    except Image.DecompressionBombError:
        raise too_many_pixels(max_pixels) from None
    except Exception as exc:  # only img.load(): every decoder error means a bad file
        raise _decode_error(exc) from None
    width, height = img.size  # a GIF frame may extend the canvas while loading
    if max_pixels is not None and width * height > max_pixels:
        raise too_many_pixels(max_pixels, (width, height))


def _decode_error(exc: Exception) -> ImageRejected:
    logger.info("Image could not be decoded: %r", exc)
    if isinstance(exc, EOFError | struct.error) or "truncated" in str(exc).lower():
        return ImageRejected(
            "truncated",
            "This image file is incomplete, perhaps cut off during upload. "
            "Please try uploading it again.",
        )
    return _corrupt()


def _corrupt() -> ImageRejected:
    return ImageRejected("corrupt", "This image file is damaged and cannot be read.")


def too_many_pixels(max_pixels: int | None, size: tuple[int, int] | None = None) -> ImageRejected:
    limit = max_pixels if max_pixels is not None else 2 * (Image.MAX_IMAGE_PIXELS or 0)
    megapixels = round(limit / 1_000_000, 1)
    limit_text = f"{megapixels:g} megapixel{'' if megapixels == 1 else 's'}"
    if size:
        width, height = size
        return ImageRejected(
            "too_many_pixels",
            f"This image is {width} × {height} pixels; the most we accept is {limit_text}.",
        )
    return ImageRejected(
        "too_many_pixels", f"This image has too many pixels; the most we accept is {limit_text}."
    )


def webp_is_lossless(data: bytes) -> bool:
    """True when the (first) image data chunk of a WebP file is VP8L. Reads headers only."""
    pos, end = 12, len(data)
    while pos + 8 <= end:
        fourcc = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        if fourcc == b"VP8L":
            return True
        if fourcc == b"VP8 ":
            return False
        if fourcc == b"ANMF":
            pos += 8 + 16  # frame header, then the frame's own chunks
            continue
        pos += 8 + size + (size & 1)
    return False


def read_exif(img: Image.Image) -> Image.Exif | None:
    try:
        exif = img.getexif()
    except Exception:  # a broken EXIF block must not cost the user the picture
        logger.info("Unreadable EXIF dropped", exc_info=True)
        return None
    return exif if len(exif) else None
