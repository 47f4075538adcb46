"""The local engine: faithful by default, a learned upscaler when the tier is larger than the
original. No network; the same input gives the same output.

The pipeline:

1. Enlarging (the tier is larger than the original): waifu2x's photo model doubles the picture
   and removes JPEG artefacts as it goes (`upscaler`), then LANCZOS takes it to the tier's
   exact size (down when the tier is less than twice the original, up when it is more). The
   model's noise level follows the JPEG quality the original was saved at, estimated from its
   quantisation tables before anything re-encodes it: light (0) for lossless pictures and
   JPEGs of quality `CLEAN_JPEG_QUALITY` and above, strong (3) below (`bench/quality.py`
   measured the crossing point). An original of more than `max_model_pixels` (a setting) is
   enlarged with LANCZOS alone, to bound a job's time; so is every original when the model
   cannot load (logged once).
2. Reducing (the tier is at most the original's size): LANCZOS, after decoding a big JPEG at
   1/2, 1/4 or 1/8 scale (`draft`) and going through `reduce` first (`reducing_gap`), which
   saves time and memory without a visible difference; a very big picture in bands.
3. Only when the user asks ("Auto light and colour"): one tone table, measured on the
   original and applied to the finished picture (`adjust`). Nothing else ever changes a
   photo's tones or colours as a whole, and nothing is sharpened: on real photos every
   sharpening measured (before or after the resize) moved the result further from the truth.

Transparency: the model works on colour only, with the colour of fully transparent pixels
first filled in from their opaque neighbours (what a premultiplied resampler would weigh them
by), so no light or dark fringe can bleed in at the edges; the alpha channel is scaled
alongside with LANCZOS, and Pillow resamples RGBA premultiplied. Greyscale stays greyscale.
The original's ICC profile is carried to the result.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageFilter

from .adjust import light_and_colour_table
from .base import (
    EngineResult,
    TierSpec,
    encode_image,
    load_image,
    normalise_mode,
    open_image,
    target_size,
)
from .upscaler import SHIPPED_MODEL_DIR, UpscalerError, get_upscaler
from .usage import Meter

logger = logging.getLogger(__name__)

LANCZOS = Image.Resampling.LANCZOS

# JPEGs saved at this quality or above get the light denoise; below it, the strong one.
CLEAN_JPEG_QUALITY = 84
LIGHT_NOISE, STRONG_NOISE = 0, 3
# Reductions of pictures larger than this go band by band (rows of the result per band).
BANDED_ABOVE_PIXELS = 16_000_000
BAND_ROWS = 256
# The model a local attempt reports in its usage: the learned upscaler's, or the resampler's
# alone (reductions, big originals, and enlargements when the model could not load or failed).
UPSCALER_MODEL = "waifu2x-upconv_7_photo"
RESAMPLER_MODEL = "lanczos"
# How far the colour of opaque pixels is spread into transparent ones (pixels): beyond the
# model's reach of 7 input pixels.
BLEED_RADIUS = 8

# The baseline tables of the JPEG standard (Annex K), in natural order: libjpeg scales them
# by the quality setting, so the nearest scaled pair names the quality.
# fmt: off
_STANDARD_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)
_STANDARD_CHROMA = (
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    *([99] * 32),
)
# fmt: on


def _scaled(table: tuple[int, ...], quality: int) -> tuple[int, ...]:
    """libjpeg's `jpeg_set_quality` with baseline tables."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return tuple(min(255, max(1, (entry * scale + 50) // 100)) for entry in table)


_SCALED_TABLES = {
    quality: (_scaled(_STANDARD_LUMA, quality), _scaled(_STANDARD_CHROMA, quality))
    for quality in range(1, 101)
}


def estimate_jpeg_quality(image: Image.Image) -> int | None:
    """The libjpeg quality (1-100) whose tables are nearest this JPEG's, or `None` when the
    image is not a JPEG. Read from the header: call it before decoding or re-encoding.
    Cameras and editors that use tables of their own get the nearest libjpeg equivalent."""
    tables = getattr(image, "quantization", None)
    if image.format not in ("JPEG", "MPO") or not tables or 0 not in tables:
        return None
    luma = list(tables[0])
    chroma = list(tables[1]) if 1 in tables else None

    def distance(quality: int) -> int:
        standard_luma, standard_chroma = _SCALED_TABLES[quality]
        total = sum(abs(a - b) for a, b in zip(luma, standard_luma, strict=False))
        if chroma is not None:
            total += sum(abs(a - b) for a, b in zip(chroma, standard_chroma, strict=False))
        return total

    # Ties go to the higher quality (at the top, several qualities share tables of ones).
    return min(range(100, 0, -1), key=distance)


def noise_level(jpeg_quality: int | None) -> int:
    """The model's denoise level for an original saved at `jpeg_quality` (`None`: not a
    JPEG, so nothing says it was compressed)."""
    if jpeg_quality is not None and jpeg_quality < CLEAN_JPEG_QUALITY:
        return STRONG_NOISE
    return LIGHT_NOISE


