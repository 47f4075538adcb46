"""The one door to a token balance.

Every change (`spend`, `grant`, `refund`, regeneration): one database transaction, the
`UserTokenBalance` row locked (`select_for_update`), exactly one `TokenTransaction` per change
whose `balance_after` is the new balance. So for every user `sum(amount) == balance` and the
`balance_after` values form one unbroken chain (`manage.py check_ledger` verifies both).

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

Regeneration. One token per `TOKEN_REGEN_INTERVAL_MINUTES` up to `TOKEN_REGEN_CAP`:

* Only balances below the cap regenerate. The intervals due are
  `n = floor((now - last_regeneration) / interval)`; the credit is `min(n, cap - balance)` and
  `last_regeneration` moves forward by exactly `n` intervals, so the part of an interval that has
  not elapsed is kept and no interval is counted twice. Intervals beyond the cap are dropped.
* At or above the cap (bought or granted tokens) nothing is credited and nothing is banked: the
  clock stands still. When a spend takes the balance from at/above the cap to below it, the clock
  restarts at that moment (`last_regeneration = now`): the first token comes one full interval
  after the spend that dropped below the cap, whenever the balance was last looked at.
* It is applied lazily, under the lock, before every spend, grant and refund and when a balance
  is read (`get_balance`, `get_balance_status`), and for everyone by `regenerate_all` (a
  django-q2 schedule) as set-based statements.
* Why the two paths never credit the same interval twice: both lock the row and compute from
  the row's own `last_regeneration`, and both advance it by the intervals they used. Applying the
  rule at t1 and then at t2 gives exactly what applying it once at t2 gives
  (`min(floor((t2 - L) / I), cap - b)` tokens, `L + floor((t2 - L) / I) * I`), so the result
  does not depend on which path ran, how often or in which order. As a second lock, each
  regeneration transaction carries the idempotency key `regen:<user id>:<new
  last_regeneration in µs>`: crediting the same interval twice would violate the unique
  constraint.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tokens.models import TokenTransaction, TokenTransactionType, UserTokenBalance

ONE_MICROSECOND = dt.timedelta(microseconds=1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
REGENERATION_SOURCE = "regeneration"
REGENERATION_BATCH_SIZE = 5000


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


# --- regeneration arithmetic (pure) -----------------------------------------------------------
def regeneration_interval() -> dt.timedelta:
    return dt.timedelta(minutes=settings.TOKEN_REGEN_INTERVAL_MINUTES)


def regeneration_cap() -> int:
    return settings.TOKEN_REGEN_CAP


@dataclass(frozen=True)
class RegenerationDue:
    intervals: int  # whole intervals consumed (0: nothing changes)
    credit: int  # tokens to add (<= intervals)
    last_regeneration: dt.datetime  # the new value


def regeneration_due(
    *, balance: int, last_regeneration: dt.datetime, now: dt.datetime
) -> RegenerationDue:
    """What the regeneration rule gives at `now` (see the module docstring). No I/O."""
    cap = regeneration_cap()
    interval = regeneration_interval()
    if balance >= cap or now <= last_regeneration:
        return RegenerationDue(0, 0, last_regeneration)
    intervals = (now - last_regeneration) // interval
    if intervals < 1:
        return RegenerationDue(0, 0, last_regeneration)
    return RegenerationDue(
        intervals=intervals,
        credit=min(intervals, cap - balance),
        last_regeneration=last_regeneration + intervals * interval,
    )


@dataclass(frozen=True)
class BalanceStatus:
    """A balance as a page shows it: regeneration applied, and when the next token comes."""

    balance: int
    cap: int
    last_regeneration: dt.datetime
    now: dt.datetime
    interval: dt.timedelta

    @property
    def at_or_above_cap(self) -> bool:
        return self.balance >= self.cap

    @property
    def next_token_at(self) -> dt.datetime | None:
        """None at or above the cap (nothing regenerates there)."""
        if self.at_or_above_cap:
            return None
        return max(self.last_regeneration, self.now - self.interval) + self.interval

    @property
    def seconds_to_next_token(self) -> int | None:
        if self.next_token_at is None:
            return None
        return max(0, int((self.next_token_at - self.now).total_seconds()))


def project_balance(
    *, balance: int, last_regeneration: dt.datetime, now: dt.datetime | None = None
) -> BalanceStatus:
    """The balance with what regeneration would credit at `now`, computed without writing (for
    display: the navigation badge)."""
    now = now or timezone.now()
    due = regeneration_due(balance=balance, last_regeneration=last_regeneration, now=now)
    return BalanceStatus(
        balance=balance + due.credit,
        cap=regeneration_cap(),
        last_regeneration=due.last_regeneration,
        now=now,
        interval=regeneration_interval(),
    )


def _epoch_us(moment: dt.datetime) -> int:
    return (moment - EPOCH) // ONE_MICROSECOND


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def regeneration_key(user_id: str, last_regeneration: dt.datetime) -> str:
    """The idempotency key of the regeneration that moved the clock to `last_regeneration`."""
    return f"regen:{user_id}:{_epoch_us(last_regeneration)}"


# --- changes to one locked row ----------------------------------------------------------------
def _user_id(user) -> str:
    return getattr(user, "pk", user)


def _lock(user) -> UserTokenBalance:
    """The user's balance row, locked until the end of the transaction (created if missing)."""
    user_id = _user_id(user)
    row = UserTokenBalance.objects.select_for_update().filter(user_id=user_id).first()
    if row is None:
        UserTokenBalance.objects.get_or_create(user_id=user_id)
        row = UserTokenBalance.objects.select_for_update().get(user_id=user_id)
    return row


