"""An enhancement made with Pillow alone: no network, deterministic, cheap.

The pipeline, in order:

1. Resize to the tier with LANCZOS. A big JPEG is first decoded at 1/2, 1/4 or 1/8 scale
   (`draft`), and big downscales go through `reduce` first (`reducing_gap`), which saves time
   and memory without a visible difference.
2. Tone: one lookup table stretches the levels (the common black and white points with 0.5%
   clipped, the gain capped so that a flat picture does not turn into noise), and reduces a
   colour cast: the average colour of the darkest and of the brightest 2% of pixels, which
   ought to be grey, moves 60% of the way to grey (capped, and skipped when those pixels are
   plainly coloured). The statistics come from a block-averaged copy of at most ~0.5 MP.
3. Detail, on the luminance: d = luma - (its 5x5 box mean) says how far a pixel stands out
   from its neighbourhood. Flat pixels (small |d|: noise) move half-way to the mean, a mild
   denoise; edge pixels (large |d|) are unsharp-masked, d * 0.8 added; the weight ramps
   between the two, so noise is smoothed rather than sharpened and there is no seam. The
   weight depends on d alone, so the whole step is one blur of one channel, a lookup table
   and an add: cheaper than the resize itself. Leaving the colour channels' differences
   alone keeps sharpening from adding colour fringes.

Steps 2 and 3 run at the smaller of the original and the tier size: before an upscale (so the
noise is not enlarged first and the work is done on fewer pixels) and after a downscale. Every
step is an integer Pillow operation, so the same input gives byte-identical output.
"""

from __future__ import annotations

import math

from PIL import Image, ImageChops, ImageFilter, ImageStat

from .base import (
    EngineResult,
    TierSpec,
    encode_image,
    load_image,
    normalise_mode,
    open_image,
    target_size,
)

LANCZOS = Image.Resampling.LANCZOS

# Tone
STATS_PIXELS = 500_000  # levels are measured on a copy reduced to about this many pixels
CLIP_FRACTION = 0.005  # of the pixels ignored at each end of each channel's histogram
MAX_GAIN = 2.0  # the strongest contrast stretch applied
EXTREME_FRACTION = 0.02  # the darkest and brightest pixels that tell the colour cast
COLOUR_BALANCE = 0.6  # the share of the cast corrected...
MAX_SHIFT = 20  # ...but no channel's black or white point moves more than this
MAX_NEUTRAL_SPREAD = 60  # extremes more coloured than this are content, not a cast

# Detail
BLUR_RADIUS = 2  # the neighbourhood: a 5x5 box
SMOOTHING = 0.5  # how far flat pixels move towards their neighbourhood mean
SHARPENING = 0.8  # unsharp-mask amount on edge pixels
FLAT_BELOW = 3  # |pixel - mean| (in luma levels) under which a pixel is flat...
EDGE_ABOVE = 12  # ...and over which it is an edge; linear in between


class LocalEngine:
    name = "local"

    def enhance(self, *, original: bytes, tier: TierSpec) -> EngineResult:
        image = open_image(original)
        icc_profile = image.info.get("icc_profile")
        size = target_size(image.width, image.height, tier.max_dimension)
        downscaling = size[0] < image.width
        if downscaling and image.format in ("JPEG", "MPO") and image.mode in ("RGB", "L"):
            # Decode straight at a reduced scale; never below `size`.
            image.draft(image.mode, size)
        image = normalise_mode(load_image(image))

        if downscaling:
            image = image.resize(size, LANCZOS, reducing_gap=3.0)
            image = _enhance_pixels(image)
        else:
            image = _enhance_pixels(image)
            if image.size != size:
                image = image.resize(size, LANCZOS)

        data, fmt = encode_image(image, icc_profile=icc_profile)
        return EngineResult(
            data=data, format=fmt, width=image.width, height=image.height, prompt=None
        )


def _enhance_pixels(image: Image.Image) -> Image.Image:
    """Tone and detail on an RGB, RGBA or L image of any size; alpha passes through."""
    alpha = None
    if image.mode == "RGBA":
        alpha = image.getchannel("A")
        image = image.convert("RGB")
    image = image.point(_tone_table(image, alpha))
    image = _denoise_and_sharpen(image)
    if alpha is not None:
        image.putalpha(alpha)
    return image


