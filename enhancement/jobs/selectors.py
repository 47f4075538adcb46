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


def describe_jobs(ids: set[str]) -> dict[str, tuple[str, str | None]]:
    """What the token history says of each job id: "Enhanced “Beach at dusk” at 2K" with a link
    to the job, or, for a job that was deleted, the same words without a link. Two queries."""
    from django.urls import reverse

    from enhancement.models import EnhancementTier

    def label(tier: str) -> str:
        return EnhancementTier(tier).label if tier in EnhancementTier.values else tier

    said: dict[str, tuple[str, str | None]] = {}
    jobs = ImageEnhancementJob.objects.filter(pk__in=ids).values_list("pk", "tier", "image__name")
    for pk, tier, name in jobs:
        said[pk] = (f"Enhanced “{name}” at {label(tier)}", reverse("jobs:detail", args=[pk]))
    rest = set(ids) - set(said)
    for pk, tier in DeletedJob.objects.filter(pk__in=rest).values_list("pk", "tier"):
        said[pk] = (f"Enhanced a deleted image at {label(tier)}", None)
    return said
