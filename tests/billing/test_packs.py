"""Buying a token pack: Checkout started by the pricing page, tokens granted only by the verified
webhook, once, whatever Stripe repeats."""

from decimal import Decimal

import pytest

from billing.models import StripePayment, StripePaymentStatus
from tests.billing.conftest import assert_ledger_balanced
from tokens import services as tokens
from tokens.models import TokenTransaction, TokenTransactionType

pytestmark = pytest.mark.django_db


def start_checkout(client, pack):
    response = client.post(f"/billing/checkout/pack/{pack.pk}/")
    assert response.status_code == 303
    return response["Location"]


def paid_session(fake, owner_client, pack, **pay):
    url = start_checkout(owner_client, pack)
    session_id = url.rsplit("/", 1)[1]
    return fake.pay_checkout(session_id, **pay)


def test_buying_a_pack_grants_its_tokens_from_the_webhook(
    fake_stripe, webhook, catalogue, user, owner_client
):
    url = start_checkout(owner_client, catalogue["starter"])
    assert url.startswith(f"{fake_stripe.url}/checkout/cs_test_")
    session = fake_stripe.pay_checkout(url.rsplit("/", 1)[1])
    assert not StripePayment.objects.exists()  # paying at Stripe grants nothing by itself

    webhook.deliver(fake_stripe.event("checkout.session.completed", session))

    payment = StripePayment.objects.get()
    intent = fake_stripe.get(session["payment_intent"])
    charge = fake_stripe.get(intent["latest_charge"])
    assert (payment.user, payment.package, payment.status) == (
        user,
        catalogue["starter"],
        StripePaymentStatus.SUCCEEDED,
    )
    assert (payment.tokens_granted, payment.amount_usd, payment.currency) == (
        10,
        Decimal("2.99"),
        "gbp",
    )
    assert payment.stripe_payment_intent_id == intent["id"]
    assert payment.stripe_checkout_session_id == session["id"]
    assert payment.receipt_url == charge["receipt_url"]
    entry = TokenTransaction.objects.get(user=user)
    assert (entry.type, entry.amount, entry.source, entry.source_id) == (
        TokenTransactionType.EARN_PURCHASE,
        10,
        "stripe",
        payment.pk,
    )
    assert tokens.get_balance(user) == 10
    assert_ledger_balanced()


def test_the_same_event_ten_times_grants_once(fake_stripe, webhook, catalogue, user, owner_client):
    session = paid_session(fake_stripe, owner_client, catalogue["starter"])
    event = fake_stripe.event("checkout.session.completed", session)

    for _ in range(10):
        webhook.deliver(event)

    assert StripePayment.objects.count() == 1
    assert TokenTransaction.objects.filter(user=user).count() == 1
    assert tokens.get_balance(user) == 10
    assert_ledger_balanced()


def test_every_event_about_one_session_grants_once_in_any_order(
    fake_stripe, webhook, catalogue, user, owner_client
):
    """Distinct events for one session (a second `completed` with its own id, the delayed-
    payment success, in any order) still make one payment and one grant."""
    session = paid_session(fake_stripe, owner_client, catalogue["pro"])

    webhook.deliver(fake_stripe.event("checkout.session.async_payment_succeeded", session))
    webhook.deliver(fake_stripe.event("checkout.session.completed", session))
    webhook.deliver(fake_stripe.event("checkout.session.completed", session))

    payment = StripePayment.objects.get()
    assert (payment.status, payment.tokens_granted) == (StripePaymentStatus.SUCCEEDED, 150)
    assert tokens.get_balance(user) == 150
    assert TokenTransaction.objects.filter(user=user).count() == 1
    assert_ledger_balanced()


def test_a_delayed_payment_grants_when_it_succeeds(
    fake_stripe, webhook, catalogue, user, owner_client
):
    session = paid_session(fake_stripe, owner_client, catalogue["starter"], delayed=True)

    webhook.deliver(fake_stripe.event("checkout.session.completed", session))

    payment = StripePayment.objects.get()
    assert payment.status == StripePaymentStatus.PENDING
    assert payment.stripe_payment_intent_id == session["payment_intent"]
    assert tokens.get_balance(user) == 0

    settled = fake_stripe.settle_delayed_payment(session["id"], succeeded=True)
    webhook.deliver(fake_stripe.event("checkout.session.async_payment_succeeded", settled))

    payment.refresh_from_db()
    assert (payment.status, payment.tokens_granted) == (StripePaymentStatus.SUCCEEDED, 10)
    assert tokens.get_balance(user) == 10
    assert_ledger_balanced()


