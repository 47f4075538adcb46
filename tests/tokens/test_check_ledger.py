"""manage.py check_ledger: silent on a good ledger, loud and non-zero on a bad one."""

import io

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line

from tests.factories import UserFactory
from tests.tokens.conftest import MINUTE, T0
from tokens import services
from tokens.models import TokenTransaction, TokenTransactionType, UserTokenBalance

pytestmark = pytest.mark.django_db
T = TokenTransactionType


def check() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("check_ledger", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failing_check() -> str:
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"Ledger check failed: \d+ problem"):
        call_command("check_ledger", stdout=io.StringIO(), stderr=err)
    return err.getvalue()


@pytest.fixture
def history(clock):
    """Two users with a bit of everything: grants, spends, a refund, regeneration."""
    alice = UserFactory(balance=20, email="alice@example.com")
    bob = UserFactory(email="bob@example.com")
    # A source that registered no `known_ids` check: these tests are about sums and chains (the
    # check of references is tested with real jobs in tests/enhancement/jobs).
    services.spend(user=alice, amount=5, source="test", source_id="j1")
    services.refund(user=alice, amount=5, source="test", source_id="j1", idempotency_key="r:j1")
    clock.move_to(T0 + 47 * MINUTE)
    services.spend(user=bob, amount=2, source="test", source_id="j2")
    services.regenerate_all()
    return alice, bob


def test_a_good_ledger_passes(history):
    out, err = check()
    assert "Ledger OK: 2 balances, 6 transactions." in out
    assert err == ""


def test_an_empty_database_passes(db):
    assert "Ledger OK: 0 balances, 0 transactions." in check()[0]


def test_a_tampered_balance_is_reported(history):
    alice, _ = history
    UserTokenBalance.objects.filter(user=alice).update(balance=99)

    err = failing_check()

    assert (
        f"alice@example.com [{alice.pk}]: balance is 99 but its transactions add up to 23." in err
    )
    assert "bob@" not in err


def test_a_balance_without_transactions_must_be_zero(clock):
    carol = UserFactory(email="carol@example.com")
    UserTokenBalance.objects.filter(user=carol).update(balance=3)
    assert "carol@example.com" in failing_check()


def test_a_broken_chain_is_reported(history):
    alice, _ = history
    spend = TokenTransaction.objects.get(user=alice, type=T.SPEND_ENHANCEMENT)
    TokenTransaction.objects.filter(pk=spend.pk).update(balance_after=14)

    err = failing_check()

    assert f"transaction {spend.pk} (SPEND_ENHANCEMENT -5 at" in err
    assert "has balance_after 14, expected 15." in err


def test_a_missing_transaction_breaks_sum_and_chain(history):
    alice, _ = history
    TokenTransaction.objects.filter(user=alice, type=T.SPEND_ENHANCEMENT).delete()

    err = failing_check()

    assert "balance is 23 but its transactions add up to 28." in err
    assert "(REFUND +5 at" in err and "expected 25." in err


def test_transactions_without_a_balance_row_are_reported(history):
    alice, _ = history
    UserTokenBalance.objects.filter(user=alice).delete()
    assert "4 transaction(s) but no balance row." in failing_check()


def test_rows_sharing_a_timestamp_may_chain_in_any_order(history):
    alice, _ = history
    TokenTransaction.objects.filter(user=alice).update(created_at=T0)  # order now ambiguous
    assert "Ledger OK" in check()[0]

    TokenTransaction.objects.filter(user=alice, type=T.REFUND).update(balance_after=21)
    err = failing_check()  # no order of the four rows chains any more
    assert "alice@example.com" in err and "has balance_after" in err


def test_the_command_exits_non_zero(history, capsys):
    UserTokenBalance.objects.filter(user=history[1]).update(balance=0)
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "check_ledger"])
    assert exited.value.code == 1
    assert "bob@example.com" in capsys.readouterr().err
