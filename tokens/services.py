"""The one door to a token balance.

Every change (`spend`, `grant`, `refund`, `claw_back`, regeneration): one database
transaction, the `UserTokenBalance` row locked (`select_for_update`), exactly one
`TokenTransaction` per change whose `balance_after` is the new balance. So for every user
`sum(amount) == balance` and the `balance_after` values form one unbroken chain
(`manage.py check_ledger` verifies both).

Ordering. `UserTokenBalance.updated_at` is the time of the user's last ledger entry: every new
entry gets `created_at = max(now, updated_at + 1 µs)` and moves `updated_at` there, under the row
lock. So a user's transactions are strictly ordered by `created_at`, even with a frozen or
coarse clock, or when a regeneration and a spend are written in the same database transaction.

Idempotency. Callers that can be retried (a webhook, a task, a double-clicked form) pass an
`idempotency_key`; the column is unique. The key is looked up after the row lock is taken, so a
second delivery for the same user waits for the first, finds its transaction and returns it,
changing nothing. If the key exists with another user, type or amount, `IdempotencyConflict` is
raised: reusing a key for a different effect is a bug in the caller (use distinct keys such as
`spend:job:<id>` and `refund:job:<id>`).

Regeneration (one token per interval up to a cap) is applied lazily under the same lock before
every change and read; its rule and the set-based run for everyone are in `tokens.regeneration`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from tokens.models import TokenTransaction, TokenTransactionType, UserTokenBalance, WelcomeGrant
from tokens.regeneration import (
    BalanceStatus,
    credit_batch,
    credit_batch_postgresql,
    regenerate_row,
    regeneration_cap,
    regeneration_due,
    regeneration_interval,
    stamp,
)
from tokens.sources import SIGNUP_SOURCE

REGENERATION_BATCH_SIZE = 5000

# A user, or a user's id: every verb accepts either.
UserRef = AbstractBaseUser | str


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


class IdempotencyConflict(TokenError):
    """The idempotency key was already used for a different change (a caller's bug)."""


EARN_TYPES = {
    TokenTransactionType.EARN_REGENERATION,
    TokenTransactionType.EARN_PURCHASE,
    TokenTransactionType.EARN_BONUS,
}


# --- changes to one locked row ----------------------------------------------------------------
def _user_id(user: UserRef) -> str:
    return getattr(user, "pk", user)


def _lock(user: UserRef) -> UserTokenBalance:
    """The user's balance row, locked until the end of the transaction (created if missing)."""
    user_id = _user_id(user)
    row = UserTokenBalance.objects.select_for_update().filter(user_id=user_id).first()
    if row is None:
        UserTokenBalance.objects.get_or_create(user_id=user_id)
        row = UserTokenBalance.objects.select_for_update().get(user_id=user_id)
    return row


def _lock_and_regenerate(
    user: UserRef, now: dt.datetime
) -> tuple[UserTokenBalance, TokenTransaction | None]:
    """The locked row with the regeneration due at `now` credited and written (in the caller's
    transaction); the EARN_REGENERATION transaction, or None when nothing was due."""
    row = _lock(user)
    entry = regenerate_row(row, now)
    if entry is not None:
        _save(row, [entry])
    return row, entry


def _save(row: UserTokenBalance, entries: list[TokenTransaction]) -> None:
    """Write the row's new state and its ledger entries: one UPDATE, one INSERT."""
    UserTokenBalance.objects.filter(pk=row.pk).update(
        balance=row.balance, last_regeneration=row.last_regeneration, updated_at=row.updated_at
    )
    TokenTransaction.objects.bulk_create(entries)


def _existing(idempotency_key: str | None) -> TokenTransaction | None:
    if not idempotency_key:
        return None
    return TokenTransaction.objects.filter(idempotency_key=idempotency_key).first()


def _same_change(
    done: TokenTransaction, *, user_id: str, amount: int, type: str, at_most: bool = False
):
    """The recorded change, if it is the one asked for again (with `at_most`, a debit may have
    taken less than asked: the balance allowed no more)."""
    same_amount = amount <= done.amount < 0 if at_most else done.amount == amount
    if done.user_id != user_id or done.type != type or not same_amount:
        raise IdempotencyConflict("This request was already recorded with different details.")
    return done


def _change(
    *,
    user: UserRef,
    amount: int,
    type: str,
    source: str | None,
    source_id: str | None,
    metadata: dict | None,
    idempotency_key: str | None,
    at_most_balance: bool = False,
) -> TokenTransaction | None:
    """One change under the row lock. With `at_most_balance` a debit takes what the balance
    allows (None when that is nothing) instead of raising `InsufficientTokens`."""
    user_id = _user_id(user)
    same = {"user_id": user_id, "amount": amount, "type": type, "at_most": at_most_balance}
    try:
        with transaction.atomic():
            row = _lock(user_id)
            # Under the lock: a concurrent delivery of the same key has committed by now.
            done = _existing(idempotency_key)
            if done is not None:
                return _same_change(done, **same)
            now = timezone.now()
            entries = []
            regenerated = regenerate_row(row, now)
            if regenerated is not None:
                entries.append(regenerated)
            before = row.balance
            if at_most_balance:
                amount = max(amount, -before)
                if amount == 0:
                    if entries:
                        _save(row, entries)
                    return None
            if before + amount < 0:
                # Raising rolls back the regeneration too; it is credited on the next read.
                raise InsufficientTokens(needed=-amount, available=before)
            row.balance = before + amount
            if before >= regeneration_cap() > row.balance:
                # Dropping below the cap restarts the regeneration clock now.
                row.last_regeneration = max(now, row.last_regeneration)
            entry = TokenTransaction(
                user_id=user_id,
                amount=amount,
                type=type,
                source=source,
                source_id=source_id,
                metadata=metadata,
                idempotency_key=idempotency_key or None,
                balance_after=row.balance,
                created_at=stamp(row, now),
            )
            entries.append(entry)
            _save(row, entries)
            return entry
    except IntegrityError:
        # The same key with another user (not serialized by our lock) won the race.
        done = _existing(idempotency_key)
        if done is None:
            raise
        return _same_change(done, **same)


# --- the verbs --------------------------------------------------------------------------------
def spend(
    *,
    user: UserRef,
    amount: int,
    source: str,
    source_id: str | None = None,
    metadata: dict | None = None,
    idempotency_key: str | None = None,
) -> TokenTransaction:
    """Take `amount` (> 0) tokens for an enhancement (a SPEND_ENHANCEMENT transaction).

    Locks the balance row and applies due regeneration first. Raises `InsufficientTokens`
    (nothing changed) if the balance would go below zero, `InvalidAmount` for amount <= 0. With
    an `idempotency_key` already used for this spend, returns that transaction and changes
    nothing. Safe inside the caller's own `transaction.atomic()` (it is rolled back with it)."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount("A spend must be a positive whole number of tokens.")
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
    user: UserRef,
    amount: int,
    type: str,
    source: str,
    source_id: str | None = None,
    metadata: dict | None = None,
    idempotency_key: str | None = None,
) -> TokenTransaction:
    """Add `amount` (> 0) tokens of an earn `type` (EARN_PURCHASE, EARN_BONUS,
    EARN_REGENERATION). Locks the balance row and applies due regeneration first; a grant may
    take the balance above the regeneration cap. With an `idempotency_key` already used,
    returns that transaction and changes nothing. Raises `InvalidAmount`."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount("A grant must be a positive whole number of tokens.")
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
    user: UserRef,
    amount: int,
    source: str,
    source_id: str,
    idempotency_key: str,
    metadata: dict | None = None,
) -> TokenTransaction:
    """Give back `amount` (> 0) tokens (a failed job), as a REFUND transaction. The key is
    mandatory: a refund is always something that can be retried, and the unique key makes the
    database refuse a second one. A repeated call returns the first refund, changing nothing."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount("A refund must be a positive whole number of tokens.")
    if not idempotency_key:
        raise InvalidAmount("A refund needs an idempotency key.")
    return _change(
        user=user,
        amount=amount,
        type=TokenTransactionType.REFUND,
        source=source,
        source_id=source_id,
        metadata=metadata,
        idempotency_key=idempotency_key,
    )


def claw_back(
    *,
    user: UserRef,
    amount: int,
    source: str,
    source_id: str,
    idempotency_key: str,
    metadata: dict | None = None,
) -> TokenTransaction | None:
    """Take back up to `amount` (> 0) tokens that a refunded or disputed payment had bought, as
    one CLAWBACK transaction (negative): as many as the balance holds, never below zero; tokens
    already spent stay spent. Locks the balance row and applies due regeneration first.

    Returns the transaction, or None when the balance is 0: then nothing is written, so the
    caller records in its own transaction that it is done (billing keeps the tokens it has
    accounted for on the payment). The key is mandatory; a repeated call returns the first
    transaction, changing nothing. Raises `InvalidAmount`."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount("A clawback must be a positive whole number of tokens.")
    if not idempotency_key:
        raise InvalidAmount("A clawback needs an idempotency key.")
    return _change(
        user=user,
        amount=-amount,
        type=TokenTransactionType.CLAWBACK,
        source=source,
        source_id=source_id,
        metadata=metadata,
        idempotency_key=idempotency_key,
        at_most_balance=True,
    )


