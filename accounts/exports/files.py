"""Where export zips are kept: the default storage (the media folder locally, the bucket in
production), under `exports/<export id>/`, private like every media object.

accounts sits below enhancement (which owns the images' keys), so this small module does the
few things an export needs, on the generic verbs of `core.media`: save a file streamed from
disk, open it, a short-lived download URL on S3, and delete an export's folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO

from django.core.files import File

from core import media
from core.ids import ID_REGEX
from core.media import get_storage, is_local

DOWNLOAD_URL_SECONDS = 300  # a redirect to the bucket is followed at once
_FOLDER = re.compile(rf"^exports/{ID_REGEX}/$")


def folder(export_id: str) -> str:
    return f"exports/{export_id}/"


def zip_key(export_id: str, filename: str) -> str:
    return folder(export_id) + filename


# An upload to S3 goes in parts of this size, this many at a time. From a file on disk each
# part is read from the file as it is sent; from any other file object boto3 buffers parts
# (at most this many: its default, 10 of 8 MB, would hold 80 MB).
UPLOAD_PART_BYTES = 8 * 1024 * 1024
UPLOAD_PARTS_AT_ONCE = 2


def save(key: str, fileobj: IO[bytes]) -> str:
    """Store the open file `fileobj` (read from where it is, in chunks) at `key`; the name
    stored. Keys carry the export's fresh id, so nothing is overwritten."""
    storage = get_storage()
    if is_local():
        return storage.save(key, File(fileobj, name=key.rsplit("/", 1)[-1]))
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(
        multipart_threshold=UPLOAD_PART_BYTES,
        multipart_chunksize=UPLOAD_PART_BYTES,
        max_concurrency=UPLOAD_PARTS_AT_ONCE,
    )
    config.max_in_memory_upload_chunks = UPLOAD_PARTS_AT_ONCE  # s3transfer's, not in boto3's init
    extra = {"ContentType": "application/zip"}
    path = getattr(fileobj, "name", None)
    if isinstance(path, str) and Path(path).is_file():
        storage.bucket.upload_file(path, key, ExtraArgs=extra, Config=config)
    else:
        storage.bucket.upload_fileobj(fileobj, key, ExtraArgs=extra, Config=config)
    return key


def open_file(key: str):
    return get_storage().open(key, "rb")


def download_url(key: str, *, content_disposition: str) -> str:
    """A signed URL of the object on S3 that lives a few minutes, telling the browser to save
    it under the export's name."""
    return get_storage().url(
        key,
        parameters={"ResponseContentDisposition": content_disposition},
        expire=DOWNLOAD_URL_SECONDS,
    )


def exists(key: str) -> bool:
    return bool(key) and get_storage().exists(key)


def delete_folder(export_id: str) -> None:
    """Delete everything stored for this export (its zip, or a zip a late worker wrote)."""
    prefix = folder(export_id)
    if not _FOLDER.match(prefix):
        raise ValueError(f"refusing to delete {prefix!r}")
    media.delete_tree(prefix)


def list_keys(prefix: str = "exports/") -> list[str]:
    """Every stored key under `prefix` (tests and checks)."""
    return media.list_keys(prefix)
