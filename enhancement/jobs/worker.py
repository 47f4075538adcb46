"""The worker's side of a job: one attempt, from claim to result (the task's body)."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from django.conf import settings
from django.db import DatabaseError, connection

from core.logging import log_event
from enhancement import imaging, storage
from enhancement.engines import (
    EngineResult,
    PermanentEngineError,
    TransientEngineError,
    get_engine,
)
from enhancement.jobs.tiers import tier_spec
from enhancement.jobs.transitions import (
    claim_job,
    complete_job,
    fail_job,
    job_fields,
    renew_lease,
)
from enhancement.models import EnhancedImage, ImageEnhancementJob

logger = logging.getLogger(__name__)

MISSING_ORIGINAL_MESSAGE = "The original image could not be found."
UNREADABLE_ORIGINAL_MESSAGE = "The original image could not be read."


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
    log_event(logger, "job.processing", **job_fields(job), attempt=job.retry_count + 1)
    engine_name = ""
    usage = None  # what the engine used, once it has answered
    try:
        with Lease(job_id=job_id, claimed_at=claimed_at):
            engine = get_engine()
            engine_name = engine.name
            original = _read_original(job.image)
            result = engine.enhance(
                original=_engine_input(original),
                tier=tier_spec(job.tier),
                auto_adjust=job.auto_adjust,
            )
            usage = result.usage
            result = _with_photo_metadata(result, original)
            job = complete_job(job=job, result=result, engine=engine_name)
    except (TransientEngineError, PermanentEngineError) as exc:
        log_event(
            logger,
            "job.attempt_failed",
            level=logging.WARNING,
            now=True,
            job_id=job_id,
            error=type(exc).__name__,
            detail=str(exc),
        )
        job = fail_job(job_id=job_id, error=exc, claimed_at=claimed_at, engine=engine_name)
    except Exception as exc:
        # Never leave a job PROCESSING: an unexpected error counts as a transient failure.
        logger.exception(
            "job.attempt_crashed",
            extra={"event": "job.attempt_crashed", "job_id": job_id, "error": type(exc).__name__},
        )
        job = fail_job(
            job_id=job_id, error=exc, claimed_at=claimed_at, engine=engine_name, usage=usage
        )
    return job.status if job is not None else "gone"


class Lease:
    """While the engine works, a thread renews the job's lease (`heartbeat_at`) every
    `ENHANCEMENT_HEARTBEAT_SECONDS`, so the sweeper can tell a slow engine call from a dead
    worker: a killed process stops renewing, and its job is taken back once the lease is older
    than `ENHANCEMENT_LEASE_SECONDS`, however long a live call may take. The thread stops when
    the block ends or the job moves on without it, and closes its own database connection."""

    def __init__(self, *, job_id: str, claimed_at):
        self.job_id = job_id
        self.claimed_at = claimed_at
        self.interval = settings.ENHANCEMENT_HEARTBEAT_SECONDS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"lease-{job_id}", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)
        return False

    def _renew(self):
        try:
            while not self._stop.wait(self.interval):
                try:
                    if not renew_lease(job_id=self.job_id, claimed_at=self.claimed_at):
                        return  # finished, refunded or taken back: nothing to keep alive
                except DatabaseError:
                    logger.warning("job %s: could not renew its lease", self.job_id, exc_info=True)
        finally:
            connection.close()


def _read_original(image: EnhancedImage) -> bytes:
    try:
        return storage.read_bytes(image.original_r2_key.name)
    except FileNotFoundError as exc:
        raise PermanentEngineError(
            f"original {image.original_r2_key.name} missing", user_message=MISSING_ORIGINAL_MESSAGE
        ) from exc


def _engine_input(original: bytes) -> bytes:
    """What the engine reads: the stored original, or its working copy where an engine could
    not read it as it is (HEIF, CMYK, 16-bit, a rotated photo: `imaging.working_copy`)."""
    try:
        return imaging.working_copy(original)
    except imaging.ImageRejected as exc:
        raise PermanentEngineError(
            f"original unreadable: {exc.message}", user_message=UNREADABLE_ORIGINAL_MESSAGE
        ) from exc


def _with_photo_metadata(result: EngineResult, original: bytes) -> EngineResult:
    """The result carries the original's EXIF (camera, lens, exposure, date; the location only
    if the owner kept it on the original), upright and with the result's dimensions."""
    exif = imaging.exif_for_result(original, width=result.width, height=result.height)
    return replace(result, data=imaging.with_exif(result.data, result.format, exif))
