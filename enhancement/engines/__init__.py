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
from .gemini import DEFAULT_MODEL, DEFAULT_PROMPT, DEFAULT_TIMEOUT_MS, GeminiEngine
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
    """The configured engine, built from settings at call time (so overrides apply)."""
    api_key = getattr(settings, "GEMINI_API_KEY", "")
    if not api_key:
        return LocalEngine()
    return GeminiEngine(
        api_key=api_key,
        model=getattr(settings, "GEMINI_MODEL", DEFAULT_MODEL),
        prompt=getattr(settings, "GEMINI_PROMPT", DEFAULT_PROMPT),
        base_url=getattr(settings, "GEMINI_BASE_URL", "") or None,
        timeout_ms=getattr(settings, "GEMINI_TIMEOUT_MS", DEFAULT_TIMEOUT_MS),
    )
