"""enhancement's part of a data export (`accounts.exports.sections`): every original as it was
uploaded, every enhanced result as stored, images.json and jobs.json (each naming its file in
the zip), api_keys.json and webhooks.json without their secrets. Registered in
`EnhancementConfig.ready()`.

Files are copied from the storage in chunks (`storage.open_stream`), one at a time; rows are
read with `.iterator()`. An object missing from the storage is left out and marked so in the
JSON rather than failing the whole export.
"""

from __future__ import annotations

import logging
import posixpath

from accounts.exports import sections
from accounts.exports.archive import safe_name
from enhancement import storage
from enhancement.models import (
    ApiKey,
    EnhancedImage,
    ImageEnhancementJob,
    JobStatus,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

ORIGINALS = "originals/"
RESULTS = "enhanced/"
DESCRIBES = """\
originals/                every photo exactly as you uploaded it
enhanced/                 every enhanced result, as we made it
images.json               your photos: names, descriptions, sizes, what their EXIF said
jobs.json                 every enhancement you ordered, in every state, and its result
api_keys.json             your API keys' names and first characters (never the keys)
webhooks.json             your webhook addresses (never their signing secrets)"""

_ROWS = 200  # rows fetched per query while streaming


def _extension(key: str) -> str:
    return posixpath.splitext(key)[1].lstrip(".").lower() or "bin"


def _stem(name: str) -> str:
    return posixpath.splitext(name)[0]


def original_path(image: EnhancedImage) -> str:
    key = image.original_r2_key.name
    return (
        f"{ORIGINALS}{safe_name(_stem(image.name), fallback='photo')}_{image.pk}.{_extension(key)}"
    )


def result_path(job: ImageEnhancementJob, image_name: str) -> str:
    key = job.enhanced_r2_key.name
    stem = safe_name(_stem(image_name), fallback="photo")
    return f"{RESULTS}{stem}_{job.get_tier_display()}_{job.pk}.{_extension(key)}"


def _copy(archive, path: str, key: str) -> bool:
    """Copy the stored object `key` into the archive as `path`; False if it is missing."""
    try:
        with storage.open_stream(key) as source:
            archive.add_file(path, source)
    except FileNotFoundError:
        logger.warning("data export: stored object missing, left out: %s", key)
        return False
    return True


def write_enhancement(user, archive) -> None:
    images = EnhancedImage.objects.filter(user=user).order_by("created_at", "pk")
    jobs = (
        ImageEnhancementJob.objects.filter(user=user)
        .select_related("image")
        .order_by("created_at", "pk")
    )
    # Files first (the zip takes one entry at a time), remembering only what was missing.
    missing: set[str] = set()
    for image in images.only("pk", "name", "original_r2_key").iterator(chunk_size=_ROWS):
        if image.original_r2_key.name and not _copy(
            archive, original_path(image), image.original_r2_key.name
        ):
            missing.add(image.pk)
    for job in (
        jobs.filter(status=JobStatus.COMPLETED)
        .exclude(enhanced_r2_key="")
        .exclude(enhanced_r2_key__isnull=True)
        .only("pk", "tier", "enhanced_r2_key", "image__name")
        .iterator(chunk_size=_ROWS)
    ):
        if not _copy(archive, result_path(job, job.image.name), job.enhanced_r2_key.name):
            missing.add(job.pk)

    def image_rows():
        for image in images.iterator(chunk_size=_ROWS):
            has_file = bool(image.original_r2_key.name) and image.pk not in missing
            yield {
                "id": image.pk,
                "name": image.name,
                "description": image.description,
                "uploaded_at": image.created_at,
                "updated_at": image.updated_at,
                "original_file": original_path(image) if has_file else None,
                "original_width": image.original_width,
                "original_height": image.original_height,
                "original_size_bytes": image.original_size_bytes,
                "original_format": image.original_format,
                "is_public": image.is_public,
                "view_count": image.view_count,
                "photo_facts": image.photo_facts,
            }

    def job_rows():
        for job in jobs.iterator(chunk_size=_ROWS):
            has_result = bool(job.enhanced_r2_key) and job.status == JobStatus.COMPLETED
            yield {
                "id": job.pk,
                "image_id": job.image_id,
                "tier": job.get_tier_display(),
                "tokens_cost": job.tokens_cost,
                "status": job.status,
                "auto_adjust": job.auto_adjust,
                "ordered_at": job.created_at,
                "processing_started_at": job.processing_started_at,
                "processing_completed_at": job.processing_completed_at,
                "retry_count": job.retry_count,
                "error_message": job.error_message,
                "result_file": (
                    result_path(job, job.image.name)
                    if has_result and job.pk not in missing
                    else None
                ),
                "result_width": job.enhanced_width,
                "result_height": job.enhanced_height,
                "result_size_bytes": job.enhanced_size_bytes,
                "result_format": job.enhanced_format,
            }

    archive.write_json_list("images.json", image_rows())
    archive.write_json_list("jobs.json", job_rows())
    archive.write_json_list(
        "api_keys.json",
        (
            {
                "name": key.name,
                "starts_with": key.prefix,
                "created_at": key.created_at,
                "last_used_at": key.last_used_at,
                "revoked_at": key.revoked_at,
            }
            for key in ApiKey.objects.filter(user=user).order_by("created_at").iterator()
        ),
    )
    archive.write_json_list(
        "webhooks.json",
        (
            {"url": hook.url, "is_active": hook.is_active, "created_at": hook.created_at}
            for hook in WebhookEndpoint.objects.filter(user=user).order_by("created_at").iterator()
        ),
    )


def register() -> None:
    sections.register("enhancement", write_enhancement, order=20, describes=DESCRIBES)
