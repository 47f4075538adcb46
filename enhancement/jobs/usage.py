"""A job's engine usage and its estimated cost, added up over its attempts.

Each attempt that the engine reports usage for (a finished one, and a failed one that still
cost something: `EngineError.usage`) adds its tokens, seconds and estimated cost to the job's
`engine_*` columns, so a job retried three times shows what the three attempts cost. The
verbs in `transitions` call these while they hold the job's row lock.
"""

from __future__ import annotations

from decimal import Decimal

from enhancement.engines.usage import EngineUsage, estimate_cost
from enhancement.models import ImageEnhancementJob

USAGE_FIELDS = [
    "engine_model",
    "engine_input_tokens",
    "engine_output_tokens",
    "engine_seconds",
    "engine_cpu_seconds",
    "engine_cost_usd",
]
_SECONDS = Decimal("0.001")


def _plus(current, extra):
    if extra is None:
        return current
    return extra if current is None else current + extra


def _seconds(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(_SECONDS)


def add_usage(job: ImageEnhancementJob, usage: EngineUsage | None) -> bool:
    """Add one attempt's `usage` to `job` in memory (the caller saves `USAGE_FIELDS`).
    False, and nothing changed, when there is no usage. An attempt of a model without a price
    adds no cost (the job's cost stays what the priced attempts made it)."""
    if usage is None:
        return False
    job.engine_model = usage.model
    job.engine_input_tokens = _plus(job.engine_input_tokens, usage.input_tokens)
    job.engine_output_tokens = _plus(job.engine_output_tokens, usage.output_tokens)
    job.engine_seconds = _plus(job.engine_seconds, _seconds(usage.wall_seconds))
    job.engine_cpu_seconds = _plus(job.engine_cpu_seconds, _seconds(usage.cpu_seconds))
    job.engine_cost_usd = _plus(job.engine_cost_usd, estimate_cost(usage))
    return True


def record_usage(job: ImageEnhancementJob, usage: EngineUsage | None) -> None:
    """`add_usage` and save just those columns (for a locked row whose state does not change
    here: a failed attempt, or a result that came after the job had finished)."""
    if add_usage(job, usage):
        job.save(update_fields=USAGE_FIELDS)
