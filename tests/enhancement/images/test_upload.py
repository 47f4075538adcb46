"""The upload view: what is accepted, what is refused (with a message per file, leaving nothing
behind), limits, CSRF and the rate limit. The pure checks are tested in the imaging tests; here
every case goes through the HTTP view, the service and the storage."""

import io
import re

import pytest
from django.core.files.storage import FileSystemStorage
from django.test import Client
from django.urls import reverse
from PIL import Image

from enhancement.models import EnhancedImage
from tests import images
from tests.factories import upload_file
from tokens.models import TokenTransaction, UserTokenBalance

URL = reverse("images:upload")

pytestmark = pytest.mark.django_db


def post_files(client, *files, keep_location=False, **extra):
    data = {"files": list(files)}
    if keep_location:
        data["keep_location"] = "on"
    return client.post(URL, data, **extra)


def prefix_of(image):
    return f"images/{image.pk}/"


def read_stored(key):
    from enhancement import storage

    return storage.read_bytes(key)


def assert_nothing_left(user, stored_keys, balance_before=0):
    assert not EnhancedImage.objects.exists()
    assert stored_keys() == []
    assert TokenTransaction.objects.filter(user=user).count() == 0
    assert UserTokenBalance.objects.get(user=user).balance == balance_before


# --- the page -----------------------------------------------------------------------------------
def test_upload_page_is_a_plain_multipart_form(owner_client):
    response = owner_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'name="files"' in html and "multiple" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="keep_location"' in html
    assert 'name="keep_location" checked' not in html  # off by default
    assert "enhancement/upload.js" in html
    assert 'aria-live="polite"' in html


def test_anonymous_is_sent_to_login_and_nothing_is_stored(anon_client, stored_keys):
    response = anon_client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = post_files(anon_client, upload_file("a.jpg", images.jpeg_bytes()))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not EnhancedImage.objects.exists()
    assert stored_keys() == []


# --- accepted files -----------------------------------------------------------------------------
def test_a_jpeg_is_stored_with_its_derivatives_and_recorded(owner_client, user, stored_keys):
    response = post_files(owner_client, upload_file("Holiday beach.jpg", images.jpeg_bytes(64, 48)))

    assert response.status_code == 200
    image = EnhancedImage.objects.get()
    assert image.user == user
    assert image.name == "Holiday beach"
    assert (image.original_width, image.original_height) == (64, 48)
    assert image.original_format == "jpeg"
    prefix = prefix_of(image)
    assert image.original_r2_key.name == prefix + "original.jpg"
    assert image.thumbnail_r2_key.name == prefix + "thumb.webp"
    assert image.preview_r2_key.name == prefix + "preview.webp"
    assert stored_keys() == sorted(
        [prefix + "original.jpg", prefix + "preview.webp", prefix + "thumb.webp"]
    )
    assert image.original_size_bytes == len(read_stored(image.original_r2_key.name))
    assert image.is_public is False and image.view_count == 0
    html = response.content.decode()
    assert "Holiday beach.jpg" in html
    assert reverse("images:detail", args=[image.pk]) in html


def test_many_files_at_once_each_become_an_image(owner_client, stored_keys):
    files = [
        upload_file("a.jpg", images.jpeg_bytes()),
        upload_file("b.png", images.png_bytes(mode="RGBA"), "image/png"),
        upload_file("c.webp", images.webp_bytes(), "image/webp"),
        upload_file("d.gif", images.gif_bytes(), "image/gif"),
        upload_file("e.heic", images.heic_bytes(), "image/heic"),
    ]
    response = post_files(owner_client, *files)

    assert response.status_code == 200
    formats = dict(EnhancedImage.objects.values_list("name", "original_format"))
    assert formats == {"a": "jpeg", "b": "png", "c": "webp", "d": "gif", "e": "heif"}
    assert len(stored_keys()) == 5 * 3
    assert "Uploaded 5 images" in response.content.decode()


@pytest.mark.parametrize(
    ("filename", "data", "content_type", "expected_format", "expected_ext"),
    [
        ("photo.jpg", images.png_bytes(), "image/jpeg", "png", "png"),  # a PNG named .jpg
        ("scan.png", images.jpeg_bytes(), "image/png", "jpeg", "jpg"),  # a JPEG named .png
        ("noext", images.webp_bytes(), "application/octet-stream", "webp", "webp"),
    ],
)
def test_the_type_is_decided_by_the_content_not_the_name_or_content_type(
    owner_client, filename, data, content_type, expected_format, expected_ext
):
    response = post_files(owner_client, upload_file(filename, data, content_type))

    assert response.status_code == 200
    image = EnhancedImage.objects.get()
    assert image.original_format == expected_format
    assert image.original_r2_key.name.endswith(f"/original.{expected_ext}")


