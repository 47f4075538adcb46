"""Account emails name the site and link from SITE_URL (not from the host a request came to),
each in a plain-text and an HTML version."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.template.loader import render_to_string
from django.utils import timezone

from tests.factories import DEFAULT_PASSWORD, verified_user

pytestmark = pytest.mark.django_db

SITE = "https://photos.example.org"
TEMPLATES = Path(django_settings.TEMPLATES[0]["DIRS"][0])


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.SITE_NAME = "Lumen"


def _versions(message):
    """(text, html) of a sent message: the body and its one text/html alternative."""
    html = [content for content, kind in message.alternatives if kind == "text/html"]
    assert len(html) == 1, message.alternatives
    assert "<html" in html[0]
    return message.body, html[0]


def _assert_on_site(message, path):
    text, html = _versions(message)
    for body in (text, html):
        assert "Lumen" in body
        assert "testserver" not in body and "localhost" not in body and "example.com/" not in body
        assert f"{SITE}/" in body  # the footer's link to the site
    link = re.search(rf"{re.escape(SITE)}{re.escape(path)}\S*", text)
    assert link, text
    assert f'href="{link.group(0)}"' in html  # the same link, as a button in the HTML version
    return link.group(0)


def test_the_sign_up_confirmation_links_from_site_url(client, mailoutbox):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "carol@example.com",
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
        },
    )
    assert response.status_code == 302
    [message] = mailoutbox
    assert message.subject == "[Lumen] Confirm your email address"
    link = _assert_on_site(message, "/accounts/confirm-email/")
    # The link's path works on this site.
    page = client.get(link.removeprefix(SITE))
    assert page.status_code == 200
    assert "Confirm your email address" in page.content.decode()


def test_password_reset_mails_link_from_site_url(client, mailoutbox):
    verified_user("alice@example.com")
    client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    reset, unknown = mailoutbox
    assert reset.subject == "[Lumen] Reset your password"
    assert _assert_on_site(reset, "/accounts/password/reset/key/")
    assert unknown.subject == "[Lumen] No account uses this address"
    assert _assert_on_site(unknown, "/accounts/signup/")


def test_a_password_change_is_told_to_the_owner(client, mailoutbox):
    alice = verified_user("alice@example.com")
    client.force_login(alice)
    response = client.post(
        "/accounts/password/change/",
        {
            "oldpassword": DEFAULT_PASSWORD,
            "password1": "a-new-and-long-passphrase-42",
            "password2": "a-new-and-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    [message] = mailoutbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "[Lumen] Your password changed"
    _assert_on_site(message, "/accounts/password/reset/")  # what to do if it was not them


def _html_templates():
    for folder in ("account/email", "socialaccount/email"):
        for path in sorted((TEMPLATES / folder).glob("*_message.html")):
            if not path.name.startswith("base_"):
                yield path


@pytest.mark.parametrize("template", list(_html_templates()), ids=lambda path: path.stem)
def test_every_html_email_has_a_text_twin_and_renders(template):
    name = template.relative_to(TEMPLATES).as_posix()
    assert (template.with_suffix(".txt")).exists() or template.name.endswith(
        "_signup_message.html"  # allauth's own text version includes ours
    ), name
    assert (template.parent / template.name.replace("_message.html", "_subject.txt")).exists() or (
        template.name.endswith("_signup_message.html")
    )
    context = {
        "site_name": "Lumen",
        "site_url": f"{SITE}/",
        "password_reset_link": f"{SITE}/accounts/password/reset/",
        "email": "ann@example.org",
        "activate_url": f"{SITE}/accounts/confirm-email/k/",
        "password_reset_url": f"{SITE}/accounts/password/reset/key/1-k/",
        "signup_url": f"{SITE}/accounts/signup/",
        "from_email": "old@example.org",
        "to_email": "new@example.org",
        "deleted_email": "gone@example.org",
        "provider": {"name": "GitHub"},
        "ip": "192.0.2.1",
        "user_agent": "Firefox <script>",
        "timestamp": timezone.now(),
    }
    html = render_to_string(name, context)
    assert "<html" in html and "Lumen" in html and f'href="{SITE}/"' in html
    assert "{{" not in html and "{%" not in html
    assert "Firefox &lt;script&gt;" in html or "Firefox" not in html  # escaped, when shown
