"""The regeneration rule, and its set-based application to every balance.

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

This module holds the rule's arithmetic (pure), its application to one locked row in memory
(`regenerate_row`, used by every change in `tokens.services`), and the batches of
`tokens.services.regenerate_all`. It writes balances only through those callers' transactions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from core.ids import new_id
from tokens.models import TokenTransaction, TokenTransactionType, UserTokenBalance
from tokens.sources import REGENERATION_SOURCE

ONE_MICROSECOND = dt.timedelta(microseconds=1)

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


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


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def regeneration_key(user_id: str, last_regeneration: dt.datetime) -> str:
    """The idempotency key of the regeneration that moved the clock to `last_regeneration`."""
    return f"regen:{user_id}:{_epoch_us(last_regeneration)}"


def stamp(row: UserTokenBalance, now: dt.datetime) -> dt.datetime:
    """A `created_at` strictly after the user's previous ledger entry (kept in `updated_at`)."""
    stamp = now
    if row.updated_at is not None and stamp <= row.updated_at:
        stamp = row.updated_at + ONE_MICROSECOND
    row.updated_at = stamp
    return stamp


def regenerate_row(row: UserTokenBalance, now: dt.datetime) -> TokenTransaction | None:
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
            "from": iso(previous),
            "to": iso(row.last_regeneration),
        },
        idempotency_key=regeneration_key(row.user_id, row.last_regeneration),
        created_at=stamp(row, now),
    )


# --- the set-based run (regenerate_all) ------------------------------------------------------
def due_rows(*, now, after):
    """Balances below the cap with an interval due, of active users only: a deleted account's
    anonymised row (inactive) keeps its balance and ledger but gains nothing more."""
    return UserTokenBalance.objects.filter(
        balance__lt=regeneration_cap(),
        last_regeneration__lte=now - regeneration_interval(),
        user_id__gt=after,
        user_id__in=get_user_model().objects.filter(is_active=True).values("pk"),
    ).order_by("user_id")


def credit_batch(*, now, after, batch_size):
    """Any database (SQLite): it has no data-modifying CTEs nor exact microsecond arithmetic on
    its text timestamps, but its write transactions lock the whole database, so reading the due
    rows, computing them with the lazy path's code and writing them back with one bulk UPDATE
    and one bulk INSERT is exact. Still O(1) statements per batch."""
    rows = list(
        due_rows(now=now, after=after)
        .select_for_update()
        .only("id", "user_id", "balance", "last_regeneration", "updated_at")[:batch_size]
    )
    entries = [entry for row in rows if (entry := regenerate_row(row, now)) is not None]
    UserTokenBalance.objects.bulk_update(
        rows, ["balance", "last_regeneration", "updated_at"], batch_size=1000
    )
    TokenTransaction.objects.bulk_create(entries, batch_size=1000)
    last = rows[-1].user_id if rows else after
    return last, len(rows), len(entries), sum(e.amount for e in entries)


_PG_LOCK_DUE = """
SELECT id, user_id FROM {balance}
WHERE balance < %(cap)s::int AND last_regeneration <= %(cutoff)s AND user_id > %(after)s
  AND user_id IN (SELECT id FROM {user} WHERE is_active)
ORDER BY user_id
LIMIT %(batch)s::int
FOR UPDATE SKIP LOCKED
"""

# Runs after _PG_LOCK_DUE in the same transaction: a new statement, so (READ COMMITTED) its
# snapshot sees the latest committed version of the rows we now hold locked, which nobody can
# change until we commit. The rule is the one in `regeneration_due`, in integer microseconds.
_PG_CREDIT = """
WITH cur AS (
    SELECT b.id, b.user_id, b.balance, b.last_regeneration, b.updated_at, m.entry_id,
           round(extract(epoch FROM (%(now)s - b.last_regeneration)) * 1000000)::bigint
               / %(interval_us)s::bigint AS intervals
    FROM {balance} AS b
    JOIN unnest(%(ids)s::text[], %(entry_ids)s::text[]) AS m(balance_id, entry_id)
        ON b.id = m.balance_id
    WHERE b.id = ANY(%(ids)s)  -- lets the planner read the batch by primary key
), calc AS (
    SELECT id, user_id, balance, last_regeneration, intervals, entry_id,
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
    SELECT entry_id, user_id, credit, %(type)s, %(source)s, NULL, balance + credit,
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


def credit_batch_postgresql(*, now, after, batch_size):
    """PostgreSQL: lock the batch (SKIP LOCKED), then one statement updates the balances and
    inserts their transactions (data-modifying CTEs). Nothing goes through Python per user."""
    qn = connection.ops.quote_name
    tables = {
        "balance": qn(UserTokenBalance._meta.db_table),
        "ledger": qn(TokenTransaction._meta.db_table),
        "user": qn(get_user_model()._meta.db_table),
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
                # The ledger rows' ids come from the one secure generator, like every other id
                # (one per locked row; rows that turn out not due leave theirs unused).
                "entry_ids": [new_id() for _ in locked],
                "now": now,
                "interval": interval,
                "interval_us": interval // ONE_MICROSECOND,
                "cap": cap,
                "type": TokenTransactionType.EARN_REGENERATION.value,
                "source": REGENERATION_SOURCE,
                "iso": 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"',  # = iso()
            },
        )
        credited_users, credited_tokens, updated = cursor.fetchone()
    if updated != credited_users:  # both come from `calc`: a mismatch would be a bug
        raise RuntimeError("regeneration wrote a balance without its transaction")
    # The last row in the statement's own ORDER BY (the database's collation, not Python's).
    return locked[-1][1], len(locked), credited_users, credited_tokens
