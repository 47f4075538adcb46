"""The job domain's errors; `str(e)` is a sentence a user can read."""

from __future__ import annotations

from enhancement.models import ImageEnhancementJob, JobStatus


class JobError(Exception):
    """Base of the job domain errors."""


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
    def __init__(self, job: ImageEnhancementJob):
        if job.status == JobStatus.PROCESSING:
            message = "This enhancement is already running and can no longer be cancelled."
        elif job.status == JobStatus.COMPLETED:
            message = "This enhancement is finished; there is nothing to cancel."
        else:
            message = "This enhancement can no longer be cancelled."
        super().__init__(message)


class JobNotRetryable(JobError):
    def __init__(self, job: ImageEnhancementJob):
        super().__init__(
            f"Only a failed or waiting job can be retried; this one is {job.get_status_display()}."
        )


class JobNotRefundable(JobError):
    def __init__(self, job: ImageEnhancementJob):
        super().__init__(
            f"A {job.get_status_display().lower()} job cannot be refunded by hand."
            if job.status == JobStatus.COMPLETED
            else "This job cannot be refunded."
        )
