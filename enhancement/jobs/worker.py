"""The worker's side of a job: one attempt, from claim to result (the task's body)."""

from __future__ import annotations

import logging

from enhancement import storage
from enhancement.engines import PermanentEngineError, TransientEngineError, get_engine
from enhancement.jobs.tiers import tier_spec
from enhancement.jobs.transitions import claim_job, complete_job, fail_job
from enhancement.models import EnhancedImage, ImageEnhancementJob

logger = logging.getLogger(__name__)

MISSING_ORIGINAL_MESSAGE = "The original image could not be found."


def process_job(*, job_id: str) -> str:
    """Run one attempt of a job: claim, enhance outside any transaction, store, complete; or
    record the failure. Safe to call any number of times: only a claimable job does anything.
    Returns the job's status afterwards (for the task's result)."""
    claimed_at = claim_job(job_id=job_id)
    if claimed_at is None:
        status = (
            ImageEnhancementJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        )
        return f"not claimed ({status or 'gone'})"
    job = ImageEnhancementJob.objects.select_related("image").filter(pk=job_id).first()
    if job is None:
        return "gone"
    engine_name = ""
    try:
        engine = get_engine()
        engine_name = engine.name
        original = _read_original(job.image)
        result = engine.enhance(original=original, tier=tier_spec(job.tier))
        job = complete_job(job=job, result=result, engine=engine_name)
    except (TransientEngineError, PermanentEngineError) as exc:
        logger.warning("job %s attempt failed: %s", job_id, exc)
        job = fail_job(job_id=job_id, error=exc, claimed_at=claimed_at, engine=engine_name)
    except Exception as exc:
        # Never leave a job PROCESSING: an unexpected error counts as a transient failure.
        logger.exception("job %s attempt crashed", job_id)
        job = fail_job(job_id=job_id, error=exc, claimed_at=claimed_at, engine=engine_name)
    return job.status if job is not None else "gone"


def _read_original(image: EnhancedImage) -> bytes:
    try:
        return storage.read_bytes(image.original_r2_key.name)
    except FileNotFoundError as exc:
        raise PermanentEngineError(
            f"original {image.original_r2_key.name} missing", user_message=MISSING_ORIGINAL_MESSAGE
        ) from exc
