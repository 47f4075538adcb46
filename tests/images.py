"""Test image files built in memory, deterministic, small and fast.

Every function returns the bytes of a file as a user could upload it. Reuse them anywhere:
``SimpleUploadedFile("photo.jpg", jpeg_bytes(), content_type="image/jpeg")``.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from fractions import Fraction

import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()

# Written into the GPS IFD of jpeg_with_exif(); look for it in stored bytes.
GPS_MARKER = "TEST-GPS-DATUM-7F3A"
# Written into the EXIF Make tag of jpeg_with_exif(): metadata that should survive.
CAMERA_MAKE = "TestCam"
MARKER_COLOR = (255, 0, 0)
BACKGROUND_COLOR = (255, 255, 255)

EXIF_ORIENTATION = 0x0112
EXIF_MAKE = 0x010F
EXIF_GPS_IFD = 0x8825


def picture(width: int = 64, height: int = 48, mode: str = "RGB") -> Image.Image:
    """A smooth colourful gradient, the same every time."""
    horizontal = Image.linear_gradient("L").rotate(90).resize((width, height))
    vertical = Image.linear_gradient("L").resize((width, height))
    diagonal = Image.blend(horizontal, vertical, 0.5)
    img = Image.merge("RGB", (horizontal, vertical, diagonal))
    if mode == "RGB":
        return img
    if mode == "RGBA":
        alpha = Image.linear_gradient("L").resize((width, height))
        img.putalpha(alpha)
        return img
    return img.convert(mode)


def _save(img: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def jpeg_bytes(
    width: int = 64,
    height: int = 48,
    *,
    mode: str = "RGB",
    quality: int = 90,
    exif: bytes = b"",
    icc_profile: bytes | None = None,
    xmp: bytes = b"",
) -> bytes:
    return _save(
        picture(width, height, mode),
        "JPEG",
        quality=quality,
        exif=exif,
        icc_profile=icc_profile,
        xmp=xmp,
    )


def mpo_bytes(width: int = 64, height: int = 48) -> bytes:
    """A camera-style JPEG carrying a second picture (MPO), as phones write for depth maps."""
    first = picture(width, height)
    second = Image.new("RGB", (width // 2, height // 2), (0, 0, 255))
    return _save(first, "MPO", save_all=True, append_images=[second], quality=90)


def png_bytes(width: int = 64, height: int = 48, *, mode: str = "RGB", frames: int = 1) -> bytes:
    """PNG in any Pillow mode ("RGB", "RGBA", "L", "LA", "P", "1"); frames > 1 gives an APNG."""
    if frames > 1:
        images = _solid_frames(width, height, frames)
        return _save(images[0], "PNG", save_all=True, append_images=images[1:], duration=100)
    return _save(picture(width, height, mode), "PNG")


def webp_bytes(
    width: int = 64,
    height: int = 48,
    *,
    mode: str = "RGB",
    lossless: bool = False,
    frames: int = 1,
) -> bytes:
    if frames > 1:
        images = _solid_frames(width, height, frames)
        return _save(
            images[0],
            "WEBP",
            save_all=True,
            append_images=images[1:],
            duration=100,
            lossless=lossless,
        )
    return _save(picture(width, height, mode), "WEBP", lossless=lossless, quality=90)


FRAME_COLORS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]


def _solid_frames(width: int, height: int, frames: int) -> list[Image.Image]:
    return [
        Image.new("RGB", (width, height), FRAME_COLORS[i % len(FRAME_COLORS)])
        for i in range(frames)
    ]


def gif_bytes(width: int = 64, height: int = 48, *, frames: int = 1) -> bytes:
    """A GIF whose frames are solid red, green, blue, yellow, red..."""
    images = [img.convert("P") for img in _solid_frames(width, height, frames)]
    return _save(images[0], "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)


def heic_bytes(width: int = 64, height: int = 48, *, mode: str = "RGB", exif: bytes = b"") -> bytes:
    return _save(picture(width, height, mode), "HEIF", quality=90, exif=exif or None)


def heic_burst_bytes(width: int = 64, height: int = 48) -> bytes:
    """A HEIF holding two top-level pictures (as burst or edited-photo files do)."""
    second = Image.new("RGB", (width // 2, height // 2), (0, 0, 255))
    return _save(picture(width, height), "HEIF", save_all=True, append_images=[second], quality=90)


def bmp_bytes(width: int = 32, height: int = 24) -> bytes:
    return _save(picture(width, height), "BMP")


def tiff_bytes(width: int = 32, height: int = 24) -> bytes:
    return _save(picture(width, height), "TIFF")


def gps_exif(*, latitude: float = 48.8584, longitude: float = 2.2945) -> Image.Exif:
    """An Exif with a GPS IFD (Eiffel Tower) carrying GPS_MARKER as its map datum."""
    exif = Image.Exif()
    gps = exif.get_ifd(EXIF_GPS_IFD)
    gps[0x0001] = "N" if latitude >= 0 else "S"
    gps[0x0002] = _degrees(abs(latitude))
    gps[0x0003] = "E" if longitude >= 0 else "W"
    gps[0x0004] = _degrees(abs(longitude))
    gps[0x0012] = GPS_MARKER  # GPSMapDatum
    return exif


def _degrees(value: float) -> tuple[Fraction, Fraction, Fraction]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 2)
    return Fraction(degrees), Fraction(minutes), Fraction(seconds).limit_denominator(100)


def jpeg_with_exif(
    width: int = 60,
    height: int = 40,
    *,
    orientation: int = 6,
    gps: bool = True,
    marker_size: int = 12,
) -> bytes:
    """A white JPEG with a red square in the stored top-left corner, and EXIF.

    With orientation 6 a viewer rotates it 90° clockwise: shown as height × width with the
    red square in the top-right corner.
    """
    img = Image.new("RGB", (width, height), BACKGROUND_COLOR)
    img.paste(MARKER_COLOR, (0, 0, marker_size, marker_size))
    exif = gps_exif() if gps else Image.Exif()
    exif[EXIF_MAKE] = CAMERA_MAKE
    if orientation:
        exif[EXIF_ORIENTATION] = orientation
    return _save(img, "JPEG", quality=95, exif=exif.tobytes())


def cmyk_jpeg(
    width: int = 32, height: int = 24, *, cmyk: tuple[int, int, int, int] = (255, 0, 0, 0)
) -> bytes:
    """A solid CMYK JPEG, pure cyan by default. Pillow writes it with Adobe's inverted CMYK."""
    return _save(Image.new("CMYK", (width, height), cmyk), "JPEG", quality=95)


