"""Sign-up, email verification, login, logout and password reset, through the HTTP client."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model

from tests.factories import DEFAULT_PASSWORD, UserFactory, verified_user

NEW_PASSWORD = "a-new-and-long-passphrase-42"


def _link(message, path_prefix):
    # Links in emails lead to SITE_URL, whatever host the request came to.
    match = re.search(rf"{re.escape(settings.SITE_URL)}({re.escape(path_prefix)}\S+)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.mark.django_db
def test_sign_up_then_confirm_the_email_signs_in(client, mailoutbox):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "Carol@Example.com",
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    carol = get_user_model().objects.get(email__iexact="carol@example.com")
    assert SESSION_KEY not in client.session  # mandatory verification: not in yet
    assert carol.email_verified is None
    assert carol.token_balance.balance == 0
    assert not EmailAddress.objects.get(user=carol).verified

    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject.startswith("[Lumen]")
    assert "Confirm your email address" in mailoutbox[0].body
    confirm_url = _link(mailoutbox[0], "/accounts/confirm-email/")

    page = client.get(confirm_url)
    assert page.status_code == 200
    assert "Confirm" in page.content.decode()
    response = client.post(confirm_url)

    assert response.status_code == 302
    assert response["Location"] == "/images/"
    assert client.session[SESSION_KEY] == carol.pk
    carol.refresh_from_db()
    assert carol.email_verified is not None
    assert EmailAddress.objects.get(user=carol).verified


@pytest.mark.django_db
def test_sign_up_refuses_a_taken_email_and_mismatched_passwords(client):
    verified_user("alice@example.com")
    response = client.post(
        "/accounts/signup/",
        {"email": "carol@example.com", "password1": DEFAULT_PASSWORD, "password2": "different-1"},
    )
    assert response.status_code == 200
    assert "same password" in response.content.decode()
    assert not get_user_model().objects.filter(email="carol@example.com").exists()


@pytest.mark.django_db
def test_a_forged_confirmation_key_confirms_nothing(client):
    response = client.get("/accounts/confirm-email/not-a-real-key/")
    assert response.status_code == 200
    assert "This link has expired" in response.content.decode()


@pytest.mark.django_db
def test_login_with_a_verified_email(client):
    alice = verified_user()
    response = client.post(
        "/accounts/login/", {"login": "ALICE@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/images/"
    assert client.session[SESSION_KEY] == alice.pk


@pytest.mark.django_db
def test_login_with_a_wrong_password_is_refused(client):
    verified_user()
    response = client.post("/accounts/login/", {"login": "alice@example.com", "password": "nope"})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert "not correct" in response.content.decode()


@pytest.mark.django_db
def test_login_with_an_unverified_email_asks_for_verification(client, mailoutbox):
    UserFactory(email="dave@example.com")
    EmailAddress.objects.create(
        user=get_user_model().objects.get(email="dave@example.com"),
        email="dave@example.com",
        verified=False,
        primary=True,
    )
    response = client.post(
        "/accounts/login/", {"login": "dave@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert SESSION_KEY not in client.session
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_logout_needs_a_post(client):
    alice = verified_user()
    client.force_login(alice)

    page = client.get("/accounts/logout/")
    assert page.status_code == 200
    assert client.session[SESSION_KEY] == alice.pk  # a GET only asks

    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_password_reset_by_email(client, mailoutbox):
    alice = verified_user()
    response = client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    assert len(mailoutbox) == 1
    reset_url = _link(mailoutbox[0], "/accounts/password/reset/key/")

    # The key moves from the URL into the session, then the form sets the new password.
    response = client.get(reset_url)
    assert response.status_code == 302
    form_url = response["Location"]
    assert client.get(form_url).status_code == 200
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/key/done/"

    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert not alice.check_password(DEFAULT_PASSWORD)
    response = client.post(
        "/accounts/login/", {"login": "alice@example.com", "password": NEW_PASSWORD}
    )
    assert client.session[SESSION_KEY] == alice.pk

    # A used link does not work twice.
    client.logout()
    response = client.get(reset_url, follow=True)
    assert "This link has expired" in response.content.decode()


@pytest.mark.django_db
def test_password_reset_for_an_unknown_address_reveals_nothing(client, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    # allauth tells the address's owner (if any) instead of the visitor.
    assert all("nobody@example.com" in m.to for m in mailoutbox)


@pytest.mark.django_db
def test_email_verified_is_set_when_allauth_verifies_the_address(user):
    address = EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    user.refresh_from_db()
    assert user.email_verified is None

    address.verified = True
    address.save()
    user.refresh_from_db()
    assert user.email_verified is not None


@pytest.mark.django_db
def test_changing_the_primary_email_keeps_email_verified_in_step(client, mailoutbox):
    alice = verified_user()
    client.force_login(alice)

    client.post("/accounts/email/", {"action_add": "", "email": "alice.new@example.com"})
    assert len(mailoutbox) == 1
    # An unverified address cannot become the primary one.
    client.post("/accounts/email/", {"action_primary": "", "email": "alice.new@example.com"})
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"

    client.post(_link(mailoutbox[0], "/accounts/confirm-email/"))
    response = client.post(
        "/accounts/email/", {"action_primary": "", "email": "alice.new@example.com"}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "alice.new@example.com"
    assert alice.email_verified is not None

    # If the user's own address ever loses its verification, the mirror follows.
    EmailAddress.objects.filter(user=alice, email="alice.new@example.com").update(verified=False)
    EmailAddress.objects.get(user=alice, email="alice.new@example.com").save()
    alice.refresh_from_db()
    assert alice.email_verified is None
