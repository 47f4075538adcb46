"""The sweeper (a django-q2 schedule runs it every 30 seconds): jobs whose worker died, retries
that are due, messages that were lost. Safe to run at any time and concurrently with itself:
every change re-checks the job under its lock or in a conditional UPDATE."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from billing import selectors as billing
from core.logging import log_event
from enhancement.jobs.queue import enqueue_job, enqueue_on_commit
from enhancement.jobs.transitions import STUCK_MESSAGE, count_failed_try, locked
from enhancement.models import ImageEnhancementJob, JobStatus

logger = logging.getLogger(__name__)

SWEEP_BATCH = 200


def lease() -> timedelta:
    """How old a running job's last heartbeat may be before its worker is taken for dead."""
    return timedelta(seconds=settings.ENHANCEMENT_LEASE_SECONDS)


def stuck_after() -> timedelta:
    """For a PROCESSING job with no heartbeat at all (claimed before leases existed): the task
    timeout (django-q kills the worker then) plus a margin."""
    margin = settings.ENHANCEMENT_STUCK_MARGIN_SECONDS
    return timedelta(seconds=settings.Q_TASK_TIMEOUT + margin)


def dead_worker(now: datetime) -> Q:
    """PROCESSING jobs whose worker is gone: the lease lapsed (or, without any heartbeat, the
    task timeout passed)."""
    return Q(status=JobStatus.PROCESSING) & (
        Q(heartbeat_at__lt=now - lease())
        | Q(heartbeat_at__isnull=True, processing_started_at__lt=now - stuck_after())
    )


def requeue_after() -> timedelta:
    """How long after its last enqueue a waiting job counts as lost and is enqueued again."""
    return timedelta(seconds=settings.ENHANCEMENT_REQUEUE_AFTER_SECONDS)


@dataclass
class SweepReport:
    recovered: int = 0  # PROCESSING too long -> FAILED (retried) or REFUNDED
    refunded: int = 0
    retried: int = 0  # FAILED and due -> enqueued
    requeued: int = 0  # waiting with a lost message -> enqueued again

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def recover_stuck_jobs(*, now: datetime | None = None) -> SweepReport:
    """One sweep.

    1. A PROCESSING job whose lease lapsed (its worker stopped renewing `heartbeat_at`) lost
       its worker: the attempt counts as a failed try (FAILED, due now) or, after the last try,
       REFUNDED.
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
    _recover_dead_workers(now=now, report=report)

    due = Q(status=JobStatus.FAILED, next_attempt_at__lte=now)
    # Not enqueued since it failed: `fail_job` saves before the back-off ends, an enqueue after.
    first_retry = due & Q(updated_at__lt=F("next_attempt_at"))
    lost = (due | Q(status=JobStatus.PENDING)) & Q(updated_at__lt=now - requeue_after())

    for condition, priority_queue, counter in (
        (first_retry, True, "retried"),
        (lost, False, "requeued"),
    ):
        rows = list(
            ImageEnhancementJob.objects.filter(condition).values_list("id", "user_id")[:SWEEP_BATCH]
        )
        priority_users = billing.priority_user_ids(u for _, u in rows) if priority_queue else set()
        for job_id, user_id in rows:
            # Touch `updated_at` (conditionally: the job may have moved on) to mark the enqueue.
            if ImageEnhancementJob.objects.filter(condition, pk=job_id).update(updated_at=now) != 1:
                continue
            enqueue_job(job_id, priority=user_id in priority_users)
            setattr(report, counter, getattr(report, counter) + 1)
    if any(report.as_dict().values()):
        # Quiet when there was nothing to do: a sweep runs every 30 seconds.
        log_event(logger, "sweep.done", now=True, **report.as_dict())
    return report


def _recover_dead_workers(*, now: datetime, report: SweepReport) -> None:
    stuck = list(
        ImageEnhancementJob.objects.filter(dead_worker(now)).values_list("id", "user_id")[
            :SWEEP_BATCH
        ]
    )
    priority_users = billing.priority_user_ids(u for _, u in stuck)
    for job_id, user_id in stuck:
        with transaction.atomic():
            job = locked(job_id)
            if (
                job is None
                or not ImageEnhancementJob.objects.filter(dead_worker(now), pk=job_id).exists()
            ):
                continue  # finished, or its worker renewed the lease meanwhile
            # Its worker is gone: due again at once (or refunded after its last try).
            job = count_failed_try(job, message=STUCK_MESSAGE, now=now, recovered=True)
            if job.status == JobStatus.FAILED:
                enqueue_on_commit(job.pk, priority=user_id in priority_users)
                report.recovered += 1
            else:
                report.refunded += 1
