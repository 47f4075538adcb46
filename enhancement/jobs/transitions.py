"""Every move of a job from one state to the next.

Each transition locks the job row (`select_for_update`), re-checks its state and returns when
it is already done (pretix's lock, re-check, transition), so a task delivered twice, a
double-click or a sweeper racing a worker changes nothing the second time. Every save names
its `update_fields`, so a transition never writes back a column it did not mean to change.

Verbs that staff trigger (`refund_job`, `retry_job`) take the acting user: it is recorded on
the job (`staff_actions`) and, for a refund, in the ledger row's metadata.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing import selectors as billing
from core.logging import log_event
from core.text import times
from enhancement import imaging, storage
from enhancement.engines import EngineError, EngineResult, PermanentEngineError
from enhancement.engines.usage import EngineUsage
from enhancement.jobs import LEDGER_SOURCE
from enhancement.jobs.errors import JobNotCancellable, JobNotRefundable, JobNotRetryable
from enhancement.jobs.queue import enqueue_on_commit
from enhancement.jobs.usage import USAGE_FIELDS, add_usage, record_usage
from enhancement.models import (
    JOB_CANCELLED_MESSAGE,
    ImageEnhancementJob,
    JobStatus,
    job_finished,
)
from tokens import services as tokens

logger = logging.getLogger(__name__)

# Messages a person reads (error_message is shown on the image page).
UNEXPECTED_MESSAGE = "Something went wrong on our side. We will try again shortly."
STUCK_MESSAGE = "The enhancement took too long and was stopped. We will try again shortly."
GAVE_UP_MESSAGE = "We tried {tries} and the enhancement kept failing, so we stopped."
CANCELLED_MESSAGE = JOB_CANCELLED_MESSAGE
REFUNDED_BY_SUPPORT_MESSAGE = "Refunded by support."
DELETED_MESSAGE = "Refunded: the enhancement was deleted before it finished."

_FAILED_TRY_FIELDS = [
    "status",
    "retry_count",
    "error_message",
    "next_attempt_at",
    "processing_completed_at",
    "engine",
    "updated_at",
]
_REFUND_FIELDS = [
    "status",
    "error_message",
    "next_attempt_at",
    "processing_completed_at",
    "retry_count",
    "engine",
    "staff_actions",
    "updated_at",
]
_COMPLETE_FIELDS = [
    "status",
    "enhanced_r2_key",
    "enhanced_preview_r2_key",
    "enhanced_width",
    "enhanced_height",
    "enhanced_size_bytes",
    "enhanced_format",
    "gemini_prompt",
    "engine",
    "error_message",
    "next_attempt_at",
    "processing_completed_at",
    "updated_at",
]


def retry_delay(retry_count: int) -> timedelta:
    """Exponential back-off: base * 2**retry_count seconds, capped."""
    seconds = settings.ENHANCEMENT_RETRY_BASE_SECONDS * 2 ** max(0, retry_count)
    return timedelta(seconds=min(seconds, settings.ENHANCEMENT_RETRY_MAX_SECONDS))


def job_fields(job: ImageEnhancementJob) -> dict:
    """The ids a job's log lines carry (never a key, a URL or an e-mail address)."""
    return {"job_id": job.pk, "image_id": job.image_id, "user_id": job.user_id, "tier": job.tier}


def attempt_seconds(job: ImageEnhancementJob, now: datetime) -> float | None:
    """How long the current attempt has run (None if it never started)."""
    if job.processing_started_at is None:
        return None
    return round((now - job.processing_started_at).total_seconds(), 3)


def locked(job_id: str) -> ImageEnhancementJob | None:
    """The job row, locked until the end of the caller's transaction (None if it is gone)."""
    return ImageEnhancementJob.objects.select_for_update().filter(pk=job_id).first()


def actor_record(actor: AbstractBaseUser) -> dict:
    """Who acted, as the job's log and the ledger's metadata keep it (the e-mail too, so the
    record still reads after the staff account is gone)."""
    return {"by_id": actor.pk, "by": getattr(actor, "email", "") or str(actor)}


def _log_staff_action(
    job: ImageEnhancementJob, *, action: str, actor: AbstractBaseUser | None, now: datetime
) -> None:
    if actor is None:
        return
    entry = {"action": action, "at": now.isoformat(), **actor_record(actor)}
    job.staff_actions = [*(job.staff_actions or []), entry]


