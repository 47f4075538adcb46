"""Checking, normalising and resizing uploaded images.

Pure functions: bytes and file objects in, bytes out. No models, no storage, no settings;
limits come in as arguments.

What is accepted is decided by decoding the content, never by the file name or the browser's
content type: JPEG, PNG, WebP, GIF and HEIC/HEIF. Anything else is refused with an
``ImageRejected`` whose ``message`` can be shown to the user as it is.

The stored original (``normalize_upload``) is the uploaded file byte for byte: JPEG, PNG, WebP,
GIF and HEIF stay what they are, CMYK, 16-bit, palette and animated files included. The one
change is the location, removed unless the user asked to keep it, by a lossless metadata edit
(``metadata.remove_location``: the GPS directory emptied in place, XMP location properties
blanked); the pixels are never decoded into the stored file. Conversions happen where they are
needed: in the derivatives (``make_derivative``: WebP in sRGB with no metadata at all) and in
the engine's input (``working_copy``: upright 8-bit pixels for files an engine cannot read as
they are). Results carry the original's EXIF (``metadata.exif_for_result``).

Decompression bombs: the pixel count is checked from the header before anything is decoded
(see `reading`).

Derivatives (``make_derivative``) are WebP in sRGB with no metadata at all.

The package, by role: `formats` (what we accept and write), `reading` (identify, open, decode),
`colour` (modes and sRGB), `uploads` (the stored original), `derivatives` (thumbnails and
previews). Callers use the names below.
"""

from enhancement.imaging.colour import grey_to_8bit
from enhancement.imaging.derivatives import make_derivative
from enhancement.imaging.formats import (
    ACCEPT_ATTRIBUTE,
    ACCEPTED_TYPES_TEXT,
    OUTPUT_FORMATS,
    ImageRejected,
    OutputFormat,
    UploadLimits,
    extension_for,
)
from enhancement.imaging.metadata import exif_for_result, photo_facts, with_exif
from enhancement.imaging.uploads import (
    ORIGINAL_FILES,
    NormalizedImage,
    normalize_upload,
    working_copy,
)

__all__ = [
    "ACCEPTED_TYPES_TEXT",
    "ACCEPT_ATTRIBUTE",
    "OUTPUT_FORMATS",
    "ImageRejected",
    "NormalizedImage",
    "ORIGINAL_FILES",
    "OutputFormat",
    "UploadLimits",
    "extension_for",
    "grey_to_8bit",
    "make_derivative",
    "exif_for_result",
    "normalize_upload",
    "photo_facts",
    "with_exif",
    "working_copy",
]
