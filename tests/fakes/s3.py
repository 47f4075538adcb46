"""An S3 server on loopback (moto's server mode) for tests of the S3 storage path.

    with s3_server() as endpoint:
        bucket = create_bucket(endpoint)
        settings.STORAGES = {..., "default": s3_storage_settings(endpoint, bucket)}

The real clients (boto3, django-storages) talk HTTP to it, as they would to Cloudflare R2.
Signed URLs fetch; a plain URL of a private object gets 403.
"""

from __future__ import annotations

import itertools
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
REGION = "us-east-1"

_bucket_numbers = itertools.count(1)


def moto_available() -> bool:
    try:
        from moto.server import ThreadedMotoServer  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def s3_server() -> Iterator[str]:
    """Start moto's S3 server on 127.0.0.1 (a free port); yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def client(endpoint: str):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def create_bucket(endpoint: str) -> str:
    """A new empty bucket (a fresh name each time, so tests sharing a server don't mix)."""
    name = f"media-test-{next(_bucket_numbers)}"
    client(endpoint).create_bucket(Bucket=name)
    return name


def s3_storage_settings(endpoint: str, bucket: str) -> dict:
    """`STORAGES["default"]` for django-storages' S3Storage against the fake, shaped like the
    production settings (private objects, signed expiring URLs)."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "region_name": REGION,
            "custom_domain": None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
            "addressing_style": "path",
            "signature_version": "s3v4",
        },
    }


def list_keys(endpoint: str, bucket: str, prefix: str = "") -> list[str]:
    response = client(endpoint).list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(obj["Key"] for obj in response.get("Contents", []))


def fetch(url: str) -> tuple[int, bytes, dict]:
    """GET a URL on the fake: (status, body, headers); HTTP errors are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)
