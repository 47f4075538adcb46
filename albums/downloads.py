"""What a visitor downloads from a shared album that allows downloads: the best version of the
image, full size, as a fresh WebP with no metadata at all (no EXIF, no GPS, no XMP, sRGB).

The stored enhancement result keeps the photo's EXIF (and its location when the owner kept it)
for its owner; a visitor never gets those bytes, only a copy re-encoded from its pixels. An
image without an enhancement gives its preview (already a derivative without metadata). The
original is never read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from enhancement import imaging, storage
from enhancement.jobs.tiers import tier_label
from enhancement.models import EnhancedImage, ImageEnhancementJob

DOWNLOAD_QUALITY = 90


class DownloadUnavailable(Exception):
    """Nothing stored to make the download from (a missing or unreadable file)."""


@dataclass(frozen=True)
class VisitorDownload:
    data: bytes
    filename: str
    content_type: str = "image/webp"


def _stem(image: EnhancedImage) -> str:
    return PurePosixPath(image.name or "image").stem.strip() or "image"


def visitor_copy(image: EnhancedImage, best: ImageEnhancementJob | None) -> VisitorDownload:
    if best is not None and best.enhanced_r2_key:
        try:
            data = storage.read_bytes(best.enhanced_r2_key.name)
            longest = max(best.enhanced_width or 0, best.enhanced_height or 0) or 100_000
            clean, _w, _h = imaging.make_derivative(
                data, max_dimension=longest, quality=DOWNLOAD_QUALITY
            )
        except (OSError, ValueError, imaging.ImageRejected) as exc:
            raise DownloadUnavailable() from exc
        name = f"{_stem(image)}-enhanced-{tier_label(best.tier)}.webp"
        return VisitorDownload(clean, name)
    key = image.preview_r2_key.name or image.thumbnail_r2_key.name
    if not key:
        raise DownloadUnavailable()
    try:
        return VisitorDownload(storage.read_bytes(key), f"{_stem(image)}.webp")
    except OSError as exc:
        raise DownloadUnavailable() from exc
