"""Read-only queries of images for pages (and for other apps: albums, the gallery).

The library page costs the same number of queries whatever the number of images: one count,
one page of rows with the latest enhancement job's state joined in as subqueries.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Lower

from enhancement.models import EnhancedImage, ImageEnhancementJob, JobStatus

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


# The library's orders: (label, ORDER BY). "enhanced" puts the most recently enhanced first
# and images never enhanced last.
LIBRARY_SORTS = {
    "newest": ("Newest first", ("-created_at", "-id")),
    "oldest": ("Oldest first", ("created_at", "id")),
    "name": ("Name", (Lower("name"), "id")),
    "enhanced": ("Last enhanced", (F("last_enhanced_at").desc(nulls_last=True), "-id")),
}
MAX_ARCHIVE_IMAGES = 200  # results in one zip download


def library_images(
    *, user: AbstractBaseUser, query: str = "", sort: str = "newest"
) -> QuerySet[EnhancedImage]:
    """The user's images with their latest job state: those whose name contains `query` (any
    case), in one of `LIBRARY_SORTS` (newest first by default)."""
    images = EnhancedImage.objects.filter(user=user)
    if query:
        images = images.filter(name__icontains=query)
    _label, order = LIBRARY_SORTS.get(sort, LIBRARY_SORTS["newest"])
    if sort == "enhanced":
        images = images.annotate(
            last_enhanced_at=Subquery(
                ImageEnhancementJob.objects.filter(image=OuterRef("pk"), status=JobStatus.COMPLETED)
                .order_by("-processing_completed_at")
                .values("processing_completed_at")[:1]
            )
        )
    return with_latest_job(images).order_by(*order)


def latest_results(*, user: AbstractBaseUser, image_ids) -> list[ImageEnhancementJob]:
    """The newest COMPLETED enhancement of each of the user's images in `image_ids` (others'
    and unknown ids are ignored), in the order of the ids; images without one are left out."""
    ids = list(dict.fromkeys(image_ids))[:MAX_ARCHIVE_IMAGES]
    jobs = (
        ImageEnhancementJob.objects.filter(
            user=user, image_id__in=ids, status=JobStatus.COMPLETED, image__user=user
        )
        .select_related("image")
        .order_by("image_id", "-processing_completed_at", "-id")
    )
    newest: dict[str, ImageEnhancementJob] = {}
    for job in jobs:
        newest.setdefault(job.image_id, job)
    return [newest[i] for i in ids if i in newest]


def library_page(
    *,
    user: AbstractBaseUser,
    page_number: str | int | None,
    per_page: int = LIBRARY_PAGE_SIZE,
    query: str = "",
    sort: str = "newest",
) -> Page:
    """One page of `library_images`; a missing or bad page number gives the first or last."""
    return Paginator(library_images(user=user, query=query, sort=sort), per_page).get_page(
        page_number
    )
