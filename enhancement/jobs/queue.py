"""Sending jobs to the workers: the priority cluster for users whose plan has priority, the
default one for everyone else."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.db import transaction

# The task's dotted path is stored in every queued message: keep it stable.
RUN_TASK = "enhancement.tasks.run_enhancement_job"


def enqueue_job(job_id: str, *, priority: bool = False) -> None:
    """Send the job to the queue: the priority cluster (its own workers, so served first) for
    users whose plan has priority, else the default one. Call after the commit."""
    from django_q.tasks import async_task

    options = {"cluster": settings.Q_PRIORITY_CLUSTER} if priority else {}
    async_task(RUN_TASK, job_id, **options)


def enqueue_on_commit(job_id: str, *, priority: bool) -> None:
    """Enqueue once the current transaction commits (never for a rolled-back job)."""
    transaction.on_commit(partial(enqueue_job, job_id, priority=priority))
