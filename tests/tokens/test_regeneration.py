"""Regeneration: 1 token per 15 minutes up to 100, lazily and by the schedule, with a frozen
clock. Both paths must agree to the token and never credit an interval twice."""

import datetime as dt
import importlib
import random

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django_q.models import Schedule
from django_q.tasks import async_task, result

from tests.factories import UserFactory
from tests.tokens.conftest import MINUTE, SECOND, T0
from tokens import regeneration, services, tasks
from tokens.models import TokenTransaction, TokenTransactionType, UserTokenBalance

pytestmark = pytest.mark.django_db
REGEN = TokenTransactionType.EARN_REGENERATION


def regen_entries(user):
    return list(TokenTransaction.objects.filter(user=user, type=REGEN).order_by("created_at"))


def stored(user) -> UserTokenBalance:
    return UserTokenBalance.objects.get(user=user)


# --- the arithmetic, lazily -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        (dt.timedelta(0), 0),
        (14 * MINUTE + 59 * SECOND, 0),
        (15 * MINUTE, 1),
        (29 * MINUTE + 59 * SECOND, 1),
        (7 * 60 * MINUTE + 30 * MINUTE, 30),
    ],
    ids=["0", "14:59", "15:00", "29:59", "7h30"],
)
def test_whole_intervals_since_the_last_regeneration(clock, elapsed, expected):
    user = UserFactory()
    clock.move_to(T0 + elapsed)

    assert services.get_balance(user) == expected
    entries = regen_entries(user)
    assert sum(e.amount for e in entries) == expected
    assert len(entries) == (1 if expected else 0)


def test_a_regeneration_is_one_transaction_with_its_intervals(clock):
    user = UserFactory()
    clock.move_to(T0 + 7 * 60 * MINUTE + 30 * MINUTE + 10 * SECOND)

    assert services.get_balance(user) == 30

    (entry,) = regen_entries(user)
    assert entry.amount == 30 and entry.balance_after == 30
    assert entry.source == "regeneration" and entry.source_id is None
    assert entry.metadata == {
        "intervals": 30,
        "from": "2026-01-05T12:00:00.000000Z",
        "to": "2026-01-05T19:30:00.000000Z",
    }
    # The 10 seconds past the last whole interval are kept, not lost.
    assert stored(user).last_regeneration == T0 + 450 * MINUTE


def test_the_remainder_of_an_interval_is_kept_and_not_counted_twice(clock):
    user = UserFactory()
    clock.move_to(T0 + 20 * MINUTE)
    assert services.get_balance(user) == 1
    clock.move_to(T0 + 29 * MINUTE + 59 * SECOND)
    assert services.get_balance(user) == 1  # 5 minutes kept + 9:59 < 15 minutes
    clock.move_to(T0 + 30 * MINUTE)
    assert services.get_balance(user) == 2
    assert [e.amount for e in regen_entries(user)] == [1, 1]


def test_the_cap_is_reached_with_the_remainder_moved_on(clock):
    user = UserFactory(balance=95)
    clock.move_to(T0 + 7 * 60 * MINUTE + 30 * MINUTE + 7 * MINUTE)

    assert services.get_balance(user) == 100

    (entry,) = regen_entries(user)
    assert entry.amount == 5 and entry.balance_after == 100
    assert entry.metadata["intervals"] == 30  # the 25 intervals beyond the cap are dropped
    assert stored(user).last_regeneration == T0 + 450 * MINUTE  # the 7 minutes are kept


def test_nothing_regenerates_at_the_cap(clock):
    user = UserFactory(balance=100)
    clock.move_to(T0 + 24 * 60 * MINUTE)

    assert services.get_balance(user) == 100
    assert services.regenerate_all().users == 0
    assert regen_entries(user) == []


def test_a_balance_above_the_cap_is_left_alone(clock):
    user = UserFactory(balance=150)
    clock.move_to(T0 + 48 * 60 * MINUTE)

    assert services.get_balance(user) == 150
    services.regenerate_all()
    services.spend(user=user, amount=10, source="test")
    assert services.get_balance(user) == 140
    assert regen_entries(user) == []
    assert stored(user).balance == 140


