"""Google/GitHub sign-in: buttons only when configured, and one user across providers.

The GitHub flow runs for real through allauth's views and its HTTP client, against a loopback
fake of GitHub (tests/accounts/fake_github.py): the login redirect, the callback with a code and
state, the token exchange, the profile and email calls.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model

from tests.accounts.fake_github import FakeGitHub
from tests.factories import DEFAULT_PASSWORD, verified_user

GITHUB_APP = {"APPS": [{"client_id": "gh-client", "secret": "gh-secret", "key": ""}]}
GOOGLE_APP = {"APPS": [{"client_id": "g-client", "secret": "g-secret", "key": ""}]}


@pytest.fixture
def fake_github(settings, monkeypatch):
    fake = FakeGitHub().start()
    settings.SOCIALACCOUNT_PROVIDERS = {
        "github": {**GITHUB_APP, "SCOPE": ["user:email"], "VERIFIED_EMAIL": False}
    }
    # allauth reads GitHub's base URL once, at import (its GITHUB_URL setting): point the
    # provider's endpoints at the loopback fake, the way GITHUB_URL would.
    monkeypatch.setattr(
        GitHubOAuth2Adapter, "access_token_url", f"{fake.url}/login/oauth/access_token"
    )
    monkeypatch.setattr(GitHubOAuth2Adapter, "authorize_url", f"{fake.url}/login/oauth/authorize")
    monkeypatch.setattr(GitHubOAuth2Adapter, "profile_url", f"{fake.url}/api/v3/user")
    monkeypatch.setattr(GitHubOAuth2Adapter, "emails_url", f"{fake.url}/api/v3/user/emails")
    yield fake
    fake.stop()


def _sign_in_with_github(client, fake, *, code="good-code"):
    response = client.post("/accounts/github/login/")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}" == fake.url
    state = parse_qs(location.query)["state"][0]
    return client.get("/accounts/github/login/callback/", {"code": code, "state": state})


@pytest.mark.django_db
def test_no_provider_buttons_when_nothing_is_configured(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    for url in ("/accounts/login/", "/accounts/signup/"):
        body = client.get(url).content.decode()
        assert "Continue with" not in body
        assert "/accounts/github/login/" not in body
        assert "/accounts/google/login/" not in body


@pytest.mark.django_db
def test_buttons_appear_for_configured_providers_only(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"github": GITHUB_APP}
    body = client.get("/accounts/login/").content.decode()
    assert "Continue with GitHub" in body
    assert "/accounts/github/login/" in body
    assert "Google" not in body

    settings.SOCIALACCOUNT_PROVIDERS = {"github": GITHUB_APP, "google": GOOGLE_APP}
    body = client.get("/accounts/signup/").content.decode()
    assert "Continue with GitHub" in body
    assert "Continue with Google" in body


@pytest.mark.django_db
def test_verified_github_email_of_an_existing_user_signs_into_that_user(client, fake_github):
    alice = verified_user("alice@example.com")
    fake_github.emails = [{"email": "Alice@Example.com", "primary": True, "verified": True}]
    users_before = get_user_model().objects.count()

    response = _sign_in_with_github(client, fake_github)

    assert response.status_code == 302
    assert response["Location"] == "/images/"
    assert client.session[SESSION_KEY] == alice.pk
    assert get_user_model().objects.count() == users_before
    account = SocialAccount.objects.get(provider="github", uid="4242")
    assert account.user_id == alice.pk  # connected: next time it is found by the account itself
    assert fake_github.token_requests[0]["code"] == "good-code"
    alice.refresh_from_db()
    assert alice.check_password(DEFAULT_PASSWORD)  # a verified address: her password stays

    # Signing in again (a new session) finds the same user through the connected account.
    client.logout()
    fake_github.emails = []
    _sign_in_with_github(client, fake_github)
    assert client.session[SESSION_KEY] == alice.pk


@pytest.mark.django_db
def test_an_unverified_provider_email_does_not_sign_into_the_existing_user(
    client, fake_github, mailoutbox
):
    alice = verified_user("alice@example.com")
    fake_github.emails = [{"email": "alice@example.com", "primary": True, "verified": False}]

    response = _sign_in_with_github(client, fake_github)

    assert SESSION_KEY not in client.session
    assert not SocialAccount.objects.filter(user=alice).exists()
    # No second Alice either: allauth answers as for any sign-up (no account enumeration) and
    # tells the address's owner by email instead.
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert list(get_user_model().objects.values_list("email", flat=True)) == ["alice@example.com"]
    assert [m.to for m in mailoutbox] == [["alice@example.com"]]
    assert mailoutbox[0].subject == "[Lumen] You already have an account"


@pytest.mark.django_db
def test_a_new_github_user_gets_an_account_with_name_and_a_balance(client, fake_github):
    fake_github.profile = {"id": 77, "login": "dora", "name": "Dora Explorer", "email": None}
    fake_github.emails = [{"email": "dora@example.com", "primary": True, "verified": True}]

    response = _sign_in_with_github(client, fake_github)

    assert response.status_code == 302
    dora = get_user_model().objects.get(email="dora@example.com")
    assert client.session[SESSION_KEY] == dora.pk
    assert dora.name == "Dora Explorer"
    assert dora.email_verified is not None  # GitHub vouched for the address
    # ...so the welcome grant comes at once, as for an address verified by e-mail
    assert dora.token_balance.balance == settings.TOKEN_WELCOME_GRANT


@pytest.mark.django_db
def test_a_bad_code_from_the_provider_signs_nobody_in(client, fake_github):
    verified_user("alice@example.com")
    fake_github.emails = [{"email": "alice@example.com", "primary": True, "verified": True}]

    response = _sign_in_with_github(client, fake_github, code="forged")

    assert response.status_code == 401
    assert SESSION_KEY not in client.session
    assert "We could not sign you in with that account" in response.content.decode()
    assert not SocialAccount.objects.exists()
