"""Ordering enhancements: spend the tier's tokens and create the job in one transaction, one
image or a batch; enqueue after the commit.

A form's `request_key` is unique in the database: the same form sent twice (a double-click, a
resubmission, two racing requests) finds the job(s) the first one made and spends nothing more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from billing import selectors as billing
from core.logging import log_event
from enhancement.jobs import LEDGER_SOURCE
from enhancement.jobs.errors import (
    BatchTooLarge,
    EmptyBatch,
    NothingToOrder,
    NotYourImage,
    RequestKeyUsed,
)
from enhancement.jobs.queue import enqueue_on_commit
from enhancement.jobs.tiers import tier_cost, tier_label
from enhancement.models import EnhancedImage, ImageEnhancementJob, JobStatus
from tokens import services as tokens

logger = logging.getLogger(__name__)


def _own_order(*, user: AbstractBaseUser, request_key: str) -> ImageEnhancementJob | None:
    """The job a previous submission of this form made, if any; a key of another user's job
    is refused (never returned)."""
    job = ImageEnhancementJob.objects.filter(request_key=request_key).first()
    if job is not None and job.user_id != user.pk:
        raise RequestKeyUsed()
    return job


def _lock_images(*, user: AbstractBaseUser, image_ids: list[str]) -> None:
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


def _create_paid_job(
    *,
    user: AbstractBaseUser,
    image: EnhancedImage,
    tier: str,
    cost: int,
    request_key: str | None,
    priority: bool,
    metadata: dict | None = None,
    auto_adjust: bool = False,
) -> ImageEnhancementJob:
    """The one place a job is paid for: create it PENDING, spend its tokens (keyed by the job,
    so never twice) and enqueue it after the commit. Runs in the caller's transaction, which
    must hold the image's lock."""
    job = ImageEnhancementJob.objects.create(
        image=image,
        user=user,
        tier=tier,
        tokens_cost=cost,
        status=JobStatus.PENDING,
        max_retries=settings.ENHANCEMENT_MAX_RETRIES,
        request_key=request_key,
        auto_adjust=auto_adjust,
    )
    tokens.spend(
        user=user,
        amount=cost,
        source=LEDGER_SOURCE,
        source_id=job.pk,
        metadata={"tier": tier, "image_id": image.pk, **(metadata or {})},
        idempotency_key=f"spend:job:{job.pk}",
    )
    enqueue_on_commit(job.pk, priority=priority)
    log_event(
        logger,
        "job.created",
        job_id=job.pk,
        image_id=image.pk,
        user_id=user.pk,
        tier=tier,
        tokens_spent=cost,
        priority=priority,
    )
    return job


def order_enhancement(
    *,
    user: AbstractBaseUser,
    image: EnhancedImage,
    tier: str,
    request_key: str | None,
    auto_adjust: bool = False,
) -> ImageEnhancementJob:
    """Spend the tier's tokens and create a PENDING job for `image`, in one transaction; the job
    is enqueued after the commit. `auto_adjust`: the user ticked "Auto light and colour".

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
    priority = billing.has_priority(user.pk)
    try:
        with transaction.atomic():
            _lock_images(user=user, image_ids=[image.pk])
            return _create_paid_job(
                user=user,
                image=image,
                tier=tier,
                cost=cost,
                request_key=request_key or None,
                priority=priority,
                auto_adjust=auto_adjust,
            )
    except IntegrityError:
        # A concurrent submission of the same form committed first.
        existing = _own_order(user=user, request_key=request_key) if request_key else None
        if existing is None:
            raise
        return existing


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
    *, user: AbstractBaseUser, images: list[EnhancedImage], tier: str, skip_already_enhanced: bool
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
            ImageEnhancementJob.objects.filter(
                user=user, tier=tier, image__in=[i.pk for i in unique]
            )
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


def _batch_jobs(*, user: AbstractBaseUser, request_key: str) -> list[ImageEnhancementJob]:
    return list(
        ImageEnhancementJob.objects.filter(
            user=user, request_key__startswith=f"{request_key}:"
        ).order_by("created_at", "id")
    )


def order_batch(
    *,
    user: AbstractBaseUser,
    images: list[EnhancedImage],
    tier: str,
    skip_already_enhanced: bool = False,
    request_key: str | None = None,
) -> list[ImageEnhancementJob]:
    """One job per image at `tier` (optionally skipping images already enhanced at that tier).
    The tokens for all of them are spent in one transaction, or none are; the jobs are enqueued
    after the commit.

    Locks the images, then the user's balance row for the whole transaction, so the balance
    check holds for every spend that follows: a batch that loses a race to another order
    raises `tokens.InsufficientTokens` with the batch's total, never a partial order.

    Raises what `plan_batch` raises, `NothingToOrder` when every image was skipped, and
    `tokens.InsufficientTokens`. The same `request_key` again returns the jobs made the first
    time.
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
    priority = billing.has_priority(user.pk)
    try:
        with transaction.atomic():
            _lock_images(user=user, image_ids=[image.pk for image in plan.to_order])
            # Locks the balance row until the commit: nobody else can spend in between.
            available = tokens.lock_balance(user=user)
            if request_key:
                # Re-checked under the lock: a racing submission of this form committed first.
                done = _batch_jobs(user=user, request_key=request_key)
                if done:
                    return done
            if available < plan.total_cost:
                raise tokens.InsufficientTokens(needed=plan.total_cost, available=available)
            return [
                _create_paid_job(
                    user=user,
                    image=image,
                    tier=tier,
                    cost=plan.unit_cost,
                    request_key=_batch_key(request_key, image.pk) if request_key else None,
                    priority=priority,
                    metadata={"batch": request_key or ""},
                )
                for image in plan.to_order
            ]
    except IntegrityError:
        done = _batch_jobs(user=user, request_key=request_key) if request_key else []
        if not done:
            raise
        return done
