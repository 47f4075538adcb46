"""The verbs of images: upload, rename, publish, count a view, delete.

Storage and database are kept in step this way:
- On upload the objects are written first, then the row is inserted; if anything fails after
  the first write, the objects just written are deleted again. A row therefore always has its
  objects; at worst a crash between the two leaves objects without a row, under a prefix no row
  names (which an orphan sweep can find), never a row without objects.
- On delete the row goes in a transaction and the objects are deleted after the commit, so a
  rolled-back delete never loses files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F

from core.ids import new_id
from enhancement import imaging, storage
from enhancement.images.forms import check_image_file, image_name_from_filename
from enhancement.models import EnhancedImage, ImageEnhancementJob, JobStatus

logger = logging.getLogger(__name__)

# A job in any of these states may still write files or owe a refund: its image must stay.
UNFINISHED_JOB_STATUSES = (JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.FAILED)

STORE_FAILED_MESSAGE = "We could not store this file just now. Nothing was kept; please try again."


class ImageError(Exception):
    """Base of the image domain errors; `str(e)` is a sentence a user can read."""


class ImageBusy(ImageError):
    def __init__(self):
        super().__init__(
            "This image is being enhanced. Wait for the enhancement to finish or cancel it, "
            "then delete the image."
        )


class ImageNotStored(ImageError):
    def __init__(self):
        super().__init__(STORE_FAILED_MESSAGE)


@dataclass(frozen=True)
class CreatedImage:
    filename: str
    image: EnhancedImage
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RejectedFile:
    filename: str
    message: str
    code: str = ""


@dataclass
class UploadOutcome:
    created: list[CreatedImage] = field(default_factory=list)
    rejected: list[RejectedFile] = field(default_factory=list)


def upload_images(
    *, user: AbstractBaseUser, files: Iterable[UploadedFile], keep_location: bool = False
) -> UploadOutcome:
    """Check and store each uploaded file on its own: a bad file gets a message and leaves
    nothing behind, the good files of the same upload are kept.

    Files are handled one after another (only one decoded image in memory at a time). Never
    raises for bad input; storage or database failures become a per-file message (and a log).
    """
    outcome = UploadOutcome()
    for uploaded in files:
        filename = getattr(uploaded, "name", "") or ""
        try:
            normalized = check_image_file(uploaded, keep_location=keep_location)
            image = create_image(
                user=user, name=image_name_from_filename(filename), normalized=normalized
            )
        except imaging.ImageRejected as exc:
            outcome.rejected.append(RejectedFile(filename, exc.message, exc.code))
        except ImageNotStored as exc:
            outcome.rejected.append(RejectedFile(filename, str(exc), "not_stored"))
        else:
            outcome.created.append(CreatedImage(filename, image, normalized.notes))
        finally:
            close = getattr(uploaded, "close", None)
            if close is not None:
                close()
    return outcome


def create_image(
    *, user: AbstractBaseUser, name: str, normalized: imaging.NormalizedImage
) -> EnhancedImage:
    """Store a checked original and its derivatives, then insert its row.

    Derivatives (a grid thumbnail and a preview, WebP, no metadata at all) are made before any
    write. Objects are written before the row; if a write or the insert fails, every object
    written is deleted and `ImageNotStored` is raised. Call it outside a transaction: the row
    must be committed once this returns, or objects could outlive a rolled-back row.
    """
    image_id = new_id()
    keys = {"image_id": image_id}
    if len(normalized.derivatives) == 2:  # made by the upload's check from its one decode
        (preview, _pw, _ph), (thumb, _tw, _th) = normalized.derivatives
    else:
        # The preview from the original; the thumbnail from the (much smaller) preview.
        preview, _pw, _ph = imaging.make_derivative(
            normalized.data, max_dimension=settings.DERIVATIVE_PREVIEW_MAX
        )
        thumb, _tw, _th = imaging.make_derivative(
            preview, max_dimension=settings.DERIVATIVE_THUMB_MAX
        )
    written: list[str] = []
    try:
        original_name = storage.save_bytes(
            storage.original_key(**keys, extension=normalized.extension),
            normalized.data,
            content_type=normalized.content_type,
        )
        written.append(original_name)
        preview_name = storage.save_bytes(
            storage.preview_key(**keys), preview, content_type="image/webp"
        )
        written.append(preview_name)
        thumb_name = storage.save_bytes(
            storage.thumbnail_key(**keys), thumb, content_type="image/webp"
        )
        written.append(thumb_name)
        with transaction.atomic():
            return EnhancedImage.objects.create(
                id=image_id,
                user=user,
                name=name[:255] or "Untitled",
                original_r2_key=original_name,
                original_width=normalized.width,
                original_height=normalized.height,
                original_size_bytes=normalized.size_bytes,
                original_format=normalized.format,
                photo_facts=normalized.facts,
                thumbnail_r2_key=thumb_name,
                preview_r2_key=preview_name,
            )
    except Exception as exc:  # storage or database: never a row without objects, nor the reverse
        logger.exception("Storing image %s failed; removing %d objects", image_id, len(written))
        _delete_quietly(written)
        raise ImageNotStored() from exc


def _delete_quietly(keys) -> None:
    for key in keys:
        try:
            storage.delete_keys([key])
        except Exception:
            logger.exception("Could not delete %s after a failed upload", key)


def update_image(*, image: EnhancedImage, name: str, description: str | None) -> EnhancedImage:
    """Rename and describe an image (already checked by `ImageEditForm`)."""
    image.name = name
    image.description = description
    image.save(update_fields=["name", "description", "updated_at"])
    return image


def set_public(*, image: EnhancedImage, is_public: bool) -> EnhancedImage:
    """Publish an image to the public gallery, or take it back."""
    if image.is_public != is_public:
        image.is_public = is_public
        image.save(update_fields=["is_public", "updated_at"])
    return image


def record_view(*, image: EnhancedImage, viewer: AbstractBaseUser | AnonymousUser) -> bool:
    """Count one view of a public image by someone other than its owner (anonymous visitors
    count). One page view is one view: no de-duplication per visitor. The increment is a single
    `UPDATE ... SET view_count = view_count + 1` (atomic, no lost updates) that also re-checks
    `is_public` in the database. Returns whether a view was counted."""
    if not image.is_public:
        return False
    if getattr(viewer, "is_authenticated", False) and viewer.pk == image.user_id:
        return False
    counted = EnhancedImage.objects.filter(pk=image.pk, is_public=True).update(
        view_count=F("view_count") + 1
    )
    return counted == 1


def delete_image(*, image: EnhancedImage) -> None:
    """Delete an image, its enhancement jobs (cascade) and, after the commit, every stored object
    under its prefix (original, derivatives, job results).

    Locks the image row; raises `ImageBusy` (nothing changed) while a job of the image is
    pending, processing or waiting for a retry, since that job may still write files or owe a
    refund. Deleting an image already gone does nothing.
    """
    with transaction.atomic():
        locked = EnhancedImage.objects.select_for_update().filter(pk=image.pk).first()
        if locked is None:
            return
        unfinished = ImageEnhancementJob.objects.filter(
            image=locked, status__in=UNFINISHED_JOB_STATUSES
        )
        if unfinished.exists():
            raise ImageBusy()
        locked.delete()  # its objects go after the commit (enhancement.signals)