def regenerate(*, user: UserRef, now: dt.datetime | None = None) -> TokenTransaction | None:
    """Credit the regeneration due to one user now (lock, apply, one EARN_REGENERATION
    transaction). Returns it, or None when nothing was due."""
    with transaction.atomic():
        return _lock_and_regenerate(user, now or timezone.now())[1]


def get_balance_status(user: UserRef, *, now: dt.datetime | None = None) -> BalanceStatus:
    """The balance with regeneration applied (written if any was due), and the next token's
    time. Without anything due it is one plain read, no lock."""
    given = now
    now = now or timezone.now()
    row = UserTokenBalance.objects.filter(user_id=_user_id(user)).first()
    if (
        row is None
        or regeneration_due(
            balance=row.balance, last_regeneration=row.last_regeneration, now=now
        ).credit
    ):
        with transaction.atomic():
            now = given or timezone.now()
            row, _entry = _lock_and_regenerate(user, now)
    return BalanceStatus(
        balance=row.balance,
        cap=regeneration_cap(),
        last_regeneration=row.last_regeneration,
        now=now,
        interval=regeneration_interval(),
    )


def get_balance(user: UserRef) -> int:
    """The current balance, regeneration applied."""
    return get_balance_status(user).balance


def lock_balance(*, user: UserRef) -> int:
    """The balance, regeneration applied, with the row locked until the caller's transaction
    ends: no other spend, grant or refund of this user can run in between, so a check made on
    it holds for the changes the caller makes next (a batch order checks its total once, then
    spends per job). Must be called inside `transaction.atomic()`."""
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError("lock_balance() needs the caller's transaction")
    row, _entry = _lock_and_regenerate(user, timezone.now())
    return row.balance


