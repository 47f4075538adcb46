"""Jobs shaped for their templates: the card of a job (text, badge, signed URLs). No queries,
no I/O beyond signing URLs, so a page or a template tag can use them freely."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timeuntil

from core.text import times
from enhancement import storage
from enhancement.jobs.tiers import tier_label
from enhancement.models import JOB_CANCELLED_MESSAGE, EnhancedImage, ImageEnhancementJob, JobStatus

POLL_EVERY = "2s"  # PENDING / PROCESSING
POLL_EVERY_WAITING_RETRY = "5s"  # FAILED, waiting for its back-off


@dataclass(frozen=True)
class JobCard:
    """A job as its card shows it: text, badge, URLs (signed, no query)."""

    job: ImageEnhancementJob
    image: EnhancedImage
    tier_label: str
    status_text: str
    badge_text: str
    badge_css: str
    poll_every: str | None  # htmx polling interval while the job is under way
    cancellable: bool
    before_url: str
    after_url: str
    result_url: str
    result_extension: str
    next_try_text: str  # FAILED, waiting: when the next try comes ("" otherwise)

    @classmethod
    def of(cls, job: ImageEnhancementJob, image: EnhancedImage) -> JobCard:
        status = job.status
        now = timezone.now()
        attempt = f"attempt {job.retry_count + 1} of {max(job.max_retries, 1)}"
        processing = f"Enhancing… ({attempt})"
        if lease_lapsed(job, now=now):
            processing = "The worker handling this stopped answering. We will try again shortly."
        texts = {
            JobStatus.PENDING: ("Waiting in the queue…", "badge-muted"),
            JobStatus.PROCESSING: (processing, "badge-warning"),
            JobStatus.FAILED: (
                f"{job.error_message or 'The last try failed.'} "
                f"(tried {times(job.retry_count)} of {job.max_retries})",
                "badge-warning",
            ),
            JobStatus.COMPLETED: ("Done.", "badge-success"),
            JobStatus.REFUNDED: (
                f"{job.error_message or 'This enhancement did not complete.'} "
                f"Your {job.tokens_cost} tokens were returned to your balance.",
                "badge-danger",
            ),
        }
        if status == JobStatus.REFUNDED and job.error_message == JOB_CANCELLED_MESSAGE:
            texts[status] = (
                f"Cancelled. Your {job.tokens_cost} tokens were returned to your balance.",
                "badge-muted",
            )
        status_text, badge_css = texts.get(status, (job.get_status_display(), "badge-muted"))
        cancelled = status == JobStatus.REFUNDED and job.error_message == JOB_CANCELLED_MESSAGE
        badge_text = "Cancelled" if cancelled else job.get_status_display()
        poll_every = None
        if status in (JobStatus.PENDING, JobStatus.PROCESSING):
            poll_every = POLL_EVERY
        elif status == JobStatus.FAILED:
            poll_every = POLL_EVERY_WAITING_RETRY
        before_key = image.preview_r2_key.name or image.original_r2_key.name
        result_key = job.enhanced_r2_key.name if job.enhanced_r2_key else ""
        after_key = (
            job.enhanced_preview_r2_key.name if job.enhanced_preview_r2_key else ""
        ) or result_key
        completed = status == JobStatus.COMPLETED
        return cls(
            job=job,
            image=image,
            tier_label=tier_label(job.tier),
            status_text=status_text,
            badge_text=badge_text,
            badge_css=badge_css,
            poll_every=poll_every,
            cancellable=status in (JobStatus.PENDING, JobStatus.FAILED),
            before_url=storage.url_for(before_key) if completed else "",
            after_url=storage.url_for(after_key) if completed else "",
            result_url=reverse("jobs:download", args=[job.pk]) if completed else "",
            result_extension=posixpath.splitext(result_key)[1].lstrip(".").upper(),
            next_try_text=next_try_text(job, now=now),
        )


def lease_lapsed(job: ImageEnhancementJob, *, now) -> bool:
    """A PROCESSING job whose worker stopped renewing its lease (the sweeper will take it)."""
    return (
        job.status == JobStatus.PROCESSING
        and job.heartbeat_at is not None
        and job.heartbeat_at < now - timedelta(seconds=settings.ENHANCEMENT_LEASE_SECONDS)
    )


def next_try_text(job: ImageEnhancementJob, *, now) -> str:
    """When a FAILED job's next try comes: "Next try in 25 seconds.", or, once due (the
    sweeper takes it on its next round), "Next try any moment now." — never "ago"."""
    if job.status != JobStatus.FAILED or job.next_attempt_at is None:
        return ""
    if job.next_attempt_at <= now + timedelta(seconds=1):
        return "Next try any moment now."
    return f"Next try in {timeuntil(job.next_attempt_at, now)}."
