"""Checking, normalising and resizing uploaded images.

Pure functions: bytes and file objects in, bytes out. No models, no storage, no settings;
limits come in as arguments.

What is accepted is decided by decoding the content, never by the file name or the browser's
content type: JPEG, PNG, WebP, GIF and HEIC/HEIF. Anything else is refused with an
``ImageRejected`` whose ``message`` can be shown to the user as it is.

Metadata policy of the stored original (``normalize_upload``):

- EXIF is kept (camera, date, exposure...), except that the GPS IFD is removed unless the user
  asked to keep the location, and the Orientation tag is removed because the pixels are stored
  upright. The EXIF thumbnail (IFD1) is not carried over. If the EXIF block cannot be parsed
  or re-written it is dropped whole, which can only remove data, never leak it.
- XMP, JPEG comments and other text chunks are dropped always: XMP can repeat the GPS
  position and the orientation.
- An ICC profile is kept when it matches the stored colour space (an RGB profile on an RGB
  image, a grey one on a greyscale image), so wide-gamut photos keep their colours. CMYK is
  converted to sRGB (through its ICC profile when it has one) and its profile dropped.

Output formats: JPEG and HEIF uploads are stored as JPEG at quality 92 (PNG when a HEIF has
alpha); PNG and the first frame of a GIF as PNG; WebP as WebP, lossless when the upload was
(JPEG, or PNG with alpha, in the rare case libwebp refuses to encode a very detailed picture).
Animated files keep their first frame; a HEIF holding several pictures keeps its primary one.
Pixels become 8 bits per channel in L, RGB or RGBA (16-bit samples are scaled, not clipped).

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
from enhancement.imaging.uploads import NormalizedImage, normalize_upload

__all__ = [
    "ACCEPTED_TYPES_TEXT",
    "ACCEPT_ATTRIBUTE",
    "OUTPUT_FORMATS",
    "ImageRejected",
    "NormalizedImage",
    "OutputFormat",
    "UploadLimits",
    "extension_for",
    "grey_to_8bit",
    "make_derivative",
    "normalize_upload",
]