def refund_locked(
    job: ImageEnhancementJob,
    *,
    message: str,
    now: datetime,
    actor: AbstractBaseUser | None = None,
    cause: str = "refunded",
    event: str = "job.refunded",
    attempt: int | None = None,
) -> ImageEnhancementJob:
    """Move a locked job to REFUNDED and give its tokens back, in the caller's transaction.
    Logs `event` (with `cause`: staff, cancelled, deleted, permanent_error, gave_up,
    worker_lost) once it commits."""
    was_processing = job.status == JobStatus.PROCESSING
    job.status = JobStatus.REFUNDED
    job.error_message = message
    job.next_attempt_at = None
    if was_processing or job.processing_started_at:
        job.processing_completed_at = now
    _log_staff_action(job, action="refund", actor=actor, now=now)
    job.save(update_fields=_REFUND_FIELDS)
    metadata = {"reason": message}
    if actor is not None:
        metadata.update(actor_record(actor))
    tokens.refund(
        user=job.user,
        amount=job.tokens_cost,
        source=LEDGER_SOURCE,
        source_id=job.pk,
        metadata=metadata,
        idempotency_key=f"refund:job:{job.pk}",
    )
    transaction.on_commit(partial(job_finished.send, sender=ImageEnhancementJob, job_id=job.pk))
    log_event(
        logger,
        event,
        **job_fields(job),
        outcome="refunded",
        cause=cause,
        attempt=attempt or (job.retry_count + 1 if was_processing else None),
        duration=attempt_seconds(job, now) if was_processing else None,
        tokens_refunded=job.tokens_cost,
        actor_id=actor.pk if actor is not None else None,
    )
    return job


def refund_job(
    *,
    job: ImageEnhancementJob,
    actor: AbstractBaseUser,
    reason: str = REFUNDED_BY_SUPPORT_MESSAGE,
    now: datetime | None = None,
) -> ImageEnhancementJob:
    """REFUNDED with the tokens back, at once (staff, from the admin). Locks the job; records
    `actor` on the job and in the REFUND transaction's metadata.

    Idempotent: a REFUNDED job is returned unchanged (and the REFUND transaction is keyed by
    the job, so the tokens never come back twice). A COMPLETED job raises `JobNotRefundable`.
    A job refunded while its worker still runs stays REFUNDED; the worker's output is deleted.
    """
    now = now or timezone.now()
    with transaction.atomic():
        job_row = locked(job.pk)
        if job_row is None:
            raise JobNotRefundable(job)
        if job_row.status == JobStatus.REFUNDED:
            return job_row
        if job_row.status == JobStatus.COMPLETED:
            raise JobNotRefundable(job_row)
        return refund_locked(job_row, message=reason, now=now, actor=actor, cause="staff")


def delete_job(
    *,
    job: ImageEnhancementJob,
    actor: AbstractBaseUser | None = None,
    reason: str = DELETED_MESSAGE,
    now: datetime | None = None,
) -> None:
    """The one way a job row goes on its own (its image's deletion takes its jobs with it).

    In one transaction, under the job's lock: an unfinished job (pending, running, waiting for
    a retry) is refunded first, with `actor` recorded, so no tokens are lost; then the row is
    deleted and leaves a `DeletedJob` (enhancement.signals) for the ledger's rows to point at;
    its stored result and preview are deleted after the commit. A job already gone does nothing.
    A worker still running a deleted job finds it gone and discards what it made."""
    now = now or timezone.now()
    with transaction.atomic():
        job_row = locked(job.pk)
        if job_row is None:
            return
        if job_row.status not in (JobStatus.COMPLETED, JobStatus.REFUNDED):
            job_row = refund_locked(job_row, message=reason, now=now, actor=actor, cause="deleted")
        job_row.delete()


def cancel_job(
    *, user: AbstractBaseUser, job: ImageEnhancementJob, now: datetime | None = None
) -> ImageEnhancementJob:
    """Cancel a job that is waiting (PENDING, or FAILED waiting for its retry): REFUNDED at once
    with the tokens back. Locks the job. A running or finished job raises `JobNotCancellable`;
    a job already refunded is returned unchanged."""
    now = now or timezone.now()
    with transaction.atomic():
        job_row = locked(job.pk)
        if job_row is None or job_row.user_id != user.pk:
            raise JobNotCancellable(job)
        if job_row.status == JobStatus.REFUNDED:
            return job_row
        if job_row.status not in (JobStatus.PENDING, JobStatus.FAILED):
            raise JobNotCancellable(job_row)
        return refund_locked(job_row, message=CANCELLED_MESSAGE, now=now, cause="cancelled")


