"""The enhancement engines: the local engine (its faithfulness and its quality on real photos
are in test_local_quality.py), and the Gemini engine through the real google-genai client
against a loopback fake of the API (tests/fakes/gemini_server.py)."""

from __future__ import annotations

import io
import pickle
import random
import socket
import time
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageDraw, ImageStat

from enhancement.engines import (
    EngineResult,
    GeminiEngine,
    LocalEngine,
    PermanentEngineError,
    TierSpec,
    TransientEngineError,
    get_engine,
    target_size,
)
from enhancement.engines.gemini import (
    BAD_IMAGE_MESSAGE,
    NO_IMAGE_MESSAGE,
    SAFETY_MESSAGE,
    nearest_aspect_ratio,
)
from tests.fakes.gemini_server import (
    MODEL_SIZES,
    FakeGeminiServer,
    delay,
    error,
    finish_safety,
    no_image,
    not_an_image,
    ok,
    safety_block,
)

TIER_1K = TierSpec(name="TIER_1K", max_dimension=1024, gemini_size="1K")
TIER_2K = TierSpec(name="TIER_2K", max_dimension=2048, gemini_size="2K")
TIER_4K = TierSpec(name="TIER_4K", max_dimension=4096, gemini_size="4K")
TIERS = {"1K": TIER_1K, "2K": TIER_2K, "4K": TIER_4K}

API_KEY = "test-gemini-key-123"
MODEL = "gemini-test-image"
PROMPT = "Make this photo look better, change nothing else."
PHOTOS = Path(__file__).resolve().parents[2] / "bench" / "photos"


# --- helpers ---------------------------------------------------------------------------------