def test_an_animated_gif_is_kept_whole_and_says_what_is_enhanced(owner_client):
    data = images.gif_bytes(frames=3)
    response = post_files(owner_client, upload_file("anim.gif", data, "image/gif"))

    assert response.status_code == 200
    assert "we enhance its first frame" in response.content.decode()
    image = EnhancedImage.objects.get()
    assert read_stored(image.original_r2_key.name) == data
    with Image.open(io.BytesIO(read_stored(image.thumbnail_r2_key.name))) as thumb:
        shown = thumb.convert("RGB").getpixel((5, 5))  # a lossy WebP of the first frame
    assert all(abs(a - b) <= 4 for a, b in zip(shown, images.FRAME_COLORS[0], strict=True))


def test_a_cmyk_jpeg_is_kept_and_shown_in_rgb(owner_client):
    data = images.cmyk_jpeg()
    response = post_files(owner_client, upload_file("print.jpg", data))

    assert response.status_code == 200
    image = EnhancedImage.objects.get()
    assert read_stored(image.original_r2_key.name) == data  # CMYK as uploaded
    with Image.open(io.BytesIO(read_stored(image.thumbnail_r2_key.name))) as thumb:
        r, g, b = thumb.convert("RGB").getpixel((5, 5))
    assert r < 80 and g > 150 and b > 150


def test_a_16_bit_png_is_kept_and_shown_scaled_to_8_bits(owner_client):
    data = images.png16(value=32768)
    response = post_files(owner_client, upload_file("depth.png", data))

    assert response.status_code == 200
    image = EnhancedImage.objects.get()
    assert read_stored(image.original_r2_key.name) == data  # 16 bits as uploaded
    with Image.open(io.BytesIO(read_stored(image.preview_r2_key.name))) as preview:
        grey = preview.convert("L").getpixel((3, 3))
    assert 120 <= grey <= 135  # mid grey, not clipped to white


def _red_corner(img):
    """Which corner holds the red marker: 'top-left', 'top-right', ..."""
    img = img.convert("RGB")
    w, h = img.size
    corners = {
        "top-left": (2, 2),
        "top-right": (w - 3, 2),
        "bottom-left": (2, h - 3),
        "bottom-right": (w - 3, h - 3),
    }
    for name, xy in corners.items():
        r, g, b = img.getpixel(xy)
        if r > 200 and g < 80 and b < 80:
            return name
    return None


def test_an_exif_rotated_photo_is_kept_as_is_and_shown_upright(owner_client):
    data = images.jpeg_with_exif(60, 40, orientation=6, gps=False)
    response = post_files(owner_client, upload_file("phone.jpg", data))

    assert response.status_code == 200
    image = EnhancedImage.objects.get()
    assert (image.original_width, image.original_height) == (40, 60)  # as shown
    assert read_stored(image.original_r2_key.name) == data  # orientation tag and all
    for key in (image.preview_r2_key.name, image.thumbnail_r2_key.name):
        with Image.open(io.BytesIO(read_stored(key))) as stored:
            assert stored.size == (40, 60)
            assert stored.getexif().get(images.EXIF_ORIENTATION) in (None, 1)
            assert _red_corner(stored) == "top-right"


def test_gps_is_removed_from_the_original_by_default_and_from_derivatives_always(owner_client):
    response = post_files(owner_client, upload_file("trip.jpg", images.jpeg_with_exif()))

    assert response.status_code == 200
    assert "Location data (GPS) was removed" in response.content.decode()
    image = EnhancedImage.objects.get()
    original = read_stored(image.original_r2_key.name)
    assert images.GPS_MARKER.encode() not in original
    with Image.open(io.BytesIO(original)) as stored:
        exif = stored.getexif()
        assert images.EXIF_GPS_IFD not in exif
        assert exif.get(images.EXIF_MAKE) == images.CAMERA_MAKE  # the rest of EXIF is kept
    for key in (image.thumbnail_r2_key.name, image.preview_r2_key.name):
        derivative = read_stored(key)
        assert images.GPS_MARKER.encode() not in derivative
        assert images.CAMERA_MAKE.encode() not in derivative
        with Image.open(io.BytesIO(derivative)) as d:
            assert d.format == "WEBP"
            assert len(d.getexif()) == 0
            assert not d.info.get("exif") and not d.info.get("xmp")


