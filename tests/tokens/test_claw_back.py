"""claw_back: tokens of a refunded payment taken back as far as the balance allows, once."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from tests.factories import UserFactory
from tests.tokens.conftest import MINUTE, T0
from tokens import services
from tokens.models import TokenTransaction, TokenTransactionType, UserTokenBalance

pytestmark = pytest.mark.django_db
T = TokenTransactionType


def balance_of(user) -> int:
    return UserTokenBalance.objects.get(user=user).balance


def claw(user, amount, key="clawback:payment:p1"):
    return services.claw_back(
        user=user,
        amount=amount,
        source="test-payments",
        source_id="p1",
        idempotency_key=key,
        metadata={"reason": "refund"},
    )


def test_takes_back_what_was_bought(clock):
    user = UserFactory(balance=150)

    entry = claw(user, 50)

    assert (entry.type, entry.amount, entry.balance_after) == (T.CLAWBACK, -50, 100)
    assert (entry.source, entry.source_id, entry.metadata) == (
        "test-payments",
        "p1",
        {"reason": "refund"},
    )
    assert balance_of(user) == 100
    call_command("check_ledger")


def test_takes_no_more_than_the_balance_and_never_goes_below_zero(clock):
    user = UserFactory(balance=30)

    entry = claw(user, 50)

    assert (entry.amount, entry.balance_after) == (-30, 0)
    assert balance_of(user) == 0
    call_command("check_ledger")


def test_an_empty_balance_writes_nothing(clock):
    user = UserFactory()

    assert claw(user, 50) is None

    assert balance_of(user) == 0
    assert not TokenTransaction.objects.filter(user=user).exists()


def test_an_empty_balance_still_keeps_the_regeneration_that_was_due(clock):
    user = UserFactory()
    clock.move_to(T0 + 31 * MINUTE)

    entry = claw(user, 50)

    # the two regenerated tokens are credited, then taken back by the clawback
    assert (entry.amount, entry.balance_after) == (-2, 0)
    assert [e.type for e in TokenTransaction.objects.filter(user=user).order_by("created_at")] == [
        T.EARN_REGENERATION,
        T.CLAWBACK,
    ]
    call_command("check_ledger")


def test_a_repeated_clawback_returns_the_first_and_changes_nothing(clock):
    user = UserFactory(balance=30)
    first = claw(user, 50)
    services.grant(user=user, amount=40, type=T.EARN_BONUS, source="test", idempotency_key="g")

    again = claw(user, 50)

    assert again.pk == first.pk
    assert balance_of(user) == 40
    assert TokenTransaction.objects.filter(type=T.CLAWBACK).count() == 1


def test_the_key_is_mandatory_and_the_amount_positive(clock):
    user = UserFactory(balance=10)
    with pytest.raises(services.InvalidAmount):
        claw(user, 5, key="")
    for amount in (0, -5, 2.5, True):
        with pytest.raises(services.InvalidAmount):
            claw(user, amount)
    assert balance_of(user) == 10


def test_a_key_used_for_another_change_is_a_conflict(clock):
    user = UserFactory(balance=10)
    services.grant(user=user, amount=5, type=T.EARN_PURCHASE, source="s", idempotency_key="k")

    with pytest.raises(services.IdempotencyConflict):
        claw(user, 5, key="k")
    assert balance_of(user) == 15


def test_the_database_refuses_a_positive_clawback(clock):
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        TokenTransaction.objects.create(user=user, amount=5, type=T.CLAWBACK, balance_after=5)
