"""Real concurrency on PostgreSQL: threads, each with its own connection, against one balance."""

import datetime as dt
import threading
import time
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection

from tests.factories import UserFactory
from tests.tokens.conftest import MINUTE, T0
from tokens import services
from tokens.models import TokenTransaction, TokenTransactionType, UserTokenBalance

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(count: int, work) -> list:
    """Run `work(i)` in `count` threads released at the same moment; their results in order
    (an exception is a result too). Each thread closes its own connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_twenty_spends_of_two_from_thirty():
    user = UserFactory(balance=30)

    results = run_together(
        20, lambda i: services.spend(user=user, amount=2, source="test", source_id=str(i))
    )

    outcome = Counter(type(r).__name__ for r in results)
    assert outcome == {"TokenTransaction": 15, "InsufficientTokens": 5}
    assert UserTokenBalance.objects.get(user=user).balance == 0
    spends = TokenTransaction.objects.filter(user=user, type=TokenTransactionType.SPEND_ENHANCEMENT)
    assert spends.count() == 15
    assert sorted(spends.values_list("balance_after", flat=True)) == list(range(0, 30, 2))
    call_command("check_ledger")


def test_one_refund_delivered_ten_times_at_once_counts_once():
    user = UserFactory(balance=10)

    results = run_together(
        10,
        lambda i: services.refund(
            user=user,
            amount=5,
            source="test",
            source_id="job1",
            idempotency_key="refund:job:job1",
        ),
    )

    assert len({r.pk for r in results}) == 1
    assert UserTokenBalance.objects.get(user=user).balance == 15
    assert TokenTransaction.objects.filter(type=TokenTransactionType.REFUND).count() == 1
    call_command("check_ledger")


def test_lazy_and_scheduled_regeneration_at_once_never_double_credit(time_machine):
    """Readers (the lazy path) and schedule runs race on the same balances while the clock
    runs across several interval boundaries: each balance ends with exactly the whole
    intervals elapsed, every regeneration key once."""
    time_machine.move_to(T0, tick=False)
    users = [UserFactory() for _ in range(12)]
    clock_done = threading.Event()

    def work(i):
        if i == 0:  # the clock: two minutes every few milliseconds, across 36 intervals
            try:
                moment = T0
                while moment < T0 + 9 * 60 * MINUTE:
                    moment += 2 * MINUTE
                    time_machine.move_to(moment, tick=False)
                    time.sleep(0.004)
            finally:
                clock_done.set()
            return True
        n = 0
        while not clock_done.is_set():
            if i % 3 == 0:
                services.regenerate_all(batch_size=5)
            else:
                services.get_balance(users[(i + n) % len(users)])
            n += 1
        return True

    assert run_together(9, work) == [True] * 9

    end = T0 + 9 * 60 * MINUTE + 14 * MINUTE
    time_machine.move_to(end, tick=False)
    services.regenerate_all()
    for user in users:
        assert UserTokenBalance.objects.get(user=user).balance == (end - T0) // (15 * MINUTE)
    keys = list(
        TokenTransaction.objects.filter(type=TokenTransactionType.EARN_REGENERATION).values_list(
            "idempotency_key", flat=True
        )
    )
    assert len(keys) == len(set(keys))
    assert len(keys) > 2 * len(users)  # credits really happened during the race, not only after
    call_command("check_ledger")


def test_spends_racing_the_schedule_keep_the_ledger_exact(time_machine):
    """Spends and schedule runs at once on balances that cross the cap both ways."""
    time_machine.move_to(T0, tick=False)
    users = [UserFactory(balance=b) for b in (0, 50, 99, 100, 120)]
    time_machine.move_to(T0 + dt.timedelta(hours=3), tick=False)

    def work(i):
        if i % 2 == 0:
            return services.regenerate_all(batch_size=2)
        try:
            return services.spend(user=users[i % len(users)], amount=3, source="test")
        except services.InsufficientTokens as refused:
            return refused

    run_together(10, work)
    services.regenerate_all()

    call_command("check_ledger")
    for user in users:
        entries = TokenTransaction.objects.filter(user=user)
        assert UserTokenBalance.objects.get(user=user).balance == sum(
            entries.values_list("amount", flat=True)
        )
