"""What we accept and what we write: formats, limits, and the refusal a user reads."""

from __future__ import annotations

from dataclasses import dataclass

JPEG_QUALITY = 92

WEBP_QUALITY = 92


# Pillow's format name -> ours. MPO is how Pillow names camera JPEGs that carry extra
# pictures (depth maps, previews): a JPEG to us.
ACCEPTED_FORMATS = {
    "JPEG": "jpeg",
    "MPO": "jpeg",
    "PNG": "png",
    "WEBP": "webp",
    "GIF": "gif",
    "HEIF": "heif",
}

# What to ask Image.open for: the JPEG plugin itself returns MPO files.
OPEN_FORMATS = ["JPEG", "PNG", "WEBP", "GIF", "HEIF"]

ACCEPTED_TYPES_TEXT = "JPEG, PNG, WebP, GIF or HEIC"

# For <input type="file" accept="...">; a hint to the browser only, the content decides.
ACCEPT_ATTRIBUTE = (
    "image/jpeg,image/png,image/webp,image/gif,image/heic,image/heif,.heic,.heif,.jpg,.jpeg"
)


@dataclass(frozen=True)
class OutputFormat:
    """A format we write (stored originals, engine results, converted downloads)."""

    pillow: str  # Pillow's format name
    extension: str
    content_type: str
    label: str  # as people name it


# Our format name -> how it is written. The one table of output formats.
OUTPUT_FORMATS = {
    "png": OutputFormat("PNG", "png", "image/png", "PNG"),
    "jpeg": OutputFormat("JPEG", "jpg", "image/jpeg", "JPEG"),
    "webp": OutputFormat("WEBP", "webp", "image/webp", "WebP"),
}


def extension_for(fmt: str) -> str:
    """The file extension of one of our formats ("jpeg" -> "jpg"); unknown ones as they are."""
    spec = OUTPUT_FORMATS.get(fmt)
    return spec.extension if spec else fmt


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 50 * 1024 * 1024
    max_pixels: int = 50_000_000


class ImageRejected(Exception):
    """A file we refuse.

    ``message`` is one clear sentence for the user, naming no internals. ``code`` is a short
    machine code: "empty", "too_large", "not_an_image", "unsupported_type", "truncated",
    "corrupt" or "too_many_pixels".
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"ImageRejected(code={self.code!r}, message={self.message!r})"
