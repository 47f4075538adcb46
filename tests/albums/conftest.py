"""Albums' fixtures: the owner's stored images, an album of them, shared albums in every link
state, and an enhanced image whose result carries EXIF with a GPS position (so that tests can
prove no visitor ever gets it)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from albums import services
from albums.models import Album, AlbumPrivacy
from core.ids import new_share_token
from enhancement import imaging, storage
from enhancement.models import JobStatus
from tests import images
from tests.factories import AlbumFactory, ImageEnhancementJobFactory, stored_image

PASSWORD = "open sesame"


def enhance(image, *, tier: str = "TIER_2K", data: bytes | None = None):
    """A COMPLETED job of `image` with its files stored as the worker stores them: the result
    (by default a JPEG with camera EXIF and a GPS position, as when the owner kept the
    location) and its preview (a derivative without metadata)."""
    data = data or images.jpeg_with_exif(120, 80, gps=True, orientation=1)
    job = ImageEnhancementJobFactory(image=image, status=JobStatus.COMPLETED, tier=tier)
    ids = {"image_id": image.pk, "job_id": job.pk}
    job.enhanced_r2_key = storage.save_bytes(
        storage.job_result_key(**ids, extension="jpg"), data, content_type="image/jpeg"
    )
    preview, width, height = imaging.make_derivative(data, max_dimension=1600)
    job.enhanced_preview_r2_key = storage.save_bytes(
        storage.job_preview_key(**ids), preview, content_type="image/webp"
    )
    job.enhanced_width, job.enhanced_height = width, height
    job.save()
    return job


@pytest.fixture
def photos(user):
    """Three stored images of the owner (originals with EXIF and GPS, as kept by the owner)."""
    return [
        stored_image(user, name=f"Photo {n}", data=images.jpeg_with_exif(60, 40, orientation=1))
        for n in range(1, 4)
    ]


@pytest.fixture
def album(user, photos):
    album = services.create_album(user=user, name="Holidays", description="Sea and sun")
    services.add_images(album=album, image_ids=[p.pk for p in photos])
    return album


def make_shared(
    album: Album,
    *,
    privacy: str = AlbumPrivacy.UNLISTED,
    password: str | None = None,
    expires_at: dt.datetime | None = None,
    allow_download: bool = False,
) -> Album:
    """Set the album's link state straight in the database (an expired link cannot be made
    through the service, which refuses a past expiry)."""
    Album.objects.filter(pk=album.pk).update(
        privacy=privacy,
        share_token=album.share_token or new_share_token(),
        share_password=make_password(password) if password else "",
        share_expires_at=expires_at,
        allow_download=allow_download,
    )
    album.refresh_from_db()
    return album


@pytest.fixture
def yesterday():
    return timezone.now() - dt.timedelta(days=1)


@pytest.fixture
def other_album(other_user):
    """Bob's album with one of his images."""
    album = AlbumFactory(user=other_user, name="Bob's album")
    services.add_images(album=album, image_ids=[stored_image(other_user, name="Bob's photo").pk])
    return album
