"""The home page, the navigation, the error pages and the demo user."""

from decimal import Decimal

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command

from accounts.templatetags.money import money, per_unit
from billing.models import SubscriptionPlan
from tokens.models import TokensPackage, TokenTransaction


@pytest.mark.django_db
def test_home_lists_tiers_from_settings(client, settings):
    # A deployment may sell some of the schema's tiers, with its own sizes and costs.
    settings.ENHANCEMENT_TIERS = {
        "TIER_4K": {"max_dimension": 8192, "tokens_cost": 20},
        "TIER_1K": {"max_dimension": 1024, "tokens_cost": 3},
    }
    body = client.get("/").content.decode()
    assert "Up to 8192 px on the longer side" in body
    assert "Up to 1024 px on the longer side" in body
    assert "<strong>20</strong>" in body and "<strong>3</strong>" in body
    assert body.index("1024 px") < body.index("8192 px")  # smallest first
    assert "2048" not in body


@pytest.mark.django_db
def test_home_shows_active_packs_and_plans_in_pounds(client, django_assert_max_num_queries):
    call_command("seed")
    TokensPackage.objects.filter(name="Power").update(active=False)
    SubscriptionPlan.objects.create(
        name="Secret",
        tokens_per_month=5,
        price_gbp=Decimal("1.00"),
        stripe_price_id="x",
        active=False,
    )
    with django_assert_max_num_queries(3):
        response = client.get("/")
    body = response.content.decode()
    for text in ("Starter", "£2.99", "£9.99", "£24.99", "£0.30 per token", "10 tokens"):
        assert text in body
    for text in ("Hobby", "£4.99", "Creator", "£12.99", "Studio", "£29.99"):
        assert text in body
    assert "Power" not in body and "£69.99" not in body
    assert "Secret" not in body
    assert "up to 30" in body and "without limit" in body  # rollover: Hobby 30, Studio unlimited


@pytest.mark.django_db
def test_home_without_packs_says_so(client):
    body = client.get("/").content.decode()
    assert "Token packs will be listed here soon." in body


@pytest.mark.django_db
def test_home_explains_regeneration_from_settings(client, settings):
    settings.TOKEN_REGEN_INTERVAL_MINUTES = 20
    settings.TOKEN_REGEN_CAP = 60
    body = client.get("/").content.decode()
    assert "one free token every 20 minutes" in body
    assert "until it reaches <strong>60</strong>" in body


@pytest.mark.django_db
def test_navigation_for_a_visitor(client):
    body = client.get("/").content.decode()
    assert 'href="/accounts/login/"' in body
    assert 'href="/accounts/signup/"' in body
    assert "balance-badge" not in body
    assert 'href="#main"' in body  # skip link


@pytest.mark.django_db
def test_navigation_for_a_user(owner_client, user):
    body = owner_client.get("/").content.decode()
    assert 'id="balance-badge"' in body
    assert 'href="/tokens/"' in body
    assert 'href="/images/"' in body
    assert "alice@<wbr>example.com" in body  # breaks after the @ in a narrow menu
    assert 'action="/accounts/logout/"' in body
    assert 'href="/accounts/password/change/"' in body
    assert 'href="/accounts/email/"' in body
    assert 'href="/admin/"' not in body


@pytest.mark.django_db
def test_staff_see_the_admin_link(client, user):
    user.is_staff = True
    user.save()
    client.force_login(user)
    assert 'href="/admin/"' in client.get("/").content.decode()


@pytest.mark.django_db
def test_flash_messages_are_shown_and_dismissible(client, user):
    from allauth.account.models import EmailAddress

    from tests.factories import DEFAULT_PASSWORD

    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    body = client.get("/").content.decode()
    assert "message-success" in body
    assert "Signed in as alice@example.com." in body
    assert 'class="message-dismiss" aria-label="Dismiss this message"' in body


@pytest.mark.django_db
def test_unknown_page_gets_the_styled_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We couldn’t find that page" in response.content.decode()


def test_500_page_renders_without_a_request():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Something went wrong" in html


def test_money_formatting():
    assert money(Decimal("2.99"), "gbp") == "£2.99"
    assert money(Decimal("1234.5"), "GBP") == "£1,234.50"
    assert money("12.99", "usd") == "$12.99"
    assert money(Decimal("5"), "chf") == "5.00 CHF"
    assert money(per_unit(Decimal("2.99"), 10), "gbp") == "£0.30"
    assert per_unit(Decimal("2.99"), 0) is None


@pytest.mark.django_db
def test_demo_user_is_verified_has_tokens_and_can_run_twice(client, capsys):
    call_command("demo_user")
    call_command("demo_user")
    out = capsys.readouterr().out
    assert "Demo login: demo@example.com / enhance-demo-2024" in out

    from django.contrib.auth import get_user_model

    demo = get_user_model().objects.get(email="demo@example.com")
    assert demo.token_balance.balance == 50
    assert TokenTransaction.objects.filter(user=demo).count() == 1
    assert demo.email_verified is not None

    response = client.post(
        "/accounts/login/", {"login": "demo@example.com", "password": "enhance-demo-2024"}
    )
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == demo.pk