def _stamp(row: UserTokenBalance, now: dt.datetime) -> dt.datetime:
    """A `created_at` strictly after the user's previous ledger entry (kept in `updated_at`)."""
    stamp = now
    if row.updated_at is not None and stamp <= row.updated_at:
        stamp = row.updated_at + ONE_MICROSECOND
    row.updated_at = stamp
    return stamp


def _regenerate_row(row: UserTokenBalance, now: dt.datetime) -> TokenTransaction | None:
    """Apply the regeneration rule to a locked row in memory; the unsaved transaction, if any."""
    due = regeneration_due(balance=row.balance, last_regeneration=row.last_regeneration, now=now)
    if due.credit < 1:
        return None
    previous = row.last_regeneration
    row.last_regeneration = due.last_regeneration
    row.balance += due.credit
    return TokenTransaction(
        user_id=row.user_id,
        amount=due.credit,
        type=TokenTransactionType.EARN_REGENERATION,
        source=REGENERATION_SOURCE,
        source_id=None,
        balance_after=row.balance,
        metadata={
            "intervals": due.intervals,
            "from": _iso(previous),
            "to": _iso(row.last_regeneration),
        },
        idempotency_key=regeneration_key(row.user_id, row.last_regeneration),
        created_at=_stamp(row, now),
    )


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


def _same_change(done: TokenTransaction, *, user_id: str, amount: int, type: str):
    if done.user_id != user_id or done.type != type or done.amount != amount:
        raise IdempotencyConflict("This request was already recorded with different details.")
    return done


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
    user_id = _user_id(user)
    try:
        with transaction.atomic():
            row = _lock(user_id)
            # Under the lock: a concurrent delivery of the same key has committed by now.
            done = _existing(idempotency_key)
            if done is not None:
                return _same_change(done, user_id=user_id, amount=amount, type=type)
            now = timezone.now()
            entries = []
            regenerated = _regenerate_row(row, now)
            if regenerated is not None:
                entries.append(regenerated)
            before = row.balance
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
                created_at=_stamp(row, now),
            )
            entries.append(entry)
            _save(row, entries)
            return entry
    except IntegrityError:
        # The same key with another user (not serialized by our lock) won the race.
        done = _existing(idempotency_key)
        if done is None:
            raise
        return _same_change(done, user_id=user_id, amount=amount, type=type)


