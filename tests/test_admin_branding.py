"""The back office: branded, one accounts section (email addresses on the user's page, confirmed
through allauth's own path), money labelled with its currency."""

from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django.contrib.auth import get_user_model
from django.urls import reverse

from billing.models import StripePayment, SubscriptionPlan
from tests.factories import UserFactory
from tokens.models import TokensPackage

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user_client(client):
    root = get_user_model().objects.create_superuser(email="root@example.com", password="x")
    client.force_login(root)
    return client


def test_the_back_office_carries_the_sites_name_and_logo(admin_user_client, settings):
    settings.SITE_NAME = "Lumen"
    body = admin_user_client.get(reverse("admin:index")).content.decode()
    assert "<title>Site administration | Lumen back office</title>" in body
    assert 'class="lumen-brand"><img src="/static/img/logo.svg"' in body
    assert "Lumen back office</a>" in body
    assert "Django administration" not in body
    # The sign-in page too (it extends the same template).
    admin_user_client.logout()
    login = admin_user_client.get(reverse("admin:login")).content.decode()
    assert "Lumen back office</a>" in login


def test_one_accounts_section_with_the_email_addresses_on_each_user(admin_user_client):
    index = admin_user_client.get(reverse("admin:index"))
    sections = [app["name"] for app in index.context["app_list"]]
    assert sections.count("Accounts") == 1
    assert "account" not in [app["app_label"] for app in index.context["app_list"]]

    alice = UserFactory(email="alice@example.com")
    EmailAddress.objects.create(user=alice, email="alice@example.com", primary=True)
    EmailAddress.objects.create(user=alice, email="alice@work.example", primary=False)
    change = admin_user_client.get(reverse("admin:accounts_user_change", args=[alice.pk]))
    body = change.content.decode()
    assert "alice@work.example" in body and "Email addresses" in body
    # A secondary address finds its user.
    found = admin_user_client.get(reverse("admin:accounts_user_changelist"), {"q": "work.example"})
    assert list(found.context["cl"].result_list) == [alice]


def test_confirming_addresses_in_the_back_office_is_a_confirmation(admin_user_client):
    alice = UserFactory(email="alice@example.com")
    address = EmailAddress.objects.create(user=alice, email="alice@example.com", primary=True)
    heard = []

    def listener(sender, request, email_address, **kwargs):
        heard.append(email_address.email)

    email_confirmed.connect(listener)
    try:
        response = admin_user_client.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "confirm_email_addresses", "_selected_action": [alice.pk]},
            follow=True,
        )
    finally:
        email_confirmed.disconnect(listener)
    assert "Confirmed: alice@example.com." in response.content.decode()
    address.refresh_from_db()
    alice.refresh_from_db()
    assert address.verified and alice.email_verified is not None
    assert heard == ["alice@example.com"]  # what follows a confirmation (the welcome grant) follows


def test_money_is_labelled_with_its_currency(admin_user_client):
    package = TokensPackage.objects.create(
        name="Starter", tokens=10, price_usd=Decimal("2.99"), stripe_price_id="price_s"
    )
    SubscriptionPlan.objects.create(
        name="Hobby", tokens_per_month=30, price_gbp=Decimal("4.99"), stripe_price_id="price_h"
    )
    StripePayment.objects.create(
        user=UserFactory(email="bob@example.com"),
        package=package,
        tokens_granted=10,
        amount_usd=Decimal("2.99"),
        currency="gbp",
        stripe_payment_intent_id="pi_1",
        status="SUCCEEDED",
    )
    for name in ("tokens_tokenspackage", "billing_subscriptionplan", "billing_stripepayment"):
        body = admin_user_client.get(reverse(f"admin:{name}_changelist")).content.decode()
        assert "USD" not in body.upper().replace("AMOUNT_USD", "").replace("PRICE_USD", ""), name
        assert "£" in body, name
    packs = admin_user_client.get(reverse("admin:tokens_tokenspackage_changelist")).content
    assert "£2.99" in packs.decode()
    add = admin_user_client.get(reverse("admin:tokens_tokenspackage_add")).content.decode()
    assert "Price (GBP)" in add
    plans = admin_user_client.get(reverse("admin:billing_subscriptionplan_add")).content.decode()
    assert "Price a month (GBP)" in plans
