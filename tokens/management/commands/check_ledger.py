"""manage.py check_ledger: is every balance what its transactions say?

For every user, with set-based queries (not one query per user):
  * the balance equals the sum of the user's transactions (a balance row with no transactions
    must be 0), and no transactions exist without a balance row;
  * every row whose source registered a `known_ids` check (tokens.sources) points at
    something that exists or left a record (a deleted job's `DeletedJob`);
  * the `balance_after` chain holds: in time order, each transaction's `balance_after` is the
    previous one's plus its `amount` (the first one's is its `amount`), checked with a window
    function (LAG over created_at, id).

`tokens.services` stamps each user's transactions with strictly increasing `created_at`, so the
order is unambiguous. Rows written otherwise may share a timestamp; for a user whose chain looks
broken and who has such ties, the chain is re-checked in Python accepting any order among the
tied rows. Prints every problem and exits non-zero if there is any.
"""

from collections import defaultdict
from itertools import groupby

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Lag

from tokens import sources as ledger_sources
from tokens.models import TokenTransaction, UserTokenBalance

REFERENCE_BATCH = 5000


class Command(BaseCommand):
    help = (
        "Verify that every balance equals the sum of its transactions and that each user's "
        "chain of balance_after values is consistent. Exits non-zero on any problem."
    )

    def handle(self, *args, **options):
        problems: list[tuple[str, str]] = []  # (user id, sentence)
        problems += self._sums()
        problems += self._orphans()
        problems += self._chains()
        problems += self._dangling_references()

        users = dict(
            get_user_model()
            .objects.filter(pk__in={user_id for user_id, _ in problems})
            .values_list("pk", "email")
        )
        for user_id, sentence in problems:
            self.stderr.write(f"{users.get(user_id) or '(no user)'} [{user_id}]: {sentence}")

        if problems:
            raise CommandError(f"Ledger check failed: {len(problems)} problem(s).")
        self.stdout.write(
            f"Ledger OK: {UserTokenBalance.objects.count()} balances, "
            f"{TokenTransaction.objects.count()} transactions."
        )

    def _sums(self):
        ledger_total = (
            TokenTransaction.objects.filter(user_id=OuterRef("user_id"))
            .order_by()
            .values("user_id")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        rows = (
            UserTokenBalance.objects.annotate(
                ledger_total=Coalesce(Subquery(ledger_total, output_field=IntegerField()), Value(0))
            )
            .exclude(balance=F("ledger_total"))
            .values_list("user_id", "balance", "ledger_total")
            .order_by("user_id")
        )
        return [
            (user_id, f"balance is {balance} but its transactions add up to {total}.")
            for user_id, balance, total in rows
        ]

    def _orphans(self):
        rows = (
            TokenTransaction.objects.filter(
                ~Exists(UserTokenBalance.objects.filter(user_id=OuterRef("user_id")))
            )
            .order_by()
            .values("user_id")
            .annotate(n=Count("id"))
            .values_list("user_id", "n")
        )
        return [(user_id, f"{n} transaction(s) but no balance row.") for user_id, n in rows]

    def _dangling_references(self):
        """Ledger rows whose source says what they were for (a job, a payment) while that thing
        no longer exists and left no record: money moved for something nobody can find."""
        problems = []
        for source, known_ids in ledger_sources.checked_sources().items():
            rows = (
                TokenTransaction.objects.filter(source=source)
                .exclude(source_id__isnull=True)
                .order_by("user_id", "created_at")
                .values_list("id", "user_id", "type", "source_id")
            )
            batch = []
            for row in rows.iterator(chunk_size=REFERENCE_BATCH):
                batch.append(row)
                if len(batch) == REFERENCE_BATCH:
                    problems += _unknown_references(source, known_ids, batch)
                    batch = []
            problems += _unknown_references(source, known_ids, batch)
        return problems

    def _chains(self):
        previous = Window(
            Lag("balance_after", default=Value(0), output_field=IntegerField()),
            partition_by=[F("user_id")],
            order_by=[F("created_at").asc(), F("id").asc()],
        )
        suspects = set(
            TokenTransaction.objects.annotate(previous=previous)
            .filter(~Q(balance_after=F("previous") + F("amount")))
            .values_list("user_id", flat=True)
        )
        if not suspects:
            return []
        with_ties = set(
            TokenTransaction.objects.filter(user_id__in=suspects)
            .order_by()
            .values("user_id", "created_at")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .values_list("user_id", flat=True)
        )
        rows = defaultdict(list)
        for row in (
            TokenTransaction.objects.filter(user_id__in=suspects)
            .order_by("user_id", "created_at", "id")
            .values("id", "user_id", "type", "amount", "balance_after", "created_at")
        ):
            rows[row["user_id"]].append(row)
        problems = []
        for user_id in sorted(suspects):
            problems += [
                (user_id, sentence)
                for sentence in _chain_breaks(rows[user_id], tolerate_ties=user_id in with_ties)
            ]
        return problems


def _unknown_references(source, known_ids, rows):
    if not rows:
        return []
    known = set(known_ids({source_id for _, _, _, source_id in rows}))
    return [
        (
            user_id,
            f"transaction {tx_id} ({kind}) points at {source} {source_id}, which no "
            "longer exists and left no record.",
        )
        for tx_id, user_id, kind, source_id in rows
        if source_id not in known
    ]


def _chain_breaks(rows, *, tolerate_ties):
    """Sentences for each break in one user's chain (rows in created_at, id order). With
    `tolerate_ties`, rows sharing a timestamp may chain in any order that works."""
    breaks = []
    current = 0
    groups = (
        [list(group) for _, group in groupby(rows, key=lambda row: row["created_at"])]
        if tolerate_ties
        else [[row] for row in rows]
    )
    for group in groups:
        ordered = _chain_order(current, group) if len(group) > 1 else None
        for row in ordered or group:
            if row["balance_after"] != current + row["amount"]:
                breaks.append(
                    f"transaction {row['id']} ({row['type']} {row['amount']:+d} at "
                    f"{row['created_at'].isoformat()}) has balance_after {row['balance_after']}, "
                    f"expected {current + row['amount']}."
                )
            current = row["balance_after"]
    return breaks


def _chain_order(start, rows):
    """An order of `rows` in which each one's balance_after is the previous one's plus its
    amount, starting from `start`; None if there is none. Each row is an edge from
    `balance_after - amount` to `balance_after`, so this is an Eulerian trail (Hierholzer)."""
    edges = defaultdict(list)
    for index, row in enumerate(rows):
        edges[row["balance_after"] - row["amount"]].append(index)
    stack, trail = [(start, None)], []
    while stack:
        node, via = stack[-1]
        if edges[node]:
            index = edges[node].pop()
            stack.append((rows[index]["balance_after"], index))
        else:
            stack.pop()
            if via is not None:
                trail.append(rows[via])
    trail.reverse()
    current = start
    for row in trail:
        if row["balance_after"] - row["amount"] != current:
            return None
        current = row["balance_after"]
    return trail if len(trail) == len(rows) else None
