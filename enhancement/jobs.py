"""The verbs of enhancement jobs: order, run, complete, fail, refund, cancel, retry, recover.

The life of a job (SCHEMA.md):

    PENDING -> PROCESSING -> COMPLETED
                         \\-> FAILED -> (retry, back-off) -> PROCESSING ...
                                    \\-> REFUNDED

- Ordering spends the tokens and creates the job in ONE transaction; the task is enqueued after
  the commit. A form's `request_key` is unique in the database, so a double-click or a
  resubmitted form finds the job the first submission made.
- A worker claims a job with a conditional UPDATE (PENDING/FAILED and due -> PROCESSING); exactly
  one worker gets 1 row. The engine runs outside any transaction. The result is stored first,
  then the job row is locked, re-checked and moved to COMPLETED; if the job was finished
  meanwhile (refunded by the sweeper or by hand), the objects just written are deleted again.
- A transient error moves the job to FAILED with `next_attempt_at` (exponential back-off) while
  `retry_count < max_retries`; after the last try, or at once on a permanent error, the job is
  REFUNDED and its tokens come back in the same transaction (one REFUND transaction, keyed by
  the job, so never twice).
- The sweeper (`recover_stuck_jobs`, every minute) moves jobs whose worker died (PROCESSING for
  longer than the task timeout) to FAILED or REFUNDED, enqueues FAILED jobs whose retry is due,
  and enqueues again jobs whose queue message was lost.

Every transition locks the job row (`select_for_update`), re-checks its state and returns when
it is already done: a task delivered twice changes nothing the second time.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import PurePosixPath

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from PIL import Image

from enhancement import storage
from enhancement.engines import (
    EngineError,
    EngineResult,
    PermanentEngineError,
    TierSpec,
    TransientEngineError,
    get_engine,
    target_size,
)
from enhancement.models import EnhancedImage, EnhancementTier, ImageEnhancementJob, JobStatus
from tokens import services as tokens

logger = logging.getLogger(__name__)

Job = ImageEnhancementJob

RUN_TASK = "enhancement.tasks.run_enhancement_job"
LEDGER_SOURCE = "enhancement"

# Messages a person reads (error_message is shown on the image page).
UNEXPECTED_MESSAGE = "Something went wrong on our side. We will try again shortly."
STUCK_MESSAGE = "The enhancement took too long and was stopped. We will try again shortly."
GAVE_UP_MESSAGE = "We tried {tries} times and the enhancement kept failing, so we stopped."
CANCELLED_MESSAGE = "You cancelled this enhancement."
REFUNDED_BY_SUPPORT_MESSAGE = "Refunded by support."
MISSING_ORIGINAL_MESSAGE = "The original image could not be found."

# Download conversions: our format name -> (Pillow format, extension, content type).
EXPORT_FORMATS = {
    "png": ("PNG", "png", "image/png"),
    "jpeg": ("JPEG", "jpg", "image/jpeg"),
    "webp": ("WEBP", "webp", "image/webp"),
}
RESULT_EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp"}
DEFAULT_EXPORT_QUALITY = 90


# --- settings -----------------------------------------------------------------------------------
def retry_base_seconds() -> int:
    return settings.ENHANCEMENT_RETRY_BASE_SECONDS


def retry_max_seconds() -> int:
    return settings.ENHANCEMENT_RETRY_MAX_SECONDS


def stuck_after() -> timedelta:
    """How long a job may stay PROCESSING before its worker is taken for dead: the task timeout
    (django-q kills the worker then) plus a margin."""
    margin = settings.ENHANCEMENT_STUCK_MARGIN_SECONDS
    return timedelta(seconds=settings.Q_TASK_TIMEOUT + margin)


def requeue_after() -> timedelta:
    """How long after its last enqueue a waiting job counts as lost and is enqueued again."""
    return timedelta(seconds=settings.ENHANCEMENT_REQUEUE_AFTER_SECONDS)


def retry_delay(retry_count: int) -> timedelta:
    """Exponential back-off: base * 2**retry_count seconds, capped."""
    seconds = retry_base_seconds() * 2 ** max(0, retry_count)
    return timedelta(seconds=min(seconds, retry_max_seconds()))


# --- errors ---------------------------------------------------------------------------------------
class JobError(Exception):
    """Base of the job domain errors; `str(e)` is a sentence a user can read."""


class InvalidTier(JobError):
    def __init__(self, tier: str):
        super().__init__("Choose one of the enhancement tiers: 1K, 2K or 4K.")
        self.tier = tier


class NotYourImage(JobError):
    def __init__(self):
        super().__init__("That image was not found in your library.")


class RequestKeyUsed(JobError):
    def __init__(self):
        super().__init__("This form was already used. Reload the page and try again.")


class EmptyBatch(JobError):
    def __init__(self):
        super().__init__("Select at least one image to enhance.")


class BatchTooLarge(JobError):
    def __init__(self, limit: int):
        super().__init__(f"Select at most {limit} images at a time.")
        self.limit = limit


class NothingToOrder(JobError):
    def __init__(self, tier_label: str):
        super().__init__(
            f"Every selected image already has a {tier_label} enhancement, so nothing was ordered."
        )


class JobNotCancellable(JobError):
    def __init__(self, job: Job):
        if job.status == JobStatus.PROCESSING:
            message = "This enhancement is already running and can no longer be cancelled."
        elif job.status == JobStatus.COMPLETED:
            message = "This enhancement is finished; there is nothing to cancel."
        else:
            message = "This enhancement can no longer be cancelled."
        super().__init__(message)


class JobNotRetryable(JobError):
    def __init__(self, job: Job):
        super().__init__(
            f"Only a failed or waiting job can be retried; this one is {job.get_status_display()}."
        )


class JobNotRefundable(JobError):
    def __init__(self, job: Job):
        super().__init__(
            f"A {job.get_status_display().lower()} job cannot be refunded by hand."
            if job.status == JobStatus.COMPLETED
            else "This job cannot be refunded."
        )


# --- tiers ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TierOption:
    """A tier as the order form shows it, for one image."""

    value: str
    label: str
    tokens_cost: int
    max_dimension: int
    width: int | None = None
    height: int | None = None


def tier_config(tier: str) -> dict:
    try:
        return settings.ENHANCEMENT_TIERS[tier]
    except (KeyError, TypeError) as exc:
        raise InvalidTier(tier) from exc


def tier_cost(tier: str) -> int:
    return int(tier_config(tier)["tokens_cost"])


def tier_label(tier: str) -> str:
    return str(tier_config(tier)["label"])


def tier_spec(tier: str) -> TierSpec:
    config = tier_config(tier)
    return TierSpec(name=tier, max_dimension=config["max_dimension"], gemini_size=config["label"])


def tier_options(image: EnhancedImage | None = None) -> list[TierOption]:
    """Every tier with its cost and, for `image`, the exact output size."""
    options = []
    for value in EnhancementTier.values:
        config = settings.ENHANCEMENT_TIERS[value]
        width = height = None
        if image is not None:
            width, height = target_size(
                image.original_width, image.original_height, config["max_dimension"]
            )
        options.append(
            TierOption(
                value=value,
                label=config["label"],
                tokens_cost=config["tokens_cost"],
                max_dimension=config["max_dimension"],
                width=width,
                height=height,
            )
        )
    return options


# --- queue ----------------------------------------------------------------------------------------
def priority_user_ids(user_ids) -> set[str]:
    """The users among `user_ids` whose active (or trialing) subscription's plan has priority."""
    from billing.models import Subscription, SubscriptionPlan, SubscriptionStatus

    user_ids = list(set(user_ids))
    if not user_ids:
        return set()
    priority_prices = SubscriptionPlan.objects.filter(priority=True).values("stripe_price_id")
    return set(
        Subscription.objects.filter(
            user_id__in=user_ids,
            status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING],
            stripe_price_id__in=priority_prices,
        ).values_list("user_id", flat=True)
    )