def test_keep_location_keeps_gps_in_the_original_but_never_in_derivatives(owner_client):
    response = post_files(
        owner_client, upload_file("trip.jpg", images.jpeg_with_exif()), keep_location=True
    )

    assert response.status_code == 200
    image = EnhancedImage.objects.get()
    assert images.GPS_MARKER.encode() in read_stored(image.original_r2_key.name)
    for key in (image.thumbnail_r2_key.name, image.preview_r2_key.name):
        assert images.GPS_MARKER.encode() not in read_stored(key)


# --- refused files ------------------------------------------------------------------------------
BAD_FILES = [
    ("empty.jpg", b"", "The file is empty"),
    ("notes.jpg", images.text_as_jpg(), "not an image"),
    ("page.html", images.html_bytes(), "not an image"),
    ("page-as.png", images.html_bytes(), "not an image"),
    ("logo.svg", images.svg_bytes(), "not an image"),
    ("cut.jpg", images.truncated_jpeg(), "incomplete"),
    ("broken.png", images.corrupt_png_chunk(), "damaged"),
    ("bomb.png", images.bomb_png(), "too many pixels"),
    ("old.bmp", images.bmp_bytes(), "BMP images are not supported"),
    ("scan.tiff", images.tiff_bytes(), "TIFF images are not supported"),
    ("doc.pdf", images.pdf_bytes(), "not an image"),
    ("noise.jpg", images.random_bytes(), "not an image"),
]


