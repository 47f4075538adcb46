"""The local engine against the truth: on real photos (bench/photos/, public domain and CC0)
it beats a plain LANCZOS resize; it never shifts a photo's tones or colours; transparent edges
get no fringe; the tier's size is exact for every shape; the JPEG quality picks the model's
denoise level; and without the model it falls back to a faithful LANCZOS resize."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageStat

from enhancement.engines import LocalEngine, TierSpec, get_engine, target_size
from enhancement.engines.adjust import light_and_colour_table
from enhancement.engines.base import encode_image
from enhancement.engines.local import (
    CLEAN_JPEG_QUALITY,
    LIGHT_NOISE,
    STRONG_NOISE,
    estimate_jpeg_quality,
    noise_level,
)
from enhancement.engines.upscaler import SHIPPED_MODEL_DIR, get_upscaler

PHOTOS = Path(__file__).resolve().parents[2] / "bench" / "photos"
PHOTO_NAMES = ["astronaut.png", "camera.png", "chelsea.png", "coffee.png", "rocket.jpg"]
TIER_1K = TierSpec(name="TIER_1K", max_dimension=1024, gemini_size="1K")
TIER_4K = TierSpec(name="TIER_4K", max_dimension=4096, gemini_size="4K")
LANCZOS = Image.Resampling.LANCZOS


def tier(max_dimension: int) -> TierSpec:
    return TierSpec(name="TEST", max_dimension=max_dimension, gemini_size="1K")


def real_photo(name: str) -> Image.Image:
    """A photo cropped to a multiple of 4 on each side (so a 4x shrink is exact)."""
    with Image.open(PHOTOS / name) as photo:
        photo.load()
        image = photo if photo.mode in ("L", "RGB") else photo.convert("RGB")
        return image.crop((0, 0, image.width // 4 * 4, image.height // 4 * 4))


def encode(image: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def shrunk(photo: Image.Image, quality: int) -> bytes:
    """What a user uploads: the photo at a quarter of its size, as a JPEG."""
    small = photo.resize((photo.width // 4, photo.height // 4), LANCZOS)
    return encode(small, quality=quality)


def psnr(result: Image.Image, truth: Image.Image) -> float:
    difference = np.asarray(result, dtype=np.float64) - np.asarray(truth, dtype=np.float64)
    return float(10 * np.log10(255**2 / np.mean(difference**2)))


def mean_luma(image: Image.Image) -> float:
    return ImageStat.Stat(image.convert("L")).mean[0]


def lanczos_result(original: bytes, size: tuple[int, int]) -> Image.Image:
    """The plain resize, encoded as the engine encodes its result."""
    with Image.open(io.BytesIO(original)) as image:
        data, _ = encode_image(image.resize(size, LANCZOS))
    return decode(data)


# --- better than a plain resize ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "quality"), [("astronaut.png", 90), ("coffee.png", 60), ("camera.png", 60)]
)
def test_the_engine_beats_lanczos_on_a_real_photo(name, quality):
    truth = real_photo(name)
    original = shrunk(truth, quality)

    result = decode(LocalEngine().enhance(original=original, tier=tier(max(truth.size))).data)
    plain = lanczos_result(original, truth.size)

    assert result.size == plain.size == truth.size
    # Measured: +1.36, +1.03 and +1.05 dB (bench/quality.py); a LANCZOS path gives 0.
    assert psnr(result, truth) > psnr(plain, truth) + 0.5


# --- faithful: no tone or colour moves ----------------------------------------------------------


@pytest.mark.parametrize("level", [0, 5, 128, 250, 255])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
@pytest.mark.parametrize("auto_adjust", [False, True])
def test_a_flat_picture_stays_flat(level, fmt, auto_adjust):
    original = encode(Image.new("RGB", (96, 64), (level, level, level)), fmt)

    result = decode(
        LocalEngine().enhance(original=original, tier=TIER_1K, auto_adjust=auto_adjust).data
    )

    low, high = result.convert("L").getextrema()
    assert level - 3 <= low <= high <= level + 3


def test_a_flat_colour_stays_that_colour():
    original = encode(Image.new("RGB", (80, 80), (200, 40, 40)), "PNG")
    result = decode(LocalEngine().enhance(original=original, tier=TIER_1K).data)
    for band, expected in zip(result.split(), (200, 40, 40), strict=True):
        low, high = band.getextrema()
        assert expected - 3 <= low <= high <= expected + 3


@pytest.mark.parametrize("name", PHOTO_NAMES)
def test_the_mean_brightness_holds_when_enlarging(name):
    original = shrunk(real_photo(name), 75)
    before = mean_luma(decode(original))

    result = decode(LocalEngine().enhance(original=original, tier=TIER_1K).data)

    assert mean_luma(result) == pytest.approx(before, rel=0.02)


def test_the_mean_brightness_holds_when_reducing():
    photo = real_photo("camera.png").resize((1600, 1600), LANCZOS)  # a grey photo, mean ~99
    original = encode(photo, quality=92)

    result = decode(LocalEngine().enhance(original=original, tier=TIER_1K).data)

    assert result.mode == "L"
    assert mean_luma(result) == pytest.approx(mean_luma(photo), rel=0.02)


def test_nothing_is_clipped_that_was_not():
    # A photo whose levels stay within 40..215: the result does too (a resampler's overshoot at
    # a few edges aside).
    with Image.open(PHOTOS / "astronaut.png") as photo:
        squeezed = photo.convert("RGB").point(lambda v: 40 + v * 175 / 255)
    result = decode(LocalEngine().enhance(original=encode(squeezed, "PNG"), tier=TIER_1K).data)

    values = np.asarray(result)
    assert np.percentile(values, 0.1) >= 36
    assert np.percentile(values, 99.9) <= 219


@pytest.mark.parametrize("name", PHOTO_NAMES)
def test_auto_adjust_leaves_a_well_exposed_photo_alone(name):
    photo = real_photo(name)
    assert light_and_colour_table(photo) is None


def test_auto_adjust_gives_the_same_file_for_a_well_exposed_photo():
    original = shrunk(real_photo("chelsea.png"), 90)  # a ginger cat: warm is its colour
    engine = LocalEngine()
    assert (
        engine.enhance(original=original, tier=TIER_1K, auto_adjust=True).data
        == engine.enhance(original=original, tier=TIER_1K).data
    )


# --- transparency ------------------------------------------------------------------------------

BODY = (255, 204, 0)


def logo(size: int, hidden: tuple[int, int, int]) -> Image.Image:
    """A yellow disc on a transparent background whose hidden colour is `hidden`."""
    image = Image.new("RGBA", (size, size), (*hidden, 0))
    ImageDraw.Draw(image).ellipse(
        (size // 5, size // 5, size * 4 // 5, size * 4 // 5), fill=(*BODY, 255)
    )
    return image


@pytest.mark.parametrize("size", [120, 2000], ids=["enlarged", "reduced"])
def test_transparent_edges_carry_no_fringe(size):
    # The colour hidden under alpha 0 (white, black or blue here) must not show: the visible
    # pixels come out the same whatever it is, and the disc's yellow to its very edge.
    results = []
    for hidden in [(255, 255, 255), (0, 0, 0), (0, 0, 255)]:
        original = encode(logo(size, hidden), "PNG")
        result = decode(LocalEngine().enhance(original=original, tier=TIER_1K).data)
        assert result.mode == "RGBA" and result.size == (1024, 1024)
        results.append(np.asarray(result).astype(int))

    alpha = results[0][..., 3]
    assert all((other[..., 3] == alpha).all() for other in results)
    assert (alpha >= 64).sum() > 250_000  # the disc is there (pi * 307 ** 2 pixels)
    visible = alpha >= 16
    for other in results[1:]:
        assert np.abs(other[visible][:, :3] - results[0][visible][:, :3]).max() <= 2
    # No (255, 255, 70) rim from a white background, no dark one from a black background:
    # blue stays out of the yellow, red stays up, and what varies is 8-bit premultiplied
    # rounding where the disc is nearly transparent and LANCZOS's usual ringing at an edge
    # (a plain resize of an opaque disc rings alike).
    solid = alpha >= 64
    for result in results:
        assert result[visible][:, 2].max() <= 10
        assert result[solid][:, 0].min() >= 240
        assert np.abs(result[solid][:, 1] - BODY[1]).max() <= 24
        assert np.abs(result[visible][:, :3] - BODY).mean() <= 2
    assert results[0][5, 5][3] == 0
    assert np.abs(results[0][512, 512] - (*BODY, 255)).max() <= 2


# --- sizes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (120, 160),  # portrait
        (160, 120),  # landscape
        (150, 150),  # square
        (1, 1),
        (3, 1),
        (1, 3),
        (2, 700),
        (237, 101),  # over two tiles of the model, odd sizes
        (3000, 1000),  # reduced
        (5000, 3),
    ],
)
@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_the_tier_size_is_exact(width, height, mode):
    picture = Image.linear_gradient("L").resize((width, height)).convert(mode)
    original = encode(picture, "PNG")

    result = LocalEngine().enhance(original=original, tier=TIER_1K)

    expected = target_size(width, height, 1024)
    assert decode(result.data).size == expected == (result.width, result.height)
    assert decode(result.data).mode == mode


@pytest.mark.parametrize(("width", "height"), [(300, 200), (200, 300)])
def test_the_tier_size_is_exact_at_4k(width, height):
    result = LocalEngine().enhance(
        original=encode(real_photo("coffee.png").resize((width, height))), tier=TIER_4K
    )
    assert decode(result.data).size == target_size(width, height, 4096)


def test_a_very_big_picture_is_reduced_band_by_band_to_the_same_result():
    # 16.4 MP: past the size that is reduced in bands, to spare memory; PNG out (alpha), so
    # the pixels compare exactly.
    picture = Image.linear_gradient("L").resize((4100, 4000)).convert("RGBA")
    draw = ImageDraw.Draw(picture)
    for left in range(0, 4100, 300):
        draw.rectangle((left, 100 + left // 2, left + 120, 3000), fill=(200, 40, 90, 255))
    original = encode(picture, "PNG", compress_level=1)

    result = decode(LocalEngine().enhance(original=original, tier=TIER_1K).data)

    assert result.size == target_size(4100, 4000, 1024)
    whole = picture.resize(result.size, LANCZOS, reducing_gap=3.0)
    assert np.abs(np.asarray(result).astype(int) - np.asarray(whole).astype(int)).max() <= 1


# --- the model's tiles and its denoise level -----------------------------------------------------


def test_the_tiles_join_without_a_seam():
    # The tiles of a crop fall elsewhere than the whole picture's; away from the crop's own
    # edges (the model sees 7 pixels around each one) both give the same pixels.
    upscaler = get_upscaler(model_dir=SHIPPED_MODEL_DIR, noise=LIGHT_NOISE, threads=1)
    photo = real_photo("astronaut.png").resize((260, 230))
    whole = np.asarray(upscaler.upscale(photo)).astype(int)
    left, top = 37, 53
    part = np.asarray(upscaler.upscale(photo.crop((left, top, left + 150, top + 140)))).astype(int)

    margin = 16
    inner = part[margin:-margin, margin:-margin]
    same = whole[
        2 * top + margin : 2 * top + margin + inner.shape[0],
        2 * left + margin : 2 * left + margin + inner.shape[1],
    ]
    assert np.abs(inner - same).max() <= 1


@pytest.mark.parametrize("quality", [20, 50, 60, 75, 83, 84, 90, 92, 95, 100])
def test_the_jpeg_quality_is_read_from_the_tables(quality):
    with Image.open(io.BytesIO(encode(real_photo("coffee.png"), quality=quality))) as image:
        assert estimate_jpeg_quality(image) == quality


def test_a_picture_that_is_not_a_jpeg_has_no_jpeg_quality():
    with Image.open(io.BytesIO(encode(real_photo("coffee.png"), "PNG"))) as image:
        assert estimate_jpeg_quality(image) is None


def test_the_jpeg_quality_decides_the_noise_level():
    assert noise_level(None) == LIGHT_NOISE  # lossless
    assert noise_level(100) == noise_level(CLEAN_JPEG_QUALITY) == LIGHT_NOISE
    assert noise_level(CLEAN_JPEG_QUALITY - 1) == noise_level(30) == STRONG_NOISE


def test_a_heavily_compressed_photo_gets_the_strong_denoise():
    # The same upload through the strong model is closer to the truth than through the light
    # one: what the quality estimate chooses is the better of the two.
    truth = real_photo("coffee.png")
    original = shrunk(truth, 40)
    small = decode(original).convert("RGB")

    def through(noise):
        upscaler = get_upscaler(model_dir=SHIPPED_MODEL_DIR, noise=noise, threads=1)
        return upscaler.upscale(small).resize(truth.size, LANCZOS)

    engine = decode(LocalEngine().enhance(original=original, tier=tier(max(truth.size))).data)
    assert psnr(through(STRONG_NOISE), truth) > psnr(through(LIGHT_NOISE), truth) + 0.3
    assert psnr(engine, truth) == pytest.approx(psnr(through(STRONG_NOISE), truth), abs=0.1)


def test_the_engine_is_deterministic():
    original = shrunk(real_photo("rocket.jpg"), 60)
    first = LocalEngine().enhance(original=original, tier=TIER_1K)
    second = LocalEngine().enhance(original=original, tier=TIER_1K)
    assert first.data == second.data


# --- without the model ---------------------------------------------------------------------------


def test_without_the_model_the_engine_falls_back_to_lanczos(settings, tmp_path, caplog):
    settings.GEMINI_API_KEY = ""
    settings.ENHANCEMENT_MODEL_DIR = str(tmp_path / "no-model-here")
    original = shrunk(real_photo("coffee.png"), 60)
    size = target_size(150, 100, 1024)

    with caplog.at_level(logging.WARNING, logger="enhancement.engines.upscaler"):
        first = get_engine().enhance(original=original, tier=TIER_1K)
        second = get_engine().enhance(original=original, tier=TIER_1K)

    plain, _ = encode_image(decode(original).resize(size, LANCZOS))
    assert first.data == second.data == plain
    assert (first.width, first.height) == size
    # With the model the same upload gives another picture: the fallback did happen.
    settings.ENHANCEMENT_MODEL_DIR = ""
    assert get_engine().enhance(original=original, tier=TIER_1K).data != plain
    # Logged once, however many jobs follow.
    warnings = [r for r in caplog.records if "upscaler is unavailable" in r.getMessage()]
    assert len(warnings) == 1
    assert "no-model-here" in warnings[0].getMessage()


def test_an_original_over_the_models_pixel_budget_is_resized_with_lanczos(settings):
    settings.ENHANCEMENT_MODEL_MAX_PIXELS = 100 * 100
    original = encode(real_photo("coffee.png").resize((150, 100)), quality=90)
    budget = LocalEngine().enhance(original=original, tier=TIER_1K)
    plain, _ = encode_image(decode(original).resize((1024, 683), LANCZOS))
    assert budget.data == plain

    settings.ENHANCEMENT_MODEL_MAX_PIXELS = 150 * 100
    assert LocalEngine().enhance(original=original, tier=TIER_1K).data != plain
