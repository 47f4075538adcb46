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
from urllib.parse import quote

from django.conf import settings
from django.db.models import Prefetch
from django.utils.html import escape, format_html, format_html_join

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
index.html                open it in a browser: your photos with their enhanced versions
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

    archive.write_lines("index.html", index_html(images, missing))
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


# Formats a browser shows in an <img>; other originals (HEIC, TIFF...) are linked.
_SHOWN = {"jpeg", "jpg", "png", "webp", "gif", "avif", "bmp"}
_PAGE_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your photos from {site}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem;
  color: #1c1d26; line-height: 1.5; }}
.grid {{ display: grid; gap: 1.5rem;
  grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); }}
figure {{ margin: 0; border: 1px solid #e2e3ec; border-radius: 10px; padding: .75rem; }}
img {{ width: 100%; height: 14rem; object-fit: contain; background: #f4f4f8; border-radius: 6px; }}
figcaption {{ margin-top: .5rem; overflow-wrap: anywhere; }}
.muted {{ color: #5b5e70; font-size: .9rem; }}
</style>
</head>
<body>
<h1>Your photos from {site}</h1>
<p class="muted">Every photo as you uploaded it, with links to its enhanced versions. The
records behind them are in the .json files beside this page; README.txt says what each holds.</p>
<div class="grid">
"""
_PAGE_FOOT = "</div>\n</body>\n</html>\n"


def index_html(images, missing: set[str]):
    """index.html, a photo at a time (relative links into `originals/` and
    `enhanced/`)."""
    yield _PAGE_HEAD.format(site=escape(settings.SITE_NAME))
    results = Prefetch(
        "enhancement_jobs",
        queryset=ImageEnhancementJob.objects.filter(status=JobStatus.COMPLETED)
        .exclude(enhanced_r2_key="")
        .exclude(enhanced_r2_key__isnull=True)
        .exclude(pk__in=missing)
        .order_by("created_at", "pk"),
        to_attr="export_results",
    )
    count = 0
    for image in images.prefetch_related(results).iterator(chunk_size=_ROWS):
        count += 1
        has_file = bool(image.original_r2_key.name) and image.pk not in missing
        path = quote(original_path(image)) if has_file else ""
        if has_file and image.original_format.lower() in _SHOWN:
            picture = format_html(
                '<a href="{}"><img src="{}" alt="" loading="lazy"></a>', path, path
            )
        elif has_file:
            picture = format_html(
                '<a href="{}">Open the original ({})</a>', path, image.original_format
            )
        else:
            picture = format_html('<p class="muted">{}</p>', "The original file was missing.")
        links = format_html_join(
            "",
            '<li><a href="{}">Enhanced {}</a> <span class="muted">{}</span></li>',
            (
                (
                    quote(result_path(job, image.name)),
                    job.get_tier_display(),
                    f"{job.enhanced_width} × {job.enhanced_height} px"
                    if job.enhanced_width and job.enhanced_height
                    else "",
                )
                for job in image.export_results
            ),
        )
        yield format_html(
            '<figure>{}<figcaption><strong>{}</strong><br><span class="muted">Uploaded {}</span>'
            "{}</figcaption></figure>\n",
            picture,
            image.name,
            image.created_at.strftime("%d %b %Y"),
            format_html("<ul>{}</ul>", links) if links else "",
        )
    if not count:
        yield "<p>You have no photos here.</p>\n"
    yield _PAGE_FOOT


def register() -> None:
    sections.register("enhancement", write_enhancement, order=20, describes=DESCRIBES)
