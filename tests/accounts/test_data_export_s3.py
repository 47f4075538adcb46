"""The data export on the S3 storage (production: R2 through django-storages) against moto's
server on loopback: originals and results are read from the bucket as streams, the zip is stored
there, the download is a short-lived signed URL that names the file, and the zip goes with its
row."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
import tracemalloc
import urllib.request
import zipfile
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest

from accounts.exports import files, services, tasks
from accounts.models import DataExport, DataExportStatus
from enhancement import storage
from enhancement.models import JobStatus
from tests import images
from tests.factories import EnhancedImageFactory, ImageEnhancementJobFactory, stored_image
from tests.fakes import s3

if not s3.moto_available():  # pragma: no cover
    pytest.skip(
        "moto[server] is not installed: the S3 storage path is not tested", allow_module_level=True
    )

pytestmark = pytest.mark.django_db


def test_an_export_on_s3_streams_from_and_to_the_bucket(
    user, owner_client, stranger_client, s3_endpoint, bucket, django_capture_on_commit_callbacks
):
    image = stored_image(user, name="Harbour.jpg")
    job = ImageEnhancementJobFactory(image=image, status=JobStatus.COMPLETED)
    result = images.jpeg_bytes(90, 70, quality=60)
    storage.save_bytes(job.enhanced_r2_key.name, result)

    export = services.request_export(user=user)
    assert tasks.build_data_export(export.pk) == "ready"
    export.refresh_from_db()

    assert export.status == DataExportStatus.READY
    assert s3.list_keys(s3_endpoint, bucket, "exports/") == [export.storage_key]
    # private like every object: no signature, no zip
    assert s3.fetch(f"{s3_endpoint}/{bucket}/{export.storage_key}")[0] == 403

    response = owner_client.get(services.download_path(export))
    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith(f"{s3_endpoint}/{bucket}/{export.storage_key}?")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == [str(files.DOWNLOAD_URL_SECONDS)]
    status, body, headers = s3.fetch(url)
    assert status == 200
    assert headers["Content-Disposition"].startswith("attachment;")
    assert len(body) == export.size_bytes
    archive = zipfile.ZipFile(io.BytesIO(body))
    root = archive.namelist()[0].split("/")[0]
    original = next(n for n in archive.namelist() if "/originals/" in n)
    assert archive.read(original) == storage.read_bytes(image.original_r2_key.name)
    enhanced = next(n for n in archive.namelist() if "/enhanced/" in n)
    assert archive.read(enhanced) == result
    assert f"{root}/images.json" in archive.namelist()

    assert stranger_client.get(services.download_path(export)).status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        DataExport.objects.filter(pk=export.pk).delete()
    assert s3.list_keys(s3_endpoint, bucket, "exports/") == []


def test_a_missing_object_on_s3_is_left_out(user, s3_endpoint, bucket):
    image = stored_image(user)
    storage.get_storage().delete(image.original_r2_key.name)
    with pytest.raises(FileNotFoundError):
        storage.open_stream(image.original_r2_key.name)

    export = services.request_export(user=user)
    assert tasks.build_data_export(export.pk) == "ready"


@contextmanager
def s3_server_process():
    """moto's S3 server in a process of its own (the module's server runs in this process,
    where tracemalloc would count the objects it keeps as ours)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603 (our interpreter, fixed arguments)
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint + "/", timeout=1).close()  # noqa: S310
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_an_export_on_s3_is_streamed_in_bounded_memory(user, settings):
    """40 photos of 1 MB of random bytes read from the bucket, and the 40 MB zip uploaded in
    parts: Python's peak stays a fraction of it."""
    photos, size = 40, 1024 * 1024
    with s3_server_process() as endpoint:
        bucket = s3.create_bucket(endpoint)
        settings.STORAGES = {
            **settings.STORAGES,
            "default": s3.s3_storage_settings(endpoint, bucket),
        }
        for n in range(photos):
            image = EnhancedImageFactory(user=user, name=f"Photo {n}.jpg")
            storage.save_bytes(image.original_r2_key.name, images.random_bytes(size, seed=n))
        export = services.request_export(user=user)
        storage.open_stream(image.original_r2_key.name).close()  # the client, made beforehand

        tracemalloc.start()
        try:
            outcome = tasks.build_data_export(export.pk)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

        assert outcome == "ready"
        export.refresh_from_db()
        assert export.size_bytes > photos * size
        assert s3.list_keys(endpoint, bucket, "exports/") == [export.storage_key]
    assert peak < 12 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for {photos * size >> 20} MiB"
