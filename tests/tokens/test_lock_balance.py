"""`lock_balance`: a balance read that holds the row until the caller's transaction ends, so a
check made on it holds for the changes that follow (the batch order relies on it)."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from tests.factories import UserFactory
from tests.tokens.conftest import MINUTE, T0
from tokens import services
from tokens.models import TokenTransaction, TokenTransactionType


@pytest.mark.django_db(transaction=True)  # no test-wide transaction around it
def test_it_refuses_to_run_outside_a_transaction():
    user = UserFactory(balance=5)

    with pytest.raises(TransactionManagementError):
        services.lock_balance(user=user)


@pytest.mark.django_db
def test_it_credits_what_regeneration_made_due_first(clock):
    user = UserFactory()
    clock.move_to(T0 + 31 * MINUTE, tick=False)

    with transaction.atomic():
        balance = services.lock_balance(user=user)

    assert balance == 2
    regenerated = TokenTransaction.objects.get(
        user=user, type=TokenTransactionType.EARN_REGENERATION
    )
    assert regenerated.balance_after == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_spend_from_elsewhere_waits_until_the_holder_commits():
    """The holder checks 10 >= 8 and spends 8 after a pause; a spend of 5 from another
    connection, started during the pause, must wait and then find 2 left."""
    user = UserFactory(balance=10)
    locked = threading.Event()
    outcome = {}

    def holder():
        try:
            with transaction.atomic():
                outcome["seen"] = services.lock_balance(user=user)
                locked.set()
                time.sleep(0.5)  # the other spend is under way by now, and must be waiting
                services.spend(user=user, amount=8, source="test")
        finally:
            locked.set()
            connection.close()

    def other():
        try:
            locked.wait(10)
            services.spend(user=user, amount=5, source="test")
            outcome["other"] = "spent"
        except services.InsufficientTokens as exc:
            outcome["other"] = (exc.needed, exc.available)
        finally:
            connection.close()

    threads = [threading.Thread(target=holder), threading.Thread(target=other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert outcome == {"seen": 10, "other": (5, 2)}
    assert services.get_balance(user) == 2