def retry_job(
    *, job: ImageEnhancementJob, actor: AbstractBaseUser, now: datetime | None = None
) -> ImageEnhancementJob:
    """Run a FAILED job now (staff, from the admin) instead of waiting for its back-off, or
    send a PENDING job to the queue again. Locks the job, records `actor` on it; enqueues after
    the commit. Anything else raises `JobNotRetryable`."""
    now = now or timezone.now()
    with transaction.atomic():
        job_row = locked(job.pk)
        if job_row is None or job_row.status not in (JobStatus.FAILED, JobStatus.PENDING):
            raise JobNotRetryable(job_row or job)
        if job_row.status == JobStatus.FAILED:
            job_row.next_attempt_at = now
        _log_staff_action(job_row, action="retry", actor=actor, now=now)
        job_row.save(update_fields=["next_attempt_at", "staff_actions", "updated_at"])
        enqueue_on_commit(job_row.pk, priority=billing.has_priority(job_row.user_id))
        log_event(logger, "job.retried", **job_fields(job_row), actor_id=actor.pk)
        return job_row


def claim_job(*, job_id: str, now: datetime | None = None) -> datetime | None:
    """PENDING or due FAILED -> PROCESSING with one conditional UPDATE. Returns the claim's
    `processing_started_at` (the worker's token for this attempt), or None when the job is not
    claimable: another worker has it, it is finished, or its retry is not due yet."""
    now = now or timezone.now()
    claimed = (
        ImageEnhancementJob.objects.filter(
            pk=job_id, status__in=[JobStatus.PENDING, JobStatus.FAILED]
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(
            status=JobStatus.PROCESSING,
            processing_started_at=now,
            heartbeat_at=now,
            processing_completed_at=None,
            next_attempt_at=None,
            updated_at=now,
        )
    )
    return now if claimed == 1 else None


def renew_lease(*, job_id: str, claimed_at: datetime, now: datetime | None = None) -> bool:
    """The running attempt says it is alive: one conditional UPDATE of `heartbeat_at`, only
    while the job is still PROCESSING under this attempt's claim. False when the job moved on
    (finished, refunded, or taken back by the sweeper): the worker stops renewing then."""
    now = now or timezone.now()
    renewed = ImageEnhancementJob.objects.filter(
        pk=job_id, status=JobStatus.PROCESSING, processing_started_at=claimed_at
    ).update(heartbeat_at=now)
    return renewed == 1


def _store_result(job: ImageEnhancementJob, result: EngineResult) -> list[str]:
    """Write the enhanced image and its preview under the job's keys; returns the names stored
    (the caller deletes them if the job turns out not to want them)."""
    extension = imaging.extension_for(result.format)
    ids = {"image_id": job.image_id, "job_id": job.pk}
    written = []
    try:
        written.append(
            storage.save_bytes(
                storage.job_result_key(**ids, extension=extension),
                result.data,
                content_type=storage.content_type_for(f"x.{extension}"),
            )
        )
        preview, _, _ = imaging.make_derivative(
            result.data, max_dimension=settings.DERIVATIVE_PREVIEW_MAX
        )
        written.append(
            storage.save_bytes(storage.job_preview_key(**ids), preview, content_type="image/webp")
        )
    except BaseException:
        storage.delete_keys(written)
        raise
    return written


def complete_job(
    *,
    job: ImageEnhancementJob,
    result: EngineResult,
    engine: str,
    now: datetime | None = None,
) -> ImageEnhancementJob:
    """Store `result` and move the job to COMPLETED. Storage first, then the job row is locked
    and re-checked: a job still under way (PROCESSING, or FAILED after a sweeper took it for
    dead) takes the result; a finished one (COMPLETED by another attempt, REFUNDED) keeps its
    state and the objects just written that it does not name are deleted."""
    written = _store_result(job, result)
    now = now or timezone.now()
    with transaction.atomic():
        job_row = locked(job.pk)
        if job_row is not None and job_row.status in (JobStatus.PROCESSING, JobStatus.FAILED):
            result_key, preview_key = written
            job_row.status = JobStatus.COMPLETED
            job_row.enhanced_r2_key = result_key
            job_row.enhanced_preview_r2_key = preview_key
            job_row.enhanced_width = result.width
            job_row.enhanced_height = result.height
            job_row.enhanced_size_bytes = len(result.data)
            job_row.enhanced_format = result.format
            job_row.gemini_prompt = result.prompt
            job_row.engine = engine
            job_row.error_message = None
            job_row.next_attempt_at = None
            job_row.processing_completed_at = now
            add_usage(job_row, result.usage)
            job_row.save(update_fields=_COMPLETE_FIELDS + USAGE_FIELDS)
            transaction.on_commit(
                partial(job_finished.send, sender=ImageEnhancementJob, job_id=job_row.pk)
            )
            log_event(
                logger,
                "job.completed",
                **job_fields(job_row),
                attempt=job_row.retry_count + 1,
                engine=engine,
                duration=attempt_seconds(job_row, now),
            )
            return job_row
        if job_row is not None:  # finished meanwhile, but the engine's work cost all the same
            record_usage(job_row, result.usage)
    # Finished meanwhile: keep only what the job row names.
    named = set()
    if job_row is not None:
        named = {job_row.enhanced_r2_key.name, job_row.enhanced_preview_r2_key.name} - {None, ""}
    transaction.on_commit(partial(storage.delete_keys, [k for k in written if k not in named]))
    log_event(logger, "job.result_discarded", **job_fields(job), status=job_row and job_row.status)
    return job_row or job


def fail_job(
    *,
    job_id: str,
    error: BaseException,
    claimed_at: datetime | None,
    engine: str = "",
    usage: EngineUsage | None = None,
    now: datetime | None = None,
) -> ImageEnhancementJob | None:
    """Record a failed attempt. Locks the job; acts only if it is still PROCESSING under this
    attempt's claim (a sweeper may have moved it on). A `PermanentEngineError` refunds at once;
    anything else counts a try: FAILED with a back-off while `retry_count < max_retries`, else
    REFUNDED with the tokens back. What the attempt used (`usage`, else the error's own) is
    added to the job's cost whatever its state, unless this attempt completed the job (and so
    counted it already: an error after the completion's commit)."""
    now = now or timezone.now()
    with transaction.atomic():
        job = locked(job_id)
        completed_here = (
            job is not None
            and job.status == JobStatus.COMPLETED
            and job.processing_started_at == claimed_at
        )
        if job is not None and not completed_here:
            record_usage(job, usage if usage is not None else getattr(error, "usage", None))
        if job is None or job.status != JobStatus.PROCESSING:
            return job
        if claimed_at is not None and job.processing_started_at != claimed_at:
            return job
        if engine:
            job.engine = engine
        message = error.user_message if isinstance(error, EngineError) else UNEXPECTED_MESSAGE
        if isinstance(error, PermanentEngineError):
            return refund_locked(job, message=message, now=now, cause="permanent_error")
        return count_failed_try(job, message=message, now=now)


def count_failed_try(
    job: ImageEnhancementJob, *, message: str, now: datetime, recovered: bool = False
) -> ImageEnhancementJob:
    """A transient failure of a locked PROCESSING job: FAILED and due again after the back-off,
    or REFUNDED when that was the last try. `recovered`: the sweeper took the job from a dead
    worker; it is due again at once, and the line logged is `job.recovered`."""
    duration = attempt_seconds(job, now)
    tries = job.retry_count + 1
    job.retry_count = min(tries, job.max_retries)
    event = "job.recovered" if recovered else "job.failed"
    if tries >= job.max_retries:
        return refund_locked(
            job,
            message=GAVE_UP_MESSAGE.format(tries=times(tries)),
            now=now,
            cause="worker_lost" if recovered else "gave_up",
            event="job.recovered" if recovered else "job.refunded",
            attempt=tries,
        )
    job.status = JobStatus.FAILED
    job.error_message = message
    job.next_attempt_at = now if recovered else now + retry_delay(tries)
    job.processing_completed_at = now
    job.save(update_fields=_FAILED_TRY_FIELDS)
    log_event(
        logger,
        event,
        **job_fields(job),
        outcome="retry",
        attempt=tries,
        duration=duration,
        retry_at=job.next_attempt_at.isoformat(),
    )
    return job
