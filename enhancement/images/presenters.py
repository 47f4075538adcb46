"""Images shaped for their templates: signed URLs, srcset, the latest job's badge, the
download name. No queries, no I/O beyond signing URLs, so a page, a template tag or another
part (jobs, later albums) can use them without importing a view."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from django.conf import settings

from core.text import clean_line
from enhancement import storage
from enhancement.images.forms import UNTITLED
from enhancement.models import JOB_CANCELLED_MESSAGE, EnhancedImage, EnhancementTier, JobStatus

GRID_SIZES = "(max-width: 480px) 100vw, (max-width: 900px) 50vw, 280px"
PREVIEW_SIZES = "(max-width: 960px) 100vw, 960px"


def _fitted_width(width: int, height: int, max_dimension: int) -> int:
    scale = min(1.0, max_dimension / max(width, height))
    return max(1, round(width * scale))


@dataclass(frozen=True)
class Badge:
    text: str
    css: str


def job_badge(
    status: str | None, tier: str | None, tokens_cost: int | None, message: str | None = None
) -> Badge | None:
    """The latest enhancement's state as a badge on a card."""
    if not status:
        return None
    if status in (JobStatus.PENDING, JobStatus.PROCESSING):
        return Badge("Enhancing…", "badge-warning")
    if status == JobStatus.FAILED:  # a transient failure waiting for its retry
        return Badge("Retrying…", "badge-warning")
    if status == JobStatus.COMPLETED:
        label = EnhancementTier(tier).label if tier in EnhancementTier.values else ""
        return Badge(f"Enhanced {label}".strip(), "badge-success")
    if status == JobStatus.REFUNDED and message == JOB_CANCELLED_MESSAGE:
        return Badge("Cancelled — tokens returned", "badge-muted")
    if status == JobStatus.REFUNDED:
        cost = f" {tokens_cost} tokens" if tokens_cost else ""
        return Badge(f"Failed — refunded{cost}", "badge-danger")
    return Badge(str(status).title(), "badge-muted")


@dataclass(frozen=True)
class ImageView:
    """An image with the signed URLs and text its pages show (no query, no I/O on S3)."""

    image: EnhancedImage
    thumb_url: str
    preview_url: str
    srcset: str
    badge: Badge | None
    badge_live: bool  # a job is under way: the card's badge follows it

    @classmethod
    def of(cls, image: EnhancedImage) -> ImageView:
        thumb_key = image.thumbnail_r2_key.name
        preview_key = image.preview_r2_key.name
        thumb_url = storage.url_for(thumb_key)
        preview_url = storage.url_for(preview_key)
        w, h = image.original_width, image.original_height
        preview_w = _fitted_width(w, h, settings.DERIVATIVE_PREVIEW_MAX)
        preview_h = max(1, round(h * preview_w / w))
        thumb_w = _fitted_width(preview_w, preview_h, settings.DERIVATIVE_THUMB_MAX)
        srcset = ""
        if thumb_url and preview_url and preview_w > thumb_w:
            srcset = f"{thumb_url} {thumb_w}w, {preview_url} {preview_w}w"
        badge = job_badge(
            getattr(image, "latest_job_status", None),
            getattr(image, "latest_job_tier", None),
            getattr(image, "latest_job_tokens_cost", None),
            getattr(image, "latest_job_message", None),
        )
        live = getattr(image, "latest_job_status", None) in (
            JobStatus.PENDING,
            JobStatus.PROCESSING,
            JobStatus.FAILED,
        )
        return cls(image, thumb_url, preview_url, srcset, badge, live)


def download_name(image: EnhancedImage) -> str:
    """The image's name with the stored original's extension (once)."""
    ext = posixpath.splitext(image.original_r2_key.name)[1]
    name = image.name or UNTITLED
    if ext and not name.lower().endswith(ext.lower()):
        name += ext
    return name


def thumb_url(image: EnhancedImage) -> str:
    """The smallest stored picture of an image, signed."""
    return storage.url_for(
        image.thumbnail_r2_key.name or image.preview_r2_key.name or image.original_r2_key.name
    )


def result_name(job) -> str:
    """A file name for an enhanced result inside a download: "Beach-enhanced-2K.jpg" (no
    folders, no control characters, whatever the image is called)."""
    stem = posixpath.splitext(clean_line(job.image.name))[0]
    stem = stem.replace("/", "-").replace("\\", "-").strip(" .")[:120] or UNTITLED
    tier = EnhancementTier(job.tier).label if job.tier in EnhancementTier.values else "result"
    extension = posixpath.splitext(job.enhanced_r2_key.name)[1]
    return f"{stem}-enhanced-{tier}{extension}"
