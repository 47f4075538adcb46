"""Automatic light and colour: the option a user ticks ("Auto light and colour"), never the
default.

It corrects what is plainly wrong and leaves a well-exposed photo alone:

- Light: a photo whose luma (the darkest and lightest 0.5% aside) spans fewer than
  `WELL_EXPOSED_RANGE` levels (haze, a dull scan, an under-exposure) has its missing end(s)
  moved out: the black point when its darkest pixels are lighter than `BLACK_ENOUGH`, the
  white point when its lightest are darker than `WHITE_ENOUGH`. One curve for the three
  channels, so hues do not turn; the stretch is capped (`MAX_GAIN`). A photo with a wider
  range is left as it is (a dim, low-key photo of a cat is not a fault to fix).
- Colour: a white balance from the brightest 2% of pixels, which in most photos ought to be
  grey (clouds, white walls, paper). A cast is a gain per channel, so it is corrected as one:
  each channel's white point moves by `CAST_CORRECTED` of the difference, at most `MAX_SHIFT`
  levels, and only when those pixels are tinted by at least `CAST_IGNORED` levels between
  their strongest and weakest channel (the lightest fur of the ginger cat in `bench/photos/`
  is tinted by 26: its colour, not a cast) and by at most `MAX_NEUTRAL_SPREAD` (more than that
  is a coloured subject, a sunset, not a cast).

A picture with too narrow a range to be a photo (`MIN_RANGE`: a flat colour, a near-white
page) is left as it is. Everything is measured on a block-averaged copy of at most ~0.5 MP
(transparent pixels do not count) and comes back as one `Image.point` table, applied to the
finished picture.
"""

from __future__ import annotations

import math

from PIL import Image, ImageChops, ImageStat

STATS_PIXELS = 500_000
CLIP_FRACTION = 0.005  # of the pixels at each end that may clip
MIN_RANGE = 64  # narrower than this between its dark and light ends: not a photo to adjust
WELL_EXPOSED_RANGE = 160  # this wide or wider: the light is left alone
BLACK_ENOUGH = 16  # darkest pixels this dark need no black point
WHITE_ENOUGH = 239  # lightest pixels this light need no white point
MAX_GAIN = 2.0  # the strongest contrast stretch
BRIGHT_FRACTION = 0.02  # the brightest pixels that tell a cast
CAST_IGNORED = 32  # levels between channels of the brightest pixels that are no cast
MAX_NEUTRAL_SPREAD = 64  # more than this: a coloured subject, not a cast
CAST_CORRECTED = 0.6  # the share of a cast taken away...
MAX_SHIFT = 16  # ...but no channel's white point moves more than this


def light_and_colour_table(image: Image.Image) -> list[int] | None:
    """A `point` table for an L, RGB or RGBA image (alpha untouched), or `None` when the photo
    needs nothing."""
    alpha = image.getchannel("A") if image.mode == "RGBA" else None
    colour = image.convert("RGB") if image.mode == "RGBA" else image
    factor = max(1, math.isqrt(colour.width * colour.height // STATS_PIXELS))
    if factor > 1:
        colour = colour.reduce(factor)
        alpha = alpha.reduce(factor) if alpha is not None else None
    luma = colour if colour.mode == "L" else colour.convert("L")
    histogram = luma.histogram(mask=alpha)  # transparent pixels do not count
    total = sum(histogram)
    if total == 0:
        return None
    low, high = _clipped_bounds(histogram, total * CLIP_FRACTION)
    if high - low < MIN_RANGE:
        return None

    black, white = _levels(low, high)
    bands = 1 if colour.mode == "L" else 3
    shifts = [0.0] * bands
    if bands == 3:
        shifts = _white_balance(colour, luma, alpha, histogram, total)
    if (black, white) == (0, 255) and not any(shifts):
        return None

    table: list[int] = []
    for shift in shifts:
        scale = 255 / (white + shift - black)
        table.extend(min(255, max(0, round((level - black) * scale))) for level in range(256))
    if image.mode == "RGBA":
        table.extend(range(256))
    return table


def _levels(low: int, high: int) -> tuple[float, float]:
    """The black and white points for a photo whose luma spans `low..high`: 0 and 255 unless
    the range is narrow and an end plainly missing."""
    if high - low >= WELL_EXPOSED_RANGE:
        return 0, 255
    black = low if low > BLACK_ENOUGH else 0
    white = high if high < WHITE_ENOUGH else 255
    if 255 / (white - black) > MAX_GAIN:
        # Part of the way from no stretch to the full one, so the gain is MAX_GAIN.
        share = (255 - 255 / MAX_GAIN) / (255 - (white - black))
        black, white = black * share, 255 - (255 - white) * share
    return black, white


def _white_balance(
    image: Image.Image,
    luma: Image.Image,
    alpha: Image.Image | None,
    histogram: list[int],
    total: int,
) -> list[float]:
    """How far to move each channel's white point against a colour cast (0 when none)."""
    _, bright = _clipped_bounds(histogram, total * BRIGHT_FRACTION)
    mask = luma.point(lambda value: 255 if value >= bright else 0)
    if alpha is not None:
        mask = ImageChops.darker(mask, alpha)
    stat = ImageStat.Stat(image, mask)
    if not stat.count[0]:
        return [0.0] * 3
    grey = sum(stat.mean) / 3
    cast = [channel - grey for channel in stat.mean]
    spread = max(cast) - min(cast)
    if spread < CAST_IGNORED or spread > MAX_NEUTRAL_SPREAD:
        return [0.0] * 3
    return [max(-MAX_SHIFT, min(MAX_SHIFT, CAST_CORRECTED * offset)) for offset in cast]


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
