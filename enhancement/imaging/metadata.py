"""The photo's metadata, edited without touching its pixels.

`remove_location` takes where a photo was taken out of the file as uploaded, by a lossless
metadata edit: the image data is never decoded or re-encoded, so the original we keep is the
user's file byte for byte but for the location. Inside the EXIF block (JPEG APP1, PNG eXIf,
WebP EXIF chunk, HEIF Exif item), the GPS directory is emptied in place: its entries and the
values they point at are overwritten with zeros and its entry count set to 0, which keeps every
offset of the file valid (HEIF's item locations point into the file by absolute offset). XMP
packets get their GPS and location properties blanked with spaces of the same length (the XML
stays well formed). A block that cannot be parsed is removed whole (JPEG, PNG) or zeroed in
place (WebP, HEIF): it might hold a location we cannot see, and dropping it costs no pixel.

`photo_facts` reads what the image page shows (camera, lens, capture date) and
`exif_for_result` builds the EXIF an enhanced result carries: the original's, upright, with the
new dimensions.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import zlib
from dataclasses import dataclass

from PIL import ExifTags, Image

logger = logging.getLogger(__name__)

GPS_IFD_TAG = 0x8825
_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_PIXEL_X = 0xA002
_PIXEL_Y = 0xA003
# TIFF field type -> bytes per value (BYTE, ASCII, SHORT, LONG, RATIONAL, SBYTE, UNDEFINED,
# SSHORT, SLONG, SRATIONAL, FLOAT, DOUBLE, IFD).
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_EXIF_HEADER = b"Exif\x00\x00"
_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXTENSION_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# XMP properties that say where: GPS coordinates (exif:, exifEX:) and the IPTC location fields.
_XMP_LOCATION = (
    r"(?:exif|exifEX):GPS\w*|photoshop:(?:City|State|Country)|"
    r"Iptc4xmpCore:(?:Location|CountryCode)|Iptc4xmpExt:Location(?:Shown|Created)"
)
_XMP_ATTRIBUTE = re.compile(rf'\s(?:{_XMP_LOCATION})\s*=\s*(?:"[^"]*"|\'[^\']*\')'.encode())
_XMP_ELEMENT = re.compile(
    rf"<(?P<name>{_XMP_LOCATION})(?:\s[^>]*)?>.*?</(?P=name)\s*>".encode(), re.DOTALL
)
_XMP_EMPTY_ELEMENT = re.compile(rf"<(?:{_XMP_LOCATION})(?:\s[^>]*)?/>".encode())


class MetadataError(ValueError):
    """A metadata block we cannot parse."""


@dataclass(frozen=True)
class LocationRemoval:
    data: bytes  # the file, location removed
    removed: bool  # a location (GPS or XMP) was there and is gone
    dropped_broken: bool  # an unreadable metadata block was dropped


def remove_location(data: bytes, source_format: str, *, image: Image.Image | None = None):
    """The file `data` (of our `source_format`) without its location; see the module's
    docstring. `image` (opened from `data`) helps with HEIF, where the blocks are found through
    pillow-heif. Never raises for bad metadata: the block goes instead."""
    editor = _EDITORS.get(source_format)
    if editor is None:
        return LocationRemoval(data, False, False)
    return editor(data, image)


# --- the EXIF (TIFF) structure ----------------------------------------------------------------
def _blank_gps(buf: bytearray, start: int, end: int) -> bool:
    """Empty the GPS directory of the TIFF structure in `buf[start:end]` in place. True if it
    held anything. Raises `MetadataError` for a structure that does not add up."""
    if end - start < 8:
        raise MetadataError("EXIF block too short")
    order = bytes(buf[start : start + 2])
    if order == b"II":
        e = "<"
    elif order == b"MM":
        e = ">"
    else:
        raise MetadataError("not a TIFF header")
    size = end - start

    def read(fmt: str, offset: int):
        width = struct.calcsize(fmt)
        if offset < 0 or offset + width > size:
            raise MetadataError("offset outside the EXIF block")
        return struct.unpack_from(e + fmt, buf, start + offset)[0]

    ifd0 = read("I", 4)
    count = read("H", ifd0)
    if ifd0 + 2 + 12 * count + 4 > size:
        raise MetadataError("IFD0 runs past the EXIF block")
    gps = pointer = None
    for i in range(count):
        entry = ifd0 + 2 + 12 * i
        if read("H", entry) == GPS_IFD_TAG:
            gps, pointer = read("I", entry + 8), i
            break
    if gps is None:
        return False
    entries = read("H", gps)
    # Take the pointer out of IFD0: the entries after it move up one place, the next-IFD offset
    # with them, and the 12 bytes freed at the end are zeroed. Nothing else moves.
    table = start + ifd0 + 2
    tail = bytes(buf[table + 12 * (pointer + 1) : table + 12 * count + 4])
    buf[table + 12 * pointer : table + 12 * pointer + len(tail)] = tail
    buf[table + 12 * (count - 1) + 4 : table + 12 * count + 4] = bytes(12)
    struct.pack_into(e + "H", buf, start + ifd0, count - 1)
    if entries == 0:
        return True
    if gps + 2 + 12 * entries > size:
        raise MetadataError("GPS directory runs past the EXIF block")
    for i in range(entries):
        entry = gps + 2 + 12 * i
        kind, number, value = read("H", entry + 2), read("I", entry + 4), read("I", entry + 8)
        length = _TYPE_SIZES.get(kind, 1) * number
        if length > 4 and value >= 0 and value + length <= size:
            buf[start + value : start + value + length] = bytes(length)
    buf[start + gps + 2 : start + gps + 2 + 12 * entries] = bytes(12 * entries)
    struct.pack_into(e + "H", buf, start + gps, 0)
    return True


def _blank_xmp(buf: bytearray, start: int, end: int) -> bool:
    """Blank the location properties of the XMP packet in `buf[start:end]` with spaces."""
    packet = bytes(buf[start:end])
    changed = False
    for pattern in (_XMP_ELEMENT, _XMP_EMPTY_ELEMENT, _XMP_ATTRIBUTE):
        for match in pattern.finditer(packet):
            a, b = match.span()
            buf[start + a : start + b] = b" " * (b - a)
            changed = True
        packet = bytes(buf[start:end])
    return changed


# --- JPEG -------------------------------------------------------------------------------------
def _jpeg(data: bytes, _image) -> LocationRemoval:
    buf = bytearray(data)
    removed = broken = False
    drop: list[tuple[int, int]] = []
    for marker, seg_start, seg_end in _jpeg_segments(data):
        if marker != 0xE1:
            continue
        payload = data[seg_start:seg_end]
        if payload.startswith(_EXIF_HEADER):
            try:
                removed |= _blank_gps(buf, seg_start + len(_EXIF_HEADER), seg_end)
            except MetadataError:
                drop.append((seg_start - 4, seg_end))
                broken = True
        elif payload.startswith((_XMP_HEADER, _XMP_EXTENSION_HEADER)):
            removed |= _blank_xmp(buf, seg_start, seg_end)
    for a, b in reversed(drop):
        del buf[a:b]
    return LocationRemoval(bytes(buf), removed, broken)


def _jpeg_segments(data: bytes):
    """(marker, payload start, payload end) of every segment before the image data."""
    if not data.startswith(b"\xff\xd8"):
        return
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: metadata is over
            return
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = struct.unpack_from(">H", data, pos + 2)[0]
        if length < 2 or pos + 2 + length > len(data):
            return
        yield marker, pos + 4, pos + 2 + length
        pos += 2 + length


# --- PNG --------------------------------------------------------------------------------------
def _png(data: bytes, _image) -> LocationRemoval:
    if not data.startswith(_PNG_SIGNATURE):
        return LocationRemoval(data, False, False)
    out = bytearray(data[:8])
    removed = broken = False
    pos = 8
    while pos + 12 <= len(data):
        length = struct.unpack_from(">I", data, pos)[0]
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            out += data[pos:]  # a truncated tail (the decoder has accepted it): keep as is
            break
        chunk = bytearray(data[pos:end])
        body = (8, 8 + length)
        if kind == b"eXIf":
            try:
                removed |= _blank_gps(chunk, *body)
            except MetadataError:
                broken = True
                pos = end
                continue  # drop the chunk
        elif kind == b"iTXt" and bytes(chunk[8:26]).startswith(b"XML:com.adobe.xmp\x00"):
            # keyword, NUL, compression flag, method, language, NUL, translated keyword, NUL
            if chunk[8 + 18] == 0:
                removed |= _blank_xmp(chunk, *body)
            else:  # a compressed XMP packet: we cannot blank it in place, so it goes
                removed = True
                pos = end
                continue
        elif kind in (b"tEXt", b"zTXt", b"iTXt") and bytes(chunk[8:26]).startswith(
            b"Raw profile type"
        ):
            # ImageMagick's hex copies of EXIF/APP1/XMP: a second place for a location.
            removed = True
            pos = end
            continue
        if chunk != data[pos:end]:
            struct.pack_into(">I", chunk, 8 + length, zlib.crc32(chunk[4 : 8 + length]))
        out += chunk
        pos = end
    else:
        out += data[pos:]
    return LocationRemoval(bytes(out), removed, broken)


# --- WebP -------------------------------------------------------------------------------------
def _webp(data: bytes, _image) -> LocationRemoval:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return LocationRemoval(data, False, False)
    buf = bytearray(data)
    removed = broken = False
    pos = 12
    while pos + 8 <= len(buf):
        kind = bytes(buf[pos : pos + 4])
        length = struct.unpack_from("<I", buf, pos + 4)[0]
        start, end = pos + 8, pos + 8 + length
        if end > len(buf):
            break
        if kind == b"EXIF":
            tiff = start + (len(_EXIF_HEADER) if buf[start:end].startswith(_EXIF_HEADER) else 0)
            try:
                removed |= _blank_gps(buf, tiff, end)
            except MetadataError:
                buf[start:end] = bytes(length)  # in place: the RIFF sizes stay right
                broken = True
        elif kind == b"XMP ":
            removed |= _blank_xmp(buf, start, end)
        pos = end + (length & 1)
    return LocationRemoval(bytes(buf), removed, broken)


# --- HEIF -------------------------------------------------------------------------------------
def _heif(data: bytes, image) -> LocationRemoval:
    """HEIF items are located by absolute offsets: only same-length edits in place. The EXIF
    and XMP blocks are found as pillow-heif reads them, then in the file."""
    if image is None:
        return LocationRemoval(data, False, False)
    buf = bytearray(data)
    removed = broken = False
    exif = image.info.get("exif") or b""
    if exif:
        tiff_bytes = exif[len(_EXIF_HEADER) :] if exif.startswith(_EXIF_HEADER) else exif
        at = data.find(tiff_bytes)
        if at >= 0:
            try:
                removed |= _blank_gps(buf, at, at + len(tiff_bytes))
            except MetadataError:
                buf[at : at + len(tiff_bytes)] = bytes(len(tiff_bytes))
                broken = True
        else:
            logger.info("HEIF EXIF block not found in the file; location left to the check")
    xmp = image.info.get("xmp") or b""
    if xmp:
        at = data.find(xmp)
        if at >= 0:
            removed |= _blank_xmp(buf, at, at + len(xmp))
    return LocationRemoval(bytes(buf), removed, broken)


_EDITORS = {"jpeg": _jpeg, "png": _png, "webp": _webp, "heif": _heif}


# --- reading and writing EXIF for results and pages ------------------------------------------
@dataclass(frozen=True)
class PhotoFacts:
    camera: str = ""
    lens: str = ""
    taken_at: str = ""  # as the camera wrote it, "YYYY:MM:DD HH:MM:SS" made readable

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def photo_facts(exif: Image.Exif | None) -> PhotoFacts:
    """Camera, lens and capture date from EXIF, for the image page; empty where absent."""
    if exif is None:
        return PhotoFacts()
    try:
        sub = exif.get_ifd(_EXIF_IFD)
    except Exception:  # noqa: BLE001 - an unreadable sub-directory means no facts
        sub = {}
    make = _text(exif.get(ExifTags.Base.Make))
    model = _text(exif.get(ExifTags.Base.Model))
    camera = model if make and model.lower().startswith(make.lower()) else f"{make} {model}"
    lens = _text(sub.get(ExifTags.Base.LensModel))
    taken = _text(sub.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime))
    match = re.fullmatch(r"(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2})(?::\d{2})?", taken)
    taken_at = f"{match[1]}-{match[2]}-{match[3]} {match[4]}:{match[5]}" if match else ""
    return PhotoFacts(camera=" ".join(camera.split())[:100], lens=lens[:100], taken_at=taken_at)


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value or "").replace("\x00", "").strip()
    return "".join(ch for ch in text if ch.isprintable())


def exif_for_result(original: bytes, *, width: int, height: int) -> bytes:
    """The EXIF an enhanced result carries: the stored original's (so the location only if the
    owner kept it), its Orientation removed (results are upright), the pixel dimensions set
    to the result's, the embedded thumbnail dropped. b"" when there is none or it cannot be
    written back."""
    try:
        with Image.open(io.BytesIO(original)) as image:
            exif = image.getexif()
            if not len(exif):
                return b""
            exif.pop(_ORIENTATION, None)
            sub = exif.get_ifd(_EXIF_IFD)
            if sub:
                sub[_PIXEL_X] = width
                sub[_PIXEL_Y] = height
            data = exif.tobytes()
    except Exception:  # noqa: BLE001 - odd vendor tags Pillow cannot write: no EXIF, never a failure
        logger.info("EXIF not carried to the result", exc_info=True)
        return b""
    return data if len(data) <= 65533 else b""  # one JPEG APP1 segment


def with_exif(data: bytes, fmt: str, exif: bytes) -> bytes:
    """`data` (an encoded JPEG, PNG or WebP) with the EXIF block `exif` added, by a container
    edit (no re-encode). Any EXIF already there is replaced. Other formats, or no `exif`: as is."""
    if not exif:
        return data
    tiff = exif[len(_EXIF_HEADER) :] if exif.startswith(_EXIF_HEADER) else exif
    if fmt == "jpeg" and data.startswith(b"\xff\xd8"):
        segments = list(_jpeg_segments(data))
        drop = [
            (a - 4, b)
            for marker, a, b in segments
            if marker == 0xE1 and data[a:b].startswith(_EXIF_HEADER)
        ]
        body = bytearray(data)
        for a, b in reversed(drop):
            del body[a:b]
        # after SOI and a JFIF APP0 if there is one (readers expect APP0 first)
        at = 2
        if body[2:4] == b"\xff\xe0":
            at = 4 + struct.unpack_from(">H", body, 4)[0]
        payload = _EXIF_HEADER + tiff
        if len(payload) + 2 > 0xFFFF:
            return data
        segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
        return bytes(body[:at]) + segment + bytes(body[at:])
    if fmt == "png" and data.startswith(_PNG_SIGNATURE):
        out, pos, inserted = bytearray(data[:8]), 8, False
        chunk = b"eXIf" + tiff
        exif_chunk = struct.pack(">I", len(tiff)) + chunk + struct.pack(">I", zlib.crc32(chunk))
        while pos + 12 <= len(data):
            length = struct.unpack_from(">I", data, pos)[0]
            kind = data[pos + 4 : pos + 8]
            end = pos + 12 + length
            if kind == b"eXIf":
                pos = end
                continue
            if kind in (b"IDAT", b"IEND") and not inserted:
                out += exif_chunk
                inserted = True
            out += data[pos:end]
            pos = end
        return bytes(out)
    if fmt == "webp" and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_with_exif(data, tiff)
    return data


def _webp_with_exif(data: bytes, tiff: bytes) -> bytes:
    chunks = []
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        length = struct.unpack_from("<I", data, pos + 4)[0]
        end = pos + 8 + length + (length & 1)
        chunks.append((kind, data[pos:end]))
        pos = end
    chunks = [(k, c) for k, c in chunks if k != b"EXIF"]
    kinds = [k for k, _ in chunks]
    if b"VP8X" in kinds:
        index = kinds.index(b"VP8X")
        vp8x = bytearray(chunks[index][1])
        vp8x[8] |= 0x08  # EXIF metadata present
        chunks[index] = (b"VP8X", bytes(vp8x))
    else:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
        flags = 0x08 | (0x10 if b"ALPH" in kinds else 0)
        body = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
        body += (height - 1).to_bytes(3, "little")
        chunks.insert(0, (b"VP8X", b"VP8X" + struct.pack("<I", len(body)) + body))
    chunk = b"EXIF" + struct.pack("<I", len(tiff)) + tiff + (b"\x00" if len(tiff) & 1 else b"")
    chunks.append((b"EXIF", chunk))
    payload = b"WEBP" + b"".join(c for _, c in chunks)
    return b"RIFF" + struct.pack("<I", len(payload)) + payload
