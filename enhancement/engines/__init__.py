"""Enhancement engines: the one place that knows how an image is enhanced.

`get_engine()` picks the engine from settings: Gemini when an API key is set, else the
local Pillow engine.
"""

from __future__ import annotations

from django.conf import settings

from .base import (
    Engine,
    EngineError,
    EngineResult,
    PermanentEngineError,
    TierSpec,
    TransientEngineError,
    target_size,
)
from .gemini import GeminiEngine
from .local import LocalEngine

__all__ = [
    "Engine",
    "EngineError",
    "EngineResult",
    "GeminiEngine",
    "LocalEngine",
    "PermanentEngineError",
    "TierSpec",
    "TransientEngineError",
    "get_engine",
    "target_size",
]


def get_engine() -> Engine:
    """The configured engine, built from settings at call time (so overrides apply): Gemini when
    `GEMINI_API_KEY` is set, else the local Pillow engine."""
    if not settings.GEMINI_API_KEY:
        return LocalEngine()
    return GeminiEngine(
        api_key=settings.GEMINI_API_KEY,
        model=settings.GEMINI_MODEL,
        prompt=settings.GEMINI_PROMPT,
        base_url=settings.GEMINI_BASE_URL or None,
        timeout_ms=settings.GEMINI_TIMEOUT_MS,
    )
