import io
import time
import warnings

import pytest
from django.conf import settings
from PIL import Image, ImageCms, ImageFile

from enhancement.imaging import (
    ImageRejected,
    NormalizedImage,
    UploadLimits,
    make_derivative,
    normalize_upload,
    working_copy,
)
from tests import images

LIMITS = UploadLimits()


def normalize(data: bytes, *, limits: UploadLimits = LIMITS, **kwargs) -> NormalizedImage:
    return normalize_upload(io.BytesIO(data), limits=limits, **kwargs)


def rejected(data: bytes, *, limits: UploadLimits = LIMITS) -> ImageRejected:
    with pytest.raises(ImageRejected) as info:
        normalize(data, limits=limits)
    error = info.value
    # One sentence for the user: no library names, no exception text.
    assert error.message.endswith(".")
    for internal in ("PIL", "Pillow", "Error", "cannot identify", "decoder", "libjpeg"):
        assert internal not in error.message
    return error


def reopen(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def close_to(actual, expected, tolerance=6) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


# --- accepted formats -------------------------------------------------------------------


def test_jpeg_is_stored_as_jpeg():
    result = normalize(images.jpeg_bytes(64, 48))

    assert (result.format, result.extension, result.content_type) == ("jpeg", "jpg", "image/jpeg")
    assert (result.width, result.height) == (64, 48)
    assert result.source_format == "jpeg"
    assert not result.animated
    assert result.notes == ()
    assert result.size_bytes == len(result.data)
    stored = reopen(result.data)
    assert (stored.format, stored.size, stored.mode) == ("JPEG", (64, 48), "RGB")


def test_greyscale_jpeg_stays_greyscale():
    stored = reopen(normalize(images.jpeg_bytes(mode="L")).data)

    assert stored.mode == "L"


def test_camera_jpeg_with_a_second_picture_is_a_plain_jpeg():
    result = normalize(images.mpo_bytes(64, 48))

    assert (result.format, result.source_format) == ("jpeg", "jpeg")
    assert (result.width, result.height) == (64, 48)
    assert not result.animated
    assert result.notes == ()


def test_png_is_stored_as_png():
    result = normalize(images.png_bytes(64, 48))

    assert (result.format, result.extension, result.content_type) == ("png", "png", "image/png")
    assert (result.width, result.height, result.source_format) == (64, 48, "png")
    stored = reopen(result.data)
    assert (stored.format, stored.mode) == ("PNG", "RGB")
    assert stored.tobytes() == images.picture(64, 48).tobytes()  # lossless


def test_png_with_alpha_keeps_alpha():
    stored = reopen(normalize(images.png_bytes(mode="RGBA")).data)

    assert stored.mode == "RGBA"
    assert stored.tobytes() == images.picture(mode="RGBA").tobytes()


@pytest.mark.parametrize(
    ("mode", "stored_mode"), [("P", "RGB"), ("LA", "RGBA"), ("L", "L"), ("1", "L")]
)
def test_png_modes_become_web_modes_for_the_engine(mode, stored_mode):
    source = images.png_bytes(mode=mode)
    original = normalize(source).data
    assert original == source  # kept as uploaded
    assert reopen(working_copy(original)).mode == stored_mode


def test_palette_with_transparency_becomes_rgba():
    img = Image.new("P", (8, 8), 0)
    img.putpalette([255, 0, 0, 0, 255, 0])
    img.putpixel((0, 0), 1)
    buf = io.BytesIO()
    img.save(buf, "PNG", transparency=1)

    stored = reopen(working_copy(normalize(buf.getvalue()).data))

    assert stored.mode == "RGBA"
    assert stored.getpixel((0, 0))[3] == 0
    assert stored.getpixel((1, 1)) == (255, 0, 0, 255)


def test_lossy_webp_is_stored_as_webp():
    result = normalize(images.webp_bytes(64, 48))

    assert (result.format, result.extension, result.content_type) == ("webp", "webp", "image/webp")
    assert (result.width, result.height, result.source_format) == (64, 48, "webp")
    assert reopen(result.data).format == "WEBP"


def test_lossless_webp_stays_lossless():
    result = normalize(images.webp_bytes(mode="RGBA", lossless=True))

    stored = reopen(result.data)
    assert stored.mode == "RGBA"
    assert stored.tobytes() == images.picture(mode="RGBA").tobytes()


def test_single_frame_gif_is_kept_as_gif_and_read_as_rgb():
    source = images.gif_bytes(64, 48)
    result = normalize(source)

    assert (result.format, result.extension, result.content_type) == ("gif", "gif", "image/gif")
    assert result.data == source
    assert (result.width, result.height) == (64, 48)
    assert not result.animated
    assert reopen(working_copy(result.data)).convert("RGB").getpixel((10, 10)) == (255, 0, 0)


def test_heic_stays_heic_and_the_engine_reads_a_png():
    source = images.heic_bytes(64, 48)
    result = normalize(source)

    assert (result.format, result.extension, result.content_type) == ("heif", "heic", "image/heic")
    assert result.data == source
    assert (result.width, result.height) == (64, 48)
    assert reopen(working_copy(result.data)).format == "PNG"


def test_heic_with_alpha_keeps_it_for_the_engine():
    result = normalize(images.heic_bytes(mode="RGBA"))

    assert result.format == "heif"
    assert reopen(working_copy(result.data)).mode == "RGBA"


def test_heic_orientation_is_applied_once():
    exif = Image.Exif()
    exif[images.EXIF_ORIENTATION] = 6

    result = normalize(images.heic_bytes(64, 48, exif=exif.tobytes()))

    # Turned once: 48 wide. Turned twice (pillow-heif, then us) it would be 64 wide again.
    assert (result.width, result.height) == (48, 64)
    assert reopen(result.data).size == (48, 64)


def test_heic_with_several_pictures_keeps_the_main_one():
    result = normalize(images.heic_burst_bytes(64, 48))

    assert result.animated
    assert (result.width, result.height) == (64, 48)
    assert "This HEIC file holds several pictures: it is kept whole; we enhance the main one." in (
        result.notes
    )


def test_bytes_are_accepted_as_well_as_files():
    assert normalize_upload(images.png_bytes(), limits=LIMITS).source_format == "png"


def test_type_comes_from_the_content_not_the_name():
    class NamedUpload(io.BytesIO):
        name = "holiday.gif"
        content_type = "image/gif"

    result = normalize_upload(NamedUpload(images.png_bytes()), limits=LIMITS)

    assert result.source_format == "png"


def test_upload_is_read_from_its_start():
    upload = io.BytesIO(images.jpeg_bytes())
    upload.read()  # a form field already looked at it

    assert normalize_upload(upload, limits=LIMITS).source_format == "jpeg"


# --- refused files ----------------------------------------------------------------------


def test_empty_file_is_refused():
    assert rejected(b"").code == "empty"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(images.text_as_jpg(), id="text-named-jpg"),
        pytest.param(images.html_bytes(), id="html"),
        pytest.param(images.svg_bytes(), id="svg"),
        pytest.param(images.pdf_bytes(), id="pdf"),
        pytest.param(images.random_bytes(), id="random-bytes"),
    ],
)
def test_non_images_are_refused(data):
    error = rejected(data)

    assert error.code == "not_an_image"
    assert "JPEG, PNG, WebP, GIF or HEIC" in error.message


