"""Billing against the real `stripe` client and dj-stripe, pointed at a loopback fake Stripe
API (tests/fakes/stripe_api.py), with webhooks signed as Stripe signs them and posted to
dj-stripe's endpoint."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import pytest
import stripe
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.factories import SubscriptionPlanFactory, TokensPackageFactory
from tests.fakes.stripe_api import API_VERSION, FakeStripe, signature_header

# dj-stripe wants a key that looks real: sk_test_ and at least 24 alphanumerics.
SECRET_KEY = "sk_test_" + "LumenFake" + "0123456789abcdefghij"
WEBHOOK_SECRET = "whsec_" + "LumenFakeSigningSecret0123"


@pytest.fixture(autouse=True)
def _ledger_checked_after_each_test(request):
    """`check_ledger` passes after every billing test that touched the database (before the
    database is rolled back or flushed)."""
    if request.node.get_closest_marker("django_db") is None:
        yield
        return
    request.getfixturevalue("db")
    yield
    assert_ledger_balanced()


@pytest.fixture(scope="session")
def stripe_server():
    fake = FakeStripe().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_stripe(stripe_server, settings, monkeypatch):
    """The fake, emptied, with this installation's payments configured to use it."""
    stripe_server.reset()
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_LIVE_MODE = False
    monkeypatch.setattr(stripe, "api_base", stripe_server.url)
    return stripe_server


@dataclass
class Webhook:
    url: str
    secret: str
    client: Client

    def post(self, body: str, signature: str | None = None):
        headers = {} if signature is None else {"HTTP_STRIPE_SIGNATURE": signature}
        return self.client.post(self.url, data=body, content_type="application/json", **headers)

    def deliver(self, event: dict):
        """Post `event` signed with the endpoint's secret; the response must be a 200."""
        body = json.dumps(event)
        response = self.post(body, signature_header(body, self.secret))
        assert response.status_code == 200, (event["type"], response.status_code)
        return response


@pytest.fixture
def webhook(db, fake_stripe):
    """dj-stripe's endpoint for a `WebhookEndpoint` row holding the signing secret."""
    from djstripe.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(
        id="we_test_lumen",
        livemode=False,
        api_version=API_VERSION,
        enabled_events=["*"],
        secret=WEBHOOK_SECRET,
        status="enabled",
        url="https://lumen.example.com/stripe/webhook/",
    )
    url = reverse("djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": endpoint.djstripe_uuid})
    # a 500 is an answer Stripe gets (and retries), not an exception in the test
    return Webhook(url=url, secret=WEBHOOK_SECRET, client=Client(raise_request_exception=False))


@pytest.fixture
def catalogue(db, fake_stripe):
    """Two packs and three plans, their products and prices made in the fake by the catalogue
    command, as a deployment would."""
    packs = {
        "starter": TokensPackageFactory(name="Starter", tokens=10, price_usd="2.99", sort_order=1),
        "pro": TokensPackageFactory(name="Pro", tokens=150, price_usd="24.99", sort_order=2),
    }
    plans = {
        "hobby": SubscriptionPlanFactory(
            name="Hobby", tokens_per_month=30, price_gbp="4.99", max_rollover=30, sort_order=1
        ),
        "creator": SubscriptionPlanFactory(
            name="Creator",
            tokens_per_month=100,
            price_gbp="12.99",
            max_rollover=100,
            priority=True,
            sort_order=2,
        ),
        "studio": SubscriptionPlanFactory(
            name="Studio",
            tokens_per_month=300,
            price_gbp="29.99",
            max_rollover=0,
            priority=True,
            api_access=True,
            sort_order=3,
        ),
    }
    call_command("stripe_catalogue", stdout=io.StringIO())
    for row in [*packs.values(), *plans.values()]:
        row.refresh_from_db()
    return {**packs, **plans}


def assert_ledger_balanced():
    call_command("check_ledger", stdout=io.StringIO())
