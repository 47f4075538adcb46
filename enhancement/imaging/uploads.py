"""Turning an upload into the original we store (the metadata policy is the package's)."""

from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass, field
from typing import IO

from PIL import Image, ImageOps, JpegImagePlugin

from core.text import format_bytes
from enhancement.imaging import metadata
from enhancement.imaging.colour import cmyk_to_srgb, flatten_mode, icc_matches
from enhancement.imaging.derivatives import derivatives_of
from enhancement.imaging.formats import (
    ACCEPTED_FORMATS,
    ImageRejected,
    UploadLimits,
)
from enhancement.imaging.reading import (
    decode,
    open_accepted,
    read_exif,
    read_limited,
    verify_png_checksums,
)

logger = logging.getLogger(__name__)

_EXIF_ORIENTATION = 0x0112

_EXIF_GPS_IFD = 0x8825

_JPEG_MAX_EXIF_BYTES = 65533  # one APP1 segment

_LARGE_PIXELS = 8_000_000


@dataclass(frozen=True)
class NormalizedImage:
    # The original to store: the uploaded file byte for byte, but for the location (removed by
    # a lossless metadata edit unless the user kept it).
    data: bytes = field(repr=False)
    format: str  # the file's own: "jpeg" | "png" | "webp" | "gif" | "heif"
    extension: str  # "jpg" | "png" | "webp" | "gif" | "heic"
    content_type: str
    width: int  # as shown, after EXIF orientation
    height: int
    size_bytes: int
    source_format: str  # what was uploaded (the same as `format`)
    animated: bool  # the upload had several frames (kept; the enhancement uses the first)
    notes: tuple[str, ...]  # for the user, e.g. "Location data (GPS) was removed from the photo."
    facts: dict = field(default_factory=dict)  # camera, lens, taken_at (for the image page)
    # WebP derivatives (bytes, width, height) for the sizes asked, largest first.
    derivatives: tuple = field(default=(), repr=False)


# Our format -> (extension, content type) of an original kept as uploaded.
ORIGINAL_FILES = {
    "jpeg": ("jpg", "image/jpeg"),
    "png": ("png", "image/png"),
    "webp": ("webp", "image/webp"),
    "gif": ("gif", "image/gif"),
    "heif": ("heic", "image/heic"),
}
# What the engines read directly; anything else gets a working copy (`working_copy`).
_ENGINE_READY_FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}
_ENGINE_READY_MODES = {"RGB", "RGBA", "L"}


def normalize_upload(
    fileobj: IO[bytes] | bytes,
    *,
    limits: UploadLimits,
    keep_location: bool = False,
    derivative_sizes: tuple[int, ...] = (),
) -> NormalizedImage:
    """Check an upload and return the original we store: the file as uploaded.

    Reads the file from its start (at most ``limits.max_bytes + 1`` bytes), identifies it by
    content, refuses anything too large, too many pixels (checked from the header, before any
    pixel is decoded), of another type, truncated or damaged (every pixel is decoded once to
    be sure), and returns the file itself, its location removed by a lossless metadata edit
    unless ``keep_location`` (see `metadata.remove_location`); the pixels are never touched.
    With ``derivative_sizes``, the WebP derivatives are made from the pixels decoded for the
    check (one decode for everything).

    Raises ``ImageRejected``; nothing else for bad input.
    """
    data = read_limited(fileobj, limits.max_bytes)
    if not data:
        raise ImageRejected("empty", "The file is empty.")
    if len(data) > limits.max_bytes:
        raise ImageRejected(
            "too_large", f"This file is larger than the {format_bytes(limits.max_bytes)} limit."
        )

    img = open_accepted(data, limits.max_pixels)
    with img:
        source_format = ACCEPTED_FORMATS[img.format]
        frames = getattr(img, "n_frames", 1)
        animated = frames > 1 and img.format != "MPO"
        if source_format == "png":
            verify_png_checksums(data)
        width, height = img.size  # before any draft below
        if img.format in ("JPEG", "MPO") and derivative_sizes:
            # libjpeg decodes the whole stream at 1/2, 1/4 or 1/8 scale just as surely (a
            # truncated or damaged file still fails), in a fraction of the time and memory,
            # and the derivatives need no more pixels than that.
            scale = max(derivative_sizes) / max(width, height)
            if scale < 0.5:
                img.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))
        decode(img, limits.max_pixels)

        notes: list[str] = []
        if animated:
            notes.append(_animation_note(source_format))
        exif = read_exif(img)
        facts = metadata.photo_facts(exif).as_dict()
        # pillow-heif has already turned HEIF pixels upright while decoding.
        if (
            source_format != "heif"
            and exif is not None
            and exif.get(_EXIF_ORIENTATION)
            in (
                5,
                6,
                7,
                8,
            )
        ):
            width, height = height, width

        derivatives = tuple(derivatives_of(img, derivative_sizes)) if derivative_sizes else ()
        stored = data
        if not keep_location:
            removal = metadata.remove_location(data, source_format, image=img)
            stored = removal.data
            if removal.dropped_broken:
                notes.append("A damaged metadata block in the file was removed.")
            if _still_has_location(stored):  # never store a location we were asked to remove
                raise ImageRejected(
                    "corrupt",
                    "We could not remove the location from this file. Upload it with "
                    "“Keep location” ticked, or remove the location first.",
                )
            if removal.removed:
                notes.append("Location data (GPS) was removed from the photo.")

    extension, content_type = ORIGINAL_FILES[source_format]
    return NormalizedImage(
        data=stored,
        format=source_format,
        extension=extension,
        content_type=content_type,
        width=width,
        height=height,
        size_bytes=len(stored),
        source_format=source_format,
        animated=animated,
        notes=tuple(notes),
        facts=facts,
        derivatives=derivatives,
    )