# --- regeneration for everyone (the schedule) -------------------------------------------------
@dataclass(frozen=True)
class RegenerationRun:
    users: int = 0  # balances credited
    tokens: int = 0  # tokens credited in all


def regenerate_all(
    *, now: dt.datetime | None = None, batch_size: int = REGENERATION_BATCH_SIZE
) -> RegenerationRun:
    """Credit every balance below the cap with the whole intervals due, in set-based batches.

    Each batch is one transaction: it locks up to `batch_size` due rows (on PostgreSQL with
    `SKIP LOCKED`: a row locked by a spend in progress is left to that spend, which applies the
    same rule lazily), updates them and inserts their EARN_REGENERATION transactions, with the
    same arithmetic as the lazy path. Safe to run at any time, twice, or concurrently with
    itself or with spends: nothing is credited twice (see the module docstring)."""
    now = now or timezone.now()
    run_batch = credit_batch_postgresql if connection.vendor == "postgresql" else credit_batch
    users = tokens = 0
    after = ""
    while True:
        with transaction.atomic():
            last_user_id, scanned, credited_users, credited_tokens = run_batch(
                now=now, after=after, batch_size=batch_size
            )
        users += credited_users
        tokens += credited_tokens
        if scanned < batch_size:
            return RegenerationRun(users=users, tokens=tokens)
        after = last_user_id


def grant_welcome(*, user: UserRef, email: str) -> TokenTransaction | None:
    """The welcome grant of a verified address: `TOKEN_WELCOME_GRANT` tokens (EARN_BONUS,
    source "signup"), once per account and once per address ever, whoever verifies it and
    however often. The
    address is remembered (hashed) in `WelcomeGrant` in the same transaction as the grant, so
    a retry, a second account or a re-verification finds it taken. None when nothing is due."""
    amount = settings.TOKEN_WELCOME_GRANT
    address = (email or "").strip().lower()
    if amount <= 0 or not address:
        return None
    digest = hashlib.sha256(address.encode()).hexdigest()
    account_key = f"welcome:user:{_user_id(user)}"
    with transaction.atomic():
        _grant, created = WelcomeGrant.objects.get_or_create(email_sha256=digest)
        if not created:
            return None  # this address had its welcome, on this account or another
        if TokenTransaction.objects.filter(idempotency_key=account_key).exists():
            return None  # this account had its welcome through another address
        return grant(
            user=user,
            amount=amount,
            type=TokenTransactionType.EARN_BONUS,
            source=SIGNUP_SOURCE,
            source_id=_user_id(user),
            metadata={"reason": "Welcome: e-mail address verified"},
            idempotency_key=account_key,
        )