def png16(width: int = 16, height: int = 16, *, value: int = 32768, rgb: bool = False) -> bytes:
    """A 16-bit-per-channel PNG, every sample equal to ``value`` (grey, or 48-bit RGB)."""
    channels = 3 if rgb else 1
    color_type = 2 if rgb else 0
    row = b"\x00" + struct.pack(">H", value) * (width * channels)
    raw = row * height
    return _png(width, height, bit_depth=16, color_type=color_type, idat=zlib.compress(raw))


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A tiny 1-bit greyscale PNG whose header claims ``width`` × ``height`` pixels.

    Only the first row of pixel data is present, so a decoder that went past the header
    check would fail with a truncated-image error instead of producing a picture: a test
    expecting "too_many_pixels" therefore proves the file was refused before decoding.
    Generation takes microseconds whatever the dimensions.
    """
    row = b"\x00" * (1 + (width + 7) // 8)
    stream = zlib.compressobj(9)
    # Flushed but not finished: the decoder would ask for more data and find none.
    idat = stream.compress(row) + stream.flush(zlib.Z_SYNC_FLUSH)
    return _png(width, height, bit_depth=1, color_type=0, idat=idat)


def _png(width: int, height: int, *, bit_depth: int, color_type: int, idat: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def truncated_jpeg(width: int = 256, height: int = 256, *, keep: float = 0.6) -> bytes:
    """A JPEG cut after ``keep`` of its bytes: headers intact, scan data missing."""
    data = jpeg_bytes(width, height, quality=95)
    return data[: int(len(data) * keep)]


def corrupt_png_chunk(width: int = 64, height: int = 48, *, flip: str = "data") -> bytes:
    """A PNG whose IDAT chunk no longer matches its CRC.

    ``flip="data"`` flips a byte in the middle of the compressed pixels (zlib notices too);
    ``flip="crc"`` flips a byte of the stored checksum only, leaving the pixels intact, so
    only a CRC check can tell.
    """
    data = bytearray(png_bytes(width, height))
    start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8 : start - 4])[0]
    position = start + length // 2 if flip == "data" else start + length
    data[position] ^= 0xFF
    return bytes(data)


def svg_bytes() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48">'
        b'<rect width="64" height="48" fill="red"/></svg>\n'
    )


def html_bytes() -> bytes:
    return (
        b"<!DOCTYPE html>\n<html><head><title>x</title></head>"
        b"<body><script>alert(1)</script></body></html>\n"
    )


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def text_as_jpg() -> bytes:
    """Plain text, meant to be uploaded under a .jpg name with an image/jpeg type."""
    return b"This is not a photo, only text with a .jpg name.\n" * 4


def random_bytes(size: int = 4096, *, seed: int = 1234) -> bytes:
    return random.Random(seed).randbytes(size)