def _still_has_location(data: bytes) -> bool:
    """After our edit: can Pillow still read a GPS position from the file?"""
    try:
        with Image.open(io.BytesIO(data)) as check:
            return bool(check.getexif().get_ifd(_EXIF_GPS_IFD))
    except Exception:  # noqa: BLE001 - unreadable EXIF: no position to read
        return False


def working_copy(data: bytes) -> bytes:
    """What an engine reads: the stored original itself when it is a plain 8-bit upright JPEG,
    PNG or WebP; a rotated photo JPEG turned upright at its own quantisation tables; otherwise
    (HEIF, GIF, CMYK, 16-bit, palette) a PNG of the upright, 8-bit, sRGB-or-tagged pixels,
    with the original's colour profile where it fits.
    Raises ``ImageRejected`` for a file that no longer decodes."""
    img = open_accepted(data, max_pixels=None)
    with img:
        exif = read_exif(img)
        rotated = img.format != "HEIF" and exif is not None and exif.get(_EXIF_ORIENTATION, 1) != 1
        if (
            img.format in _ENGINE_READY_FORMATS
            and img.mode in _ENGINE_READY_MODES
            and not rotated
            and not getattr(img, "is_animated", False)
        ):
            return data
        # A rotated photo JPEG stays a JPEG with its own quantisation tables: the engine reads
        # the compression it must undo from them (its denoise level), and the turn costs next
        # to nothing at the same tables.
        jpeg_tables = None
        if img.format in ("JPEG", "MPO") and img.mode in ("RGB", "L") and rotated:
            jpeg_tables = (img.quantization, JpegImagePlugin.get_sampling(img))
        decode(img, max_pixels=None)
        if rotated:
            ImageOps.exif_transpose(img, in_place=True)
        icc = img.info.get("icc_profile") or None
        if jpeg_tables is not None:
            tables, sampling = jpeg_tables
            buf = io.BytesIO()
            options = {"qtables": tables, "icc_profile": icc}
            if sampling >= 0:
                options["subsampling"] = sampling
            img.save(buf, "JPEG", **options)
            return buf.getvalue()
        out = flatten_mode(img)
        if out.mode == "CMYK":
            out = cmyk_to_srgb(out, icc)
            icc = None
        if icc and not icc_matches(icc, out.mode):
            icc = None
        buf = io.BytesIO()
        out.save(buf, "PNG", compress_level=1, icc_profile=icc)
        return buf.getvalue()


def _animation_note(source_format: str) -> str:
    if source_format == "heif":
        return "This HEIC file holds several pictures: it is kept whole; we enhance the main one."
    label = {"gif": "GIF", "webp": "WebP", "png": "PNG"}.get(source_format, "image")
    return f"Animated {label}: it is kept whole; we enhance its first frame."
