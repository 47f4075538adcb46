"""A held bonus meeting a pack purchase and a held trial meeting a subscription checkout,
through billing's real Checkout and webhook path against the fake Stripe API."""

import pytest

from billing import payments
from billing.models import StripePayment, Subscription
from tests.factories import VoucherFactory
from tokens import services as tokens
from tokens.models import TokenTransaction, TokenTransactionType
from vouchers import services
from vouchers.models import VoucherRedemption, VoucherType

pytestmark = pytest.mark.django_db


def checkout_posts(fake):
    return [p for m, path, p in fake.requests if m == "POST" and path == "/v1/checkout/sessions"]


def buy(fake, webhook, user, pack, *, deliveries=2):
    """A pack bought: Checkout created, paid, and its webhook delivered `deliveries` times."""
    session = payments.start_pack_checkout(
        user=user, package=pack, success_url="http://t/s", cancel_url="http://t/c"
    )
    paid = fake.pay_checkout(session["id"])
    event = fake.event("checkout.session.completed", paid)
    for _ in range(deliveries):
        webhook.deliver(event)
    return StripePayment.objects.get(stripe_checkout_session_id=session["id"])


def test_a_percentage_bonus_is_its_own_grant_on_the_next_pack_only(
    fake_stripe, webhook, catalogue, user
):
    VoucherFactory(code="SPRING20", type=VoucherType.PERCENTAGE_BONUS, value=20)
    services.redeem(user=user, code="spring20")

    first = buy(fake_stripe, webhook, user, catalogue["pro"], deliveries=3)

    redemption = VoucherRedemption.objects.get(user=user)
    assert redemption.applied_at is not None
    assert redemption.applied_to == first.stripe_checkout_session_id
    assert redemption.tokens_granted == 30  # 20% of 150
    bonus = TokenTransaction.objects.get(user=user, type=TokenTransactionType.EARN_BONUS)
    assert (bonus.amount, bonus.source, bonus.source_id) == (30, "voucher", redemption.pk)
    assert bonus.idempotency_key == f"voucher:bonus:{redemption.pk}"
    assert first.tokens_granted == 150  # the purchase's own row: the pack alone
    assert tokens.get_balance(user) == 180
    # the checkout named the bonus on Stripe's page
    post = checkout_posts(fake_stripe)[0]
    assert post["metadata"]["voucher_bonus"] == redemption.pk
    assert "20% extra tokens" in post["custom_text"]["submit"]["message"]

    buy(fake_stripe, webhook, user, catalogue["starter"])

    assert TokenTransaction.objects.filter(type=TokenTransactionType.EARN_BONUS).count() == 1
    assert tokens.get_balance(user) == 190
    assert "custom_text" not in checkout_posts(fake_stripe)[1]


def test_the_bonus_rounds_down(fake_stripe, webhook, catalogue, user):
    VoucherFactory(code="ODD", type=VoucherType.PERCENTAGE_BONUS, value=15)
    services.redeem(user=user, code="ODD")

    buy(fake_stripe, webhook, user, catalogue["starter"])  # 10 tokens: 1.5 -> 1

    assert tokens.get_balance(user) == 11


def test_a_purchase_without_a_voucher_gets_no_bonus(fake_stripe, webhook, catalogue, user):
    VoucherFactory(code="OTHERS", type=VoucherType.PERCENTAGE_BONUS, value=50)

    buy(fake_stripe, webhook, user, catalogue["pro"])

    assert tokens.get_balance(user) == 150
    assert not TokenTransaction.objects.filter(type=TokenTransactionType.EARN_BONUS).exists()


def test_a_trial_reaches_the_subscription_checkout_once(
    fake_stripe, webhook, catalogue, user, owner_client
):
    VoucherFactory(code="TRIAL14", type=VoucherType.SUBSCRIPTION_TRIAL, value=14)
    services.redeem(user=user, code="trial14")
    redemption = VoucherRedemption.objects.get()

    response = owner_client.post(f"/billing/checkout/plan/{catalogue['hobby'].pk}/")

    assert response.status_code == 303
    post = checkout_posts(fake_stripe)[0]
    assert post["mode"] == "subscription"
    assert post["subscription_data"]["trial_period_days"] == "14"
    assert post["subscription_data"]["metadata"]["voucher_trial"] == redemption.pk
    assert post["subscription_data"]["metadata"]["user_id"] == user.pk  # billing's keys kept
    assert "14 days" in post["custom_text"]["submit"]["message"]

    # the customer starts the trial; later the subscription is cancelled and they come back
    session = fake_stripe.pay_checkout(response["Location"].rsplit("/", 1)[1], trial_days=14)
    subscription = fake_stripe.get(session["subscription"])
    webhook.deliver(fake_stripe.event("checkout.session.completed", session))
    webhook.deliver(fake_stripe.event("customer.subscription.created", subscription))
    assert Subscription.objects.get(user=user).trial_end is not None
    ended = fake_stripe.end_subscription(subscription["id"])
    webhook.deliver(fake_stripe.event("customer.subscription.deleted", ended))
    assert "A trial is waiting" not in owner_client.get("/pricing/").content.decode()

    again = owner_client.post(f"/billing/checkout/plan/{catalogue['hobby'].pk}/")

    assert again.status_code == 303
    assert "trial_period_days" not in checkout_posts(fake_stripe)[1]["subscription_data"]
    redemption.refresh_from_db()
    assert redemption.applied_at is not None and redemption.applied_to == subscription["id"]


def test_an_abandoned_checkout_keeps_the_trial(fake_stripe, catalogue, user, owner_client):
    VoucherFactory(code="TRIAL7", type=VoucherType.SUBSCRIPTION_TRIAL, value=7)
    services.redeem(user=user, code="TRIAL7")

    owner_client.post(f"/billing/checkout/plan/{catalogue['hobby'].pk}/")
    owner_client.post(f"/billing/checkout/plan/{catalogue['hobby'].pk}/")

    first, second = checkout_posts(fake_stripe)
    assert first["subscription_data"]["trial_period_days"] == "7"
    assert second["subscription_data"]["trial_period_days"] == "7"
    assert "A trial is waiting" in owner_client.get("/pricing/").content.decode()


def test_a_pack_checkout_never_carries_a_trial(fake_stripe, catalogue, user):
    VoucherFactory(code="TRIAL7", type=VoucherType.SUBSCRIPTION_TRIAL, value=7)
    services.redeem(user=user, code="TRIAL7")

    payments.start_pack_checkout(
        user=user, package=catalogue["pro"], success_url="http://t/s", cancel_url="http://t/c"
    )

    post = checkout_posts(fake_stripe)[0]
    assert "subscription_data" not in post and "custom_text" not in post
