"""What an engine used for one attempt, and what that is estimated to cost.

Every engine measures itself with a `Meter` and reports an `EngineUsage`: its name and model,
the wall time of its `enhance` call, the CPU time the process spent meanwhile, and (Gemini)
the token counts the API reported in `usageMetadata`. A failed attempt that still cost something
(Gemini answered, but with a safety block or no usable image) carries its usage on the
`EngineError` it raises (`error.usage`).

CPU time is `getrusage(RUSAGE_SELF)` (user + system) before and after, not `RUSAGE_THREAD`:
ncnn runs the upscaler on a pool of its own threads when `ENHANCEMENT_NCNN_THREADS` > 1, and a
per-thread count misses them (measured here: a 2K job on two ncnn threads used 9.2 s of CPU,
of which the calling thread saw 4.7 s). The process-wide count includes every thread of the
process: in a django-q2 worker, whose process runs one task at a time, that is the job plus
its lease's heartbeat thread (which sleeps). On Linux `time.process_time()` reads the same
clock.

`estimate_cost` prices a usage from `settings.ENGINE_PRICES` (USD): per million tokens for a
token-billed model, per CPU second for an engine run on our own machines. The figure is an
estimate for the back office, not a bill.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

# Costs are kept to the micro-dollar (the job's `engine_cost_usd` has 6 decimal places).
COST_QUANTUM = Decimal("0.000001")
_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class EngineUsage:
    """One attempt's use of an engine. Token counts are None for an engine without tokens."""

    engine: str  # "gemini" / "local"
    model: str  # the model that did the work, e.g. "gemini-3-pro-image-preview"
    wall_seconds: float
    cpu_seconds: float | None = None
    input_tokens: int | None = None  # Gemini's prompt_token_count (the image and the prompt)
    # Everything billed as output: the candidates (image and text) and the model's thinking.
    output_tokens: int | None = None
    # Of `output_tokens`, those of images (priced higher than text); None: not reported.
    output_image_tokens: int | None = None

    def __add__(self, other: EngineUsage) -> EngineUsage:
        """Two attempts of one job, as one: times and tokens added, the later model kept."""
        return replace(
            other,
            wall_seconds=self.wall_seconds + other.wall_seconds,
            cpu_seconds=_add(self.cpu_seconds, other.cpu_seconds),
            input_tokens=_add(self.input_tokens, other.input_tokens),
            output_tokens=_add(self.output_tokens, other.output_tokens),
            output_image_tokens=_add(self.output_image_tokens, other.output_image_tokens),
        )


def _add(a: int | float | None, b: int | float | None):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Meter:
    """Started when an engine begins an attempt; `usage(...)` reads the time and CPU since."""

    def __init__(self, *, engine: str, model: str):
        self.engine = engine
        self.model = model
        self._wall = time.monotonic()
        self._cpu = _cpu_seconds()

    def usage(self, *, model: str | None = None, **tokens: int | None) -> EngineUsage:
        return EngineUsage(
            engine=self.engine,
            model=model or self.model,
            wall_seconds=max(0.0, time.monotonic() - self._wall),
            cpu_seconds=max(0.0, _cpu_seconds() - self._cpu),
            **tokens,
        )


def price_for(usage: EngineUsage, prices: dict | None = None) -> dict | None:
    """The price entry of the usage's model, else of its engine; None when neither is priced."""
    prices = settings.ENGINE_PRICES if prices is None else prices
    return prices.get(usage.model) or prices.get(usage.engine)


def estimate_cost(usage: EngineUsage, prices: dict | None = None) -> Decimal | None:
    """The estimated cost of `usage` in USD, to the micro-dollar, or None when its model and
    engine have no price in `prices` (default `settings.ENGINE_PRICES`).

    A price entry may name (each a Decimal or a string of one; a missing rate counts 0):
    - `input_per_million`: USD per million input tokens;
    - `output_per_million`: USD per million output tokens (text and thinking);
    - `image_output_per_million`: USD per million output tokens of images (when the usage
      says how many of the output tokens were images; else all output is priced as text);
    - `cpu_second`: USD per CPU second.
    """
    price = price_for(usage, prices)
    if price is None:
        return None

    def rate(name: str) -> Decimal:
        return Decimal(str(price.get(name, 0)))

    output = usage.output_tokens or 0
    image_output = min(output, usage.output_image_tokens or 0)
    if "image_output_per_million" not in price:
        image_output = 0
    cost = (
        Decimal(usage.input_tokens or 0) * rate("input_per_million")
        + Decimal(output - image_output) * rate("output_per_million")
        + Decimal(image_output) * rate("image_output_per_million")
    ) / _MILLION
    cost += Decimal(str(round(usage.cpu_seconds or 0.0, 6))) * rate("cpu_second")
    return cost.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