def test_a_delayed_payment_that_fails_grants_nothing(
    fake_stripe, webhook, catalogue, user, owner_client
):
    session = paid_session(fake_stripe, owner_client, catalogue["starter"], delayed=True)
    webhook.deliver(fake_stripe.event("checkout.session.completed", session))

    failed = fake_stripe.settle_delayed_payment(session["id"], succeeded=False)
    webhook.deliver(fake_stripe.event("checkout.session.async_payment_failed", failed))

    assert StripePayment.objects.get().status == StripePaymentStatus.FAILED
    assert tokens.get_balance(user) == 0
    assert not TokenTransaction.objects.filter(user=user).exists()
    assert_ledger_balanced()


def test_a_failed_payment_reported_before_its_completion_stays_failed(
    fake_stripe, webhook, catalogue, user, owner_client
):
    session = paid_session(fake_stripe, owner_client, catalogue["starter"], delayed=True)
    failed = fake_stripe.settle_delayed_payment(session["id"], succeeded=False)

    webhook.deliver(fake_stripe.event("checkout.session.async_payment_failed", failed))
    webhook.deliver(fake_stripe.event("checkout.session.completed", session))

    assert StripePayment.objects.get().status == StripePaymentStatus.FAILED
    assert tokens.get_balance(user) == 0


def test_an_expired_checkout_leaves_no_payment_and_no_tokens(
    fake_stripe, webhook, catalogue, user, owner_client
):
    url = start_checkout(owner_client, catalogue["starter"])
    expired = fake_stripe.expire_checkout(url.rsplit("/", 1)[1])

    webhook.deliver(fake_stripe.event("checkout.session.expired", expired))
    # even a stray `completed` about an expired session grants nothing
    webhook.deliver(fake_stripe.event("checkout.session.completed", expired))

    assert not StripePayment.objects.exists()
    assert tokens.get_balance(user) == 0


def test_a_session_that_is_not_a_pack_of_ours_is_acknowledged_and_ignored(
    fake_stripe, webhook, catalogue, user, owner_client
):
    """Another app's Checkout on the same Stripe account, or one naming a user that is gone."""
    session = paid_session(fake_stripe, owner_client, catalogue["starter"])
    fake_stripe.get(session["id"])["metadata"] = {
        "kind": "pack",
        "user_id": "gone",
        "package_id": "x",
    }
    webhook.deliver(fake_stripe.event("checkout.session.completed", session))
    fake_stripe.get(session["id"])["metadata"] = {}
    webhook.deliver(fake_stripe.event("checkout.session.completed", session))

    assert not StripePayment.objects.exists()
    assert tokens.get_balance(user) == 0


def test_the_event_body_is_not_trusted_stripes_current_object_is(
    fake_stripe, webhook, catalogue, user, owner_client
):
    """A signed event whose body says `paid` about a session Stripe has as unpaid grants
    nothing: dj-stripe re-fetches the session and billing reads that."""
    url = start_checkout(owner_client, catalogue["starter"])
    session = dict(fake_stripe.get(url.rsplit("/", 1)[1]), status="complete", payment_status="paid")

    webhook.deliver(fake_stripe.event("checkout.session.completed", session))

    assert not StripePayment.objects.exists()
    assert tokens.get_balance(user) == 0


# --- refunds and disputes ---------------------------------------------------------------------
def bought(fake_stripe, webhook, owner_client, pack):
    session = paid_session(fake_stripe, owner_client, pack)
    webhook.deliver(fake_stripe.event("checkout.session.completed", session))
    payment = StripePayment.objects.get(stripe_checkout_session_id=session["id"])
    return payment, fake_stripe.get(session["payment_intent"])["latest_charge"]


def spend(user, amount):
    tokens.spend(user=user, amount=amount, source="enhancement")


def test_a_full_refund_takes_back_every_token(fake_stripe, webhook, catalogue, user, owner_client):
    payment, charge_id = bought(fake_stripe, webhook, owner_client, catalogue["starter"])

    webhook.deliver(fake_stripe.event("charge.refunded", fake_stripe.refund(charge_id)))

    payment.refresh_from_db()
    assert payment.status == StripePaymentStatus.REFUNDED
    assert (payment.amount_refunded, payment.tokens_clawed_back) == (Decimal("2.99"), 10)
    assert tokens.get_balance(user) == 0
    clawback = TokenTransaction.objects.get(type=TokenTransactionType.CLAWBACK)
    assert (clawback.amount, clawback.source, clawback.source_id) == (-10, "stripe", payment.pk)
    assert_ledger_balanced()


