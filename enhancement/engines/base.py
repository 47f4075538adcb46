"""The contract every enhancement engine meets, and the image plumbing they share.

An engine takes the bytes of a normalised original (upright, RGB/RGBA/L, JPEG/PNG/WebP), a
tier and the user's options (`auto_adjust`), and returns an encoded image whose longer side is
exactly the tier's `max_dimension`.
Failures are `EngineError`s: `TransientEngineError` when trying again later may work (the job
queue retries), `PermanentEngineError` when it will not (the job fails and is refunded).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from PIL import Image

from enhancement.imaging import grey_to_8bit

from .usage import EngineUsage

JPEG_QUALITY = 92
PNG_COMPRESS_LEVEL = 3


@dataclass(frozen=True)
class TierSpec:
    """What the caller asks for; the numbers come from settings."""

    name: str  # "TIER_1K" / "TIER_2K" / "TIER_4K"
    max_dimension: int  # the result's longer side, exactly
    gemini_size: str  # "1K" / "2K" / "4K"


@dataclass(frozen=True)
class EngineResult:
    data: bytes  # the encoded image
    format: str  # "png" | "jpeg" | "webp"
    width: int
    height: int
    prompt: str | None  # the prompt sent to the model; None for engines without one
    usage: EngineUsage | None = None  # what the attempt used (time, CPU, tokens)


class EngineError(Exception):
    """An enhancement failed. `str(e)` is for logs; `user_message` is for the person.
    `usage`: what the failed attempt still used (Gemini answered, but with no usable image),
    when the engine knows; the job counts it in its cost."""

    default_user_message = "The image could not be enhanced."

    def __init__(
        self, message: str, *, user_message: str | None = None, usage: EngineUsage | None = None
    ):
        super().__init__(message)
        self.user_message = user_message or self.default_user_message
        self.usage = usage

    def __reduce__(self):
        # Keep `user_message` and `usage` across pickling (queues pickle exceptions).
        state = {"user_message": self.user_message, "usage": self.usage}
        return (self.__class__, (str(self),), state)


class TransientEngineError(EngineError):
    """Worth retrying: timeouts, connection errors, rate limits, server errors."""

    default_user_message = "The enhancement service is busy right now. We will try again shortly."


class PermanentEngineError(EngineError):
    """Retrying will not help: a safety block, no image, an undecodable image, a bad request."""

    default_user_message = "This image could not be enhanced."


@runtime_checkable
class Engine(Protocol):
    name: str

    def enhance(
        self, *, original: bytes, tier: TierSpec, auto_adjust: bool = False
    ) -> EngineResult:
        """`auto_adjust`: the user asked for automatic light and colour; without it an engine
        keeps the photo's tones and colours as they are (as far as it can)."""
        ...


def target_size(width: int, height: int, max_dimension: int) -> tuple[int, int]:
    """The size with the longer side exactly `max_dimension` and the aspect ratio kept.

    The shorter side is rounded (never below 1). Small images are scaled up too.
    """
    if width <= 0 or height <= 0 or max_dimension <= 0:
        raise ValueError(f"sizes must be positive, got {width}x{height} -> {max_dimension}")
    if width >= height:
        return max_dimension, max(1, round(height * max_dimension / width))
    return max(1, round(width * max_dimension / height)), max_dimension


def crop_to_ratio(image: Image.Image, width: int, height: int) -> Image.Image:
    """Centre-crop `image` to the aspect ratio `width:height` (no padding, no distortion)."""
    want = width / height
    have = image.width / image.height
    if math.isclose(want, have, rel_tol=1e-4):
        return image
    if have > want:  # too wide: trim left and right
        new_width = max(1, round(image.height * want))
        left = (image.width - new_width) // 2
        return image.crop((left, 0, left + new_width, image.height))
    new_height = max(1, round(image.width / want))
    top = (image.height - new_height) // 2
    return image.crop((0, top, image.width, top + new_height))


def open_image(data: bytes, *, what: str = "original") -> Image.Image:
    """Open `data` (header only), or raise `PermanentEngineError`.

    The pixels are not decoded yet, so that a caller may still `draft()` a JPEG; call
    `load_image` next.
    """
    try:
        image = Image.open(io.BytesIO(data))
        image.size  # noqa: B018  (the header is parsed by now)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise PermanentEngineError(
            f"cannot open the {what} image: {exc}",
            user_message=f"The {what} image could not be read.",
        ) from exc
    return image


def load_image(image: Image.Image, *, what: str = "original") -> Image.Image:
    """Decode the pixels of an opened image, or raise `PermanentEngineError`."""
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise PermanentEngineError(
            f"cannot decode the {what} image: {exc}",
            user_message=f"The {what} image could not be read.",
        ) from exc
    return image


def normalise_mode(image: Image.Image) -> Image.Image:
    """RGB, RGBA or L; anything else (P, LA, CMYK, 16-bit...) is converted."""
    if image.mode in ("RGB", "RGBA", "L"):
        return image
    if image.mode in ("LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        return image.convert("RGBA")
    if image.mode.startswith("I") or image.mode == "F":
        return grey_to_8bit(image)
    return image.convert("RGB")


def encode_image(image: Image.Image, *, icc_profile: bytes | None = None) -> tuple[bytes, str]:
    """PNG when the image has alpha (JPEG cannot carry it), else JPEG quality 92.

    JPEG rather than PNG for photos: a 4K photo as PNG is about 5x larger and 30-100x slower
    to encode, and at quality 92 the difference cannot be seen. PNG at compression level 3:
    a 4K photo with alpha encodes in about 1.3 s (level 6, the default, takes 4 s for a file
    only 15% smaller).
    """
    buffer = io.BytesIO()
    extra = {"icc_profile": icc_profile} if icc_profile else {}
    if image.mode == "RGBA":
        image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL, **extra)
        return buffer.getvalue(), "png"
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, **extra)
    return buffer.getvalue(), "jpeg"
