"""The privacy notice, the terms and the contact page: they render for everyone, say what the
issue asks (what is stored, where, for how long, who sees it, location, export and deletion),
name the contact address from the settings, and are linked from the footer, the sign-up page
and the account pages; no "contact us" in a template is left without a link."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import verified_user

pytestmark = pytest.mark.django_db

PAGES = ("/privacy/", "/terms/", "/contact/")


@pytest.fixture
def alice_client():
    client = Client()
    client.force_login(verified_user("alice@example.com"))
    return client


@pytest.mark.parametrize("url", PAGES)
def test_each_page_renders_for_visitors_and_members(url, client, alice_client, settings):
    settings.CONTACT_EMAIL = "help@lumen.example"
    for who in (client, alice_client):
        response = who.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert "help@lumen.example" in body
        for other in PAGES:
            assert f'href="{other}"' in body  # each page links the two others (and itself)
    assert client.post(url).status_code == 405


def test_the_privacy_notice_says_what_where_how_long_and_who(client, settings):
    settings.GEMINI_API_KEY = ""
    settings.DATA_EXPORT_LINK_DAYS = 5
    body = client.get("/privacy/").content.decode()
    for words in (
        "Our database",
        "Our storage bucket",
        "Stripe",
        "Google Gemini",
        "(it is not, on this installation)",
        "5 days, then its file and its link are deleted",
        "tax and accounting law",
        "Anyone with a share link",
        "public gallery",
        "location is removed from the original we store, unless you tick",
        "never shared",
        'href="/account/delete/"',
        'href="/account/#data-export"',
    ):
        assert words in body, words

    settings.GEMINI_API_KEY = "a-key"
    assert "(it is not, on this installation)" not in client.get("/privacy/").content.decode()


def test_the_footer_links_the_pages_on_every_page(client):
    body = client.get("/").content.decode()
    footer = body[body.index('<footer class="site-footer">') :]
    for url in PAGES:
        assert f'href="{url}"' in footer


def test_the_sign_up_page_asks_to_agree_to_the_terms_and_privacy(client):
    body = client.get("/accounts/signup/").content.decode()
    assert "By signing up you agree to the" in body
    assert 'href="/terms/"' in body and 'href="/privacy/"' in body


def test_the_account_pages_link_them(alice_client):
    for url in ("/account/", "/account/delete/"):
        body = alice_client.get(url).content.decode()
        assert 'href="/privacy/"' in body, url
    body = alice_client.get("/account/").content.decode()
    assert 'href="/terms/"' in body and 'href="/contact/"' in body
    assert 'href="/account/delete/"' in body


def test_the_deleted_page_names_the_contact_address(client, settings):
    settings.CONTACT_EMAIL = "help@lumen.example"
    response = client.get("/account/deleted/")
    assert response.status_code == 200
    assert 'href="mailto:help@lumen.example"' in response.content.decode()


def test_the_default_contact_address_is_at_the_site(settings):
    assert settings.CONTACT_EMAIL.startswith("support@")


def test_no_contact_us_without_a_link_in_any_template():
    root = Path(settings.BASE_DIR)
    # every template of the project but the contact page itself (its title is "Contact us")
    templates = [
        path
        for path in root.rglob("templates/**/*.html")
        if ".venv" not in path.parts and path.name != "contact.html"
    ]
    assert len(templates) > 20
    unlinked = []
    for path in templates:
        text = path.read_text()
        for match in re.finditer(r"contact us|write to us", text, re.IGNORECASE):
            before = text[: match.start()]
            if before.rfind("<a ") <= before.rfind("</a>"):
                unlinked.append(
                    f"{path.relative_to(root)}: …{text[match.start() - 40 : match.end()]}"
                )
    assert unlinked == []