@pytest.mark.parametrize(("filename", "data", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_gets_a_clear_message_and_leaves_nothing_behind(
    owner_client, user, stored_keys, filename, data, message
):
    response = post_files(owner_client, upload_file(filename, data))

    assert response.status_code == 400
    html = response.content.decode()
    assert filename in html
    assert message in html
    assert "Nothing was uploaded" in html
    assert_nothing_left(user, stored_keys)


def test_bad_files_do_not_cost_the_good_files_of_the_same_upload(owner_client, stored_keys):
    files = [upload_file("good-1.jpg", images.jpeg_bytes())]
    files += [upload_file(name, data) for name, data, _message in BAD_FILES]
    files += [upload_file("good-2.png", images.png_bytes(), "image/png")]

    response = post_files(owner_client, *files)

    assert response.status_code == 200
    assert sorted(EnhancedImage.objects.values_list("name", flat=True)) == ["good-1", "good-2"]
    assert len(stored_keys()) == 2 * 3
    html = response.content.decode()
    assert f"Uploaded 2 of {len(files)} files" in html
    for name, _data, message in BAD_FILES:
        assert name in html and message in html


def test_a_file_over_the_size_limit_is_refused_without_being_kept(
    owner_client, user, settings, stored_keys
):
    settings.UPLOAD_MAX_BYTES = 4096
    big = images.jpeg_bytes(400, 300, quality=95)
    assert len(big) > 4096

    response = post_files(
        owner_client, upload_file("big.jpg", big), upload_file("small.jpg", images.jpeg_bytes(8, 8))
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "big.jpg" in html and "the most we accept is 4 KB" in html
    assert list(EnhancedImage.objects.values_list("name", flat=True)) == ["small"]
    assert len(stored_keys()) == 3


def test_too_many_pixels_is_refused_from_the_header(owner_client, user, settings, stored_keys):
    settings.UPLOAD_MAX_PIXELS = 1000
    response = post_files(owner_client, upload_file("wide.png", images.png_bytes(100, 20)))

    assert response.status_code == 400
    assert "100 × 20 pixels" in response.content.decode()
    assert_nothing_left(user, stored_keys)


def test_more_files_than_allowed_refuses_the_upload_with_a_message(
    owner_client, user, settings, stored_keys
):
    settings.UPLOAD_MAX_FILES = 3
    files = [upload_file(f"{i}.jpg", images.jpeg_bytes(8, 8)) for i in range(4)]

    response = post_files(owner_client, *files)

    assert response.status_code == 400
    assert "at most 3 files at once; you chose 4" in response.content.decode()
    assert_nothing_left(user, stored_keys)


def test_more_files_than_django_parses_gets_a_page_not_a_bare_400(
    owner_client, user, settings, stored_keys
):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 5
    files = [upload_file(f"{i}.jpg", images.jpeg_bytes(8, 8)) for i in range(6)]

    response = post_files(owner_client, *files)

    assert response.status_code == 400
    html = response.content.decode()
    assert "at most 20 files at once" in html
    assert '<form id="upload-form"' in html
    assert_nothing_left(user, stored_keys)


def test_no_file_chosen_asks_for_one(owner_client, user, stored_keys):
    response = owner_client.post(URL, {"keep_location": "on"})

    assert response.status_code == 400
    assert "Choose at least one image" in response.content.decode()
    assert_nothing_left(user, stored_keys)


def test_tokens_are_not_touched_by_an_upload(owner_client, user):
    before = UserTokenBalance.objects.get(user=user).balance
    post_files(owner_client, upload_file("a.jpg", images.jpeg_bytes()))
    assert UserTokenBalance.objects.get(user=user).balance == before
    assert not TokenTransaction.objects.filter(user=user).exists()


class FailingThumbnailStorage(FileSystemStorage):
    """A storage that breaks on the third object of an image (its thumbnail), like a bucket
    going away half-way through an upload."""

    def _save(self, name, content):
        if name.endswith("thumb.webp"):
            raise OSError("storage went away")
        return super()._save(name, content)


def test_a_storage_failure_removes_what_was_written_and_keeps_no_row(
    owner_client, user, settings, tmp_path, stored_keys
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": f"{__name__}.FailingThumbnailStorage",
            "OPTIONS": {"location": tmp_path / "media", "base_url": "/media/"},
        },
    }

    response = post_files(owner_client, upload_file("a.jpg", images.jpeg_bytes()))

    assert response.status_code == 400
    assert "could not store this file" in response.content.decode()
    assert_nothing_left(user, stored_keys)


# --- security -----------------------------------------------------------------------------------
def test_upload_needs_a_csrf_token(user, stored_keys):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    refused = post_files(client, upload_file("a.jpg", images.jpeg_bytes()))
    assert refused.status_code == 403
    assert stored_keys() == []

    client.get(URL)  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        URL, {"files": [upload_file("a.jpg", images.jpeg_bytes())], "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 200
    assert EnhancedImage.objects.count() == 1


def test_uploads_are_rate_limited_per_user(owner_client, stranger_client, settings):
    settings.UPLOAD_RATE_PER_MINUTE = 2
    for _ in range(2):
        assert (
            post_files(owner_client, upload_file("a.jpg", images.jpeg_bytes())).status_code == 200
        )

    refused = post_files(owner_client, upload_file("a.jpg", images.jpeg_bytes()))

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "wait a minute" in refused.content.decode()
    assert EnhancedImage.objects.count() == 2
    # Another user has a budget of their own.
    assert post_files(stranger_client, upload_file("b.jpg", images.jpeg_bytes())).status_code == 200


def test_the_default_rate_is_30_uploads_a_minute(settings):
    from config import settings as project_settings

    assert project_settings.UPLOAD_RATE_PER_MINUTE == 30
    assert project_settings.UPLOAD_MAX_FILES == 20
    assert project_settings.UPLOAD_MAX_BYTES == 50 * 1024 * 1024
    assert project_settings.UPLOAD_MAX_PIXELS == 50_000_000


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (  # cut off before the closing boundary
            b'--xx\r\nContent-Disposition: form-data; name="files"; filename="a.jpg"\r\n\r\nabc',
            "multipart/form-data; boundary=xx",
        ),
        (b"garbage", "multipart/form-data"),  # no boundary at all
        (b"garbage", "multipart/form-data; boundary="),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),  # a raw image instead of a form
        (b"files=abc", "application/x-www-form-urlencoded"),  # a text where a file should be
    ],
    ids=["truncated-multipart", "no-boundary", "empty-boundary", "raw-body", "urlencoded"],
)
def test_a_malformed_request_gets_a_page_never_a_500(
    owner_client, user, stored_keys, body, content_type
):
    response = owner_client.generic("POST", URL, body, content_type=content_type)

    assert response.status_code == 400
    html = response.content.decode()
    assert '<form id="upload-form"' in html
    assert "nothing was uploaded" in html.lower() or "Choose at least one image" in html
    assert_nothing_left(user, stored_keys)


def test_after_an_upload_the_results_offer_to_enhance_them_in_one_batch(owner_client, user):
    from tests.factories import fund

    fund(user, 20)
    response = post_files(
        owner_client,
        upload_file("a.jpg", images.jpeg_bytes(64, 48)),
        upload_file("b.jpg", images.jpeg_bytes(80, 60)),
    )
    html = response.content.decode()
    assert 'action="/jobs/batch/"' in html and "Enhance these" in html
    for described in re.findall(r'aria-describedby="([^"]+)"', html):
        for target in described.split():
            assert f'id="{target}"' in html, f"aria-describedby points at a missing #{target}"
    ids = re.findall(r'name="image_ids" value="([a-z0-9]{25})"', html)
    assert sorted(ids) == sorted(EnhancedImage.objects.values_list("pk", flat=True))

    review = owner_client.post("/jobs/batch/", {"image_ids": ids, "tier": "TIER_1K"})
    assert review.status_code == 200
    assert "4 tokens" in review.content.decode()  # the batch review: 2 images x 2 tokens
