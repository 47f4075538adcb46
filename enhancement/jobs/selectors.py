"""Read-only queries of jobs for pages."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from enhancement.models import DeletedJob, EnhancedImage, ImageEnhancementJob


def jobs_for_image(image: EnhancedImage) -> list[ImageEnhancementJob]:
    """Every job of an image, newest first (one query)."""
    return list(ImageEnhancementJob.objects.filter(image=image).order_by("-created_at", "-id"))


def job_for_user(*, user: AbstractBaseUser, job_id: str) -> ImageEnhancementJob | None:
    """The user's job with its image (one query), or None (not theirs, or no such job)."""
    return ImageEnhancementJob.objects.select_related("image").filter(pk=job_id, user=user).first()


def known_job_ids(ids: set[str]) -> set[str]:
    """Those of `ids` that name a job, or a job that was deleted and left its record (for the
    ledger check: every SPEND and REFUND of a job points at one or the other)."""
    ids = set(ids)
    found = set(ImageEnhancementJob.objects.filter(pk__in=ids).values_list("pk", flat=True))
    rest = ids - found
    if rest:
        found |= set(DeletedJob.objects.filter(pk__in=rest).values_list("pk", flat=True))
    return found