@pytest.mark.parametrize(
    ("data", "name"),
    [(images.bmp_bytes(), "BMP"), (images.tiff_bytes(), "TIFF")],
    ids=["bmp", "tiff"],
)
def test_other_image_types_are_refused_by_name(data, name):
    error = rejected(data)

    assert error.code == "unsupported_type"
    assert name in error.message
    assert "JPEG, PNG, WebP, GIF or HEIC" in error.message


def test_truncated_jpeg_is_refused():
    assert rejected(images.truncated_jpeg()).code == "truncated"


def test_png_cut_short_is_refused():
    data = images.png_bytes(256, 256)

    assert rejected(data[: len(data) // 2]).code in ("truncated", "corrupt")


def test_png_with_damaged_pixel_data_is_refused():
    assert rejected(images.corrupt_png_chunk(flip="data")).code == "corrupt"


def test_png_with_bad_chunk_checksum_is_refused():
    # The pixels decode fine; only the IDAT checksum is wrong, which Pillow's decoder skips.
    assert rejected(images.corrupt_png_chunk(flip="crc")).code == "corrupt"


def test_file_over_the_size_limit_is_refused():
    data = images.jpeg_bytes(64, 48)
    limits = UploadLimits(max_bytes=1024)
    assert len(data) > 1024

    error = rejected(data, limits=limits)

    assert error.code == "too_large"
    assert "1 KB" in error.message


def test_file_exactly_at_the_size_limit_is_accepted():
    data = images.jpeg_bytes(64, 48)

    assert normalize(data, limits=UploadLimits(max_bytes=len(data))).source_format == "jpeg"


def test_no_more_than_the_limit_is_read():
    class CountingUpload(io.BytesIO):
        bytes_read = 0

        def read(self, size=-1):
            chunk = super().read(size)
            self.bytes_read += len(chunk)
            return chunk

    upload = CountingUpload(b"\xff\xd8\xff" + bytes(100_000))

    with pytest.raises(ImageRejected):
        normalize_upload(upload, limits=UploadLimits(max_bytes=5000))

    assert upload.bytes_read == 5001


# --- decompression bombs ----------------------------------------------------------------


def test_bomb_generator_is_tiny():
    assert len(images.bomb_png(30000, 30000)) < 200


def test_too_many_pixels_is_refused_before_decoding():
    # 4 MP against a 1 MP limit. The file holds one row of pixels: had it been decoded,
    # the answer would be "truncated", not "too_many_pixels".
    error = rejected(images.bomb_png(2000, 2000), limits=UploadLimits(max_pixels=1_000_000))

    assert error.code == "too_many_pixels"
    assert "2000 × 2000" in error.message
    assert "1 megapixel" in error.message


def test_same_file_within_the_pixel_limit_is_decoded():
    # Proves the test above: with a high enough limit, this file is decoded and fails.
    assert rejected(images.bomb_png(2000, 2000)).code == "truncated"


def test_bomb_in_pillows_warning_range_is_refused_without_a_warning():
    data = images.bomb_png(12000, 12000)  # 144 MP: Pillow only warns
    started = time.perf_counter()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        error = rejected(data)

    assert error.code == "too_many_pixels"
    assert "50 megapixels" in error.message
    assert time.perf_counter() - started < 0.5


def test_bomb_in_pillows_error_range_is_refused():
    data = images.bomb_png(30000, 30000)  # 900 MP: Pillow itself raises at open
    started = time.perf_counter()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        error = rejected(data)

    assert error.code == "too_many_pixels"
    assert "50 megapixels" in error.message
    assert time.perf_counter() - started < 0.5


def test_pillow_limit_is_left_alone():
    before = Image.MAX_IMAGE_PIXELS
    rejected(images.bomb_png(30000, 30000))

    assert before == Image.MAX_IMAGE_PIXELS


def test_truncated_images_must_not_be_loaded(monkeypatch):
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)

    with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
        normalize(images.truncated_jpeg())


# --- animation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (images.gif_bytes(frames=3), "GIF"),
        (images.webp_bytes(frames=3), "WebP"),
        (images.png_bytes(frames=3), "PNG"),
    ],
    ids=["gif", "webp", "apng"],
)
def test_animation_keeps_the_first_frame(data, label):
    result = normalize(data)

    assert result.animated
    assert f"Animated {label}: it is kept whole; we enhance its first frame." in result.notes
    assert result.data == data  # every frame kept
    engine_reads = reopen(working_copy(result.data))
    assert getattr(engine_reads, "n_frames", 1) == 1
    assert close_to(engine_reads.convert("RGB").getpixel((10, 10)), images.FRAME_COLORS[0])