def has_priority(user) -> bool:
    return user.pk in priority_user_ids([user.pk])


def enqueue_job(job_id: str, *, priority: bool = False) -> None:
    """Send the job to the queue: the priority cluster (its own workers, so served first) for
    users whose plan has priority, else the default one. Call after the commit."""
    from django_q.tasks import async_task

    options = {"cluster": settings.Q_PRIORITY_CLUSTER} if priority else {}
    async_task(RUN_TASK, job_id, **options)


def _enqueue_on_commit(job_id: str, *, priority: bool) -> None:
    transaction.on_commit(partial(enqueue_job, job_id, priority=priority))


# --- ordering -------------------------------------------------------------------------------------
def _own_order(*, user, request_key: str) -> Job | None:
    """The job a previous submission of this form made, if any; a key of another user's job
    is refused (never returned)."""
    job = Job.objects.filter(request_key=request_key).first()
    if job is not None and job.user_id != user.pk:
        raise RequestKeyUsed()
    return job


def _lock_images(*, user, image_ids: list[str]) -> None:
    """Lock the images being ordered (in a stable order, so two orders cannot deadlock), so a
    concurrent `delete_image` waits for this order and then sees its unfinished job. Raises
    `NotYourImage` if one is gone (deleted meanwhile)."""
    locked = list(
        EnhancedImage.objects.select_for_update()
        .filter(pk__in=image_ids, user=user)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if len(locked) != len(set(image_ids)):
        raise NotYourImage()


def order_enhancement(*, user, image: EnhancedImage, tier: str, request_key: str | None) -> Job:
    """Spend the tier's tokens and create a PENDING job for `image`, in one transaction; the job
    is enqueued after the commit.

    Raises `InvalidTier`, `NotYourImage`, `RequestKeyUsed`, or `tokens.InsufficientTokens`
    (nothing is created then). The same `request_key` again returns the job made the first
    time, spending nothing more (also when two submissions race: the unique key decides).
    """
    cost = tier_cost(tier)
    if image.user_id != user.pk:
        raise NotYourImage()
    if request_key:
        existing = _own_order(user=user, request_key=request_key)
        if existing is not None:
            return existing
    priority = has_priority(user)
    try:
        with transaction.atomic():
            _lock_images(user=user, image_ids=[image.pk])
            job = Job.objects.create(
                image=image,
                user=user,
                tier=tier,
                tokens_cost=cost,
                status=JobStatus.PENDING,
                max_retries=max(0, settings.ENHANCEMENT_MAX_RETRIES),
                request_key=request_key or None,
            )
            tokens.spend(
                user=user,
                amount=cost,
                source=LEDGER_SOURCE,
                source_id=job.pk,
                metadata={"tier": tier, "image_id": image.pk},
                idempotency_key=f"spend:job:{job.pk}",
            )
            _enqueue_on_commit(job.pk, priority=priority)
    except IntegrityError:
        # A concurrent submission of the same form committed first.
        existing = _own_order(user=user, request_key=request_key) if request_key else None
        if existing is None:
            raise
        return existing
    return job


@dataclass(frozen=True)
class BatchPlan:
    tier: str
    tier_label: str
    unit_cost: int
    to_order: list[EnhancedImage]
    skipped: list[EnhancedImage]

    @property
    def total_cost(self) -> int:
        return self.unit_cost * len(self.to_order)


def _batch_key(request_key: str, image_id: str) -> str:
    return f"{request_key}:{image_id}"


def plan_batch(
    *, user, images: list[EnhancedImage], tier: str, skip_already_enhanced: bool
) -> BatchPlan:
    """What a batch order would do: the images to enhance (in the given order), those skipped
    because they already have a job at this tier that is done or under way, and the total cost.

    Raises `InvalidTier`, `EmptyBatch`, `BatchTooLarge`, `NotYourImage`.
    """
    cost = tier_cost(tier)
    unique = list({image.pk: image for image in images}.values())
    if not unique:
        raise EmptyBatch()
    if len(unique) > settings.ENHANCEMENT_BATCH_MAX:
        raise BatchTooLarge(settings.ENHANCEMENT_BATCH_MAX)
    if any(image.user_id != user.pk for image in unique):
        raise NotYourImage()
    skipped_ids: set[str] = set()
    if skip_already_enhanced:
        skipped_ids = set(
            Job.objects.filter(user=user, tier=tier, image__in=[i.pk for i in unique])
            .exclude(status=JobStatus.REFUNDED)
            .values_list("image_id", flat=True)
        )
    return BatchPlan(
        tier=tier,
        tier_label=tier_label(tier),
        unit_cost=cost,
        to_order=[i for i in unique if i.pk not in skipped_ids],
        skipped=[i for i in unique if i.pk in skipped_ids],
    )


def _batch_jobs(*, user, request_key: str) -> list[Job]:
    return list(
        Job.objects.filter(user=user, request_key__startswith=f"{request_key}:").order_by(
            "created_at", "id"
        )
    )


def order_batch(
    *,
    user,
    images: list[EnhancedImage],
    tier: str,
    skip_already_enhanced: bool = False,
    request_key: str | None = None,
) -> list[Job]:
    """One job per image at `tier` (optionally skipping images already enhanced at that tier).
    The tokens for all of them are spent in one transaction, or none are; the jobs are enqueued
    after the commit.

    Raises what `plan_batch` raises, `NothingToOrder` when every image was skipped, and
    `tokens.InsufficientTokens` with the batch's total. The same `request_key` again returns
    the jobs made the first time.
    """
    if request_key:
        done = _batch_jobs(user=user, request_key=request_key)
        if done:
            return done
    plan = plan_batch(
        user=user, images=images, tier=tier, skip_already_enhanced=skip_already_enhanced
    )
    if not plan.to_order:
        raise NothingToOrder(plan.tier_label)
    priority = has_priority(user)
    try:
        with transaction.atomic():
            _lock_images(user=user, image_ids=[image.pk for image in plan.to_order])
            # Locks the balance row until the commit: the check below holds for the spends.
            available = tokens.get_balance(user)
            if request_key:
                # Re-checked under the lock: a racing submission of this form committed first.
                done = _batch_jobs(user=user, request_key=request_key)
                if done:
                    return done
            if available < plan.total_cost:
                raise tokens.InsufficientTokens(needed=plan.total_cost, available=available)
            created = []
            for image in plan.to_order:
                job = Job.objects.create(
                    image=image,
                    user=user,
                    tier=tier,
                    tokens_cost=plan.unit_cost,
                    status=JobStatus.PENDING,
                    max_retries=max(0, settings.ENHANCEMENT_MAX_RETRIES),
                    request_key=_batch_key(request_key, image.pk) if request_key else None,
                )
                tokens.spend(
                    user=user,
                    amount=plan.unit_cost,
                    source=LEDGER_SOURCE,
                    source_id=job.pk,
                    metadata={"tier": tier, "image_id": image.pk, "batch": request_key or ""},
                    idempotency_key=f"spend:job:{job.pk}",
                )
                created.append(job)
            for job in created:
                _enqueue_on_commit(job.pk, priority=priority)
    except IntegrityError:
        done = _batch_jobs(user=user, request_key=request_key) if request_key else []
        if not done:
            raise
        return done
    return created


# --- transitions ----------------------------------------------------------------------------------
def _locked(job_id: str) -> Job | None:
    return Job.objects.select_for_update().filter(pk=job_id).first()


def _refund_locked(job: Job, *, message: str, now: datetime) -> Job:
    """Move a locked job to REFUNDED and give its tokens back, in the caller's transaction."""
    was_processing = job.status == JobStatus.PROCESSING
    job.status = JobStatus.REFUNDED
    job.error_message = message
    job.next_attempt_at = None
    if was_processing or job.processing_started_at:
        job.processing_completed_at = now
    job.save(
        update_fields=[
            "status",
            "error_message",
            "next_attempt_at",
            "processing_completed_at",
            "retry_count",
            "engine",
            "updated_at",
        ]
    )
    tokens.refund(
        user=job.user,
        amount=job.tokens_cost,
        source=LEDGER_SOURCE,
        source_id=job.pk,
        metadata={"reason": message},
        idempotency_key=f"refund:job:{job.pk}",
    )
    return job


def refund_job(*, job: Job, reason: str = REFUNDED_BY_SUPPORT_MESSAGE, now=None) -> Job:
    """REFUNDED with the tokens back, at once (by hand, from the admin). Locks the job.

    Idempotent: a REFUNDED job is returned unchanged (and the REFUND transaction is keyed by
    the job, so the tokens never come back twice). A COMPLETED job raises `JobNotRefundable`.
    A job refunded while its worker still runs stays REFUNDED; the worker's output is deleted.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(job.pk)
        if locked is None:
            raise JobNotRefundable(job)
        if locked.status == JobStatus.REFUNDED:
            return locked
        if locked.status == JobStatus.COMPLETED:
            raise JobNotRefundable(locked)
        return _refund_locked(locked, message=reason, now=now)


def cancel_job(*, user, job: Job, now=None) -> Job:
    """Cancel a job that is waiting (PENDING, or FAILED waiting for its retry): REFUNDED at once
    with the tokens back. Locks the job. A running or finished job raises `JobNotCancellable`;
    a job already refunded is returned unchanged."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(job.pk)
        if locked is None or locked.user_id != user.pk:
            raise JobNotCancellable(job)
        if locked.status == JobStatus.REFUNDED:
            return locked
        if locked.status not in (JobStatus.PENDING, JobStatus.FAILED):
            raise JobNotCancellable(locked)
        return _refund_locked(locked, message=CANCELLED_MESSAGE, now=now)


def retry_job(*, job: Job, now=None) -> Job:
    """Run a FAILED job now (by hand, from the admin) instead of waiting for its back-off, or
    send a PENDING job to the queue again. Locks the job; enqueues after the commit.
    Anything else raises `JobNotRetryable`."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(job.pk)
        if locked is None or locked.status not in (JobStatus.FAILED, JobStatus.PENDING):
            raise JobNotRetryable(locked or job)
        if locked.status == JobStatus.FAILED:
            locked.next_attempt_at = now
        locked.save(update_fields=["next_attempt_at", "updated_at"])
        _enqueue_on_commit(locked.pk, priority=has_priority(locked.user))
        return locked


def claim_job(*, job_id: str, now=None) -> datetime | None:
    """PENDING or due FAILED -> PROCESSING with one conditional UPDATE. Returns the claim's
    `processing_started_at` (the worker's token for this attempt), or None when the job is not
    claimable: another worker has it, it is finished, or its retry is not due yet."""
    now = now or timezone.now()
    claimed = (
        Job.objects.filter(pk=job_id, status__in=[JobStatus.PENDING, JobStatus.FAILED])
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(
            status=JobStatus.PROCESSING,
            processing_started_at=now,
            processing_completed_at=None,
            next_attempt_at=None,
            updated_at=now,
        )
    )
    return now if claimed == 1 else None


def _store_result(job: Job, result: EngineResult) -> list[str]:
    """Write the enhanced image and its preview under the job's keys; returns the names stored
    (the caller deletes them if the job turns out not to want them)."""
    from enhancement import imaging

    extension = RESULT_EXTENSIONS.get(result.format, result.format)
    ids = {"user_id": job.user_id, "image_id": job.image_id, "job_id": job.pk}
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


def complete_job(*, job: Job, result: EngineResult, engine: str, now=None) -> Job:
    """Store `result` and move the job to COMPLETED. Storage first, then the job row is locked
    and re-checked: a job still under way (PROCESSING, or FAILED after a sweeper took it for
    dead) takes the result; a finished one (COMPLETED by another attempt, REFUNDED) keeps its
    state and the objects just written that it does not name are deleted."""
    written = _store_result(job, result)
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(job.pk)
        if locked is not None and locked.status in (JobStatus.PROCESSING, JobStatus.FAILED):
            result_key, preview_key = written
            locked.status = JobStatus.COMPLETED
            locked.enhanced_r2_key = result_key
            locked.enhanced_preview_r2_key = preview_key
            locked.enhanced_width = result.width
            locked.enhanced_height = result.height
            locked.enhanced_size_bytes = len(result.data)
            locked.enhanced_format = result.format
            locked.gemini_prompt = result.prompt
            locked.engine = engine
            locked.error_message = None
            locked.next_attempt_at = None
            locked.processing_completed_at = now
            locked.save()
            return locked
    # Finished meanwhile: keep only what the job row names.
    named = set()
    if locked is not None:
        named = {locked.enhanced_r2_key.name, locked.enhanced_preview_r2_key.name} - {None, ""}
    transaction.on_commit(partial(storage.delete_keys, [k for k in written if k not in named]))
    logger.info(
        "job %s finished meanwhile (%s); result discarded", job.pk, locked and locked.status
    )
    return locked or job


def fail_job(
    *,
    job_id: str,
    error: BaseException,
    claimed_at: datetime | None,
    engine: str = "",
    now=None,
) -> Job | None:
    """Record a failed attempt. Locks the job; acts only if it is still PROCESSING under this
    attempt's claim (a sweeper may have moved it on). A `PermanentEngineError` refunds at once;
    anything else counts a try: FAILED with a back-off while `retry_count < max_retries`, else
    REFUNDED with the tokens back."""
    now = now or timezone.now()
    with transaction.atomic():
        job = _locked(job_id)
        if job is None or job.status != JobStatus.PROCESSING:
            return job
        if claimed_at is not None and job.processing_started_at != claimed_at:
            return job
        if engine:
            job.engine = engine
        message = error.user_message if isinstance(error, EngineError) else UNEXPECTED_MESSAGE
        if isinstance(error, PermanentEngineError):
            return _refund_locked(job, message=message, now=now)
        return _count_failed_try(job, message=message, now=now)


def _count_failed_try(job: Job, *, message: str, now: datetime) -> Job:
    """A transient failure of a locked PROCESSING job: FAILED and due again after the back-off,
    or REFUNDED when that was the last try."""
    tries = job.retry_count + 1
    job.retry_count = min(tries, job.max_retries)
    if tries >= job.max_retries:
        return _refund_locked(job, message=GAVE_UP_MESSAGE.format(tries=tries), now=now)
    job.status = JobStatus.FAILED
    job.error_message = message
    job.next_attempt_at = now + retry_delay(tries)
    job.processing_completed_at = now
    job.save(
        update_fields=[
            "status",
            "retry_count",
            "error_message",
            "next_attempt_at",
            "processing_completed_at",
            "engine",
            "updated_at",
        ]
    )
    return job


# --- the worker -----------------------------------------------------------------------------------
def process_job(*, job_id: str) -> str:
    """Run one attempt of a job (the task's body): claim, enhance outside any transaction,
    store, complete; or record the failure. Safe to call any number of times: only a claimable
    job does anything. Returns the job's status afterwards (for the task's result)."""
    claimed_at = claim_job(job_id=job_id)
    if claimed_at is None:
        status = Job.objects.filter(pk=job_id).values_list("status", flat=True).first()
        return f"not claimed ({status or 'gone'})"
    job = Job.objects.select_related("image").filter(pk=job_id).first()
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


# --- the sweeper ----------------------------------------------------------------------------------
@dataclass
class SweepReport:
    recovered: int = 0  # PROCESSING too long -> FAILED (retried) or REFUNDED
    refunded: int = 0
    retried: int = 0  # FAILED and due -> enqueued
    requeued: int = 0  # waiting with a lost message -> enqueued again

    def as_dict(self) -> dict:
        return self.__dict__.copy()


SWEEP_BATCH = 200


def recover_stuck_jobs(*, now=None) -> SweepReport:
    """The sweeper (a django-q2 schedule runs it every minute).

    1. A job PROCESSING for longer than the task timeout (+ margin) lost its worker: the attempt
       counts as a failed try (FAILED, due now) or, after the last try, REFUNDED.
    2. A FAILED job whose `next_attempt_at` has passed and that was not enqueued since it failed
       is enqueued (on its user's queue). Retries go through the sweeper rather than a delayed
       message, so a lost message or a restarted broker cannot strand a job.
    3. A PENDING or due FAILED job enqueued longer ago than `requeue_after()` whose message was
       evidently lost is enqueued again, on the default queue (served by every deployment, even
       one that runs no priority cluster). Duplicates are harmless: only one claim wins.

    `updated_at` records the last enqueue, so a job is not enqueued every minute.
    """
    now = now or timezone.now()
    report = SweepReport()

    stuck = list(
        Job.objects.filter(
            status=JobStatus.PROCESSING, processing_started_at__lt=now - stuck_after()
        ).values_list("id", "user_id")[:SWEEP_BATCH]
    )
    priority_users = priority_user_ids(u for _, u in stuck)
    for job_id, user_id in stuck:
        with transaction.atomic():
            job = _locked(job_id)
            if (
                job is None
                or job.status != JobStatus.PROCESSING
                or job.processing_started_at >= now - stuck_after()
            ):
                continue
            job = _count_failed_try(job, message=STUCK_MESSAGE, now=now)
            if job.status == JobStatus.FAILED:
                # Its worker is gone: due at once.
                job.next_attempt_at = now
                job.save(update_fields=["next_attempt_at", "updated_at"])
                _enqueue_on_commit(job.pk, priority=user_id in priority_users)
                report.recovered += 1
            else:
                report.refunded += 1

    due = Q(status=JobStatus.FAILED, next_attempt_at__lte=now)
    # Not enqueued since it failed: `fail_job` saves before the back-off ends, an enqueue after.
    first_retry = due & Q(updated_at__lt=F("next_attempt_at"))
    lost = (due | Q(status=JobStatus.PENDING)) & Q(updated_at__lt=now - requeue_after())

    for condition, priority_queue, counter in (
        (first_retry, True, "retried"),
        (lost, False, "requeued"),
    ):
        rows = list(Job.objects.filter(condition).values_list("id", "user_id")[:SWEEP_BATCH])
        priority_users = priority_user_ids(u for _, u in rows) if priority_queue else set()
        for job_id, user_id in rows:
            # Touch `updated_at` (conditionally: the job may have moved on) to mark the enqueue.
            if Job.objects.filter(condition, pk=job_id).update(updated_at=now) != 1:
                continue
            enqueue_job(job_id, priority=user_id in priority_users)
            setattr(report, counter, getattr(report, counter) + 1)
    if any(report.as_dict().values()):
        logger.info("enhancement sweep: %s", report.as_dict())
    return report


# --- reading --------------------------------------------------------------------------------------
def jobs_for_image(image: EnhancedImage) -> list[Job]:
    """Every job of an image, newest first (one query)."""
    return list(Job.objects.filter(image=image).order_by("-created_at", "-id"))


def job_for_user(*, user, job_id: str) -> Job | None:
    """The user's job with its image (one query), or None (not theirs, or no such job)."""
    return Job.objects.select_related("image").filter(pk=job_id, user=user).first()


# --- downloads ------------------------------------------------------------------------------------
def download_name(job: Job, extension: str) -> str:
    stem = PurePosixPath(job.image.name).stem.strip() or "image"
    return f"{stem}-enhanced-{tier_label(job.tier)}.{extension}"


@dataclass(frozen=True)
class ExportedFile:
    data: bytes
    content_type: str
    filename: str


def export_result(*, job: Job, fmt: str, quality: int = DEFAULT_EXPORT_QUALITY) -> ExportedFile:
    """The enhanced image converted to PNG, JPEG or WebP (`quality` 1-100 for the lossy ones;
    JPEG gets a white background under any transparency). Raises `JobError` for a job without
    a result or an unknown format."""
    if job.status != JobStatus.COMPLETED or not job.enhanced_r2_key:
        raise JobError("This enhancement has no result to download.")
    if fmt not in EXPORT_FORMATS:
        raise JobError("Choose PNG, JPEG or WebP.")
    quality = max(1, min(100, int(quality)))
    pillow_format, extension, content_type = EXPORT_FORMATS[fmt]
    with Image.open(io.BytesIO(storage.read_bytes(job.enhanced_r2_key.name))) as source:
        source.load()
        icc_profile = source.info.get("icc_profile")
        image = source
        if fmt == "jpeg" and image.mode not in ("RGB", "L"):
            if "A" in image.getbands():
                flat = Image.new("RGB", image.size, (255, 255, 255))
                flat.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
                image = flat
            else:
                image = image.convert("RGB")
        elif image.mode not in ("RGB", "RGBA", "L"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        options: dict = {"icc_profile": icc_profile} if icc_profile else {}
        if fmt == "jpeg":
            options.update(quality=quality, optimize=True)
        elif fmt == "webp":
            options.update(quality=quality, method=4)
        else:
            options.update(optimize=False, compress_level=6)
        buffer = io.BytesIO()
        image.save(buffer, format=pillow_format, **options)
    return ExportedFile(
        data=buffer.getvalue(), content_type=content_type, filename=download_name(job, extension)
    )