def test_a_partial_refund_after_some_tokens_were_spent(
    fake_stripe, webhook, catalogue, user, owner_client
):
    """£12.50 of £24.99 back is 75 of the 150 tokens (rounded down); 100 were spent, so the 50
    left are taken and the rest is spent. The second refund, of the rest, finds nothing left
    to take and takes nothing later either."""
    payment, charge_id = bought(fake_stripe, webhook, owner_client, catalogue["pro"])
    spend(user, 100)

    webhook.deliver(fake_stripe.event("charge.refunded", fake_stripe.refund(charge_id, 1250)))

    payment.refresh_from_db()
    assert payment.status == StripePaymentStatus.REFUNDED
    assert (payment.amount_refunded, payment.tokens_clawed_back) == (Decimal("12.50"), 75)
    assert tokens.get_balance(user) == 0
    assert TokenTransaction.objects.get(type=TokenTransactionType.CLAWBACK).amount == -50

    tokens.grant(user=user, amount=20, type="EARN_BONUS", source="test", idempotency_key="b")
    webhook.deliver(fake_stripe.event("charge.refunded", fake_stripe.refund(charge_id)))

    payment.refresh_from_db()
    assert (payment.amount_refunded, payment.tokens_clawed_back) == (Decimal("24.99"), 150)
    assert tokens.get_balance(user) == 0  # 75 more were due: the 20 there are taken
    assert_ledger_balanced()


def test_a_partial_refund_takes_its_share_when_the_balance_has_it(
    fake_stripe, webhook, catalogue, user, owner_client
):
    payment, charge_id = bought(fake_stripe, webhook, owner_client, catalogue["pro"])
    charge = fake_stripe.refund(charge_id, 833)  # a third

    for _ in range(3):  # the same state in several events: taken once
        webhook.deliver(fake_stripe.event("charge.refunded", charge))

    payment.refresh_from_db()
    assert payment.tokens_clawed_back == 150 * 833 // 2499 == 50
    assert tokens.get_balance(user) == 100
    assert TokenTransaction.objects.filter(type=TokenTransactionType.CLAWBACK).count() == 1
    assert_ledger_balanced()


def test_a_refund_of_a_charge_that_bought_no_pack_changes_nothing(
    fake_stripe, webhook, catalogue, user, owner_client
):
    payment, charge_id = bought(fake_stripe, webhook, owner_client, catalogue["starter"])
    fake_stripe.get(charge_id)["payment_intent"] = "pi_of_something_else"

    webhook.deliver(fake_stripe.event("charge.refunded", fake_stripe.refund(charge_id)))

    payment.refresh_from_db()
    assert payment.status == StripePaymentStatus.SUCCEEDED
    assert tokens.get_balance(user) == 10


def test_a_lost_dispute_takes_back_what_the_balance_allows(
    fake_stripe, webhook, catalogue, user, owner_client
):
    payment, charge_id = bought(fake_stripe, webhook, owner_client, catalogue["pro"])
    spend(user, 30)
    dispute = fake_stripe.dispute(charge_id)
    webhook.deliver(fake_stripe.event("charge.dispute.created", dispute))
    assert tokens.get_balance(user) == 120  # an open dispute takes nothing yet

    lost = fake_stripe.dispute(charge_id, status="lost", dispute_id=dispute["id"])
    webhook.deliver(fake_stripe.event("charge.dispute.closed", lost))
    webhook.deliver(fake_stripe.event("charge.dispute.closed", lost))

    payment.refresh_from_db()
    assert (payment.status, payment.tokens_clawed_back) == (StripePaymentStatus.REFUNDED, 150)
    assert payment.metadata["dispute_status"] == "lost"
    assert tokens.get_balance(user) == 0
    assert TokenTransaction.objects.get(type=TokenTransactionType.CLAWBACK).amount == -120
    assert_ledger_balanced()


def test_a_won_dispute_changes_nothing(fake_stripe, webhook, catalogue, user, owner_client):
    payment, charge_id = bought(fake_stripe, webhook, owner_client, catalogue["starter"])
    dispute = fake_stripe.dispute(charge_id)

    won = fake_stripe.dispute(charge_id, status="won", dispute_id=dispute["id"])
    webhook.deliver(fake_stripe.event("charge.dispute.closed", won))

    payment.refresh_from_db()
    assert payment.status == StripePaymentStatus.SUCCEEDED
    assert tokens.get_balance(user) == 10


def test_a_refund_reported_before_the_purchase_is_accounted_when_it_is_fulfilled(
    fake_stripe, webhook, catalogue, user, owner_client
):
    session = paid_session(fake_stripe, owner_client, catalogue["pro"])
    charge_id = fake_stripe.get(session["payment_intent"])["latest_charge"]
    refunded = fake_stripe.refund(charge_id, 1250)

    webhook.deliver(fake_stripe.event("charge.refunded", refunded))
    webhook.deliver(fake_stripe.event("checkout.session.completed", session))
    webhook.deliver(fake_stripe.event("charge.refunded", refunded))

    payment = StripePayment.objects.get()
    assert (payment.status, payment.tokens_granted, payment.tokens_clawed_back) == (
        StripePaymentStatus.REFUNDED,
        150,
        75,
    )
    assert payment.amount_refunded == Decimal("12.50")
    assert tokens.get_balance(user) == 75