def _tone_table(image: Image.Image, alpha: Image.Image | None) -> list[int]:
    """A `point` table: a levels stretch, plus a restrained correction of a colour cast."""
    # Statistics need no more than ~0.5 MP: measure a block-averaged copy.
    factor = max(1, math.isqrt(image.width * image.height // STATS_PIXELS))
    if factor > 1:
        image = image.reduce(factor)
        alpha = alpha.reduce(factor) if alpha is not None else None
    bands = len(image.getbands())
    histogram = image.histogram(mask=alpha)  # transparent pixels do not count
    channels = [histogram[band * 256 : (band + 1) * 256] for band in range(bands)]
    total = sum(channels[0])
    if total == 0:
        return list(range(256)) * bands

    # The common black and white points: no channel loses more than CLIP_FRACTION.
    bounds = [_clipped_bounds(channel, total * CLIP_FRACTION) for channel in channels]
    low = min(lo for lo, _ in bounds)
    high = max(hi for _, hi in bounds)
    shadow_shift, highlight_shift = [0.0] * bands, [0.0] * bands
    if bands == 3:
        shadow_shift, highlight_shift = _cast_shifts(image, alpha)

    table: list[int] = []
    for band in range(bands):
        black = low + shadow_shift[band]
        white = high + highlight_shift[band]
        if white - black < 255 / MAX_GAIN:  # a flat picture: stretch it only so far
            centre = (black + white) / 2
            black, white = centre - 127.5 / MAX_GAIN, centre + 127.5 / MAX_GAIN
        scale = 255 / (white - black)
        table.extend(min(255, max(0, round((level - black) * scale))) for level in range(256))
    return table


def _cast_shifts(image: Image.Image, alpha: Image.Image | None) -> tuple[list[float], list[float]]:
    """How far to move each channel's black and white point to reduce a colour cast.

    The darkest and the brightest few percent of pixels (by luma) are usually meant to be
    neutral (shadows, white walls, clouds); their average colour's distance from grey is the
    cast. Only part of it is corrected, by a capped amount, and not at all when those pixels
    are clearly coloured (a sunset, a green field), where the "cast" is the subject.
    """
    luma = image.convert("L")
    histogram = luma.histogram(mask=alpha)
    dark, bright = _clipped_bounds(histogram, sum(histogram) * EXTREME_FRACTION)
    shifts = []
    for keep in (lambda v: v <= dark, lambda v: v >= bright):
        mask = luma.point(lambda v, keep=keep: 255 if keep(v) else 0)
        if alpha is not None:
            mask = ImageChops.darker(mask, alpha)
        stat = ImageStat.Stat(image, mask)
        if not stat.count[0]:
            shifts.append([0.0, 0.0, 0.0])
            continue
        grey = sum(stat.mean) / 3
        cast = [channel - grey for channel in stat.mean]
        if max(cast) - min(cast) > MAX_NEUTRAL_SPREAD:
            shifts.append([0.0, 0.0, 0.0])
            continue
        shifts.append([max(-MAX_SHIFT, min(MAX_SHIFT, COLOUR_BALANCE * offset)) for offset in cast])
    return shifts[0], shifts[1]


def _clipped_bounds(channel: list[int], clip: float) -> tuple[int, int]:
    """The lowest and highest level after ignoring `clip` pixels at each end."""
    seen = 0
    low = 0
    for level, count in enumerate(channel):
        seen += count
        if seen > clip:
            low = level
            break
    seen = 0
    high = 255
    for level in range(255, -1, -1):
        seen += channel[level]
        if seen > clip:
            high = level
            break
    return low, max(low, high)


def _detail_weight(difference: int) -> float:
    """How much of `pixel - mean` to add back: negative (smooth) when flat, positive
    (sharpen) on edges, linear in between."""
    size = abs(difference)
    if size <= FLAT_BELOW:
        return -SMOOTHING
    if size >= EDGE_ABOVE:
        return SHARPENING
    share = (size - FLAT_BELOW) / (EDGE_ABOVE - FLAT_BELOW)
    return -SMOOTHING + share * (SMOOTHING + SHARPENING)


# Maps `128 + (luma - mean)` to `128 + correction`.
_DETAIL_TABLE = [
    min(255, max(0, round(128 + (level - 128) * _detail_weight(level - 128))))
    for level in range(256)
]


def _denoise_and_sharpen(image: Image.Image) -> Image.Image:
    """Smooth flat areas and sharpen edges, on the luminance only.

    With d = luma - (5x5 mean of luma), every pixel gets `weight(|d|) * d` added to each of
    its channels: a table lookup, since the weight depends on d alone. Working on luma keeps
    colours free of sharpening fringes and costs one blur of one channel.
    """
    luma = image if image.mode == "L" else image.convert("L")
    mean = luma.filter(ImageFilter.BoxBlur(BLUR_RADIUS))
    # 128 + d, clipped: |d| > 127 only happens on hard edges, which get the most anyway.
    correction = ImageChops.subtract(luma, mean, offset=128).point(_DETAIL_TABLE)
    if image.mode != "L":
        correction = Image.merge(image.mode, [correction] * len(image.getbands()))
    return ImageChops.add(image, correction, offset=-128)
