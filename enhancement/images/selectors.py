"""Read-only queries of images for pages (and for other apps: albums, the gallery).

The library page costs the same number of queries whatever the number of images: one count,
one page of rows with the latest enhancement job's state joined in as subqueries.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, QuerySet, Subquery

from enhancement.models import EnhancedImage, ImageEnhancementJob

LIBRARY_PAGE_SIZE = 24  # fills rows of 2, 3, 4 or 6 columns


def with_latest_job(queryset: QuerySet[EnhancedImage]) -> QuerySet[EnhancedImage]:
    """Annotate each image with its newest enhancement job: `latest_job_id`,
    `latest_job_status`, `latest_job_tier`, `latest_job_tokens_cost`, `latest_job_message` (all
    None without jobs)."""
    latest = ImageEnhancementJob.objects.filter(image=OuterRef("pk")).order_by("-created_at", "-id")
    return queryset.annotate(
        latest_job_id=Subquery(latest.values("id")[:1]),
        latest_job_status=Subquery(latest.values("status")[:1]),
        latest_job_tier=Subquery(latest.values("tier")[:1]),
        latest_job_tokens_cost=Subquery(latest.values("tokens_cost")[:1]),
        latest_job_message=Subquery(latest.values("error_message")[:1]),
    )


def library_images(*, user: AbstractBaseUser) -> QuerySet[EnhancedImage]:
    """The user's images, newest first, with their latest job state."""
    return with_latest_job(EnhancedImage.objects.filter(user=user)).order_by("-created_at", "-id")


def library_page(
    *, user: AbstractBaseUser, page_number: str | int | None, per_page: int = LIBRARY_PAGE_SIZE
) -> Page:
    """One page of `library_images`; a missing or bad page number gives the first or last."""
    return Paginator(library_images(user=user), per_page).get_page(page_number)
