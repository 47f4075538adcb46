"""What each engine reports it used (time, CPU, Gemini's tokens) and what that is estimated to
cost: the arithmetic of `estimate_cost`, the local engine measured for real, and the Gemini
engine's token counts as the real google-genai client parses them from the loopback fake's
`usageMetadata`."""

from __future__ import annotations

import io
import pickle
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from PIL import Image

from config.env import decimal_table
from enhancement.engines import GeminiEngine, LocalEngine, PermanentEngineError, TierSpec
from enhancement.engines.local import RESAMPLER_MODEL, UPSCALER_MODEL
from enhancement.engines.usage import EngineUsage, estimate_cost
from tests.fakes.gemini_server import (
    INPUT_IMAGE_TOKENS,
    OUTPUT_IMAGE_TOKENS,
    THOUGHT_TOKENS,
    FakeGeminiServer,
    finish_safety,
    no_image,
    ok,
    safety_block,
)

TIER_1K = TierSpec(name="TIER_1K", max_dimension=1024, gemini_size="1K")
TIER_4K = TierSpec(name="TIER_4K", max_dimension=4096, gemini_size="4K")
MODEL = "gemini-3-pro-image-preview"
PROMPT = "Enhance this photo."  # 19 characters: 5 text tokens in the fake's count
PROMPT_TOKENS = 5 + INPUT_IMAGE_TOKENS

PRICES = {
    MODEL: {
        "input_per_million": Decimal("2.00"),
        "output_per_million": Decimal("12.00"),
        "image_output_per_million": Decimal("120.00"),
    },
    "text-only-model": {"input_per_million": Decimal("1"), "output_per_million": Decimal("4")},
    "local": {"cpu_second": Decimal("0.0000058")},
}


def usage(**fields) -> EngineUsage:
    return EngineUsage(**{"engine": "gemini", "model": MODEL, "wall_seconds": 1.0, **fields})


def jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((width, height), 30).convert("RGB").save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


# --- the arithmetic ---------------------------------------------------------------------------


def test_a_gemini_image_at_1k_costs_its_input_and_its_image_tokens():
    cost = estimate_cost(
        usage(input_tokens=565, output_tokens=1120, output_image_tokens=1120), PRICES
    )
    # 565 x $2/M + 1120 x $120/M = $0.00113 + $0.1344
    assert cost == Decimal("0.135530")


def test_thinking_and_text_output_are_priced_as_text():
    cost = estimate_cost(
        usage(input_tokens=0, output_tokens=1120 + 258, output_image_tokens=1120), PRICES
    )
    assert cost == Decimal("0.1344") + Decimal("0.003096")  # 258 x $12/M


def test_output_without_a_modality_split_is_priced_as_text():
    assert estimate_cost(usage(input_tokens=1000, output_tokens=1000), PRICES) == Decimal(
        "0.014000"
    )


def test_image_tokens_of_a_model_without_an_image_price_are_priced_as_its_output():
    cost = estimate_cost(
        usage(model="text-only-model", input_tokens=0, output_tokens=500, output_image_tokens=500),
        PRICES,
    )
    assert cost == Decimal("0.002000")


def test_the_local_engine_costs_its_cpu_seconds_by_its_engine_name():
    cost = estimate_cost(
        EngineUsage(engine="local", model=UPSCALER_MODEL, wall_seconds=9.0, cpu_seconds=2.5),
        PRICES,
    )
    assert cost == Decimal("0.000015")  # 2.5 x 0.0000058 = 0.0000145, rounded half up


def test_a_model_without_a_price_has_no_cost():
    assert estimate_cost(usage(model="gemini-unknown", engine="gemini"), PRICES) is None


def test_the_default_prices_come_from_settings(settings):
    settings.ENGINE_PRICES = {MODEL: {"input_per_million": Decimal("10")}}
    assert estimate_cost(usage(input_tokens=100_000)) == Decimal("1.000000")


def test_two_attempts_add_up():
    first = usage(wall_seconds=1.5, cpu_seconds=0.5, input_tokens=565)
    second = usage(
        wall_seconds=2.0, cpu_seconds=0.25, input_tokens=565, output_tokens=1120,
        output_image_tokens=1120,
    )  # fmt: skip
    both = first + second
    assert (both.wall_seconds, both.cpu_seconds) == (3.5, 0.75)
    assert (both.input_tokens, both.output_tokens, both.output_image_tokens) == (1130, 1120, 1120)
    assert estimate_cost(both, PRICES) == estimate_cost(first, PRICES) + estimate_cost(
        second, PRICES
    )


