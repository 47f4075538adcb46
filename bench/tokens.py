"""How fast the token ledger is on PostgreSQL, next to bare UPDATEs without a ledger.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ie uv run python bench/tokens.py
    ... bench/tokens.py --spends 4000 --threads 1,4,8 --users 1000 --balances 100000

It never touches the database named in DATABASE_URL: it creates its own (`<name>_bench`, by
the test runner's machinery, migrations included) and drops it at the end. It prints:

- spends per second on ONE hot balance (every spend waits for the row lock) and spread over
  many users, with 1..N threads, each with its own connection: `tokens.services.spend`
  (lock, lazy regeneration check, UPDATE, INSERT into the ledger, one transaction each);
- the same number of bare `UPDATE ... SET balance = balance - 2` statements (autocommit, no
  lock read, no ledger) as a baseline, and the ratio;
- the time for the scheduled regeneration of N balances (`tokens.services.regenerate_all`,
  set-based, in batches), for a few batch sizes (`--portable`: also the path SQLite takes,
  rows computed in Python and written with bulk UPDATE/INSERT);
- the time for `manage.py check_ledger` over the result.

Creating the users is not measured. Nothing about time is asserted: it prints figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts bench/ first on the path, where this file would shadow the
# `tokens` app: use the project root.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spends", type=int, default=4000, help="spends per measurement")
    parser.add_argument("--threads", default="1,4,8", help="thread counts, comma-separated")
    parser.add_argument("--users", type=int, default=1000, help="users for the spread case")
    parser.add_argument("--balances", type=int, default=100_000, help="balances to regenerate")
    parser.add_argument("--batches", default="1000,5000,20000", help="regeneration batch sizes")
    parser.add_argument(
        "--portable", action="store_true", help="also time the path SQLite takes (slow here)"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench/tokens.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    original_name = settings.DATABASES["default"]["NAME"]
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = f"{original_name}_bench"
    print(f"Creating the benchmark database {original_name}_bench (migrations)...", flush=True)
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            version = cursor.fetchone()[0].split(",")[0]
        print(f"{version}; {os.cpu_count()} CPU(s); Python {sys.version.split()[0]}\n")
        threads = [int(n) for n in args.threads.split(",")]
        bench_spends(spends=args.spends, threads=threads, users=args.users)
        bench_regeneration(
            balances=args.balances,
            batches=[int(b) for b in args.batches.split(",")],
            portable_too=args.portable,
        )
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0)


# --- helpers ----------------------------------------------------------------------------------
def make_users(count: int, *, balance: int, last_regeneration: dt.datetime, prefix: str):
    """Users and their balances, fast (bulk, no signals). Balances come with one opening
    EARN_BONUS transaction so that the ledger adds up."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from core.ids import new_id
    from tokens.models import TokenTransaction, TokenTransactionType, UserTokenBalance

    user_model = get_user_model()
    users = [
        user_model(id=new_id(), email=f"{prefix}{i}@bench.example", password="!")
        for i in range(count)
    ]
    with transaction.atomic():
        user_model.objects.bulk_create(users, batch_size=5000)
        UserTokenBalance.objects.bulk_create(
            [
                UserTokenBalance(user_id=u.pk, balance=balance, last_regeneration=last_regeneration)
                for u in users
            ],
            batch_size=5000,
        )
        if balance:
            TokenTransaction.objects.bulk_create(
                [
                    TokenTransaction(
                        user_id=u.pk,
                        amount=balance,
                        type=TokenTransactionType.EARN_BONUS,
                        source="bench",
                        balance_after=balance,
                        created_at=last_regeneration,
                    )
                    for u in users
                ],
                batch_size=5000,
            )
    return [u.pk for u in users]