def test_dropping_below_the_cap_starts_a_full_interval(clock):
    """The clock does not run at or above the cap: after a spend that drops below it, the
    next token comes one whole interval later, however long the balance sat at the cap."""
    user = UserFactory(balance=100)
    spent_at = T0 + 5 * 60 * MINUTE + 7 * MINUTE
    clock.move_to(spent_at)
    services.spend(user=user, amount=10, source="test")
    assert stored(user).last_regeneration == spent_at

    clock.move_to(spent_at + 14 * MINUTE + 59 * SECOND)
    assert services.get_balance(user) == 90
    clock.move_to(spent_at + 15 * MINUTE)
    assert services.get_balance(user) == 91


def test_a_spend_that_stays_below_the_cap_keeps_the_clock(clock):
    user = UserFactory(balance=50)
    clock.move_to(T0 + 10 * MINUTE)
    services.spend(user=user, amount=10, source="test")
    clock.move_to(T0 + 15 * MINUTE)
    assert services.get_balance(user) == 41


def test_a_spend_applies_what_is_due_first_in_order(clock):
    user = UserFactory()
    clock.move_to(T0 + 30 * MINUTE)

    entry = services.spend(user=user, amount=2, source="test")

    assert entry.balance_after == 0
    regen, spend = TokenTransaction.objects.filter(user=user).order_by("created_at")
    assert (regen.type, regen.amount, regen.balance_after) == (REGEN, 2, 2)
    assert (spend.amount, spend.balance_after) == (-2, 0)
    assert regen.created_at < spend.created_at  # a strict order even with a frozen clock


def test_a_refused_spend_keeps_nothing_and_the_tokens_stay_due(clock):
    user = UserFactory()
    clock.move_to(T0 + 15 * MINUTE)

    with pytest.raises(services.InsufficientTokens) as refused:
        services.spend(user=user, amount=5, source="test")

    assert refused.value.available == 1
    assert stored(user).balance == 0
    assert not TokenTransaction.objects.filter(user=user).exists()
    assert services.get_balance(user) == 1


def test_reading_without_anything_due_writes_nothing(clock, django_assert_num_queries):
    user = UserFactory(balance=3)
    clock.move_to(T0 + 14 * MINUTE)
    with django_assert_num_queries(1):
        assert services.get_balance(user) == 3


def test_the_projection_shows_what_is_due_without_writing(clock):
    user = UserFactory()
    clock.move_to(T0 + 47 * MINUTE)
    row = stored(user)

    status = regeneration.project_balance(
        balance=row.balance, last_regeneration=row.last_regeneration
    )

    assert status.balance == 3
    assert status.next_token_at == T0 + 60 * MINUTE
    assert status.seconds_to_next_token == 13 * 60
    assert stored(user).balance == 0 and not TokenTransaction.objects.exists()


def test_status_at_the_cap_has_no_next_token(clock):
    user = UserFactory(balance=100)
    status = services.get_balance_status(user)
    assert status.at_or_above_cap and status.next_token_at is None


def test_the_interval_and_the_cap_are_settings(clock, settings):
    settings.TOKEN_REGEN_INTERVAL_MINUTES = 5
    settings.TOKEN_REGEN_CAP = 10
    user = UserFactory(balance=8)
    clock.move_to(T0 + 60 * MINUTE)
    assert services.get_balance(user) == 10


# --- the schedule -----------------------------------------------------------------------------
def test_the_schedule_credits_everyone_due_in_batches(clock):
    users = [UserFactory() for _ in range(7)]
    full = UserFactory(balance=100)
    clock.move_to(T0 + 7 * 60 * MINUTE + 30 * MINUTE + 59 * SECOND)

    run = services.regenerate_all(batch_size=3)

    assert (run.users, run.tokens) == (7, 7 * 30)
    for user in users:
        row = stored(user)
        assert row.balance == 30 and row.last_regeneration == T0 + 450 * MINUTE
        (entry,) = regen_entries(user)
        assert entry.balance_after == 30
        assert entry.metadata == {
            "intervals": 30,
            "from": "2026-01-05T12:00:00.000000Z",
            "to": "2026-01-05T19:30:00.000000Z",
        }
        assert entry.idempotency_key == regeneration.regeneration_key(user.pk, T0 + 450 * MINUTE)
    assert stored(full).balance == 100
    call_command("check_ledger")


def test_the_schedule_run_twice_credits_once(clock):
    user = UserFactory(balance=10)
    clock.move_to(T0 + 44 * MINUTE)
    assert services.regenerate_all().users == 1
    assert services.regenerate_all().users == 0
    assert stored(user).balance == 12