# --- colour -----------------------------------------------------------------------------


def test_cmyk_jpeg_becomes_rgb_with_the_right_colour():
    source = images.cmyk_jpeg()
    assert normalize(source).data == source  # CMYK kept as uploaded
    stored = reopen(working_copy(source))

    assert stored.mode == "RGB"
    assert close_to(stored.getpixel((5, 5)), (0, 255, 255))


@pytest.mark.parametrize(("value", "expected"), [(0, 0), (32768, 128), (65535, 255)])
def test_16_bit_grey_png_is_scaled_not_clipped(value, expected):
    source = images.png16(value=value)
    assert normalize(source).data == source  # 16-bit kept as uploaded
    stored = reopen(working_copy(source))

    assert stored.mode == "L"
    assert abs(stored.getpixel((3, 3)) - expected) <= 1


def test_48_bit_rgb_png_is_scaled():
    stored = reopen(working_copy(normalize(images.png16(value=32768, rgb=True)).data))

    assert stored.mode == "RGB"
    assert close_to(stored.getpixel((3, 3)), (128, 128, 128), tolerance=1)


def test_rgb_icc_profile_is_kept_on_the_original():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()

    stored = reopen(normalize(images.jpeg_bytes(icc_profile=srgb)).data)

    assert stored.info.get("icc_profile") == srgb


