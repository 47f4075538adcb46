"""Redeeming each type of voucher, and each refusal, through vouchers.services."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import UserFactory, VoucherFactory
from tokens import services as tokens
from tokens.models import TokenTransaction, TokenTransactionType
from vouchers import services
from vouchers.models import Voucher, VoucherRedemption, VoucherStatus, VoucherType

pytestmark = pytest.mark.django_db


def test_fixed_tokens_are_granted_at_once_keyed_by_the_redemption(user):
    voucher = VoucherFactory(code="WELCOME25", value=25, max_uses=3)

    outcome = services.redeem(user=user, code="welcome25")

    redemption = VoucherRedemption.objects.get(user=user)
    assert redemption.voucher == voucher and redemption.tokens_granted == 25
    entry = TokenTransaction.objects.get(user=user)
    assert (entry.type, entry.amount, entry.source, entry.source_id) == (
        TokenTransactionType.EARN_BONUS,
        25,
        "voucher",
        redemption.pk,
    )
    assert entry.idempotency_key == f"voucher:redemption:{redemption.pk}"
    assert tokens.get_balance(user) == 25 == outcome.balance
    assert "25 tokens added" in outcome.message and "now 25" in outcome.message
    voucher.refresh_from_db()
    assert voucher.current_uses == 1 and voucher.status == VoucherStatus.ACTIVE


@pytest.mark.parametrize("typed", ["spring-abcd-efgh", " Spring ABCD efgh ", "SPRINGABCDEFGH"])
def test_codes_match_whatever_the_case_spaces_and_dashes(user, typed):
    VoucherFactory(code="SPRING-ABCD-EFGH", value=5)
    assert Voucher.objects.get().code == "SPRINGABCDEFGH"

    services.redeem(user=user, code=typed)

    assert tokens.get_balance(user) == 5


@pytest.mark.parametrize(
    ("kind", "value", "words"),
    [
        (VoucherType.PERCENTAGE_BONUS, 20, "20% extra tokens are waiting"),
        (VoucherType.SUBSCRIPTION_TRIAL, 14, "free trial of 14 days is waiting"),
    ],
)
def test_a_bonus_or_trial_waits_and_grants_nothing_now(user, kind, value, words):
    VoucherFactory(code="HELD", type=kind, value=value)

    outcome = services.redeem(user=user, code="held")

    assert words in outcome.message
    redemption = VoucherRedemption.objects.get(user=user)
    assert redemption.tokens_granted == 0 and redemption.applied_at is None
    assert not TokenTransaction.objects.filter(user=user).exists()
    assert Voucher.objects.get().current_uses == 1


def test_the_last_use_depletes_the_voucher(user, other_user):
    VoucherFactory(code="TWICE", max_uses=2)
    services.redeem(user=user, code="TWICE")
    services.redeem(user=other_user, code="TWICE")

    voucher = Voucher.objects.get()
    assert (voucher.current_uses, voucher.status) == (2, VoucherStatus.DEPLETED)
    with pytest.raises(services.VoucherExhausted) as refused:
        services.redeem(user=UserFactory(), code="TWICE")
    assert refused.value.message == "This voucher has been fully redeemed: no uses are left."
    assert voucher.redemptions.count() == 2


def test_a_voucher_still_active_but_full_is_refused_and_marked_depleted(user):
    VoucherFactory(code="FULL", max_uses=1, current_uses=1)

    with pytest.raises(services.VoucherExhausted):
        services.redeem(user=user, code="FULL")

    assert Voucher.objects.get().status == VoucherStatus.DEPLETED
    assert tokens.get_balance(user) == 0


def test_an_expired_voucher_is_refused_and_marked_expired(user):
    VoucherFactory(code="OLD", expires_at=timezone.now() - dt.timedelta(seconds=1))

    with pytest.raises(services.VoucherExpired) as refused:
        services.redeem(user=user, code="OLD")

    assert refused.value.message == "This voucher has expired."
    assert Voucher.objects.get().status == VoucherStatus.EXPIRED
    assert not VoucherRedemption.objects.exists() and tokens.get_balance(user) == 0


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (VoucherStatus.INACTIVE, services.VoucherInactive),
        (VoucherStatus.EXPIRED, services.VoucherExpired),
        (VoucherStatus.DEPLETED, services.VoucherExhausted),
    ],
)
def test_a_voucher_not_active_is_refused(user, status, error):
    VoucherFactory(code="NOPE", status=status)

    with pytest.raises(error):
        services.redeem(user=user, code="NOPE")

    assert Voucher.objects.get().current_uses == 0 and tokens.get_balance(user) == 0


def test_a_user_redeems_a_voucher_once(user):
    VoucherFactory(code="ONCE", value=10)
    services.redeem(user=user, code="ONCE")

    with pytest.raises(services.VoucherAlreadyRedeemed) as refused:
        services.redeem(user=user, code="o-n-c-e")

    assert refused.value.message == "You have already redeemed this voucher."
    assert Voucher.objects.get().current_uses == 1 and tokens.get_balance(user) == 10


@pytest.mark.parametrize("code", ["NOSUCHCODE", "", "ab\x00cd", "ü" * 5, "X" * 25, "%27--"])
def test_a_wrong_code_says_nothing_about_the_codes_that_exist(user, code):
    VoucherFactory(code="REAL")

    with pytest.raises(services.VoucherNotFound) as refused:
        services.redeem(user=user, code=code)

    assert refused.value.message == "That code is not valid. Check it and try again."


def test_generated_codes_use_the_unambiguous_alphabet_and_the_prefix(staff_user):
    made = services.generate_batch(
        count=200,
        prefix="spring-",
        type=VoucherType.FIXED_TOKENS,
        value=5,
        max_uses=1,
        expires_at=None,
        length=8,
        created_by=staff_user,
    )

    codes = {v.code for v in Voucher.objects.all()}
    assert len(made) == 200 == len(codes)
    for code in codes:
        assert code.startswith("SPRING") and len(code) == 14
        assert not set(code[6:]) & set("01OIL")
        assert set(code[6:]) <= set(services.CODE_ALPHABET)
    assert {v.metadata["created_by"] for v in made} == {staff_user.pk}


def test_the_sweep_marks_expired_vouchers_once():
    now = timezone.now()
    old = VoucherFactory(expires_at=now - dt.timedelta(minutes=1))
    fresh = VoucherFactory(expires_at=now + dt.timedelta(days=1))
    off = VoucherFactory(expires_at=now - dt.timedelta(days=1), status=VoucherStatus.INACTIVE)

    assert services.sweep_expired(now=now) == 1
    assert services.sweep_expired(now=now) == 0

    statuses = {v.pk: v.status for v in Voucher.objects.all()}
    assert statuses == {
        old.pk: VoucherStatus.EXPIRED,
        fresh.pk: VoucherStatus.ACTIVE,
        off.pk: VoucherStatus.INACTIVE,
    }


def test_the_sweep_runs_from_the_command_and_the_schedule():
    import importlib

    from django.apps import apps as django_apps
    from django.core.management import call_command
    from django_q.models import Schedule

    VoucherFactory(expires_at=timezone.now() - dt.timedelta(minutes=1))
    call_command("expire_vouchers", stdout=__import__("io").StringIO())
    assert Voucher.objects.get().status == VoucherStatus.EXPIRED

    migration = importlib.import_module("vouchers.migrations.0003_expiry_sweep_schedule")
    migration.create_schedule(django_apps, None)
    migration.create_schedule(django_apps, None)
    schedule = Schedule.objects.get(name=migration.SCHEDULE_NAME)
    assert schedule.func == "vouchers.tasks.sweep_expired_vouchers"
    from vouchers import tasks

    assert callable(tasks.sweep_expired_vouchers)


def test_the_ledger_check_knows_voucher_rows(user):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    VoucherFactory(code="LEDGER", value=3)
    services.redeem(user=user, code="LEDGER")
    call_command("check_ledger", stdout=__import__("io").StringIO())

    tokens.grant(
        user=user,
        amount=1,
        type=TokenTransactionType.EARN_BONUS,
        source="voucher",
        source_id="c" + "x" * 24,
    )
    with pytest.raises((CommandError, SystemExit, AssertionError)):
        call_command("check_ledger", stdout=__import__("io").StringIO())
    TokenTransaction.objects.filter(source_id="c" + "x" * 24).delete()
    # put the balance back as it was, so the autouse check passes
    from tokens.models import UserTokenBalance

    UserTokenBalance.objects.filter(user=user).update(balance=3)
