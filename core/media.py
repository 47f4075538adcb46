"""The media storage's few generic verbs, for every app that keeps files in it (enhancement's
images and jobs, accounts' data exports): the default storage (the media folder locally, the
bucket in production), listing and deleting everything under a folder-like prefix.

The callers own their keys and check a prefix before deleting it; this module deletes whatever
prefix it is given.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.core.files.storage import FileSystemStorage, Storage, storages

S3_DELETE_BATCH = 1000  # keys per DeleteObjects request, S3's maximum


def get_storage() -> Storage:
    return storages["default"]


def is_local() -> bool:
    return isinstance(get_storage(), FileSystemStorage)


def delete_tree(prefix: str) -> None:
    """Delete every object under `prefix` (a folder-like key ending in '/')."""
    storage = get_storage()
    if is_local():
        path = Path(storage.path(prefix))
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        return
    bucket = storage.bucket
    batch = []
    for obj in bucket.objects.filter(Prefix=prefix):
        batch.append({"Key": obj.key})
        if len(batch) == S3_DELETE_BATCH:
            bucket.delete_objects(Delete={"Objects": batch, "Quiet": True})
            batch = []
    if batch:
        bucket.delete_objects(Delete={"Objects": batch, "Quiet": True})


def list_keys(prefix: str) -> list[str]:
    """Every stored key under `prefix`, sorted (tests and checks)."""
    storage = get_storage()
    if is_local():
        root = Path(storage.location)
        base = Path(storage.path(prefix))
        if not base.exists():
            return []
        return sorted(str(p.relative_to(root)) for p in base.rglob("*") if p.is_file())
    return sorted(obj.key for obj in storage.bucket.objects.filter(Prefix=prefix))