def photo(width: int, height: int, *, seed: int = 1, low: int = 0, high: int = 255) -> Image.Image:
    """A seeded RGB picture with gradients, shapes and noise, levels within [low, high]."""
    rng = random.Random(seed)
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.ROTATE_180), gradient))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(2, max(3, min(width, height) // 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in "rgb"))
    noise = Image.frombytes("L", (width, height), rng.randbytes(width * height))
    image = Image.blend(image, Image.merge("RGB", (noise, noise, noise)), 0.1)
    scale = (high - low) / 255
    return image.point(lambda v: low + v * scale)


def encode(image: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        options.setdefault("quality", 95)
    if fmt == "PNG":
        options.setdefault("compress_level", 1)  # fast; size does not matter here
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def decode(result: EngineResult) -> Image.Image:
    image = Image.open(io.BytesIO(result.data))
    image.load()
    return image


def luma_stddev(image: Image.Image, box: tuple[int, int, int, int] | None = None) -> float:
    gray = image.convert("L")
    return ImageStat.Stat(gray.crop(box) if box else gray).stddev[0]


def luma_bounds(image: Image.Image, clip: float = 0.005) -> tuple[int, int]:
    """The darkest and lightest luma levels once `clip` of the pixels at each end are set
    aside (a resampler's overshoot at a few edges is not a change of levels)."""
    histogram = image.convert("L").histogram()
    limit = sum(histogram) * clip
    seen, low = 0, 0
    while seen + histogram[low] <= limit:
        seen += histogram[low]
        low += 1
    seen, high = 0, 255
    while seen + histogram[high] <= limit:
        seen += histogram[high]
        high -= 1
    return low, high


def plain_resize(data: bytes, size: tuple[int, int]) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB").resize(size, Image.Resampling.LANCZOS)


# --- target_size -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "max_dimension", "expected"),
    [
        (4000, 3000, 1024, (1024, 768)),  # landscape
        (3000, 4000, 1024, (768, 1024)),  # portrait
        (500, 500, 2048, (2048, 2048)),  # square, upscaled
        (300, 200, 1024, (1024, 683)),  # 682.67 rounds up
        (1080, 1920, 4096, (2304, 4096)),
        (3, 1, 1024, (1024, 341)),  # tiny
        (1, 5000, 1024, (1, 1024)),  # the shorter side never drops to 0
        (1024, 768, 1024, (1024, 768)),  # already the size
    ],
)
def test_target_size(width, height, max_dimension, expected):
    assert target_size(width, height, max_dimension) == expected


def test_target_size_refuses_empty_sizes():
    with pytest.raises(ValueError):
        target_size(0, 100, 1024)


# --- errors ----------------------------------------------------------------------------------


def test_engine_errors_carry_a_user_message_through_pickling():
    error_ = TransientEngineError("429 from upstream", user_message="Busy, retrying.")
    copy = pickle.loads(pickle.dumps(error_))  # noqa: S301 (our own bytes)
    assert type(copy) is TransientEngineError
    assert str(copy) == "429 from upstream"
    assert copy.user_message == "Busy, retrying."
    assert PermanentEngineError("x").user_message  # a default sentence, never empty


# --- LocalEngine -----------------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["1K", "2K"])
@pytest.mark.parametrize(("width", "height"), [(120, 160), (160, 120), (150, 150)])
def test_local_engine_gives_the_exact_tier_size(width, height, tier):
    original = encode(photo(width, height))
    result = LocalEngine().enhance(original=original, tier=TIERS[tier])
    expected = target_size(width, height, TIERS[tier].max_dimension)
    image = decode(result)
    assert image.size == expected == (result.width, result.height)
    assert max(image.size) == TIERS[tier].max_dimension
    assert result.format == image.format.lower() == "jpeg"
    assert result.prompt is None


def test_local_engine_at_4k():
    result = LocalEngine().enhance(original=encode(photo(900, 600)), tier=TIER_4K)
    assert decode(result).size == (4096, 2731) == (result.width, result.height)


def test_local_engine_downscales_a_big_jpeg():
    # 2.5x smaller: the JPEG is decoded at half scale first (draft), then resized.
    result = LocalEngine().enhance(original=encode(photo(2560, 1600)), tier=TIER_1K)
    assert decode(result).size == (1024, 640) == (result.width, result.height)


def test_local_engine_upscales_a_small_image():
    result = LocalEngine().enhance(original=encode(photo(300, 200)), tier=TIER_1K)
    assert decode(result).size == (1024, 683)


def test_local_engine_downscales_a_png():
    result = LocalEngine().enhance(original=encode(photo(1500, 900), "PNG"), tier=TIER_1K)
    assert decode(result).size == (1024, 614)


def test_local_engine_keeps_transparency_as_png():
    image = photo(200, 100).convert("RGBA")
    alpha = Image.new("L", image.size, 0)
    ImageDraw.Draw(alpha).rectangle((50, 25, 149, 74), fill=255)  # opaque centre only
    image.putalpha(alpha)

    result = LocalEngine().enhance(original=encode(image, "PNG"), tier=TIER_1K)

    out = decode(result)
    assert result.format == "png"
    assert out.mode == "RGBA"
    assert out.size == (1024, 512)
    assert out.getpixel((10, 10))[3] == 0  # corner stays transparent
    assert out.getpixel((512, 256))[3] == 255  # centre stays opaque


def test_local_engine_handles_greyscale():
    result = LocalEngine().enhance(original=encode(photo(160, 120).convert("L")), tier=TIER_1K)
    out = decode(result)
    assert out.mode == "L"
    assert out.size == (1024, 768)


def test_local_engine_is_deterministic():
    original = encode(photo(320, 240, seed=7))
    first = LocalEngine().enhance(original=original, tier=TIER_1K)
    second = LocalEngine().enhance(original=original, tier=TIER_1K)
    assert first.data == second.data


def hazy_photo() -> Image.Image:
    """A real photo (bench/photos/, CC0) with its levels squeezed into 80..170: haze."""
    with Image.open(PHOTOS / "coffee.png") as real:
        return real.convert("RGB").point(lambda v: 80 + v * 90 / 255)


def test_local_engine_keeps_a_low_contrast_image_as_it_is_by_default():
    # Faithful by default: a hazy picture stays hazy (no automatic levels).
    original = encode(hazy_photo())
    result = decode(LocalEngine().enhance(original=original, tier=TIER_1K))
    resized = plain_resize(original, result.size)
    assert luma_stddev(result) == pytest.approx(luma_stddev(resized), rel=0.05)
    low, high = luma_bounds(result)
    assert low >= 78 and high <= 172


def test_auto_adjust_stretches_a_low_contrast_image():
    original = encode(hazy_photo())
    result = decode(LocalEngine().enhance(original=original, tier=TIER_1K, auto_adjust=True))
    resized = plain_resize(original, result.size)
    # A plain resize keeps the haze; "Auto light and colour" spreads the levels out.
    assert luma_stddev(result) > 1.5 * luma_stddev(resized)
    low, high = result.convert("L").getextrema()
    assert high - low > 160


def scene(cast_blue: float = 1.0) -> Image.Image:
    """A grey room: a wall gradient, a white sheet, a black box, a few coloured objects;
    the blue channel scaled by `cast_blue` (below 1: a warm, yellow cast)."""
    wall = Image.linear_gradient("L").rotate(90).resize((400, 300)).point(lambda v: 60 + v // 2)
    image = Image.merge("RGB", (wall, wall, wall))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 120, 100), fill=(250, 250, 250))  # white sheet
    draw.rectangle((280, 200, 380, 280), fill=(8, 8, 8))  # black box
    draw.ellipse((150, 120, 230, 200), fill=(200, 40, 40))
    draw.rectangle((250, 40, 330, 120), fill=(40, 150, 60))
    red, green, blue = image.split()
    return Image.merge("RGB", (red, green, blue.point(lambda v: v * cast_blue)))


def blue_deficit(image: Image.Image) -> float:
    """On the white sheet, which should be neutral."""
    r, g, b = ImageStat.Stat(image.crop((80, 80, 280, 230))).mean
    return (r + g) / 2 - b


def test_auto_adjust_reduces_a_colour_cast():
    original = encode(scene(cast_blue=0.8), "PNG")

    result = decode(LocalEngine().enhance(original=original, tier=TIER_1K, auto_adjust=True))
    resized = plain_resize(original, result.size)

    assert blue_deficit(resized) > 40
    # Restrained: much of the cast goes, not necessarily all of it.
    assert blue_deficit(result) < 0.6 * blue_deficit(resized)


def test_the_default_keeps_a_colour_cast():
    # The cast may be the photographer's intent: only the user's tick removes it.
    original = encode(scene(cast_blue=0.8), "PNG")
    result = decode(LocalEngine().enhance(original=original, tier=TIER_1K))
    assert blue_deficit(result) == pytest.approx(
        blue_deficit(plain_resize(original, result.size)), abs=2
    )


@pytest.mark.parametrize("auto_adjust", [False, True])
def test_local_engine_leaves_a_neutral_scene_neutral(auto_adjust):
    result = decode(
        LocalEngine().enhance(
            original=encode(scene(), "PNG"), tier=TIER_1K, auto_adjust=auto_adjust
        )
    )
    r, g, b = ImageStat.Stat(result.crop((80, 80, 280, 230))).mean
    assert max(r, g, b) - min(r, g, b) < 3


def test_auto_adjust_keeps_a_coloured_subject_coloured():
    # A field at dusk: the darkest and brightest pixels are green and orange, not a cast.
    field = Image.linear_gradient("L").resize((400, 300))
    image = Image.merge(
        "RGB", (field.point(lambda v: v // 4), field, field.point(lambda v: v // 5))
    )
    ImageDraw.Draw(image).ellipse((280, 20, 380, 120), fill=(255, 170, 40))  # the sun
    original = encode(image, "PNG")

    result = decode(LocalEngine().enhance(original=original, tier=TIER_1K, auto_adjust=True))
    resized = plain_resize(original, result.size)

    def green_share(picture):
        r, g, b = ImageStat.Stat(picture.crop((0, 400, 1024, 768))).mean
        return g / (r + g + b)

    assert green_share(result) == pytest.approx(green_share(resized), abs=0.004)
    sun_r, sun_g, sun_b = result.getpixel((845, 180))
    assert sun_r >= 250 and sun_b < 60  # the orange is not cooled down


def test_local_engine_keeps_the_colour_profile():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = encode(photo(160, 120), icc_profile=profile)
    result = decode(LocalEngine().enhance(original=original, tier=TIER_1K))
    assert result.info.get("icc_profile") == profile


def test_local_engine_rejects_an_undecodable_original():
    with pytest.raises(PermanentEngineError) as caught:
        LocalEngine().enhance(original=b"definitely not an image", tier=TIER_1K)
    assert caught.value.user_message


def test_local_engine_rejects_a_truncated_original():
    data = encode(photo(200, 150))
    with pytest.raises(PermanentEngineError):
        LocalEngine().enhance(original=data[: len(data) // 3], tier=TIER_1K)


# --- GeminiEngine through the real client and the fake API ----------------------------------


@pytest.fixture
def fake_gemini():
    with FakeGeminiServer() as server:
        yield server


def gemini_engine(fake: FakeGeminiServer, **options) -> GeminiEngine:
    options = {
        "api_key": API_KEY,
        "model": MODEL,
        "prompt": PROMPT,
        "base_url": fake.base_url,
        "timeout_ms": 5_000,
        **options,
    }
    return GeminiEngine(**options)


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (4000, 3000, "4:3"),
        (3000, 4000, "3:4"),
        (1080, 1920, "9:16"),
        (1920, 1080, "16:9"),
        (1000, 1000, "1:1"),
        (1200, 1500, "4:5"),
        (3000, 2000, "3:2"),
        # 2.5: |ln 2.5 - ln(21/9)| = 0.069 < |ln 2.5 - ln(16/9)| = 0.341
        (2500, 1000, "21:9"),
        # 1.45: ln distance 0.034 to 3:2 (1.5), 0.083 to 4:3 (1.333)
        (1450, 1000, "3:2"),
        # 2.045 is nearer 16:9 on a linear scale but nearer 21:9 in log space (the geometric
        # midpoint of 16:9 and 21:9 is 2.037).
        (2045, 1000, "21:9"),
        (5000, 1000, "21:9"),  # wider than anything: the widest
        (1000, 3000, "9:16"),  # there is no 9:21: the tallest
    ],
)
def test_nearest_aspect_ratio(width, height, expected):
    assert nearest_aspect_ratio(width, height) == expected


def test_gemini_success_sends_image_prompt_and_image_config(fake_gemini):
    original = encode(photo(400, 300))

    result = gemini_engine(fake_gemini).enhance(original=original, tier=TIER_1K)

    [request] = fake_gemini.requests
    assert request.method == "POST"
    assert request.model == MODEL
    assert request.path.endswith(f"/models/{MODEL}:generateContent")
    assert request.api_key == API_KEY
    assert request.inline_images == [("image/jpeg", original)]
    assert request.texts == [PROMPT]
    assert request.image_config == {"aspectRatio": "4:3", "imageSize": "1K"}
    assert request.generation_config["responseModalities"] == ["IMAGE"]

    image = decode(result)
    assert image.size == (1024, 768) == (result.width, result.height)
    assert result.format == image.format.lower() == "jpeg"
    assert result.prompt == PROMPT


def test_gemini_sends_png_and_webp_with_their_mime_type(fake_gemini):
    engine = gemini_engine(fake_gemini)
    engine.enhance(original=encode(photo(64, 64), "PNG"), tier=TIER_1K)
    engine.enhance(original=encode(photo(64, 64), "WEBP"), tier=TIER_1K)
    assert [r.inline_images[0][0] for r in fake_gemini.requests] == ["image/png", "image/webp"]


def test_gemini_result_is_resized_from_the_models_own_size(fake_gemini):
    # The model answers 4:3 at 2K with 2400x1792 (not 2048x1536), 9:16 at 1K with 768x1376.
    assert MODEL_SIZES["2K"]["4:3"] == (2400, 1792)
    assert MODEL_SIZES["1K"]["9:16"] == (768, 1376)
    engine = gemini_engine(fake_gemini)

    landscape = engine.enhance(original=encode(photo(400, 300)), tier=TIER_2K)
    portrait = engine.enhance(original=encode(photo(90, 160)), tier=TIER_1K)

    assert decode(landscape).size == (2048, 1536)
    assert decode(portrait).size == (576, 1024)
    assert [r.image_config for r in fake_gemini.requests] == [
        {"aspectRatio": "4:3", "imageSize": "2K"},
        {"aspectRatio": "9:16", "imageSize": "1K"},
    ]


def test_gemini_at_4k_with_a_smaller_fake_image(fake_gemini):
    # The model's 4K image is slow to build in a test; any size must come back as the tier's.
    fake_gemini.push(ok(size=(1200, 896)))
    result = gemini_engine(fake_gemini).enhance(original=encode(photo(400, 300)), tier=TIER_4K)
    assert decode(result).size == (4096, 3072)
    assert fake_gemini.requests[0].image_config["imageSize"] == "4K"


def test_gemini_result_keeps_the_originals_framing(fake_gemini):
    # 2.5:1 is sent as 21:9 (2.33:1); the fake letterboxes into 21:9 with grey bars, as an
    # outpainting model would add content. The engine crops back to 2.5:1 before resizing:
    # no bars, no stretching.
    original = Image.new("RGB", (1000, 400), "red")
    ImageDraw.Draw(original).rectangle((500, 0, 999, 399), fill="blue")

    result = decode(
        gemini_engine(fake_gemini).enhance(original=encode(original, "PNG"), tier=TIER_1K)
    )

    assert result.size == (1024, 410)
    assert fake_gemini.requests[0].image_config["aspectRatio"] == "21:9"
    for y in (3, 205, 406):  # top, middle, bottom rows: no grey bar left
        left = result.getpixel((100, y))
        right = result.getpixel((924, y))
        assert left[0] > 200 and left[2] < 60, (y, left)
        assert right[2] > 200 and right[0] < 60, (y, right)
    # The red/blue boundary stays in the middle.
    assert result.getpixel((500, 205))[0] > 200
    assert result.getpixel((524, 205))[2] > 200


def test_gemini_keeps_the_originals_transparency(fake_gemini):
    image = photo(200, 100).convert("RGBA")
    alpha = Image.new("L", image.size, 0)
    ImageDraw.Draw(alpha).rectangle((50, 25, 149, 74), fill=255)
    image.putalpha(alpha)

    result = gemini_engine(fake_gemini).enhance(original=encode(image, "PNG"), tier=TIER_1K)

    out = decode(result)
    assert result.format == "png"
    assert out.mode == "RGBA"
    assert out.size == (1024, 512)
    assert out.getpixel((10, 10))[3] == 0
    assert out.getpixel((512, 256))[3] == 255


def test_gemini_uses_the_final_image_not_a_thought_image(fake_gemini):
    fake_gemini.push(ok(thought_image=True))  # a magenta draft marked `thought` comes first
    original = Image.new("RGB", (300, 300), (20, 160, 40))

    result = decode(
        gemini_engine(fake_gemini).enhance(original=encode(original, "PNG"), tier=TIER_1K)
    )

    red, green, blue = result.getpixel((512, 512))
    assert green > 120 and red < 60 and blue < 80


@pytest.mark.parametrize(
    ("reply", "error_class", "user_message"),
    [
        (error(429), TransientEngineError, None),
        (error(500), TransientEngineError, None),
        (error(503), TransientEngineError, None),
        (error(400), PermanentEngineError, None),
        (error(403), PermanentEngineError, None),
        (safety_block(), PermanentEngineError, SAFETY_MESSAGE),
        (finish_safety(), PermanentEngineError, SAFETY_MESSAGE),
        (no_image(), PermanentEngineError, NO_IMAGE_MESSAGE),
        (not_an_image(), PermanentEngineError, BAD_IMAGE_MESSAGE),
    ],
    ids=["429", "500", "503", "400", "403", "safety", "image-safety", "no-image", "garbage"],
)
def test_gemini_failures_are_mapped(fake_gemini, reply, error_class, user_message):
    fake_gemini.push(reply)

    with pytest.raises(error_class) as caught:
        gemini_engine(fake_gemini).enhance(original=encode(photo(64, 48)), tier=TIER_1K)

    assert type(caught.value) is error_class
    assert caught.value.user_message
    if user_message is not None:
        assert caught.value.user_message == user_message
    assert len(fake_gemini.requests) == 1  # the client itself never retries


def test_gemini_timeout_is_transient(fake_gemini):
    fake_gemini.push(delay(5))
    engine = gemini_engine(fake_gemini, timeout_ms=300)

    started = time.monotonic()
    with pytest.raises(TransientEngineError) as caught:
        engine.enhance(original=encode(photo(64, 48)), tier=TIER_1K)

    assert time.monotonic() - started < 3
    assert "Timeout" in str(caught.value)


def test_gemini_waits_for_a_slow_answer_within_the_timeout(fake_gemini):
    fake_gemini.push(delay(0.2))
    result = gemini_engine(fake_gemini, timeout_ms=5_000).enhance(
        original=encode(photo(64, 48)), tier=TIER_1K
    )
    assert (result.width, result.height) == (1024, 768)


def test_gemini_connection_refused_is_transient():
    # A bound socket that does not listen: connecting to it is refused, deterministically.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        engine = GeminiEngine(
            api_key=API_KEY,
            model=MODEL,
            prompt=PROMPT,
            base_url=f"http://127.0.0.1:{port}",
            timeout_ms=2000,
        )
        with pytest.raises(TransientEngineError) as caught:
            engine.enhance(original=encode(photo(64, 48)), tier=TIER_1K)
    assert "ConnectError" in str(caught.value)


def test_gemini_rejects_an_undecodable_original_without_calling_the_api(fake_gemini):
    with pytest.raises(PermanentEngineError):
        gemini_engine(fake_gemini).enhance(original=b"not an image", tier=TIER_1K)
    assert fake_gemini.requests == []


def test_gemini_asks_v1beta_unless_told_otherwise(fake_gemini):
    gemini_engine(fake_gemini, api_version="v1").enhance(
        original=encode(photo(64, 48)), tier=TIER_1K
    )
    gemini_engine(fake_gemini).enhance(original=encode(photo(64, 48)), tier=TIER_1K)
    assert [r.api_version for r in fake_gemini.requests] == ["v1", "v1beta"]


# --- get_engine ------------------------------------------------------------------------------


def test_get_engine_is_local_without_an_api_key(settings):
    settings.GEMINI_API_KEY = ""
    assert isinstance(get_engine(), LocalEngine)
    assert get_engine().name == "local"


def test_get_engine_is_gemini_with_an_api_key(settings):
    settings.GEMINI_API_KEY = API_KEY
    settings.GEMINI_MODEL = MODEL
    settings.GEMINI_PROMPT = PROMPT
    settings.GEMINI_BASE_URL = "http://127.0.0.1:9"
    settings.GEMINI_TIMEOUT_MS = 1234

    engine = get_engine()

    assert isinstance(engine, GeminiEngine)
    assert engine.name == "gemini"
    assert (engine.api_key, engine.model, engine.prompt) == (API_KEY, MODEL, PROMPT)
    assert (engine.base_url, engine.timeout_ms) == ("http://127.0.0.1:9", 1234)


def test_get_engine_treats_an_empty_base_url_as_googles(settings):
    settings.GEMINI_API_KEY = API_KEY
    settings.GEMINI_BASE_URL = ""
    assert get_engine().base_url is None


def test_get_engine_end_to_end_against_the_fake(settings, fake_gemini):
    settings.GEMINI_API_KEY = API_KEY
    settings.GEMINI_BASE_URL = fake_gemini.base_url
    result = get_engine().enhance(original=encode(photo(160, 120)), tier=TIER_1K)
    assert (result.width, result.height) == (1024, 768)
    assert fake_gemini.requests[0].api_key == API_KEY