# --- orientation and metadata -----------------------------------------------------------


def test_exif_orientation_is_applied_to_the_pixels_the_engine_reads():
    source = images.jpeg_with_exif(60, 40, orientation=6, gps=False)
    result = normalize(source)

    assert (result.width, result.height) == (40, 60)  # as shown
    assert result.data == source  # the file itself keeps its orientation tag
    stored = reopen(working_copy(result.data))
    assert stored.size == (40, 60)
    # The red square stored top-left is shown top-right after a quarter turn clockwise.
    assert close_to(stored.getpixel((40 - 5, 5)), images.MARKER_COLOR, tolerance=20)
    assert close_to(stored.getpixel((5, 5)), images.BACKGROUND_COLOR, tolerance=20)
    assert stored.getexif().get(images.EXIF_ORIENTATION, 1) == 1  # upright, no tag to apply


def test_gps_is_removed_by_default():
    source = images.jpeg_with_exif()
    assert images.GPS_MARKER.encode() in source

    result = normalize(source)

    exif = reopen(result.data).getexif()
    assert images.EXIF_GPS_IFD not in exif
    assert not exif.get_ifd(images.EXIF_GPS_IFD)
    assert images.GPS_MARKER.encode() not in result.data
    assert "Location data (GPS) was removed from the photo." in result.notes


def test_gps_is_kept_when_asked():
    result = normalize(images.jpeg_with_exif(), keep_location=True)

    gps = reopen(result.data).getexif().get_ifd(images.EXIF_GPS_IFD)
    assert gps[0x0001] == "N"
    assert gps[0x0012] == images.GPS_MARKER
    assert result.notes == ()


def _png_with_exif(exif: bytes) -> bytes:
    buf = io.BytesIO()
    images.picture().save(buf, "PNG", exif=exif)
    return buf.getvalue()


def _webp_with_exif(exif: bytes) -> bytes:
    buf = io.BytesIO()
    images.picture().save(buf, "WEBP", exif=exif)
    return buf.getvalue()


