"""An enhanced result as a download: its file name, and conversions to PNG, JPEG or WebP."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import PurePosixPath

from PIL import Image

from core.text import join_or
from enhancement import storage
from enhancement.imaging import OUTPUT_FORMATS
from enhancement.jobs.errors import JobError
from enhancement.jobs.tiers import tier_label
from enhancement.models import ImageEnhancementJob, JobStatus

DEFAULT_EXPORT_QUALITY = 90


def choose_format_message() -> str:
    """What a download with an unknown format is told: "Choose PNG, JPEG or WebP."."""
    return f"Choose {join_or([spec.label for spec in OUTPUT_FORMATS.values()])}."


def download_name(job: ImageEnhancementJob, extension: str) -> str:
    stem = PurePosixPath(job.image.name).stem.strip() or "image"
    return f"{stem}-enhanced-{tier_label(job.tier)}.{extension}"


@dataclass(frozen=True)
class ExportedFile:
    data: bytes
    content_type: str
    filename: str


UNREADABLE_RESULT_MESSAGE = (
    "This result could not be converted. Download it as stored, or ask us for help."
)


def export_result(
    *, job: ImageEnhancementJob, fmt: str, quality: int = DEFAULT_EXPORT_QUALITY
) -> ExportedFile:
    """The enhanced image converted to PNG, JPEG or WebP (`quality` 1-100 for the lossy ones;
    JPEG gets a white background under any transparency). Raises `JobError` for a job without
    a result or an unknown format."""
    if job.status != JobStatus.COMPLETED or not job.enhanced_r2_key:
        raise JobError("This enhancement has no result to download.")
    if fmt not in OUTPUT_FORMATS:
        raise JobError(choose_format_message())
    quality = max(1, min(100, int(quality)))
    output = OUTPUT_FORMATS[fmt]
    try:
        source = Image.open(io.BytesIO(storage.read_bytes(job.enhanced_r2_key.name)))
        source.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:  # missing or unreadable
        raise JobError(UNREADABLE_RESULT_MESSAGE) from exc
    with source:
        icc_profile = source.info.get("icc_profile")
        image = source
        if fmt == "jpeg" and image.mode not in ("RGB", "L"):
            if "A" in image.getbands():
                flat = Image.new("RGB", image.size, (255, 255, 255))
                flat.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
                image = flat
            else:
                image = image.convert("RGB")
        elif image.mode not in ("RGB", "RGBA", "L"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        options: dict = {"icc_profile": icc_profile} if icc_profile else {}
        # The photo's EXIF (camera, lens, date...) that the result carries goes with it.
        exif = source.getexif()
        if len(exif):
            options["exif"] = exif.tobytes()
        if fmt == "jpeg":
            options.update(quality=quality, optimize=True)
        elif fmt == "webp":
            options.update(quality=quality, method=4)
        else:
            options.update(optimize=False, compress_level=6)
        buffer = io.BytesIO()
        image.save(buffer, format=output.pillow, **options)
    return ExportedFile(
        data=buffer.getvalue(),
        content_type=output.content_type,
        filename=download_name(job, output.extension),
    )