def test_an_inactive_account_gains_nothing_from_the_schedule(clock):
    """A deleted account's anonymised row (inactive) keeps its balance and ledger, no more."""
    gone = UserFactory(balance=10, is_active=False)
    active = UserFactory(balance=10)
    clock.move_to(T0 + 7 * 60 * MINUTE)

    for batch_size in (1, 1000):
        services.regenerate_all(batch_size=batch_size)

    assert stored(gone).balance == 10 and not regen_entries(gone)
    assert stored(active).balance == 38
    call_command("check_ledger")


def test_the_schedule_stops_at_the_cap(clock):
    user = UserFactory(balance=98)
    clock.move_to(T0 + 60 * MINUTE)
    assert services.regenerate_all().tokens == 2
    assert stored(user).balance == 100


def test_the_task_returns_how_many_balances_it_credited(clock):
    UserFactory()
    UserFactory()
    UserFactory(balance=100)
    clock.move_to(T0 + 15 * MINUTE)
    assert tasks.regenerate_all() == 2
    assert tasks.regenerate_all() == 0


def test_the_scheduled_function_runs_through_django_q(clock):
    user = UserFactory()
    clock.move_to(T0 + 30 * MINUTE)

    task_id = async_task(tasks.REGENERATION_FUNC, sync=True)

    assert result(task_id) == 1
    assert stored(user).balance == 2


def test_the_data_migration_creates_the_schedule_once():
    """The worker finds the schedule with no manual step: a data migration creates it. (Its
    function is called directly: transactional tests elsewhere flush the migrated row.)"""
    migration = importlib.import_module("tokens.migrations.0002_regeneration_schedule")
    Schedule.objects.filter(func=tasks.REGENERATION_FUNC).delete()

    migration.create_schedule(django_apps, None)
    migration.create_schedule(django_apps, None)

    schedule = Schedule.objects.get(func=tasks.REGENERATION_FUNC)
    assert schedule.schedule_type == Schedule.CRON
    assert schedule.cron == tasks.REGENERATION_CRON == "*/15 * * * *"
    assert schedule.repeats == -1
    migration.delete_schedule(django_apps, None)
    assert not Schedule.objects.filter(func=tasks.REGENERATION_FUNC).exists()


# --- both paths together ----------------------------------------------------------------------
def expected_regenerated(start_balance: int, elapsed: dt.timedelta) -> int:
    return min(start_balance + elapsed // (15 * MINUTE), 100)


@pytest.mark.parametrize("seed", range(5))
def test_schedule_and_lazy_reads_never_double_credit(clock, seed):
    """Whatever the order and the moments at which the schedule and the lazy path run, each
    balance ends with exactly the whole intervals elapsed, capped."""
    rng = random.Random(seed)
    starts = [0, 0, 37, 90, 99]
    users = [UserFactory(balance=b) for b in starts]
    moment = T0
    for _ in range(40):
        moment += dt.timedelta(seconds=rng.randint(0, 25 * 60))
        clock.move_to(moment)
        if rng.random() < 0.4:
            services.regenerate_all(batch_size=rng.choice([1, 2, 100]))
        else:
            services.get_balance(rng.choice(users))
    services.regenerate_all()

    for user, start in zip(users, starts, strict=True):
        assert stored(user).balance == expected_regenerated(start, moment - T0)
        keys = [e.idempotency_key for e in regen_entries(user)]
        assert len(keys) == len(set(keys))
    call_command("check_ledger")


def test_schedule_lazy_and_spends_interleaved_add_up(clock):
    user = UserFactory(balance=10)
    clock.move_to(T0 + 16 * MINUTE)  # 1 due
    services.regenerate_all()  # 11, clock at 15:00
    clock.move_to(T0 + 31 * MINUTE)  # 1 more due
    services.spend(user=user, amount=5, source="test")  # 12 - 5 = 7, clock at 30:00
    clock.move_to(T0 + 44 * MINUTE)
    services.regenerate_all()  # nothing: 14 minutes
    clock.move_to(T0 + 45 * MINUTE)
    services.regenerate_all()  # 8
    assert services.get_balance(user) == 8
    assert [e.amount for e in regen_entries(user)] == [1, 1, 1]
    call_command("check_ledger")
