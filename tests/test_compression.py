"""Pages are served gzipped when the browser accepts it; images and streamed files are not; the
BREACH mitigations hold (the CSRF token differs in every response, gzip's random padding is on)."""

import gzip
import re

import pytest
from django.test import Client

from enhancement import storage
from tests.factories import stored_image

pytestmark = pytest.mark.django_db

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}


def test_a_page_is_compressed_with_its_headers(owner_client):
    response = owner_client.get("/images/", **GZIP)
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    html = gzip.decompress(response.content).decode()
    assert "<html" in html and "</html>" in html
    assert int(response["Content-Length"]) == len(response.content) < len(html.encode())
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]  # outermost still
    assert response["Permissions-Policy"]
    # The padding of Django's GZipMiddleware (Heal the Breach): the gzip header names a file of
    # random length (FNAME flag, byte 3).
    assert response.content[3] & gzip.FNAME


def test_not_compressed_for_a_client_that_does_not_ask(owner_client):
    response = owner_client.get("/images/")
    assert not response.has_header("Content-Encoding")
    assert b"<html" in response.content


def test_images_and_streamed_files_are_left_alone(owner_client, user):
    image = stored_image(user)
    response = owner_client.get(storage.url_for(image.thumbnail_r2_key.name), **GZIP)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert not response.has_header("Content-Encoding")


def test_the_csrf_token_changes_in_every_response():
    client = Client()
    tokens = set()
    for _ in range(3):
        body = gzip.decompress(client.get("/accounts/login/", **GZIP).content).decode()
        tokens.add(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1))
    assert len(tokens) == 3  # masked anew each time: no stable secret to guess
