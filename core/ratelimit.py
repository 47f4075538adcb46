"""A small fixed-window rate limiter on Django's cache framework.

    if not ratelimit.hit(key=f"upload:{user.pk}", limit=30, window_seconds=60):
        ...  # answer 429

Each window is one cache entry, `cache.add` (creates it at 0 only if absent) then `cache.incr`
(atomic in every cache backend Django ships with that is shared: Redis, Memcached, the database
cache; in locmem it is atomic within the process). A burst at a window's edge can let through up
to twice the limit in a short span: good enough to stop abuse, not an exact meter.

The default cache is per-process local memory: correct for one web process. With several web
processes (or servers) each keeps its own count, so production should set a shared cache
(`CACHES` pointing at Redis, for example).
"""

from __future__ import annotations

import math
import time

from django.core.cache import cache

_PREFIX = "ratelimit"


def hit(*, key: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one request for `key` in the current window; False when this one is over `limit`.

    A request refused still counts, so hammering does not open a gap.
    """
    if limit <= 0:
        return False
    window = int(time.time() // window_seconds)
    cache_key = f"{_PREFIX}:{key}:{window}"
    # A little longer than the window so the entry does not expire while the window is current.
    cache.add(cache_key, 0, timeout=window_seconds + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr: start again from this request
        cache.set(cache_key, 1, timeout=window_seconds + 5)
        count = 1
    return count <= limit


def reset(*, key: str, window_seconds: int = 60) -> None:
    """Forget the current window of `key` (tests, or an admin lifting a block)."""
    window = int(time.time() // window_seconds)
    cache.delete(f"{_PREFIX}:{key}:{window}")


def retry_after(*, window_seconds: int = 60) -> int:
    """Whole seconds until the current window ends (a 429's `Retry-After`), at least 1."""
    return max(1, math.ceil(window_seconds - time.time() % window_seconds))
