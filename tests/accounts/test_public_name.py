"""Nothing personal on public pages: the owner of a shared image is named by the public name
they chose, or a neutral label; never by their e-mail address, its local part or their id."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import PUBLIC_NAME_FALLBACK
from tests.factories import UserFactory, stored_image
from tests.media import media_keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return UserFactory(email="alice.smith@example.com", name="Alice Smith")


def public_page(client, image):
    response = client.get(reverse("images:detail", args=[image.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_without_a_public_name_the_owner_is_a_neutral_label(alice, anon_client, other_user):
    image = stored_image(alice, name="Harbour")
    image.is_public = True
    image.save(update_fields=["is_public"])
    other = Client()
    other.force_login(other_user)
    for client in (anon_client, other):
        html = public_page(client, image)
        assert PUBLIC_NAME_FALLBACK in html
        for secret in ("alice", "Alice", alice.email, alice.pk):
            assert secret not in html, secret
        # the signed media links name the image, not its owner
        keys = media_keys(html)
        assert keys and all(image.pk in key and alice.pk not in key for key in keys), keys


def test_the_owner_chooses_a_public_name(alice, client, anon_client):
    client.force_login(alice)
    page = client.get(reverse("accounts:profile"))
    assert page.status_code == 200 and "Public name" in page.content.decode()
    response = client.post(reverse("accounts:profile"), {"public_name": "  Harbour\r\nFan  "})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.public_name == "Harbour Fan"

    image = stored_image(alice, name="Harbour")
    image.is_public = True
    image.save(update_fields=["is_public"])
    html = public_page(anon_client, image)
    assert "Harbour Fan" in html and "alice" not in html.lower()


def test_a_public_name_too_long_is_refused_with_a_message(alice, client):
    client.force_login(alice)
    response = client.post(reverse("accounts:profile"), {"public_name": "x" * 51})
    assert response.status_code == 400
    assert "at most 50 characters" in response.content.decode()
    alice.refresh_from_db()
    assert alice.public_name == ""


def test_the_account_page_needs_a_sign_in(anon_client):
    response = anon_client.get(reverse("accounts:profile"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
