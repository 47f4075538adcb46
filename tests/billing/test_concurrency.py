"""Real concurrency on PostgreSQL: Stripe delivering at once, each delivery a request in its own
thread with its own database connection."""

import json

import pytest
from django.test import Client
from djstripe.models import Account

from billing import payments
from billing.models import StripePayment
from tests.billing.conftest import SECRET_KEY, assert_ledger_balanced
from tests.fakes.stripe_api import signature_header
from tests.tokens.test_concurrency import run_together
from tokens import services as tokens
from tokens.models import TokenTransaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def post_at_once(webhook, events):
    def deliver(i):
        body = json.dumps(events[i])
        return (
            Client()
            .post(
                webhook.url,
                data=body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=signature_header(body, webhook.secret),
            )
            .status_code
        )

    return run_together(len(events), deliver)


@pytest.fixture
def paid_session(fake_stripe, webhook, catalogue, user):
    # dj-stripe records the Stripe account of the key on its first event; done once, here
    Account.get_or_retrieve_for_api_key(SECRET_KEY)
    session = payments.start_pack_checkout(
        user=user,
        package=catalogue["pro"],
        success_url="http://testserver/billing/success/",
        cancel_url="http://testserver/pricing/",
    )
    return fake_stripe.pay_checkout(session["id"])


def test_ten_deliveries_of_one_event_at_once_grant_once(fake_stripe, webhook, user, paid_session):
    event = fake_stripe.event("checkout.session.completed", paid_session)

    statuses = post_at_once(webhook, [event] * 10)

    assert statuses == [200] * 10
    assert StripePayment.objects.count() == 1
    assert TokenTransaction.objects.filter(user=user).count() == 1
    assert tokens.get_balance(user) == 150
    assert_ledger_balanced()


def test_ten_different_events_about_one_session_at_once_grant_once(
    fake_stripe, webhook, user, paid_session
):
    events = [
        fake_stripe.event(
            "checkout.session.completed" if i % 2 else "checkout.session.async_payment_succeeded",
            paid_session,
        )
        for i in range(10)
    ]

    statuses = post_at_once(webhook, events)

    # a delivery that lost a race inside dj-stripe's own sync may answer 500: Stripe retries
    assert set(statuses) <= {200, 500} and 200 in statuses
    for event, status in zip(events, statuses, strict=True):
        if status != 200:
            webhook.deliver(event)
    assert StripePayment.objects.count() == 1
    assert TokenTransaction.objects.filter(user=user).count() == 1
    assert tokens.get_balance(user) == 150
    assert_ledger_balanced()
