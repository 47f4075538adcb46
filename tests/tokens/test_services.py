"""spend / grant / refund / get_balance: one transaction per change, the right row, idempotency,
clear domain errors."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.factories import UserFactory
from tokens import services
from tokens.models import TokenTransaction, TokenTransactionType, UserTokenBalance

pytestmark = pytest.mark.django_db
T = TokenTransactionType


def balance_of(user) -> int:
    return UserTokenBalance.objects.get(user=user).balance


def ledger(user):
    return list(TokenTransaction.objects.filter(user=user).order_by("created_at"))


def test_a_new_user_has_an_empty_balance(clock, user):
    assert services.get_balance(user) == 0
    assert ledger(user) == []


def test_signup_tokens_are_a_bonus_in_the_ledger(clock, settings):
    settings.TOKEN_SIGNUP_BALANCE = 5
    newcomer = UserFactory()
    (entry,) = ledger(newcomer)
    assert (entry.type, entry.amount, entry.balance_after) == (T.EARN_BONUS, 5, 5)
    assert entry.idempotency_key == f"signup:{newcomer.pk}"
    assert balance_of(newcomer) == 5


def test_spend_writes_one_transaction_with_everything(clock):
    user = UserFactory(balance=10)

    entry = services.spend(
        user=user,
        amount=2,
        source="enhancement",
        source_id="job123",
        metadata={"tier": "TIER_1K"},
        idempotency_key="spend:job:job123",
    )

    assert balance_of(user) == 8
    entry.refresh_from_db()
    assert entry.type == T.SPEND_ENHANCEMENT
    assert (entry.amount, entry.balance_after) == (-2, 8)
    assert (entry.source, entry.source_id) == ("enhancement", "job123")
    assert entry.metadata == {"tier": "TIER_1K"}
    assert entry.user_id == user.pk
    assert len(ledger(user)) == 2  # the bonus and the spend


def test_spend_refuses_to_go_below_zero_with_a_sentence(clock):
    user = UserFactory(balance=3)

    with pytest.raises(services.InsufficientTokens) as refused:
        services.spend(user=user, amount=5, source="enhancement")

    assert str(refused.value) == (
        "This needs 5 tokens and you have 3. Buy a pack or wait for tokens to regenerate."
    )
    assert (refused.value.needed, refused.value.available) == (5, 3)
    assert balance_of(user) == 3
    assert len(ledger(user)) == 1


def test_spending_everything_reaches_zero(clock):
    user = UserFactory(balance=4)
    assert services.spend(user=user, amount=4, source="enhancement").balance_after == 0
    assert balance_of(user) == 0


@pytest.mark.parametrize("amount", [0, -3, 1.5, "2", True])
def test_amounts_must_be_positive_whole_numbers(clock, amount):
    user = UserFactory(balance=10)
    for call in (
        lambda: services.spend(user=user, amount=amount, source="x"),
        lambda: services.grant(user=user, amount=amount, type=T.EARN_BONUS, source="x"),
        lambda: services.refund(
            user=user, amount=amount, source="x", source_id="1", idempotency_key="k"
        ),
    ):
        with pytest.raises(services.InvalidAmount):
            call()
    assert balance_of(user) == 10 and len(ledger(user)) == 1


def test_grant_needs_an_earn_type(clock):
    user = UserFactory()
    for wrong in (T.SPEND_ENHANCEMENT, T.REFUND, "FREE_MONEY"):
        with pytest.raises(services.InvalidAmount):
            services.grant(user=user, amount=5, type=wrong, source="x")
    assert ledger(user) == []


@pytest.mark.parametrize("kind", [T.EARN_PURCHASE, T.EARN_BONUS, T.EARN_REGENERATION])
def test_grant_adds_and_may_go_above_the_cap(clock, kind):
    user = UserFactory(balance=95)
    entry = services.grant(
        user=user, amount=50, type=kind, source="stripe", source_id="pi_1", metadata={"a": 1}
    )
    assert (entry.type, entry.amount, entry.balance_after) == (kind, 50, 145)
    assert (entry.source, entry.source_id, entry.metadata) == ("stripe", "pi_1", {"a": 1})
    assert balance_of(user) == 145


def test_a_grant_delivered_twice_changes_nothing_the_second_time(clock):
    user = UserFactory()
    first = services.grant(
        user=user,
        amount=50,
        type=T.EARN_PURCHASE,
        source="stripe",
        source_id="pi_1",
        idempotency_key="stripe:pi_1",
    )
    again = services.grant(
        user=user,
        amount=50,
        type=T.EARN_PURCHASE,
        source="stripe",
        source_id="pi_1",
        idempotency_key="stripe:pi_1",
    )
    assert again.pk == first.pk
    assert balance_of(user) == 50
    assert len(ledger(user)) == 1


def test_refund_gives_back_once(clock):
    user = UserFactory(balance=10)
    services.spend(user=user, amount=5, source="enhancement", source_id="job1")

    first = services.refund(
        user=user,
        amount=5,
        source="enhancement",
        source_id="job1",
        idempotency_key="refund:job:job1",
        metadata={"reason": "engine failed"},
    )
    again = services.refund(
        user=user,
        amount=5,
        source="enhancement",
        source_id="job1",
        idempotency_key="refund:job:job1",
    )

    assert again.pk == first.pk
    assert (first.type, first.amount, first.balance_after) == (T.REFUND, 5, 10)
    assert first.metadata == {"reason": "engine failed"}
    assert balance_of(user) == 10
    assert [e.type for e in ledger(user)] == [T.EARN_BONUS, T.SPEND_ENHANCEMENT, T.REFUND]


def test_a_refund_needs_a_key(clock):
    user = UserFactory()
    with pytest.raises(services.InvalidAmount):
        services.refund(
            user=user, amount=5, source="enhancement", source_id="j", idempotency_key=""
        )
    assert ledger(user) == []


def test_a_duplicated_refund_is_refused_by_the_database(clock):
    user = UserFactory()
    first = services.refund(
        user=user, amount=5, source="enhancement", source_id="job1", idempotency_key="refund:job1"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        TokenTransaction.objects.create(
            user=user,
            amount=5,
            type=T.REFUND,
            source="enhancement",
            source_id="job1",
            balance_after=10,
            idempotency_key=first.idempotency_key,
        )
    assert TokenTransaction.objects.filter(idempotency_key="refund:job1").count() == 1


def test_the_database_refuses_a_negative_balance_or_a_wrong_sign(clock):
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        UserTokenBalance.objects.filter(user=user).update(balance=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        TokenTransaction.objects.create(
            user=user, amount=5, type=T.SPEND_ENHANCEMENT, balance_after=5
        )


def test_a_key_reused_for_another_change_is_a_conflict(clock):
    user = UserFactory(balance=10)
    services.spend(user=user, amount=2, source="enhancement", idempotency_key="job:1")

    with pytest.raises(services.IdempotencyConflict):
        services.refund(
            user=user, amount=2, source="enhancement", source_id="1", idempotency_key="job:1"
        )
    other = UserFactory(balance=10)
    with pytest.raises(services.IdempotencyConflict):
        services.spend(user=other, amount=2, source="enhancement", idempotency_key="job:1")
    assert balance_of(user) == 8 and balance_of(other) == 10


def test_a_spend_inside_the_callers_transaction_rolls_back_with_it(clock):
    user = UserFactory(balance=10)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.spend(user=user, amount=4, source="enhancement", idempotency_key="job:9")
        raise RuntimeError("the job could not be created")
    assert balance_of(user) == 10
    assert not TokenTransaction.objects.filter(idempotency_key="job:9").exists()


def test_a_missing_balance_row_is_created_on_first_use(clock):
    user = UserFactory()
    UserTokenBalance.objects.filter(user=user).delete()
    services.grant(user=user, amount=3, type=T.EARN_BONUS, source="test")
    assert balance_of(user) == 3


def test_transactions_are_strictly_ordered_even_with_a_frozen_clock(clock):
    user = UserFactory()
    for _ in range(5):
        services.grant(user=user, amount=1, type=T.EARN_BONUS, source="test")
        services.spend(user=user, amount=1, source="test")
    stamps = [e.created_at for e in ledger(user)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 10
    assert [e.balance_after for e in ledger(user)] == [1, 0] * 5
    assert stamps[0] >= timezone.now()
