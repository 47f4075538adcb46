"""The account pages read like the rest of the site, and offer only what exists: "Connected
accounts" is linked only when a sign-in provider is configured."""

import pytest
from django.template import Context, Template

from tests.factories import verified_user

pytestmark = pytest.mark.django_db

GOOGLE = {
    "google": {
        "APPS": [{"client_id": "test-client", "secret": "test-secret", "key": ""}],
        "SCOPE": ["profile", "email"],
    }
}


@pytest.fixture
def alice_client(client):
    client.force_login(verified_user("alice@example.com"))
    return client


def test_without_a_provider_connected_accounts_is_not_linked(alice_client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    for url in ("/", "/accounts/email/", "/account/"):
        body = alice_client.get(url).content.decode()
        assert 'href="/accounts/3rdparty/"' not in body, url
    page = alice_client.get("/accounts/3rdparty/")
    assert page.status_code == 200
    assert "is not offered on this site" in page.content.decode()


def test_with_a_provider_connected_accounts_offers_it(alice_client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = GOOGLE
    for url in ("/", "/accounts/email/"):
        assert 'href="/accounts/3rdparty/"' in alice_client.get(url).content.decode(), url
    body = alice_client.get("/accounts/3rdparty/").content.decode()
    assert "Continue with Google" in body
    assert "not offered" not in body


@pytest.mark.parametrize(
    ("url", "ours", "stock"),
    [
        ("/accounts/email/", "Make it my primary address", "Make Primary"),
        ("/accounts/email/", "Send the confirmation link again", "Re-send Verification"),
        ("/accounts/password/change/", "Current password</label>", "Current Password</label>"),
        ("/accounts/3rdparty/", "Connected accounts", "Account Connections"),
        ("/account/", "How others see you", "Signed in as alice@example.com"),
    ],
)
def test_account_pages_use_the_sites_words(alice_client, url, ours, stock):
    body = alice_client.get(url).content.decode()
    assert ours in body
    assert stock not in body
    assert 'aria-label="Account settings"' in body  # one menu for every account page


@pytest.mark.parametrize(
    ("url", "ours", "stock"),
    [
        ("/accounts/password/reset/", "Send me a link", "Reset My Password"),
        ("/accounts/password/reset/done/", "Check your inbox", "We have sent you an email"),
        ("/accounts/confirm-email/", "Check your inbox", "Verify Your Email Address"),
        ("/accounts/password/reset/key/1-bad/", "This link has expired", "Bad Token"),
    ],
)
def test_pages_before_signing_in_use_the_sites_words(client, url, ours, stock):
    response = client.get(url, follow=True)
    body = response.content.decode()
    assert ours in body
    assert stock not in body


def test_an_address_breaks_after_its_at_sign_and_stays_escaped():
    template = Template("{% load addresses %}{{ email|address_breaks }}")
    assert template.render(Context({"email": "ann.lee@example.com"})) == "ann.lee@<wbr>example.com"
    rendered = template.render(Context({"email": "<b>x</b>@ex&ample.com"}))
    assert rendered == "&lt;b&gt;x&lt;/b&gt;@<wbr>ex&amp;ample.com"
    assert template.render(Context({"email": "no-at-sign<"})) == "no-at-sign&lt;"
    assert template.render(Context({"email": None})) == ""
