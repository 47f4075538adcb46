"""The one door to a token balance.

Every change: one transaction, the `UserTokenBalance` row locked (`select_for_update`), exactly one
`TokenTransaction` whose `balance_after` is the new balance. So for every user
`sum(amount) == balance`, always (`manage.py check_ledger` verifies it).

Callers that can be retried (a webhook, a task) pass an `idempotency_key`; it is unique in the
database, so a second delivery finds the first transaction and changes nothing.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from tokens.models import TokenTransaction, TokenTransactionType, UserTokenBalance


class TokenError(Exception):
    """Base of the token domain errors; `str(e)` is a sentence a user can read."""


class InsufficientTokens(TokenError):
    def __init__(self, *, needed: int, available: int):
        self.needed = needed
        self.available = available
        super().__init__(
            f"This needs {needed} tokens and you have {available}. "
            "Buy a pack or wait for tokens to regenerate."
        )


class InvalidAmount(TokenError):
    pass


EARN_TYPES = {
    TokenTransactionType.EARN_REGENERATION,
    TokenTransactionType.EARN_PURCHASE,
    TokenTransactionType.EARN_BONUS,
}


def _locked_balance(user) -> UserTokenBalance:
    """The user's balance row, locked for this transaction (created if missing)."""
    balance = UserTokenBalance.objects.select_for_update().filter(user=user).first()
    if balance is None:
        UserTokenBalance.objects.get_or_create(user=user)
        balance = UserTokenBalance.objects.select_for_update().get(user=user)
    return balance


def apply_regeneration(balance: UserTokenBalance, *, now=None) -> TokenTransaction | None:
    """Credit the whole regeneration intervals due on a locked balance (tokens issue fills in)."""
    return None


def _existing(idempotency_key: str | None) -> TokenTransaction | None:
    if not idempotency_key:
        return None
    return TokenTransaction.objects.filter(idempotency_key=idempotency_key).first()


def _write(
    balance: UserTokenBalance,
    *,
    amount: int,
    type: str,
    source: str | None,
    source_id: str | None,
    metadata: dict | None,
    idempotency_key: str | None,
) -> TokenTransaction:
    balance.balance += amount
    balance.save(update_fields=["balance", "updated_at"])
    return TokenTransaction.objects.create(
        user_id=balance.user_id,
        amount=amount,
        type=type,
        source=source,
        source_id=source_id,
        metadata=metadata,
        idempotency_key=idempotency_key,
        balance_after=balance.balance,
        created_at=timezone.now(),
    )


def _change(
    *,
    user,
    amount: int,
    type: str,
    source: str | None,
    source_id: str | None,
    metadata: dict | None,
    idempotency_key: str | None,
) -> TokenTransaction:
    with transaction.atomic():
        balance = _locked_balance(user)
        # Re-checked under the lock: a concurrent delivery of the same key has committed by now.
        done = _existing(idempotency_key)
        if done is not None:
            return done
        apply_regeneration(balance)
        if amount < 0 and balance.balance + amount < 0:
            raise InsufficientTokens(needed=-amount, available=balance.balance)
        try:
            with transaction.atomic():
                return _write(
                    balance,
                    amount=amount,
                    type=type,
                    source=source,
                    source_id=source_id,
                    metadata=metadata,
                    idempotency_key=idempotency_key,
                )
        except IntegrityError:
            done = _existing(idempotency_key)
            if done is None:
                raise
            balance.refresh_from_db()
            return done


def spend(
    *,
    user,
    amount: int,
    source: str,
    source_id: str | None = None,
    metadata: dict | None = None,
    idempotency_key: str | None = None,
) -> TokenTransaction:
    """Take `amount` (> 0) tokens for an enhancement. Locks the balance; raises
    `InsufficientTokens` (nothing changed) if the balance would go below zero. With an
    `idempotency_key` already used, returns that transaction and changes nothing."""
    if amount <= 0:
        raise InvalidAmount("A spend must be a positive number of tokens.")
    return _change(
        user=user,
        amount=-amount,
        type=TokenTransactionType.SPEND_ENHANCEMENT,
        source=source,
        source_id=source_id,
        metadata=metadata,
        idempotency_key=idempotency_key,
    )


def grant(
    *,
    user,
    amount: int,
    type: str,
    source: str,
    source_id: str | None = None,
    metadata: dict | None = None,
    idempotency_key: str | None = None,
) -> TokenTransaction:
    """Add `amount` (> 0) tokens of an earn `type` (purchase, bonus, regeneration). Locks the
    balance. With an `idempotency_key` already used, returns that transaction, changes nothing."""
    if amount <= 0:
        raise InvalidAmount("A grant must be a positive number of tokens.")
    if type not in EARN_TYPES:
        raise InvalidAmount(f"{type} is not a kind of earning.")
    return _change(
        user=user,
        amount=amount,
        type=type,
        source=source,
        source_id=source_id,
        metadata=metadata,
        idempotency_key=idempotency_key,
    )


def refund(
    *,
    user,
    amount: int,
    source: str,
    source_id: str,
    idempotency_key: str,
    metadata: dict | None = None,
) -> TokenTransaction:
    """Give back `amount` (> 0) tokens (a failed job). The key is mandatory: a refund is always
    something that can be retried, and the database refuses a second one with the same key."""
    if amount <= 0:
        raise InvalidAmount("A refund must be a positive number of tokens.")
    return _change(
        user=user,
        amount=amount,
        type=TokenTransactionType.REFUND,
        source=source,
        source_id=source_id,
        metadata=metadata,
        idempotency_key=idempotency_key,
    )


def get_balance(user) -> int:
    """The current balance, regeneration applied (a short locked transaction)."""
    with transaction.atomic():
        balance = _locked_balance(user)
        apply_regeneration(balance)
        return balance.balance
