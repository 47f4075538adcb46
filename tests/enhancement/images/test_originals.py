"""Originals are kept byte for byte (but for a location the user did not keep), and results
carry the photo's metadata."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from enhancement import storage
from enhancement.imaging import UploadLimits, metadata, normalize_upload
from enhancement.jobs import ordering
from enhancement.models import EnhancedImage, JobStatus
from tests import images
from tests.factories import fund, upload_file

pytestmark = pytest.mark.django_db

EXIF_IFD = 0x8769
DATE_TAKEN = 0x9003
LENS = 0xA434


def camera_exif(*, gps: bool = True, orientation: int = 1) -> Image.Exif:
    exif = images.gps_exif() if gps else Image.Exif()
    exif[images.EXIF_MAKE] = images.CAMERA_MAKE
    exif[0x0110] = "TestCam Mark II"  # Model
    exif[0x013B] = "Ann Example"  # Artist
    exif[0x8298] = "(c) Ann Example"  # Copyright
    if orientation != 1:
        exif[images.EXIF_ORIENTATION] = orientation
    sub = exif.get_ifd(EXIF_IFD)
    sub[DATE_TAKEN] = "2024:07:14 18:32:05"
    sub[LENS] = "TestLens 35mm f/1.8"
    return exif


def saved(img: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo(width=96, height=64) -> Image.Image:
    img = Image.effect_mandelbrot((width, height), (-2, -1.2, 1, 1.2), 60).convert("RGB")
    img.paste((200, 30, 30), (0, 0, 10, 10))
    return img


CORPUS = {
    "jpeg with gps": lambda: saved(photo(), "JPEG", quality=87, exif=camera_exif().tobytes()),
    "jpeg rotated": lambda: saved(
        photo(), "JPEG", quality=90, exif=camera_exif(orientation=6).tobytes()
    ),
    "jpeg plain": lambda: images.jpeg_bytes(80, 60),
    "png with gps": lambda: saved(photo(), "PNG", exif=camera_exif().tobytes()),
    "webp with gps": lambda: saved(photo(), "WEBP", quality=80, exif=camera_exif().tobytes()),
    "heic with gps": lambda: images.heic_bytes(64, 48, exif=camera_exif().tobytes()),
    "cmyk jpeg": images.cmyk_jpeg,
    "16-bit png": lambda: images.png16(value=40000, rgb=True),
    "palette png": lambda: images.png_bytes(mode="P"),
    "animated gif": lambda: images.gif_bytes(frames=3),
}


def pixels(data: bytes) -> tuple:
    with Image.open(io.BytesIO(data)) as img:
        frames = []
        for index in range(getattr(img, "n_frames", 1)):
            img.seek(index)
            frames.append((img.mode, img.size, img.tobytes()))
        return tuple(frames)


@pytest.mark.parametrize("case", list(CORPUS))
def test_every_original_keeps_its_pixels_and_only_loses_its_location(case):
    uploaded = CORPUS[case]()
    limits = UploadLimits()

    stored = normalize_upload(uploaded, limits=limits)
    kept = normalize_upload(uploaded, limits=limits, keep_location=True)

    assert kept.data == uploaded  # "keep location": the whole file, byte for byte
    assert pixels(stored.data) == pixels(uploaded)  # otherwise only metadata changed
    with Image.open(io.BytesIO(stored.data)) as img:
        assert not img.getexif().get_ifd(images.EXIF_GPS_IFD)
    assert images.GPS_MARKER.encode() not in stored.data
    if b"TestCam" in uploaded:
        assert b"TestCam" in stored.data  # the rest of the EXIF stays


def test_a_jpeg_keeps_its_quantisation_tables_and_size():
    uploaded = saved(photo(400, 300), "JPEG", quality=61, exif=camera_exif().tobytes())
    stored = normalize_upload(uploaded, limits=UploadLimits()).data
    with Image.open(io.BytesIO(uploaded)) as a, Image.open(io.BytesIO(stored)) as b:
        assert a.quantization == b.quantization
    assert len(stored) == len(uploaded)  # the GPS directory was emptied in place


@pytest.mark.parametrize("where", ["gps directory", "ifd0 offset"])
def test_a_broken_exif_block_is_dropped_and_the_photo_accepted(where):
    uploaded = bytearray(saved(photo(), "JPEG", quality=85, exif=camera_exif().tobytes()))
    tiff = uploaded.find(b"Exif\x00\x00") + 6
    if where == "ifd0 offset":
        uploaded[tiff + 4 : tiff + 8] = b"\xff\xff\xff\x7f"
    else:  # a GPS pointer far outside the block
        order = "<" if uploaded[tiff : tiff + 2] == b"II" else ">"
        ifd0 = tiff + struct.unpack_from(order + "I", uploaded, tiff + 4)[0]
        count = struct.unpack_from(order + "H", uploaded, ifd0)[0]
        entries = [ifd0 + 2 + 12 * i for i in range(count)]
        (gps_at,) = [
            e for e in entries if struct.unpack_from(order + "H", uploaded, e)[0] == 0x8825
        ]
        struct.pack_into(order + "I", uploaded, gps_at + 8, 0x0FFFFFFF)
    uploaded = bytes(uploaded)

    stored = normalize_upload(uploaded, limits=UploadLimits())

    assert pixels(stored.data) == pixels(uploaded)
    assert "A damaged metadata block in the file was removed." in stored.notes
    assert images.GPS_MARKER.encode() not in stored.data


def test_the_original_downloads_byte_for_byte(owner_client, user):
    uploaded = saved(photo(), "JPEG", quality=77, exif=camera_exif(gps=False).tobytes())
    response = owner_client.post(
        "/images/upload/", {"files": [upload_file("Harbour.jpg", uploaded)]}
    )
    assert response.status_code in (200, 302)
    image = EnhancedImage.objects.get()
    assert image.photo_facts == {
        "camera": "TestCam Mark II",
        "lens": "TestLens 35mm f/1.8",
        "taken_at": "2024-07-14 18:32",
    }
    page = owner_client.get(f"/images/{image.pk}/").content.decode()
    assert "TestCam Mark II" in page and "2024-07-14 18:32" in page

    download = owner_client.get(f"/images/{image.pk}/original/")
    served = owner_client.get(download["Location"])
    assert b"".join(served.streaming_content) == uploaded


@pytest.mark.parametrize("keep_location", [False, True])
def test_results_and_converted_downloads_carry_the_photos_metadata(
    owner_client, user, keep_location, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)  # the job runs inline, after the order commits
    settings.GEMINI_API_KEY = ""  # the local engine
    fund(user, 20)
    uploaded = saved(photo(120, 80), "JPEG", quality=85, exif=camera_exif(orientation=6).tobytes())
    data = {"files": [upload_file("Trip.jpg", uploaded)]}
    if keep_location:
        data["keep_location"] = "on"
    owner_client.post("/images/upload/", data)
    image = EnhancedImage.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        job = ordering.order_enhancement(user=user, image=image, tier="TIER_1K", request_key=None)
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED

    result = storage.read_bytes(job.enhanced_r2_key.name)
    downloads = [result] + [
        owner_client.get(f"/jobs/{job.pk}/download/", {"format": fmt}).content
        for fmt in ("png", "jpeg", "webp")
    ]
    for data in downloads:
        with Image.open(io.BytesIO(data)) as img:
            exif = img.getexif()
            sub = exif.get_ifd(EXIF_IFD)
            assert exif[images.EXIF_MAKE] == images.CAMERA_MAKE, img.format
            assert exif[0x8298] == "(c) Ann Example"
            assert sub[DATE_TAKEN] == "2024:07:14 18:32:05"
            assert sub[LENS] == "TestLens 35mm f/1.8"
            assert exif.get(images.EXIF_ORIENTATION, 1) == 1  # upright
            assert (sub[0xA002], sub[0xA003]) == img.size  # the result's own dimensions
            assert img.size[1] > img.size[0]  # turned as the photo is shown
            assert bool(exif.get_ifd(images.EXIF_GPS_IFD)) is keep_location
    # what pages show carries nothing
    for key in (job.enhanced_preview_r2_key.name, image.preview_r2_key.name):
        assert images.CAMERA_MAKE.encode() not in storage.read_bytes(key)


def test_exif_can_be_added_to_each_result_format_without_re_encoding():
    exif = camera_exif(gps=False).tobytes()
    for fmt, pillow in (("jpeg", "JPEG"), ("png", "PNG"), ("webp", "WEBP")):
        plain = saved(photo(), pillow)
        tagged = metadata.with_exif(plain, fmt, exif)
        assert pixels(tagged) == pixels(plain)
        with Image.open(io.BytesIO(tagged)) as img:
            assert img.getexif()[images.EXIF_MAKE] == images.CAMERA_MAKE


def test_a_big_truncated_jpeg_is_refused_even_when_decoded_at_a_reduced_scale():
    from enhancement.imaging import ImageRejected

    data = images.truncated_jpeg(4000, 3000, keep=0.7)
    with pytest.raises(ImageRejected) as refused:
        normalize_upload(data, limits=UploadLimits(), derivative_sizes=(1600, 400))
    assert refused.value.code == "truncated"


def test_derivatives_from_the_checks_decode_match_the_ones_made_from_the_file():
    from enhancement.imaging import make_derivative

    data = saved(photo(3000, 2000), "JPEG", quality=90, exif=camera_exif(orientation=6).tobytes())
    normalized = normalize_upload(data, limits=UploadLimits(), derivative_sizes=(1600, 400))
    (preview, pw, ph), (thumb, tw, th) = normalized.derivatives
    assert (pw, ph) == (1067, 1600) and (tw, th) == (267, 400)  # upright
    assert (normalized.width, normalized.height) == (2000, 3000)
    assert make_derivative(data, max_dimension=1600)[1:] == (pw, ph)
    for webp in (preview, thumb):
        assert images.CAMERA_MAKE.encode() not in webp


def test_a_rotated_jpeg_reaches_the_engine_upright_at_its_own_compression():
    from enhancement.engines.local import estimate_jpeg_quality
    from enhancement.imaging import working_copy

    uploaded = saved(photo(320, 200), "JPEG", quality=55, exif=camera_exif(orientation=6).tobytes())
    engine_reads = working_copy(normalize_upload(uploaded, limits=UploadLimits()).data)
    with Image.open(io.BytesIO(uploaded)) as a, Image.open(io.BytesIO(engine_reads)) as b:
        assert b.format == "JPEG" and b.size == (200, 320)  # upright
        assert estimate_jpeg_quality(b) == estimate_jpeg_quality(a)  # the same denoise level
