"""The media storage: the one module that knows keys, writes objects and makes their URLs.

Key layout (private by default, never the uploaded file name):

    images/<image id>/original.<ext>
    images/<image id>/thumb.webp, preview.webp
    images/<image id>/jobs/<job id>/enhanced.<ext>, preview.webp

Keys never name the owner (they are seen in URLs); images stored under the earlier
`users/<user id>/images/<image id>/` keep their stored names and are deleted with their row.

Objects are private. On S3/R2 a URL is a signed, expiring URL from django-storages. On the local
folder a URL is a signed, expiring link to `serve_file` (same contract: whoever was shown the page
may fetch the object for a while, nobody can guess or forge one). With `public=True` and
`STORAGE_PUBLIC_DOMAIN` set, public objects get a plain URL on that domain.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.urls import reverse

from core import media
from core.ids import ID_REGEX
from core.media import get_storage, is_local, list_keys  # noqa: F401 (this module's API)
from core.text import clean_line

_SIGNER_SALT = "enhancement.storage.local-url"
MAX_DOWNLOAD_NAME = 150  # characters of a download's file name


# --- keys ---------------------------------------------------------------------------------------
# Keys name the object, never its owner: a key (and so a signed URL, a bucket URL or a public
# gallery link) carries the image's and job's random ids and nothing about who uploaded them.
_IMAGE_PREFIX = re.compile(rf"^(?:images/{ID_REGEX}/|users/{ID_REGEX}/images/{ID_REGEX}/)")


def image_prefix(*, image_id: str) -> str:
    return f"images/{image_id}/"


def legacy_image_prefix(*, user_id: str, image_id: str) -> str:
    """Where images stored before keys stopped naming their owner live (deleted alongside)."""
    return f"users/{user_id}/images/{image_id}/"


def original_key(*, image_id: str, extension: str) -> str:
    return image_prefix(image_id=image_id) + f"original.{extension}"


def thumbnail_key(*, image_id: str) -> str:
    return image_prefix(image_id=image_id) + "thumb.webp"


def preview_key(*, image_id: str) -> str:
    return image_prefix(image_id=image_id) + "preview.webp"


def job_prefix(*, image_id: str, job_id: str) -> str:
    return image_prefix(image_id=image_id) + f"jobs/{job_id}/"


def job_result_key(*, image_id: str, job_id: str, extension: str) -> str:
    return job_prefix(image_id=image_id, job_id=job_id) + f"enhanced.{extension}"


def job_preview_key(*, image_id: str, job_id: str) -> str:
    return job_prefix(image_id=image_id, job_id=job_id) + "preview.webp"


# --- objects ------------------------------------------------------------------------------------
def save_bytes(key: str, data: bytes, *, content_type: str | None = None) -> str:
    """Store `data` under `key` and return the name actually stored.

    Keys embed fresh ids, so a clash means a retried task: the old object is replaced rather than
    a second copy written beside it.
    """
    storage = get_storage()
    if storage.exists(key):
        storage.delete(key)
    content = ContentFile(data, name=posixpath.basename(key))
    if content_type:
        content.content_type = content_type
    return storage.save(key, content)


def read_bytes(key: str) -> bytes:
    with get_storage().open(key, "rb") as fh:
        return fh.read()


def open_stream(key: str):
    """The object at `key` as a binary file to read in chunks (close it when done; a context
    manager). Local: the file itself. S3: the response body as it arrives (django-storages'
    own `open()` would first copy the whole object into memory). Raises `FileNotFoundError`
    for a missing object."""
    storage = get_storage()
    if is_local():
        return storage.open(key, "rb")
    from botocore.exceptions import ClientError

    try:
        return storage.bucket.Object(key).get()["Body"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            raise FileNotFoundError(key) from exc
        raise


def delete_keys(keys) -> None:
    storage = get_storage()
    for key in keys:
        if key:
            storage.delete(key)


def delete_prefix(prefix: str) -> None:
    """Delete every object under `prefix` (a folder-like key ending in '/')."""
    if not prefix.endswith("/") or not _IMAGE_PREFIX.match(prefix):
        raise ValueError(f"refusing to delete a prefix this broad: {prefix!r}")
    media.delete_tree(prefix)


# --- URLs ---------------------------------------------------------------------------------------
def url_for(key: str, *, public: bool = False, download_name: str | None = None) -> str:
    """A URL for the object at `key`: plain on the public domain for public objects (if one is
    configured), otherwise signed and expiring."""
    if not key:
        return ""
    if public and settings.STORAGE_PUBLIC_DOMAIN and not download_name:
        return f"https://{settings.STORAGE_PUBLIC_DOMAIN}/{quote(key)}"
    storage = get_storage()
    if is_local():
        token = signing.dumps(
            {"k": key, "d": download_name or ""}, salt=_SIGNER_SALT, compress=True
        )
        return reverse("media_file", args=[token])
    parameters = {}
    if download_name:
        parameters["ResponseContentDisposition"] = attachment_header(download_name)
    return storage.url(key, parameters=parameters or None)


def url_max_age() -> int:
    return settings.STORAGE_URL_EXPIRES


def unsign_local_token(token: str) -> tuple[str, str]:
    """(key, download name) from a local URL token; raises `signing.BadSignature` when forged
    or older than the URL lifetime."""
    payload = signing.loads(token, salt=_SIGNER_SALT, max_age=url_max_age())
    return payload["k"], payload["d"]


def attachment_header(filename: str) -> str:
    """`Content-Disposition: attachment` for any stored name, whatever it holds: control
    characters (a CR LF would split the header) become spaces, the quoted ASCII fallback keeps
    printable ASCII but quotes and backslashes, and the full name goes in RFC 5987's
    percent-encoded `filename*`. Long names are cut (keeping the extension)."""
    name = clean_line(filename)
    stem, ext = posixpath.splitext(name)
    if len(name) > MAX_DOWNLOAD_NAME:
        name = stem[: MAX_DOWNLOAD_NAME - len(ext)].rstrip() + ext
    ascii_name = " ".join(
        "".join(ch for ch in name if " " <= ch <= "~" and ch not in '"\\').split()
    )
    if not posixpath.splitext(ascii_name)[0].strip(" ."):
        ascii_name = "download" + ext if ext.isascii() else "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name or ascii_name)}"


def content_type_for(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"
