"""The hook by which apps above billing (vouchers) add tokens to a pack purchase."""

import json

import pytest

from billing import bonuses, payments
from billing.models import StripePayment
from tests.billing.conftest import assert_ledger_balanced
from tests.fakes.stripe_api import signature_header
from tokens import services as tokens
from tokens.models import TokenTransaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider():
    calls = []

    def twenty_percent(purchase):
        calls.append(purchase)
        if purchase.metadata.get("voucher") != "SPRING20":
            return None
        return bonuses.Bonus(tokens=purchase.tokens * 20 // 100, reason="Voucher SPRING20")

    bonuses.register("test-vouchers", twenty_percent)
    yield calls
    bonuses.unregister("test-vouchers")


def buy(fake_stripe, webhook, user, pack, **metadata):
    session = payments.start_pack_checkout(
        user=user,
        package=pack,
        success_url="http://t/s",
        cancel_url="http://t/c",
        metadata=metadata,
    )
    paid = fake_stripe.pay_checkout(session["id"])
    event = fake_stripe.event("checkout.session.completed", paid)
    webhook.deliver(event)
    webhook.deliver(event)
    webhook.deliver(fake_stripe.event("checkout.session.async_payment_succeeded", paid))
    return StripePayment.objects.get(stripe_checkout_session_id=session["id"])


def test_a_bonus_is_part_of_the_purchase_and_offered_once(
    fake_stripe, webhook, catalogue, user, provider
):
    payment = buy(fake_stripe, webhook, user, catalogue["pro"], voucher="SPRING20")

    assert len(provider) == 1
    offered = provider[0]
    assert (offered.user_id, offered.package_id, offered.tokens, offered.payment_id) == (
        user.pk,
        catalogue["pro"].pk,
        150,
        payment.pk,
    )
    assert payment.tokens_granted == 180
    assert payment.metadata["bonuses"] == [
        {"by": "test-vouchers", "tokens": 30, "reason": "Voucher SPRING20"}
    ]
    assert TokenTransaction.objects.get(user=user).amount == 180
    assert tokens.get_balance(user) == 180
    assert_ledger_balanced()


def test_no_bonus_leaves_the_pack_as_it_is(fake_stripe, webhook, catalogue, user, provider):
    payment = buy(fake_stripe, webhook, user, catalogue["pro"])

    assert payment.tokens_granted == 150 and payment.metadata["bonuses"] == []


def test_a_refund_takes_back_the_bonus_in_proportion(
    fake_stripe, webhook, catalogue, user, provider
):
    payment = buy(fake_stripe, webhook, user, catalogue["pro"], voucher="SPRING20")
    charge = fake_stripe.get(payment.stripe_payment_intent_id)["latest_charge"]

    webhook.deliver(fake_stripe.event("charge.refunded", fake_stripe.refund(charge, 1250)))

    payment.refresh_from_db()
    assert payment.tokens_clawed_back == 180 * 1250 // 2499 == 90
    assert tokens.get_balance(user) == 90
    assert_ledger_balanced()


def test_a_provider_that_fails_rolls_the_purchase_back_for_stripe_to_retry(
    fake_stripe, webhook, catalogue, user
):
    def broken(purchase):
        raise RuntimeError("vouchers are down")

    bonuses.register("broken", broken)
    try:
        session = payments.start_pack_checkout(
            user=user,
            package=catalogue["starter"],
            success_url="http://t/s",
            cancel_url="http://t/c",
        )
        event = fake_stripe.event(
            "checkout.session.completed", fake_stripe.pay_checkout(session["id"])
        )
        body = json.dumps(event)
        assert webhook.post(body, signature_header(body, webhook.secret)).status_code == 500
        assert not StripePayment.objects.exists() and tokens.get_balance(user) == 0
    finally:
        bonuses.unregister("broken")

    webhook.deliver(event)
    assert tokens.get_balance(user) == 10


def test_a_bonus_must_be_a_positive_whole_number():
    bonuses.register("bad", lambda purchase: bonuses.Bonus(tokens=0, reason="none"))
    try:
        with pytest.raises(ValueError, match="'bad' returned 0 tokens"):
            bonuses.bonuses_for(bonuses.Purchase("u", "p", 10, "pay", "cs", {}))
    finally:
        bonuses.unregister("bad")
