"""An export is streamed, never held in memory: an account with 200 photos of incompressible
data (about 40 MB of originals, plus results) is exported while Python's peak memory stays a
small fraction of it."""

from __future__ import annotations

import tracemalloc
import zipfile

import pytest

from accounts.exports import builder, files, services
from accounts.models import DataExport, DataExportStatus
from enhancement import storage
from enhancement.models import JobStatus
from tests import images
from tests.factories import EnhancedImageFactory, ImageEnhancementJobFactory

pytestmark = pytest.mark.django_db

PHOTOS = 200
PHOTO_BYTES = 200 * 1024  # random bytes: deflate cannot shrink them
RESULTS = 20
RESULT_BYTES = 400 * 1024
PEAK_LIMIT = 10 * 1024 * 1024


def test_two_hundred_photos_are_exported_in_bounded_memory(user):
    for n in range(PHOTOS):
        image = EnhancedImageFactory(user=user, name=f"Photo {n}.jpg")
        storage.save_bytes(image.original_r2_key.name, images.random_bytes(PHOTO_BYTES, seed=n))
        if n < RESULTS:
            job = ImageEnhancementJobFactory(image=image, status=JobStatus.COMPLETED)
            storage.save_bytes(
                job.enhanced_r2_key.name, images.random_bytes(RESULT_BYTES, seed=10_000 + n)
            )
    stored_total = PHOTOS * PHOTO_BYTES + RESULTS * RESULT_BYTES
    export = services.request_export(user=user)

    tracemalloc.start()
    try:
        outcome = builder.build_export(export_id=export.pk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert outcome == "ready"
    export = DataExport.objects.get(pk=export.pk)
    assert export.status == DataExportStatus.READY
    assert export.size_bytes > stored_total  # everything is in it, stored as it was
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.1f} MiB for {stored_total / 2**20:.0f} MiB"

    with files.open_file(export.storage_key) as fh, zipfile.ZipFile(fh) as archive:
        originals = [n for n in archive.namelist() if "/originals/" in n]
        results = [n for n in archive.namelist() if "/enhanced/" in n]
        assert len(originals) == PHOTOS and len(results) == RESULTS
        first = next(n for n in originals if "/Photo 0_" in n)
        assert archive.read(first) == images.random_bytes(PHOTO_BYTES, seed=0)
