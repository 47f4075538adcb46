"""Images as visitors see them: signed URLs of derivatives only.

A visitor's page shows the best enhanced version's preview when there is one (with the
unenhanced preview beside it for the before/after slider), else the image's preview; grids show
thumbnails. All of these are WebP derivatives made without any metadata (no EXIF, no GPS, no
XMP). Never the original, and never a job's full result either (results carry the photo's EXIF,
and its location when the owner kept it). No queries here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from enhancement import storage
from enhancement.jobs.tiers import tier_label
from enhancement.models import EnhancedImage, ImageEnhancementJob

GRID_SIZES = "(max-width: 480px) 100vw, (max-width: 900px) 50vw, 280px"
PICTURE_SIZES = "(max-width: 960px) 100vw, 960px"


def fitted(width: int, height: int, max_dimension: int) -> tuple[int, int]:
    """The size of a derivative made to fit `max_dimension` (never enlarged)."""
    width, height = max(1, width or 1), max(1, height or 1)
    scale = min(1.0, max_dimension / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def enhanced_preview_key(best: ImageEnhancementJob | None) -> str:
    if best is None or not best.enhanced_preview_r2_key:
        return ""
    return best.enhanced_preview_r2_key.name


def display_key(image: EnhancedImage, best: ImageEnhancementJob | None = None) -> str:
    """The key of the picture a visitor is shown: the best enhancement's preview, else the
    image's preview, else its thumbnail ("" when none is stored)."""
    return (
        enhanced_preview_key(best) or image.preview_r2_key.name or image.thumbnail_r2_key.name or ""
    )


@dataclass(frozen=True)
class Thumb:
    """An image in a grid."""

    image: EnhancedImage
    url: str
    srcset: str
    width: int
    height: int

    @classmethod
    def of(cls, image: EnhancedImage) -> Thumb:
        thumb_key = image.thumbnail_r2_key.name or image.preview_r2_key.name
        url = storage.url_for(thumb_key) if thumb_key else ""
        preview_w, preview_h = fitted(
            image.original_width, image.original_height, settings.DERIVATIVE_PREVIEW_MAX
        )
        thumb_w, thumb_h = fitted(preview_w, preview_h, settings.DERIVATIVE_THUMB_MAX)
        srcset = ""
        if image.thumbnail_r2_key.name and image.preview_r2_key.name and preview_w > thumb_w:
            preview_url = storage.url_for(image.preview_r2_key.name)
            srcset = f"{url} {thumb_w}w, {preview_url} {preview_w}w"
        return cls(image, url, srcset, thumb_w, thumb_h)


@dataclass(frozen=True)
class Picture:
    """An image on its own page or in a slideshow: the best version and, when that is an
    enhancement, the unenhanced preview for the before/after slider."""

    image: EnhancedImage
    url: str
    width: int
    height: int
    enhanced: bool
    before_url: str  # "" unless enhanced and the unenhanced preview exists
    tier_label: str

    @classmethod
    def of(cls, image: EnhancedImage, best: ImageEnhancementJob | None = None) -> Picture:
        enhanced_key = enhanced_preview_key(best)
        max_dimension = settings.DERIVATIVE_PREVIEW_MAX
        if enhanced_key:
            width, height = fitted(
                best.enhanced_width or image.original_width,
                best.enhanced_height or image.original_height,
                max_dimension,
            )
            before = image.preview_r2_key.name
            return cls(
                image=image,
                url=storage.url_for(enhanced_key),
                width=width,
                height=height,
                enhanced=True,
                before_url=storage.url_for(before) if before else "",
                tier_label=tier_label(best.tier),
            )
        key = display_key(image)
        width, height = fitted(image.original_width, image.original_height, max_dimension)
        return cls(
            image=image,
            url=storage.url_for(key) if key else "",
            width=width,
            height=height,
            enhanced=False,
            before_url="",
            tier_label="",
        )

    def as_slide(self) -> dict:
        return {
            "id": self.image.pk,
            "name": self.image.name,
            "url": self.url,
            "width": self.width,
            "height": self.height,
        }
