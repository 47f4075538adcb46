"""dj-stripe's endpoint as billing relies on it: only correctly signed events count, anything
odd is answered without harm, and a failure rolls back so that Stripe's retry can succeed."""

import json
import time

import pytest
import stripe
from djstripe.models import Event

from billing.models import StripePayment
from tests.billing.conftest import assert_ledger_balanced
from tests.fakes.stripe_api import signature_header
from tokens import services as tokens
from tokens.models import TokenTransaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed(fake_stripe, catalogue, user, owner_client):
    response = owner_client.post(f"/billing/checkout/pack/{catalogue['starter'].pk}/")
    session = fake_stripe.pay_checkout(response["Location"].rsplit("/", 1)[1])
    return fake_stripe.event("checkout.session.completed", session)


def nothing_changed(user):
    assert not StripePayment.objects.exists()
    assert not TokenTransaction.objects.filter(user=user).exists()
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    "signature",
    [
        lambda body, secret: signature_header(body, "whsec_someone_else"),
        lambda body, secret: signature_header(body + " ", secret),
        lambda body, secret: signature_header(body, secret, timestamp=int(time.time()) - 3600),
        lambda body, secret: "t=1,v1=00",
        lambda body, secret: "",
    ],
    ids=["wrong secret", "other body", "an hour old", "garbage", "empty"],
)
def test_a_bad_signature_is_a_400_and_changes_nothing(webhook, completed, user, signature):
    body = json.dumps(completed)

    response = webhook.post(body, signature(body, webhook.secret))

    assert response.status_code == 400
    nothing_changed(user)


def test_no_signature_is_a_400(webhook, completed, user):
    assert webhook.post(json.dumps(completed)).status_code == 400
    nothing_changed(user)


def test_a_tampered_body_is_a_400(webhook, completed, user):
    body = json.dumps(completed)
    signature = signature_header(body, webhook.secret)
    completed["data"]["object"]["amount_total"] = 1

    assert webhook.post(json.dumps(completed), signature).status_code == 400
    nothing_changed(user)


def test_an_unknown_endpoint_is_a_404(webhook, completed, user):
    body = json.dumps(completed)
    url = webhook.url.replace(webhook.url.split("/")[-2], "00000000-0000-4000-8000-000000000000")

    response = webhook.client.post(
        url,
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature_header(body, webhook.secret),
    )

    assert response.status_code == 404
    nothing_changed(user)


@pytest.mark.parametrize(
    "body", ["not json at all", "[]", json.dumps({"type": "checkout.session.completed"})]
)
def test_a_malformed_event_is_answered_without_harm(webhook, user, body):
    response = webhook.post(body, signature_header(body, webhook.secret))

    assert response.status_code == 400
    nothing_changed(user)


def test_an_unknown_event_type_is_acknowledged_and_does_nothing(
    fake_stripe, webhook, user, completed
):
    event = {**completed, "id": "evt_unknown_kind", "type": "lumen.something.new"}

    webhook.deliver(event)

    assert Event.objects.filter(id="evt_unknown_kind").exists()
    assert not StripePayment.objects.exists()
    assert tokens.get_balance(user) == 0


def test_an_event_about_an_object_stripe_no_longer_has_is_acknowledged(
    fake_stripe, webhook, user, completed
):
    del fake_stripe.objects[completed["data"]["object"]["id"]]

    webhook.deliver(completed)

    assert not StripePayment.objects.exists()
    assert tokens.get_balance(user) == 0


def test_a_failure_while_processing_rolls_back_and_the_retry_succeeds(
    fake_stripe, webhook, user, completed, monkeypatch
):
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    fake_stripe.down = True
    body = json.dumps(completed)

    response = webhook.post(body, signature_header(body, webhook.secret))

    assert response.status_code == 500  # Stripe will deliver it again
    nothing_changed(user)

    fake_stripe.down = False
    webhook.deliver(completed)

    assert StripePayment.objects.get().tokens_granted == 10
    assert tokens.get_balance(user) == 10
    assert_ledger_balanced()
