"""Real concurrency on PostgreSQL: threads, each with its own connection, redeeming at once,
and two purchases' webhooks meeting one held bonus."""

import io
import json
from collections import Counter

import pytest
from django.core.management import call_command
from django.test import Client
from djstripe.models import Account

from billing import payments
from tests.billing.conftest import SECRET_KEY
from tests.factories import UserFactory, VoucherFactory
from tests.fakes.stripe_api import signature_header
from tests.tokens.test_concurrency import run_together
from tokens import services as tokens
from tokens.models import TokenTransaction, TokenTransactionType
from vouchers import services
from vouchers.models import Voucher, VoucherRedemption, VoucherStatus, VoucherType

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_users_redeem_the_last_ten_uses_at_once():
    VoucherFactory(code="TENONLY", value=3, max_uses=10)
    users = [UserFactory() for _ in range(50)]

    results = run_together(50, lambda i: services.redeem(user=users[i], code="tenonly"))

    outcome = Counter(type(r).__name__ for r in results)
    assert outcome == {"Outcome": 10, "VoucherExhausted": 40}, outcome
    voucher = Voucher.objects.get()
    assert voucher.current_uses == 10 == voucher.redemptions.count()
    assert voucher.status == VoucherStatus.DEPLETED
    assert TokenTransaction.objects.filter(type=TokenTransactionType.EARN_BONUS).count() == 10
    assert sum(tokens.get_balance(u) for u in users) == 30
    call_command("check_ledger", stdout=io.StringIO())


def test_one_user_redeeming_one_code_twenty_times_at_once_gets_it_once():
    VoucherFactory(code="ONCEONLY", value=5)
    user = UserFactory()

    results = run_together(20, lambda i: services.redeem(user=user, code="ONCE-ONLY"))

    outcome = Counter(type(r).__name__ for r in results)
    assert outcome == {"Outcome": 1, "VoucherAlreadyRedeemed": 19}, outcome
    assert Voucher.objects.get().current_uses == 1 == VoucherRedemption.objects.count()
    assert tokens.get_balance(user) == 5
    assert TokenTransaction.objects.filter(user=user).count() == 1
    call_command("check_ledger", stdout=io.StringIO())


def test_two_purchases_fulfilled_at_once_share_one_bonus_once(
    fake_stripe, webhook, catalogue, user
):
    Account.get_or_retrieve_for_api_key(SECRET_KEY)
    VoucherFactory(code="HALF", type=VoucherType.PERCENTAGE_BONUS, value=50)
    services.redeem(user=user, code="HALF")
    sessions = [
        payments.start_pack_checkout(
            user=user,
            package=catalogue["pro"],
            success_url="http://testserver/billing/success/",
            cancel_url="http://testserver/pricing/",
        )
        for _ in range(2)
    ]
    # each purchase's event delivered three times, all six at the same moment
    events = [
        fake_stripe.event("checkout.session.completed", fake_stripe.pay_checkout(s["id"]))
        for s in sessions
    ] * 3

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

    statuses = run_together(len(events), deliver)
    # a delivery that lost a race inside dj-stripe's own sync may answer 500: Stripe retries
    for event, status in zip(events, statuses, strict=True):
        if status != 200:
            webhook.deliver(event)

    bonuses = TokenTransaction.objects.filter(type=TokenTransactionType.EARN_BONUS)
    assert bonuses.count() == 1 and bonuses.get().amount == 75
    purchases = TokenTransaction.objects.filter(type=TokenTransactionType.EARN_PURCHASE)
    assert purchases.count() == 2
    assert tokens.get_balance(user) == 150 + 150 + 75
    redemption = VoucherRedemption.objects.get()
    assert redemption.applied_to in {s["id"] for s in sessions}
    call_command("check_ledger", stdout=io.StringIO())
