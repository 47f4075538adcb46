"""Pixels and colour: 8 bits per channel, and sRGB for what browsers show."""

from __future__ import annotations

import io
import logging

from PIL import Image

try:
    from PIL import ImageCms
except ImportError:  # Pillow built without LittleCMS: colours fall back to plain conversion
    ImageCms = None

logger = logging.getLogger(__name__)

_SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")) if ImageCms else None


def grey_to_8bit(img: Image.Image) -> Image.Image:
    """16-bit (or 32-bit) greyscale to "L", 0..65535 scaled onto 0..255 and rounded. The one
    conversion of deep greyscale: `convert("L")` would clip everything above 255 to white."""
    if img.mode not in ("I", "I;16"):  # "I;16B", "I;16L", "F"...
        img = img.convert("I")
    return img.point(lambda v: v * (255 / 65535) + 0.5).convert("L")


def flatten_mode(img: Image.Image) -> Image.Image:
    """8 bits per channel: L, RGB, RGBA, or CMYK (left for the colour conversion)."""
    mode = img.mode
    transparent = "transparency" in img.info
    if mode in ("L", "RGB"):
        return img.convert("RGBA") if transparent else img
    if mode in ("RGBA", "CMYK"):
        return img
    if mode == "1":
        return img.convert("L")
    if mode.startswith("I") or mode == "F":
        return grey_to_8bit(img)
    if mode == "P":
        has_alpha = transparent or (img.palette is not None and "A" in img.palette.mode)
        return img.convert("RGBA" if has_alpha else "RGB")
    if mode in ("PA", "LA", "La", "RGBa"):
        return img.convert("RGBA")
    return img.convert("RGB")


def cmyk_to_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    if icc and ImageCms is not None:
        try:
            return ImageCms.profileToProfile(
                img, ImageCms.ImageCmsProfile(io.BytesIO(icc)), _SRGB_PROFILE, outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            logger.info("CMYK profile unusable, converting without it", exc_info=True)
    return img.convert("RGB")


def to_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    """Pixels in sRGB with no profile attached: what every browser assumes."""
    if img.mode == "CMYK":
        return cmyk_to_srgb(img, icc)
    if not icc or ImageCms is None or not icc_matches(icc, img.mode):
        return img
    output_mode = "RGBA" if img.mode == "RGBA" else "RGB"
    try:
        return ImageCms.profileToProfile(
            img,
            ImageCms.ImageCmsProfile(io.BytesIO(icc)),
            _SRGB_PROFILE,
            outputMode=output_mode,
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        logger.info("ICC profile unusable, keeping pixels as they are", exc_info=True)
        return img


def icc_matches(icc: bytes, mode: str) -> bool:
    space = icc[16:20]  # data colour space field of the ICC header
    if mode in ("RGB", "RGBA"):
        return space == b"RGB "
    if mode == "L":
        return space == b"GRAY"
    return mode == "CMYK" and space == b"CMYK"
