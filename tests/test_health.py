"""/healthz: 200 when the database, the media storage and the job queue answer; 503 otherwise.

Failures are real ones: a database that is not there (a closed PostgreSQL port, an SQLite file
in a missing folder), a media folder that cannot be created, a Redis port nothing listens on,
an S3 bucket that does not exist on a loopback S3 server.
"""

import copy
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest
from django.db import connections
from django.db.utils import load_backend

EXPECTED_KEYS = {"status", "database", "storage", "queue"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _default_database_unreachable(tmp_path):
    """Swap the default connection for one whose server/file is not there, then restore it."""
    real = connections["default"]
    settings_dict = copy.deepcopy(real.settings_dict)
    if real.vendor == "postgresql":
        settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))
        settings_dict["OPTIONS"] = {**settings_dict.get("OPTIONS", {}), "connect_timeout": 2}
    else:
        settings_dict["NAME"] = str(tmp_path / "missing-folder" / "db.sqlite3")
    dead = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias="default")
    connections["default"] = dead
    try:
        yield
    finally:
        dead.close()
        connections["default"] = real


@contextmanager
def _django_q_broker(**conf):
    """django-q2 reads its settings once, at import: set its broker configuration for a test."""
    from django_q.conf import Conf

    saved = {name: getattr(Conf, name) for name in conf}
    for name, value in conf.items():
        setattr(Conf, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(Conf, name, value)


@pytest.mark.django_db
def test_all_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    assert response.json() == {"status": "ok", "database": "ok", "storage": "ok", "queue": "ok"}


@pytest.mark.django_db
def test_creates_a_missing_media_folder(client, settings, tmp_path):
    media = tmp_path / "fresh" / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": media},
        },
    }
    assert client.get("/healthz").status_code == 200
    assert media.is_dir()
    assert list(media.iterdir()) == []  # the probe file is gone


@pytest.mark.django_db
def test_stopped_database_is_503(client, tmp_path):
    with _default_database_unreachable(tmp_path):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert set(body) == EXPECTED_KEYS
    assert body["status"] == "error"
    assert body["database"] == "error"
    assert body["storage"] == "ok"
    # And the app is fine again once the database is back.
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_unwritable_storage_is_503(client, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": blocker / "media"},
        },
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "ok",
        "storage": "error",
        "queue": "ok",
    }


@pytest.mark.django_db
def test_unreachable_redis_queue_is_503(client):
    with _django_q_broker(ORM=None, REDIS=f"redis://127.0.0.1:{_closed_port()}/0"):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["queue"] == "error"
    assert response.json()["database"] == "ok"


@pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed")
@pytest.mark.django_db
def test_running_redis_queue_is_ok(client, tmp_path):
    port = _closed_port()
    server = subprocess.Popen(  # noqa: S603 (a fixed command line)
        [
            shutil.which("redis-server"),
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        with _django_q_broker(ORM=None, REDIS=f"redis://127.0.0.1:{port}/0"):
            response = client.get("/healthz")
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert response.status_code == 200
    assert response.json()["queue"] == "ok"


@pytest.fixture
def s3_endpoint():
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _s3_storage(endpoint, bucket):
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint,
            "access_key": "test-key",
            "secret_key": "test-secret",
            "region_name": "us-east-1",
            "addressing_style": "path",
            "signature_version": "s3v4",
        },
    }


@pytest.mark.django_db
def test_s3_storage_is_checked_with_its_bucket(client, settings, s3_endpoint):
    import boto3

    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
        region_name="us-east-1",
    ).create_bucket(Bucket="media")

    settings.STORAGES = {**settings.STORAGES, "default": _s3_storage(s3_endpoint, "media")}
    assert client.get("/healthz").json()["storage"] == "ok"

    settings.STORAGES = {**settings.STORAGES, "default": _s3_storage(s3_endpoint, "missing")}
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["storage"] == "error"


@pytest.mark.django_db
def test_health_needs_no_login_and_only_answers_get(client):
    assert client.post("/healthz").status_code == 405