def test_engine_prices_from_the_environment_replace_and_add_entries(monkeypatch):
    default = {"local": {"cpu_second": "0.0000058"}, "m": {"input_per_million": "2"}}
    monkeypatch.setenv("ENGINE_PRICES", '{"local": {"cpu_second": "0.00001"}, "n": {}}')
    assert decimal_table("ENGINE_PRICES", default) == {
        "local": {"cpu_second": Decimal("0.00001")},
        "m": {"input_per_million": Decimal("2")},
        "n": {},
    }


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        '["a list"]',
        '{"local": 3}',
        '{"local": {"cpu_second": "cheap"}}',
        '{"local": {"cpu_second": "-1"}}',
        '{"local": {"cpu_second": "NaN"}}',
    ],
)
def test_bad_engine_prices_refuse_to_start(monkeypatch, value):
    monkeypatch.setenv("ENGINE_PRICES", value)
    with pytest.raises(ImproperlyConfigured, match="ENGINE_PRICES"):
        decimal_table("ENGINE_PRICES", {})


# --- the local engine -------------------------------------------------------------------------


def test_the_local_engine_reports_its_time_and_cpu_and_the_upscaler_as_its_model():
    result = LocalEngine().enhance(original=jpeg(400, 300), tier=TIER_1K)
    used = result.usage
    assert (used.engine, used.model) == ("local", UPSCALER_MODEL)
    assert used.wall_seconds > 0
    assert used.cpu_seconds > 0
    assert (used.input_tokens, used.output_tokens, used.output_image_tokens) == (None,) * 3


def test_a_local_reduction_reports_the_resampler_as_its_model():
    result = LocalEngine().enhance(original=jpeg(1600, 1200), tier=TIER_1K)
    assert result.usage.model == RESAMPLER_MODEL
    assert result.usage.cpu_seconds >= 0


# --- the Gemini engine, through the real client -----------------------------------------------


@pytest.fixture
def fake_gemini():
    with FakeGeminiServer() as fake:
        yield fake


def gemini(fake: FakeGeminiServer) -> GeminiEngine:
    return GeminiEngine(api_key="k", model=MODEL, prompt=PROMPT, base_url=fake.base_url)


@pytest.mark.parametrize("tier", [TIER_1K, TIER_4K])
def test_gemini_reports_the_token_counts_of_its_answer(fake_gemini, tier):
    fake_gemini.push(ok(size=(256, 192)))
    result = gemini(fake_gemini).enhance(original=jpeg(400, 300), tier=tier)
    image_tokens = OUTPUT_IMAGE_TOKENS[tier.gemini_size]
    assert result.usage == EngineUsage(
        engine="gemini",
        model=MODEL,
        wall_seconds=result.usage.wall_seconds,
        cpu_seconds=result.usage.cpu_seconds,
        input_tokens=PROMPT_TOKENS,
        output_tokens=image_tokens,
        output_image_tokens=image_tokens,
    )
    assert result.usage.wall_seconds > 0
    assert estimate_cost(result.usage, PRICES) == (
        Decimal(PROMPT_TOKENS * 2 + image_tokens * 120) / 1_000_000
    ).quantize(Decimal("0.000001"))


def test_gemini_counts_the_thinking_as_output(fake_gemini):
    fake_gemini.push(ok(thought_image=True))
    used = gemini(fake_gemini).enhance(original=jpeg(400, 300), tier=TIER_1K).usage
    assert used.output_tokens == OUTPUT_IMAGE_TOKENS["1K"] + THOUGHT_TOKENS
    assert used.output_image_tokens == OUTPUT_IMAGE_TOKENS["1K"]


def test_gemini_without_usage_metadata_reports_time_but_no_tokens(fake_gemini):
    fake_gemini.push(ok(usage=False))
    used = gemini(fake_gemini).enhance(original=jpeg(400, 300), tier=TIER_1K).usage
    assert (used.input_tokens, used.output_tokens, used.output_image_tokens) == (None,) * 3
    assert used.wall_seconds > 0
    assert estimate_cost(used, PRICES) == Decimal("0.000000")


@pytest.mark.parametrize(
    ("reply", "output_tokens"),
    [(safety_block(), None), (finish_safety(), None), (no_image(), 10)],
)
def test_a_refused_answer_carries_what_it_cost_on_the_error(fake_gemini, reply, output_tokens):
    fake_gemini.push(reply)
    with pytest.raises(PermanentEngineError) as caught:
        gemini(fake_gemini).enhance(original=jpeg(400, 300), tier=TIER_1K)
    used = caught.value.usage
    assert used.input_tokens == PROMPT_TOKENS
    assert used.output_tokens == output_tokens
    # Pickled by the queue, the usage comes along.
    assert pickle.loads(pickle.dumps(caught.value)).usage == used  # noqa: S301


def test_an_error_answer_has_no_usage(fake_gemini):
    from tests.fakes.gemini_server import error

    fake_gemini.push(error(400))
    with pytest.raises(PermanentEngineError) as caught:
        gemini(fake_gemini).enhance(original=jpeg(400, 300), tier=TIER_1K)
    assert caught.value.usage is None