def run_threads(count: int, total: int, work) -> float:
    """`total` calls of `work(thread, i)` shared among `count` threads; calls per second."""
    from django.db import connection

    per_thread = [total // count + (1 if t < total % count else 0) for t in range(count)]
    barrier = threading.Barrier(count + 1)
    errors: list[BaseException] = []

    def target(t):
        try:
            connection.ensure_connection()
            barrier.wait()
            for i in range(per_thread[t]):
                work(t, i)
        except BaseException as exc:  # report, don't hang the barrier
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=target, args=(t,)) for t in range(count)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return total / elapsed


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    print(title)
    print("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  " + "  ".join("-" * w for w in widths))
    for row in rows:
        cells = [
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  " + "  ".join(cells))
    print(flush=True)


# --- spends -----------------------------------------------------------------------------------
def bench_spends(*, spends: int, threads: list[int], users: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from tokens import services

    now = timezone.now()
    # Enough for every spend of every round; regeneration is never due (cap and fresh clocks).
    budget = 2 * spends * len(threads) * 2 + 1000
    (hot,) = make_users(1, balance=budget, last_regeneration=now, prefix="hot")
    spread = make_users(
        users,
        balance=2 * spends * len(threads) * 2 // users + 100,
        last_regeneration=now,
        prefix="many",
    )

    def ledger_spend(user_id):
        services.spend(user=user_id, amount=2, source="bench")

    def bare_update(user_id):
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE tokens_usertokenbalance SET balance = balance - 2 WHERE user_id = %s",
                [user_id],
            )

    rows = []
    for count in threads:
        rng = [random.Random(t) for t in range(count)]
        hot_ledger = run_threads(count, spends, lambda t, i: ledger_spend(hot))
        hot_bare = run_threads(count, spends, lambda t, i: bare_update(hot))
        many_ledger = run_threads(
            count, spends, lambda t, i, rng=rng: ledger_spend(rng[t].choice(spread))
        )
        many_bare = run_threads(
            count, spends, lambda t, i, rng=rng: bare_update(rng[t].choice(spread))
        )
        rows.append(
            [
                count,
                f"{hot_ledger:,.0f}",
                f"{hot_bare:,.0f}",
                f"{hot_bare / hot_ledger:.1f}x",
                f"{many_ledger:,.0f}",
                f"{many_bare:,.0f}",
                f"{many_bare / many_ledger:.1f}x",
            ]
        )
    table(
        f"Spends per second ({spends:,} per cell; 'bare' = UPDATE balance - 2, autocommit, "
        f"no ledger; many = {users:,} users)",
        ["threads", "hot: spend()", "hot: bare", "ratio", "many: spend()", "many: bare", "ratio"],
        rows,
    )
    # The bare updates bypassed the ledger on purpose: drop these users before the next part.
    get_user_model().objects.all().delete()


# --- regeneration -----------------------------------------------------------------------------
def bench_regeneration(*, balances: int, batches: list[int], portable_too: bool) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from tokens import regeneration, services
    from tokens.models import TokenTransaction, TokenTransactionType, UserTokenBalance

    now = timezone.now()
    start = now - dt.timedelta(hours=2, minutes=7)  # 8 intervals due each
    print(f"Creating {balances:,} balances (not measured)...", flush=True)
    make_users(balances, balance=10, last_regeneration=start, prefix="regen")

    def reset():
        with transaction.atomic():
            TokenTransaction.objects.filter(type=TokenTransactionType.EARN_REGENERATION).delete()
            UserTokenBalance.objects.update(balance=10, last_regeneration=start, updated_at=start)
        with connection.cursor() as cursor:  # each variant starts from tidy tables
            cursor.execute("VACUUM ANALYZE tokens_usertokenbalance")
            cursor.execute("VACUUM ANALYZE tokens_tokentransaction")

    def portable(batch_size):
        """The path SQLite takes (rows computed in Python, bulk UPDATE + bulk INSERT)."""
        after, users = "", 0
        while True:
            with transaction.atomic():
                after, scanned, credited, _ = regeneration.credit_batch(
                    now=now, after=after, batch_size=batch_size
                )
            users += credited
            if scanned < batch_size:
                return users

    rows = []
    variants = [(f"set-based SQL, batch {b:,}", b, False) for b in batches]
    if portable_too:
        variants.append(("portable (SQLite's path), batch 5,000", 5000, True))
    for label, batch_size, is_portable in variants:
        reset()
        started = time.perf_counter()
        if is_portable:
            users = portable(batch_size)
        else:
            users = services.regenerate_all(now=now, batch_size=batch_size).users
        elapsed = time.perf_counter() - started
        again = time.perf_counter()
        second = services.regenerate_all(now=now).users  # nothing left to do
        idle = time.perf_counter() - again
        assert users == balances and second == 0, (users, second)
        rows.append([label, f"{elapsed:.2f} s", f"{balances / elapsed:,.0f}", f"{idle:.2f} s"])
    table(
        f"Scheduled regeneration of {balances:,} balances (8 intervals due each)",
        ["path", "time", "balances/s", "second run (none due)"],
        rows,
    )

    started = time.perf_counter()
    call_command("check_ledger", stdout=io.StringIO())
    elapsed = time.perf_counter() - started
    table(
        "Ledger check",
        ["what", "time"],
        [
            [
                f"check_ledger over {balances:,} balances, {2 * balances:,} transactions",
                f"{elapsed:.2f} s",
            ]
        ],
    )


if __name__ == "__main__":
    main()