# --- the verbs --------------------------------------------------------------------------------
def spend(
    *,
    user,
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
    user,
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
    user,
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


def regenerate(*, user, now: dt.datetime | None = None) -> TokenTransaction | None:
    """Credit the regeneration due to one user now (lock, apply, one EARN_REGENERATION
    transaction). Returns it, or None when nothing was due."""
    with transaction.atomic():
        row = _lock(user)
        entry = _regenerate_row(row, now or timezone.now())
        if entry is not None:
            _save(row, [entry])
        return entry


def get_balance_status(user, *, now: dt.datetime | None = None) -> BalanceStatus:
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
            row = _lock(user)
            now = given or timezone.now()
            entry = _regenerate_row(row, now)
            if entry is not None:
                _save(row, [entry])
    return BalanceStatus(
        balance=row.balance,
        cap=regeneration_cap(),
        last_regeneration=row.last_regeneration,
        now=now,
        interval=regeneration_interval(),
    )


def get_balance(user) -> int:
    """The current balance, regeneration applied."""
    return get_balance_status(user).balance


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
    if connection.vendor == "postgresql":
        run_batch = _regenerate_batch_postgresql
    else:
        run_batch = _regenerate_batch
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


def _due_rows(*, now, after):
    return UserTokenBalance.objects.filter(
        balance__lt=regeneration_cap(),
        last_regeneration__lte=now - regeneration_interval(),
        user_id__gt=after,
    ).order_by("user_id")


def _regenerate_batch(*, now, after, batch_size):
    """Any database (SQLite): it has no data-modifying CTEs nor exact microsecond arithmetic on
    its text timestamps, but its write transactions lock the whole database, so reading the due
    rows, computing them with the lazy path's code and writing them back with one bulk UPDATE
    and one bulk INSERT is exact. Still O(1) statements per batch."""
    rows = list(
        _due_rows(now=now, after=after)
        .select_for_update()
        .only("id", "user_id", "balance", "last_regeneration", "updated_at")[:batch_size]
    )
    entries = [entry for row in rows if (entry := _regenerate_row(row, now)) is not None]
    UserTokenBalance.objects.bulk_update(
        rows, ["balance", "last_regeneration", "updated_at"], batch_size=1000
    )
    TokenTransaction.objects.bulk_create(entries, batch_size=1000)
    last = rows[-1].user_id if rows else after
    return last, len(rows), len(entries), sum(e.amount for e in entries)


_PG_LOCK_DUE = """
SELECT id, user_id FROM {balance}
WHERE balance < %(cap)s::int AND last_regeneration <= %(cutoff)s AND user_id > %(after)s
ORDER BY user_id
LIMIT %(batch)s::int
FOR UPDATE SKIP LOCKED
"""

# Runs after _PG_LOCK_DUE in the same transaction: a new statement, so (READ COMMITTED) its
# snapshot sees the latest committed version of the rows we now hold locked, which nobody can
# change until we commit. The rule is the one in `regeneration_due`, in integer microseconds.
_PG_CREDIT = """
WITH cur AS (
    SELECT id, user_id, balance, last_regeneration, updated_at,
           round(extract(epoch FROM (%(now)s - last_regeneration)) * 1000000)::bigint
               / %(interval_us)s::bigint AS intervals
    FROM {balance}
    WHERE id = ANY(%(ids)s)
), calc AS (
    SELECT id, user_id, balance, last_regeneration, intervals,
           LEAST(intervals, %(cap)s::int - balance) AS credit,
           last_regeneration + intervals * %(interval)s AS new_last,
           GREATEST(%(now)s, updated_at + interval '1 microsecond') AS stamp
    FROM cur
    WHERE balance < %(cap)s::int AND intervals >= 1
), upd AS (
    UPDATE {balance} AS b
    SET balance = calc.balance + calc.credit,
        last_regeneration = calc.new_last,
        updated_at = calc.stamp
    FROM calc
    WHERE b.id = calc.id
    RETURNING b.id
), ins AS (
    INSERT INTO {ledger}
        (id, user_id, amount, type, source, source_id, balance_after, metadata,
         idempotency_key, created_at)
    SELECT chr(97 + floor(random() * 26)::int) || substr(md5(gen_random_uuid()::text), 1, 24),
           user_id, credit, %(type)s, %(source)s, NULL, balance + credit,
           jsonb_build_object(
               'intervals', intervals,
               'from', to_char(last_regeneration AT TIME ZONE 'UTC', %(iso)s),
               'to', to_char(new_last AT TIME ZONE 'UTC', %(iso)s)),
           'regen:' || user_id || ':' || round(extract(epoch FROM new_last) * 1000000)::bigint,
           stamp
    FROM calc
    RETURNING amount
)
SELECT count(*), coalesce(sum(amount), 0), (SELECT count(*) FROM upd) FROM ins
"""


def _regenerate_batch_postgresql(*, now, after, batch_size):
    """PostgreSQL: lock the batch (SKIP LOCKED), then one statement updates the balances and
    inserts their transactions (data-modifying CTEs). Nothing goes through Python per user."""
    qn = connection.ops.quote_name
    tables = {
        "balance": qn(UserTokenBalance._meta.db_table),
        "ledger": qn(TokenTransaction._meta.db_table),
    }
    interval = regeneration_interval()
    cap = regeneration_cap()
    with connection.cursor() as cursor:
        cursor.execute(
            _PG_LOCK_DUE.format(**tables),
            {"cap": cap, "cutoff": now - interval, "after": after, "batch": batch_size},
        )
        locked = cursor.fetchall()
        if not locked:
            return after, 0, 0, 0
        cursor.execute(
            _PG_CREDIT.format(**tables),
            {
                "ids": [row_id for row_id, _ in locked],
                "now": now,
                "interval": interval,
                "interval_us": interval // ONE_MICROSECOND,
                "cap": cap,
                "type": TokenTransactionType.EARN_REGENERATION.value,
                "source": REGENERATION_SOURCE,
                "iso": 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"',  # = _iso()
            },
        )
        credited_users, credited_tokens, updated = cursor.fetchone()
    if updated != credited_users:  # both come from `calc`: a mismatch would be a bug
        raise RuntimeError("regeneration wrote a balance without its transaction")
    # The last row in the statement's own ORDER BY (the database's collation, not Python's).
    return locked[-1][1], len(locked), credited_users, credited_tokens
