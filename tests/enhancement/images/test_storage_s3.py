"""The S3 path (production: Cloudflare R2 through django-storages) against moto's S3 server on
loopback: keys, private objects, signed expiring URLs, and deletion of the whole prefix."""

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from enhancement import storage
from enhancement.models import EnhancedImage, JobStatus
from tests import images
from tests.factories import ImageEnhancementJobFactory, upload_file
from tests.fakes import s3

if not s3.moto_available():  # pragma: no cover
    pytest.skip(
        "moto[server] is not installed: the S3 storage path is not tested", allow_module_level=True
    )

pytestmark = pytest.mark.django_db


def upload(client, *files):
    return client.post(reverse("images:upload"), {"files": list(files)})


def test_an_upload_stores_private_objects_under_the_user_and_image(
    owner_client, user, s3_endpoint, bucket
):
    response = upload(owner_client, upload_file("Beach.jpg", images.jpeg_bytes(120, 80)))

    assert response.status_code == 200
    image = EnhancedImage.objects.get()
    prefix = f"images/{image.pk}/"
    assert user.pk not in prefix
    assert s3.list_keys(s3_endpoint, bucket) == [
        prefix + "original.jpg",
        prefix + "preview.webp",
        prefix + "thumb.webp",
    ]
    assert image.original_r2_key.name == prefix + "original.jpg"

    status, body, _headers = s3.fetch(f"{s3_endpoint}/{bucket}/{prefix}original.jpg")
    assert status == 403  # no signature, no object
    for key in ("thumb.webp", "preview.webp"):
        assert s3.fetch(f"{s3_endpoint}/{bucket}/{prefix}{key}")[0] == 403


def test_pages_show_signed_urls_that_fetch(owner_client, s3_endpoint, bucket):
    upload(owner_client, upload_file("a.jpg", images.jpeg_bytes(120, 80)))
    image = EnhancedImage.objects.get()

    html = owner_client.get(reverse("images:library")).content.decode()

    card = re.search(r'class="image-card-link".*?<img src="([^"]+)"', html, re.DOTALL)
    thumb_url = unescape(card.group(1))
    assert thumb_url.startswith(f"{s3_endpoint}/{bucket}/{image.thumbnail_r2_key.name}?")
    assert "X-Amz-Signature=" in thumb_url and "X-Amz-Expires=" in thumb_url
    status, body, headers = s3.fetch(thumb_url)
    assert status == 200
    assert body[8:12] == b"WEBP"
    # The same object without the query string is refused.
    assert s3.fetch(thumb_url.split("?")[0])[0] == 403


def test_download_redirects_to_a_signed_url_naming_the_file(
    owner_client, stranger_client, s3_endpoint, bucket
):
    upload(owner_client, upload_file("Beach.jpg", images.jpeg_bytes(120, 80)))
    image = EnhancedImage.objects.get()

    response = owner_client.get(reverse("images:download_original", args=[image.pk]))

    assert response.status_code == 302
    location = response["Location"]
    assert urlsplit(location).path == f"/{bucket}/{image.original_r2_key.name}"
    status, body, headers = s3.fetch(location)
    assert status == 200
    assert body == storage.read_bytes(image.original_r2_key.name)
    assert body[:3] == b"\xff\xd8\xff"
    assert "attachment" in headers.get("Content-Disposition", "")
    assert 'filename="Beach.jpg"' in headers.get("Content-Disposition", "")
    # Another user never gets the signed URL.
    assert (
        stranger_client.get(reverse("images:download_original", args=[image.pk])).status_code == 404
    )


def test_delete_removes_every_object_under_the_prefix(
    owner_client, user, s3_endpoint, bucket, django_capture_on_commit_callbacks
):
    upload(
        owner_client,
        upload_file("a.jpg", images.jpeg_bytes(120, 80)),
        upload_file("b.png", images.png_bytes(), "image/png"),
    )
    image, kept = EnhancedImage.objects.order_by("name")
    job = ImageEnhancementJobFactory(image=image, status=JobStatus.COMPLETED)
    storage.save_bytes(
        storage.job_result_key(image_id=image.pk, job_id=job.pk, extension="jpg"),
        b"enhanced",
    )
    prefix = storage.image_prefix(image_id=image.pk)
    assert len(s3.list_keys(s3_endpoint, bucket, prefix)) == 4

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("images:delete", args=[image.pk]))

    assert response.status_code == 302
    assert s3.list_keys(s3_endpoint, bucket, prefix) == []
    kept_prefix = storage.image_prefix(image_id=kept.pk)
    assert len(s3.list_keys(s3_endpoint, bucket, kept_prefix)) == 3


def test_a_bad_file_leaves_no_object_in_the_bucket(owner_client, s3_endpoint, bucket):
    response = upload(owner_client, upload_file("x.jpg", images.truncated_jpeg()))

    assert response.status_code == 400
    assert s3.list_keys(s3_endpoint, bucket) == []
    assert not EnhancedImage.objects.exists()
