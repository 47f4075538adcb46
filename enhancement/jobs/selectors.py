"""Read-only queries of jobs for pages."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from enhancement.models import EnhancedImage, ImageEnhancementJob


def jobs_for_image(image: EnhancedImage) -> list[ImageEnhancementJob]:
    """Every job of an image, newest first (one query)."""
    return list(ImageEnhancementJob.objects.filter(image=image).order_by("-created_at", "-id"))


def job_for_user(*, user: AbstractBaseUser, job_id: str) -> ImageEnhancementJob | None:
    """The user's job with its image (one query), or None (not theirs, or no such job)."""
    return ImageEnhancementJob.objects.select_related("image").filter(pk=job_id, user=user).first()