@pytest.mark.parametrize(
    "build",
    [_png_with_exif, _webp_with_exif, lambda exif: images.heic_bytes(exif=exif)],
    ids=["png", "webp", "heic"],
)
def test_gps_is_removed_from_every_format(build):
    source = build(images.gps_exif().tobytes())
    assert reopen(source).getexif().get_ifd(images.EXIF_GPS_IFD)

    removed = normalize(source)
    kept = normalize(source, keep_location=True)

    assert images.GPS_MARKER.encode() not in removed.data
    assert not reopen(removed.data).getexif().get_ifd(images.EXIF_GPS_IFD)
    assert reopen(kept.data).getexif().get_ifd(images.EXIF_GPS_IFD)[0x0012] == images.GPS_MARKER


def test_xmp_location_is_blanked_in_place():
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
        b'exif:GPSLatitude="48,51.5N" photoshop:City="Paris" dc:creator="Ann">'
        b"<exif:GPSLongitude>2,21.1E</exif:GPSLongitude><dc:title>Sunset</dc:title>"
        b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    source = images.jpeg_bytes(xmp=xmp)
    assert b"GPSLatitude" in source

    stored = normalize(source).data
    assert len(stored) == len(source)  # blanked, not cut: nothing else moved
    for gone in (b"GPSLatitude", b"48,51.5N", b"GPSLongitude", b"Paris"):
        assert gone not in stored
    assert b'dc:creator="Ann"' in stored and b"<dc:title>Sunset</dc:title>" in stored
    assert reopen(stored).tobytes() == reopen(source).tobytes()


# --- derivatives ------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "expected"), [((800, 600), (400, 300)), ((300, 900), (133, 400))])
def test_derivative_fits_the_box(size, expected):
    data, width, height = make_derivative(
        images.jpeg_bytes(*size), max_dimension=settings.DERIVATIVE_THUMB_MAX
    )

    assert (width, height) == expected
    img = reopen(data)
    assert (img.format, img.size, img.mode) == ("WEBP", expected, "RGB")


def test_derivative_is_never_upscaled():
    data, width, height = make_derivative(
        images.png_bytes(64, 48), max_dimension=settings.DERIVATIVE_PREVIEW_MAX
    )

    assert (width, height) == (64, 48)
    assert reopen(data).size == (64, 48)


def test_derivative_has_no_metadata():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = images.gps_exif()
    exif[images.EXIF_MAKE] = images.CAMERA_MAKE
    source = images.jpeg_bytes(800, 600, exif=exif.tobytes(), icc_profile=srgb, xmp=b"<x/>")

    data, _, _ = make_derivative(source, max_dimension=settings.DERIVATIVE_THUMB_MAX)

    img = reopen(data)
    assert not img.getexif()
    assert not {"exif", "xmp", "icc_profile"} & set(img.info)
    assert images.GPS_MARKER.encode() not in data
    assert images.CAMERA_MAKE.encode() not in data


def test_derivative_keeps_alpha():
    data, _, _ = make_derivative(
        images.png_bytes(800, 600, mode="RGBA"), max_dimension=settings.DERIVATIVE_THUMB_MAX
    )

    img = reopen(data)
    assert img.mode == "RGBA"
    assert img.getpixel((0, 0))[3] < 10  # the source's alpha gradient starts transparent


def test_derivative_of_cmyk_is_rgb():
    data, _, _ = make_derivative(images.cmyk_jpeg(), max_dimension=settings.DERIVATIVE_THUMB_MAX)

    img = reopen(data)
    assert img.mode == "RGB"
    assert close_to(img.getpixel((5, 5)), (0, 255, 255))


def test_derivative_is_upright():
    data, width, height = make_derivative(
        images.jpeg_with_exif(60, 40, orientation=6), max_dimension=settings.DERIVATIVE_THUMB_MAX
    )

    assert (width, height) == (40, 60)
    assert close_to(reopen(data).getpixel((40 - 5, 5)), images.MARKER_COLOR, tolerance=30)


def test_derivative_of_a_non_image_is_refused():
    with pytest.raises(ImageRejected) as info:
        make_derivative(images.html_bytes(), max_dimension=settings.DERIVATIVE_THUMB_MAX)

    assert info.value.code == "not_an_image"
