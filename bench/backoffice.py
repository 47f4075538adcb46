"""The back office's numbers page (/admin/numbers/) at a million jobs, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ie uv run python bench/backoffice.py
    ... bench/backoffice.py --jobs 1000000 --runs 5 --database ie_bench_backoffice

It never touches the database named in DATABASE_URL: it creates `--database` on the same
server (dropped at the end; `--keep` keeps it), migrates it, and seeds it with SQL
(`INSERT ... SELECT generate_series`, not the ORM row by row): `--users` users, one image per
four jobs, `--jobs` jobs over the last 400 days (half 1K, 30 % 2K, 20 % 4K; 90 % completed,
8 % refunded, the rest failed or waiting; each finished one with an engine cost), 2 % as many
deleted jobs, the ledger's SPEND row of each job and REFUND of each refunded one plus
regeneration rows, pack payments (GBP and EUR, some refunded) and subscription invoices, then
VACUUM ANALYZE (as autovacuum would have by then).

Then it times, each `--runs` times (the median is printed, with the fastest and slowest):

- page: GET /admin/numbers/ through Django's test client, signed in as a superuser (the whole
  request: session, the figures' queries, the template), the days before the live ones taken
  from the cache (every visit but the first in `CLOSED_DAYS_CACHE_SECONDS`);
- page, cold: the same with the cache emptied before each run (the whole year counted);
- per-period (baseline): the same figures asked the plain way, one aggregate query per day
  and per month and per figure (42 periods x 5 queries), on the same indexes;
- the whole year at every visit (baseline): the figures as first written, one grouped query
  per figure over all 12 months, no cache (the cold page's queries, without the template);
- page without the indexes (baseline): the warm page again after dropping the three indexes
  the figures read (`job_created_idx`, `deletedjob_created_idx`, `tokentx_type_created_idx`).

It prints the figures and EXPLAIN of the jobs query. Nothing is asserted. The machine is
shared: run it twice and trust the figures that agree.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
ROOT = _HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scratch import close_connections, redact, run, throwaway_database  # noqa: E402

INDEXES = ("job_created_idx", "deletedjob_created_idx", "tokentx_type_created_idx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--payments", type=int, default=40_000)
    parser.add_argument("--invoices", type=int, default=6_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", default="ie_bench_backoffice")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server (the database is made anew).")

    with tempfile.TemporaryDirectory(prefix="bench-backoffice-") as folder:
        database_url, drop = throwaway_database(Path(folder), args.database)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": str(Path(folder) / "media"),
            "DEBUG": "true",  # the test client's host and plain HTTP
            "LOG_LEVEL": "WARNING",
        }
        try:
            print(f"Database: {redact(database_url)} (migrating...)", flush=True)
            started = time.perf_counter()
            run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env)
            print(f"migrated in {time.perf_counter() - started:.0f} s", flush=True)
            os.environ.update(env)
            import django

            django.setup()
            seed(args)
            measure(args)
        finally:
            close_connections()
            if not args.keep:
                drop()


# --- seeding ----------------------------------------------------------------------------------
def seed(args) -> None:
    import random
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone
    from djstripe.models import Customer, Invoice

    from tokens.models import TokensPackage

    started = time.perf_counter()
    User = get_user_model()
    User.objects.bulk_create(
        [User(email=f"user{n}@bench.example", public_name=f"Maker {n}") for n in range(args.users)],
        batch_size=5000,
    )
    User.objects.create_superuser(email="root@bench.example", password="bench-root-2024")
    gbp = TokensPackage.objects.create(
        name="Basic", tokens=50, price_usd=Decimal("9.99"), currency="gbp", stripe_price_id="pb"
    )
    eur = TokensPackage.objects.create(
        name="Basis", tokens=50, price_usd=Decimal("11.99"), currency="eur", stripe_price_id="pe"
    )
    images = (args.jobs + 3) // 4
    steps = [
        (
            "images",
            # Users weighted towards the first ones (random()^3): a few heavy users.
            f"""
            INSERT INTO enhancement_enhancedimage
                (id, created_at, updated_at, name, original_r2_key, original_width,
                 original_height, original_size_bytes, original_format, thumbnail_r2_key,
                 preview_r2_key, is_public, view_count, user_id, photo_facts)
            SELECT 'bi' || lpad(g::text, 23, '0'), now(), now(), 'Photo ' || g, 'k', 640, 480,
                   1000, 'jpeg', '', '', false, 0,
                   u.ids[1 + floor(power(random(), 3) * array_length(u.ids, 1))::int], '{{}}'
            FROM generate_series(0, {images - 1}) g,
                 (SELECT array_agg(id ORDER BY id) AS ids FROM accounts_user
                  WHERE NOT is_superuser) u
            """,
        ),
        (
            "jobs",
            f"""
            INSERT INTO enhancement_imageenhancementjob
                (id, created_at, updated_at, tier, tokens_cost, status, retry_count,
                 max_retries, engine, image_id, user_id, staff_actions, auto_adjust,
                 engine_model, enhanced_r2_key, engine_cost_usd)
            SELECT 'bj' || lpad(j.g::text, 23, '0'), j.at, j.at, j.tier,
                   CASE j.tier WHEN 'TIER_1K' THEN 2 WHEN 'TIER_2K' THEN 5 ELSE 10 END,
                   j.status, 0, 3, 'gemini', i.id, i.user_id, '[]', false,
                   'gemini-3-pro-image-preview',
                   CASE WHEN j.status = 'COMPLETED' THEN 'k' END,
                   CASE WHEN j.status IN ('COMPLETED', 'REFUNDED') THEN
                       CASE j.tier WHEN 'TIER_4K' THEN 0.241130 ELSE 0.135530 END END
            FROM (
                SELECT g, now() - random() * interval '400 days' AS at,
                       CASE WHEN r1 < 0.5 THEN 'TIER_1K' WHEN r1 < 0.8 THEN 'TIER_2K'
                            ELSE 'TIER_4K' END AS tier,
                       CASE WHEN r2 < 0.90 THEN 'COMPLETED' WHEN r2 < 0.98 THEN 'REFUNDED'
                            WHEN r2 < 0.99 THEN 'FAILED' ELSE 'PENDING' END AS status
                FROM (SELECT g, random() AS r1, random() AS r2
                      FROM generate_series(0, {args.jobs - 1}) g) r
            ) j
            JOIN enhancement_enhancedimage i ON i.id = 'bi' || lpad((j.g / 4)::text, 23, '0')
            """,
        ),
        (
            "deleted jobs",
            f"""
            INSERT INTO enhancement_deletedjob
                (id, user_id, image_id, tier, tokens_cost, status, created_at, deleted_at,
                 engine_cost_usd)
            SELECT 'bd' || lpad(g::text, 23, '0'), 'gone', 'gone', 'TIER_2K', 5, 'COMPLETED',
                   now() - random() * interval '400 days', now(), 0.135530
            FROM generate_series(0, {args.jobs // 50}) g
            """,
        ),
        (
            "ledger: spends",
            """
            INSERT INTO tokens_tokentransaction
                (id, user_id, amount, type, source, source_id, balance_after, created_at)
            SELECT 's' || substr(id, 2), user_id, -tokens_cost, 'SPEND_ENHANCEMENT',
                   'enhancement_job', id, 100, created_at
            FROM enhancement_imageenhancementjob
            """,
        ),
        (
            "ledger: refunds",
            """
            INSERT INTO tokens_tokentransaction
                (id, user_id, amount, type, source, source_id, balance_after, created_at)
            SELECT 'r' || substr(id, 2), user_id, tokens_cost, 'REFUND', 'enhancement_job', id,
                   100, created_at + interval '1 minute'
            FROM enhancement_imageenhancementjob WHERE status = 'REFUNDED'
            """,
        ),
        (
            "ledger: regeneration",
            f"""
            INSERT INTO tokens_tokentransaction
                (id, user_id, amount, type, balance_after, created_at)
            SELECT 'bg' || lpad(g::text, 23, '0'),
                   u.ids[1 + floor(random() * array_length(u.ids, 1))::int], 1,
                   'EARN_REGENERATION', 100, now() - random() * interval '400 days'
            FROM generate_series(0, {args.jobs // 5}) g,
                 (SELECT array_agg(id) AS ids FROM accounts_user) u
            """,
        ),
        (
            "pack payments",
            f"""
            INSERT INTO billing_stripepayment
                (id, created_at, updated_at, tokens_granted, amount_usd, currency, status,
                 package_id, user_id, amount_refunded, receipt_url, tokens_clawed_back,
                 stripe_payment_intent_id)
            SELECT 'bp' || lpad(g::text, 23, '0'), p.at, p.at, 50,
                   CASE WHEN p.eur THEN 11.99 ELSE 9.99 END,
                   CASE WHEN p.eur THEN 'eur' ELSE 'gbp' END,
                   CASE WHEN p.refunded THEN 'REFUNDED' ELSE 'SUCCEEDED' END,
                   CASE WHEN p.eur THEN '{eur.pk}' ELSE '{gbp.pk}' END,
                   u.ids[1 + floor(random() * array_length(u.ids, 1))::int],
                   CASE WHEN p.refunded THEN CASE WHEN p.eur THEN 11.99 ELSE 9.99 END
                        ELSE 0 END, '', 0, 'pi_bench_' || g
            FROM (SELECT g, now() - random() * interval '400 days' AS at, random() < 0.15 AS eur,
                         random() < 0.04 AS refunded
                  FROM generate_series(0, {args.payments - 1}) g) p,
                 (SELECT array_agg(id) AS ids FROM accounts_user WHERE NOT is_superuser) u
            """,
        ),
    ]
    with connection.cursor() as cursor:
        for name, sql in steps:
            step = time.perf_counter()
            cursor.execute(sql)
            print(f"  {name}: {cursor.rowcount:,} rows, {time.perf_counter() - step:.1f} s")
    # Plans: dj-stripe's invoices (a few thousand: the ORM is quick enough).
    step = time.perf_counter()
    customer = Customer.objects.create(id="cus_bench", livemode=False, email="", stripe_data={})
    now = timezone.now()
    rng = random.Random(1)
    Invoice.objects.bulk_create(
        [
            Invoice(
                id=f"in_bench_{n}",
                livemode=False,
                created=now - timedelta(seconds=rng.randrange(400 * 86400)),
                customer=customer,
                stripe_data={
                    "id": f"in_bench_{n}",
                    "status": "paid",
                    "billing_reason": "subscription_cycle",
                    "amount_paid": rng.choice([499, 1499, 3999]),
                    "currency": "gbp",
                },
            )
            for n in range(args.invoices)
        ],
        batch_size=2000,
    )
    print(f"  plan invoices: {args.invoices:,} rows, {time.perf_counter() - step:.1f} s")
    step = time.perf_counter()
    with connection.cursor() as cursor:
        for table in (
            "enhancement_imageenhancementjob",
            "enhancement_deletedjob",
            "tokens_tokentransaction",
            "billing_stripepayment",
            "djstripe_invoice",
            "enhancement_enhancedimage",
            "accounts_user",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"  VACUUM ANALYZE: {time.perf_counter() - step:.1f} s")
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)


# --- measuring --------------------------------------------------------------------------------
def timed(function, runs: int) -> list[float]:
    function()  # warm: caches, the first connection, compiled templates
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def per_period_figures() -> None:
    """The plain way: one aggregate query per period and figure."""
    from datetime import timedelta

    from django.conf import settings
    from django.db.models import BigIntegerField, Count, F, Sum
    from django.db.models.fields.json import KT
    from django.db.models.functions import Cast
    from django.utils import timezone
    from djstripe.models import Invoice

    from billing.models import StripePayment
    from config.backoffice import DAYS, HEAVY_USER_DAYS, MONTHS, _midnight, _month_start
    from enhancement.jobs.figures import heaviest_users
    from enhancement.models import DeletedJob, ImageEnhancementJob
    from tokens.models import TokenTransaction

    today = timezone.localdate()
    periods = [
        (_midnight(today - timedelta(days=n)), _midnight(today - timedelta(days=n - 1)))
        for n in range(DAYS)
    ]
    periods += [
        (_midnight(_month_start(today, n)), _midnight(_month_start(today, n - 1)))
        for n in range(MONTHS)
    ]
    for start, end in periods:
        for model in (ImageEnhancementJob, DeletedJob):
            list(
                model.objects.filter(created_at__gte=start, created_at__lt=end)
                .values("tier", "status")
                .annotate(jobs=Count("*"), cost=Sum("engine_cost_usd"))
                .order_by()
            )
        list(
            TokenTransaction.objects.filter(
                created_at__gte=start,
                created_at__lt=end,
                type__in=["SPEND_ENHANCEMENT", "REFUND"],
            )
            .values("type")
            .annotate(total=Sum("amount"))
            .order_by()
        )
        list(
            StripePayment.objects.filter(
                created_at__gte=start, created_at__lt=end, status__in=["SUCCEEDED", "REFUNDED"]
            )
            .values("currency")
            .annotate(net=Sum(F("amount_usd") - F("amount_refunded")))
            .order_by()
        )
        list(
            Invoice.objects.filter(
                created__gte=start,
                created__lt=end,
                livemode=settings.STRIPE_LIVE_MODE,
                stripe_data__status="paid",
                stripe_data__billing_reason__startswith="subscription",
            )
            .annotate(
                currency=KT("stripe_data__currency"),
                paid=Cast(KT("stripe_data__amount_paid"), BigIntegerField()),
            )
            .values("currency")
            .annotate(total=Sum("paid"))
            .order_by()
        )
    heaviest_users(since=timezone.now() - timedelta(days=HEAVY_USER_DAYS))


def measure(args) -> None:
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from config import backoffice
    from enhancement.jobs.figures import _by_day
    from enhancement.models import ImageEnhancementJob

    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(email="root@bench.example"))

    def page() -> None:
        response = client.get("/admin/numbers/")
        assert response.status_code == 200, response.status_code

    def cold_page() -> None:
        cache.clear()
        page()

    def whole_year() -> None:
        since = backoffice._midnight(backoffice._month_start(timezone.localdate(), 11))
        backoffice._daily(since)

    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        page()
    cold_queries = len(queries)
    with CaptureQueriesContext(connection) as queries:
        page()
    warm_queries = len(queries)
    with CaptureQueriesContext(connection) as queries:
        per_period_figures()
    plain_queries = len(queries)

    results = [
        (f"page ({warm_queries} queries)", timed(page, args.runs)),
        (f"page, cold ({cold_queries} queries)", timed(cold_page, args.runs)),
        (f"per period, same indexes ({plain_queries} queries)", timed(per_period_figures, 3)),
        ("whole year at every visit (figures only)", timed(whole_year, 3)),
    ]
    figures = backoffice.figures()
    jobs_query = _by_day(ImageEnhancementJob.objects.all(), timezone.now() - timedelta(days=365))
    plan_indexed = jobs_query.explain(analyze=True)
    live_query = _by_day(ImageEnhancementJob.objects.all(), figures["live_since"])
    plan_live = live_query.explain(analyze=True)
    with connection.cursor() as cursor:
        for index in INDEXES:
            cursor.execute(f"DROP INDEX {index}")
        cursor.execute("ANALYZE enhancement_imageenhancementjob")
    results.append(("page without the 3 indexes", timed(page, args.runs)))
    cache.clear()

    total = figures["month_total"]
    print()
    print(
        f"{args.jobs:,} jobs, {args.users:,} users, {args.payments:,} pack payments, "
        f"{args.invoices:,} plan invoices, PostgreSQL {connection.pg_version // 10000}, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"the page's 12 months: {total.jobs:,} jobs, {total.tokens_spent:,} tokens spent, "
        f"{total.tokens_refunded:,} refunded, revenue "
        + ", ".join(f"{v:,.2f} {c.upper()}" for c, v in sorted(total.revenue.items()))
        + f", engine cost {total.engine_cost_usd:,.2f} USD, margin {total.margin_usd:,.2f} USD"
    )
    print()
    print(f"{'':<44} {'median':>9} {'fastest':>9} {'slowest':>9}")
    for label, times in results:
        print(
            f"{label:<44} {statistics.median(times) * 1000:7.0f}ms "
            f"{min(times) * 1000:7.0f}ms {max(times) * 1000:7.0f}ms"
        )
    print()
    print("EXPLAIN ANALYZE of the jobs' figures of the live days (every visit), with the index:")
    for line in plan_live.splitlines():
        print("   ", line)
    print("EXPLAIN ANALYZE of the jobs' figures of a whole year, with the index:")
    for line in plan_indexed.splitlines():
        print("   ", line)


if __name__ == "__main__":
    main()