class LocalEngine:
    name = "local"

    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        threads: int | None = None,
        max_model_pixels: int | None = None,
    ):
        """Unset arguments come from settings: `ENHANCEMENT_MODEL_DIR` (empty: the models
        shipped in `waifu2x/`), `ENHANCEMENT_NCNN_THREADS`, `ENHANCEMENT_MODEL_MAX_PIXELS`."""
        self.model_dir = Path(model_dir or settings.ENHANCEMENT_MODEL_DIR or SHIPPED_MODEL_DIR)
        self.threads = threads or settings.ENHANCEMENT_NCNN_THREADS
        self.max_model_pixels = max_model_pixels or settings.ENHANCEMENT_MODEL_MAX_PIXELS

    def enhance(
        self, *, original: bytes, tier: TierSpec, auto_adjust: bool = False
    ) -> EngineResult:
        meter = Meter(engine=self.name, model=RESAMPLER_MODEL)
        model = RESAMPLER_MODEL
        image = open_image(original)
        icc_profile = image.info.get("icc_profile")
        jpeg_quality = estimate_jpeg_quality(image)
        size = target_size(image.width, image.height, tier.max_dimension)
        enlarging = max(size) > max(image.size)
        if not enlarging and image.format in ("JPEG", "MPO") and image.mode in ("RGB", "L"):
            # Decode straight at a reduced scale; never below `size`.
            image.draft(image.mode, size)
        image = normalise_mode(load_image(image))
        table = light_and_colour_table(image) if auto_adjust else None

        if enlarging:
            image, model = self._enlarge(image, size, noise=noise_level(jpeg_quality))
        else:
            image = _reduce(image, size)
        if table is not None:
            image = image.point(table)

        data, fmt = encode_image(image, icc_profile=icc_profile)
        return EngineResult(
            data=data,
            format=fmt,
            width=image.width,
            height=image.height,
            prompt=None,
            usage=meter.usage(model=model),
        )

    def _enlarge(
        self, image: Image.Image, size: tuple[int, int], *, noise: int
    ) -> tuple[Image.Image, str]:
        """The model's 2x, then LANCZOS to `size`; LANCZOS alone without the model. Returns
        the picture and the model that made it."""
        upscaler = None
        if image.width * image.height <= self.max_model_pixels:
            upscaler = get_upscaler(model_dir=self.model_dir, noise=noise, threads=self.threads)
        if upscaler is None:
            return image.resize(size, LANCZOS), RESAMPLER_MODEL

        mode = image.mode
        alpha = image.getchannel("A") if mode == "RGBA" else None
        colour = _fill_transparent(image) if alpha is not None else image.convert("RGB")
        try:
            doubled = upscaler.upscale(colour)
        except UpscalerError:
            logger.exception("the upscaler failed; resizing with LANCZOS instead")
            return image.resize(size, LANCZOS), RESAMPLER_MODEL
        del colour
        if mode == "L":
            doubled = doubled.convert("L")
        if alpha is not None:
            doubled.putalpha(alpha.resize(doubled.size, LANCZOS))
        if doubled.size != size:
            doubled = doubled.resize(size, LANCZOS)
        return doubled, UPSCALER_MODEL


def _reduce(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """LANCZOS down to `size`; a big picture band by band, so that Pillow's intermediate (the
    full height at the new width) never exists whole: a 50 MP PNG then peaks about 75 MB
    lower. Pillow's filter reaches past each band's box, so the bands join (within 1 level)."""
    if image.width * image.height <= BANDED_ABOVE_PIXELS:
        return image.resize(size, LANCZOS, reducing_gap=3.0)
    result = Image.new(image.mode, size)
    scale = image.height / size[1]
    for top in range(0, size[1], BAND_ROWS):
        bottom = min(size[1], top + BAND_ROWS)
        box = (0, top * scale, image.width, bottom * scale)
        band = image.resize((size[0], bottom - top), LANCZOS, box=box, reducing_gap=3.0)
        result.paste(band, (0, top))
    return result


def _fill_transparent(image: Image.Image) -> Image.Image:
    """The RGB of an RGBA image, fully transparent pixels given the colour of the opaque ones
    near them (an alpha-weighted blur: premultiply, blur, divide), so that nothing hidden
    under alpha 0 (often white or black) bleeds into the visible edges."""
    premultiplied = image.convert("RGBa").filter(ImageFilter.BoxBlur(BLEED_RADIUS))
    filled = premultiplied.convert("RGBA").convert("RGB")
    # Where alpha is 0 take the filled colour, elsewhere the pixel's own.
    hidden = image.getchannel("A").point(lambda value: 255 if value == 0 else 0)
    return Image.composite(filled, image.convert("RGB"), hidden)
