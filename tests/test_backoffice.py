"""The back office's numbers (/admin/numbers/, config/backoffice.py): the figures of a small
seeded history (jobs of each tier and status, a deleted one, refunds, packs in two currencies,
a plan's invoice), a query count that does not grow with the data, and who may see the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from djstripe.models import Customer, Invoice

from billing.models import StripePayment, StripePaymentStatus
from config import backoffice
from enhancement.models import DeletedJob, EnhancementTier, ImageEnhancementJob, JobStatus
from tests.factories import (
    DeletedJobFactory,
    EnhancedImageFactory,
    ImageEnhancementJobFactory,
    StripePaymentFactory,
    TokensPackageFactory,
    TokenTransactionFactory,
    UserFactory,
)
from tokens.models import TokenTransactionType

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
TODAY = NOW
YESTERDAY = NOW - timedelta(days=1)
LAST_MONTH = NOW - timedelta(days=40)  # 6 October: in October's line, not in the 30 days
LONG_AGO = NOW - timedelta(days=400)  # before the 12 months
URL = "/admin/numbers/"


@pytest.fixture(autouse=True)
def _clock(settings):
    settings.TIME_ZONE = "UTC"
    settings.STRIPE_LIVE_MODE = False
    settings.BACKOFFICE_USD_RATES = {
        "usd": {"usd": Decimal("1")},
        "gbp": {"usd": Decimal("1.25")},
        "eur": {"usd": Decimal("1.10")},
    }
    with time_machine.travel(NOW, tick=False):
        yield


def job(when, *, tier=EnhancementTier.TIER_1K, status=JobStatus.COMPLETED, cost=None, user=None):
    image = EnhancedImageFactory(**({"user": user} if user else {}))
    row = ImageEnhancementJobFactory(image=image, tier=tier, status=status, engine_cost_usd=cost)
    ImageEnhancementJob.objects.filter(pk=row.pk).update(created_at=when)
    return row


def ledger(when, kind, amount, user=None):
    return TokenTransactionFactory(
        **({"user": user} if user else {}),
        type=kind,
        amount=amount,
        balance_after=100,
        created_at=when,
    )


def payment(when, price, currency, *, status=StripePaymentStatus.SUCCEEDED, refunded="0"):
    package = TokensPackageFactory(price_usd=Decimal(price), currency=currency)
    row = StripePaymentFactory(
        package=package,
        currency=currency,
        status=status,
        amount_refunded=Decimal(refunded),
    )
    StripePayment.objects.filter(pk=row.pk).update(created_at=when)
    return row


_invoices = iter(range(1, 10_000))


def invoice(when, minor_units, currency, *, status="paid", reason="subscription_cycle", live=False):
    n = next(_invoices)
    customer, _ = Customer.objects.get_or_create(
        id="cus_numbers", defaults={"livemode": False, "stripe_data": {"id": "cus_numbers"}}
    )
    return Invoice.objects.create(
        id=f"in_numbers_{n}",
        livemode=live,
        created=when,
        customer=customer,
        stripe_data={
            "id": f"in_numbers_{n}",
            "object": "invoice",
            "status": status,
            "billing_reason": reason,
            "amount_paid": minor_units if status == "paid" else 0,
            "currency": currency,
        },
    )


@pytest.fixture
def history():
    """Today: two 1K jobs done, a 4K refunded, a 2K done and deleted since; yesterday a 2K
    waiting; in October a 1K done; 400 days ago one more (too old to count)."""
    job(TODAY, cost=Decimal("0.134000"))
    job(TODAY, cost=Decimal("0.134000"))
    job(TODAY, tier=EnhancementTier.TIER_4K, status=JobStatus.REFUNDED, cost=Decimal("0.001"))
    DeletedJobFactory(
        tier=EnhancementTier.TIER_2K,
        tokens_cost=5,
        status=JobStatus.COMPLETED,
        created_at=TODAY,
        engine_cost_usd=Decimal("0.200000"),
    )
    job(YESTERDAY, tier=EnhancementTier.TIER_2K, status=JobStatus.PENDING)
    job(LAST_MONTH, cost=Decimal("0.500000"))
    job(LONG_AGO, cost=Decimal("9"))

    ledger(TODAY, TokenTransactionType.SPEND_ENHANCEMENT, -2)
    ledger(TODAY, TokenTransactionType.SPEND_ENHANCEMENT, -2)
    ledger(TODAY, TokenTransactionType.SPEND_ENHANCEMENT, -10)
    ledger(TODAY, TokenTransactionType.REFUND, 10)
    ledger(TODAY, TokenTransactionType.EARN_PURCHASE, 50)  # neither spent nor refunded
    ledger(YESTERDAY, TokenTransactionType.SPEND_ENHANCEMENT, -5)
    ledger(LAST_MONTH, TokenTransactionType.SPEND_ENHANCEMENT, -2)

    payment(TODAY, "9.99", "gbp")
    payment(TODAY, "24.99", "gbp", status=StripePaymentStatus.REFUNDED, refunded="24.99")
    payment(TODAY, "4.99", "gbp", status=StripePaymentStatus.PENDING)  # not paid
    payment(YESTERDAY, "10.00", "eur")
    payment(LAST_MONTH, "69.99", "gbp", refunded="20.00")  # a part refunded

    invoice(TODAY, 1499, "gbp")
    invoice(TODAY, 1499, "gbp", status="open")  # not paid
    invoice(TODAY, 2999, "gbp", live=True)  # the other Stripe mode
    invoice(TODAY, 500, "gbp", reason="manual")  # not a plan's
    invoice(LAST_MONTH, 1499, "gbp", reason="subscription_create")


def line(lines, label):
    [found] = [line for line in lines if line.label == label]
    return found


def test_the_figures_of_a_day(history):
    figures = backoffice.figures()
    assert [line.label for line in figures["days"][:2]] == ["Sun 15 Nov", "Sat 14 Nov"]
    assert len(figures["days"]) == 30
    today = figures["days"][0]
    assert today.jobs == 4
    assert today.tier_counts == [2, 1, 1]  # 1K, 2K (the deleted one), 4K
    assert (today.completed, today.refunded, today.waiting) == (3, 1, 0)
    assert (today.tokens_spent, today.tokens_refunded) == (14, 10)
    assert today.pack_amounts == [("gbp", Decimal("9.99"))]
    assert today.plan_amounts == [("gbp", Decimal("14.99"))]
    assert today.engine_cost_usd == Decimal("0.469")
    # (9.99 + 14.99) GBP at 1.25 = 31.225 USD, less 0.469
    assert today.margin_usd == Decimal("30.756")

    yesterday = figures["days"][1]
    assert (yesterday.jobs, yesterday.waiting, yesterday.tier_counts) == (1, 1, [0, 1, 0])
    assert yesterday.pack_amounts == [("eur", Decimal("10.00"))]
    assert yesterday.margin_usd == Decimal("11.00")
    assert figures["currencies"] == ["eur", "gbp"]


def test_the_figures_of_a_month_and_the_totals(history):
    figures = backoffice.figures()
    assert len(figures["months"]) == 12
    assert figures["months"][0].label == "November 2026"
    assert figures["months"][-1].label == "December 2025"
    november = line(figures["months"], "November 2026")
    assert (november.jobs, november.tokens_spent) == (5, 19)
    assert november.revenue == {"gbp": Decimal("24.98"), "eur": Decimal("10.00")}
    october = line(figures["months"], "October 2026")
    assert (october.jobs, october.completed, october.tokens_spent) == (1, 1, 2)
    assert october.pack_amounts == [("gbp", Decimal("49.99"))]
    assert october.plan_amounts == [("gbp", Decimal("14.99"))]
    assert october.engine_cost_usd == Decimal("0.5")
    # The 30 days leave October out; the 12 months leave the job of 400 days ago out.
    assert figures["day_total"].jobs == 5
    assert figures["month_total"].jobs == 6
    assert figures["month_total"].engine_cost_usd == Decimal("0.969")
    # GBP: 9.99 + 14.99 in November, 69.99 - 20.00 + 14.99 in October
    assert figures["month_total"].revenue == {"gbp": Decimal("89.96"), "eur": Decimal("10.00")}


def test_days_are_the_sites_local_days(settings):
    settings.TIME_ZONE = "America/New_York"
    job(datetime(2026, 11, 15, 3, 0, tzinfo=UTC))  # 22:00 on the 14th in New York
    figures = backoffice.figures()
    assert [line.jobs for line in figures["days"][:2]] == [0, 1]
    assert figures["days"][1].label == "Sat 14 Nov"


def test_a_currency_without_a_rate_has_no_margin(history, settings):
    del settings.BACKOFFICE_USD_RATES["eur"]
    figures = backoffice.figures()
    assert figures["days"][1].margin_usd is None  # yesterday's revenue was in euros
    assert figures["days"][0].margin_usd == Decimal("30.756")
    assert figures["unrated"] == ["eur"]


def test_the_heaviest_users_of_the_week(history):
    heavy_user = UserFactory(public_name="Night Owl", email="owl@example.com")
    for _ in range(3):
        job(YESTERDAY, tier=EnhancementTier.TIER_4K, user=heavy_user, cost=Decimal("0.24"))
    job(YESTERDAY, tier=EnhancementTier.TIER_4K, user=heavy_user, status=JobStatus.REFUNDED)
    job(NOW - timedelta(days=8), tier=EnhancementTier.TIER_4K, user=heavy_user)  # too old
    heavy = backoffice.figures()["heavy"]
    first = heavy[0]
    assert (first.label, first.email, first.jobs, first.tokens) == (
        "Night Owl",
        "owl@example.com",
        4,
        30,
    )
    assert first.engine_cost_usd == Decimal("0.72")
    assert first.user_url == reverse("admin:accounts_user_change", args=[heavy_user.pk])
    assert len(heavy) == 5  # and the four others with a job this week


@pytest.fixture
def admin_client(client):
    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    client.force_login(root)
    return client


def test_the_page_shows_the_figures_in_the_admins_look(admin_client, history):
    response = admin_client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Numbers | Site administration" in body or "<title>Numbers" in body
    assert 'id="site-name"' in body  # the admin's header
    assert "Last 30 days" in body and "Last 12 months" in body
    assert "£9.99" in body and "€10.00" in body and "£14.99" in body
    assert "$30.76" in body  # today's margin
    assert "Heaviest users, last 7 days" in body


def test_the_admin_index_links_to_the_page(admin_client):
    body = admin_client.get(reverse("admin:index")).content.decode()
    assert f'href="{URL}"' in body


def test_a_loss_is_written_with_a_minus_sign(admin_client):
    job(TODAY, cost=Decimal("1.50"))
    body = admin_client.get(URL).content.decode()
    assert "−$1.50" in body
    assert "$-1.50" not in body


def test_the_query_count_does_not_grow_with_the_data(admin_client, history):
    def count() -> int:
        cache.clear()  # the older days counted afresh too
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(URL).status_code == 200
        return len(queries)

    before = count()
    for days_ago in range(0, 300, 7):
        when = NOW - timedelta(days=days_ago)
        user = UserFactory()
        job(when, tier=EnhancementTier.TIER_2K, cost=Decimal("0.134"), user=user)
        job(when, tier=EnhancementTier.TIER_4K, status=JobStatus.REFUNDED, user=user)
        ledger(when, TokenTransactionType.SPEND_ENHANCEMENT, -5, user=user)
        payment(when, "9.99", "gbp")
        invoice(when, 999, "eur")
    assert count() == before


def test_the_page_makes_a_handful_of_queries(admin_client, history, django_assert_max_num_queries):
    # Session and user (2), the signed-in user's balance for the site's context (1), jobs and
    # deleted jobs (2), ledger (1), packs (1), plans (1), heaviest users and their accounts (2);
    # the first visit counts the older days too (5 more), later ones take them from the cache.
    with django_assert_max_num_queries(15):
        assert admin_client.get(URL).status_code == 200
    with django_assert_max_num_queries(10):
        assert admin_client.get(URL).status_code == 200


def test_a_month_straddling_the_live_days_adds_both_parts(history):
    job(NOW - timedelta(days=26))  # 20 October: one of the 30 days, counted live
    figures = backoffice.figures()
    assert figures["live_since"] == datetime(2026, 10, 17, tzinfo=UTC)
    assert line(figures["days"], "Tue 20 Oct").jobs == 1
    october = line(figures["months"], "October 2026")
    assert (october.jobs, october.tokens_spent) == (2, 2)  # 6 October (kept) + 20 October


def test_older_days_are_counted_once_and_kept_for_hours(history):
    first = backoffice.figures()
    job(LAST_MONTH)  # a late change to a day before the live ones
    job(TODAY)
    later = backoffice.figures()
    assert line(later["months"], "October 2026").jobs == 1  # as counted at the first visit
    assert later["days"][0].jobs == first["days"][0].jobs + 1  # today: counted live
    assert later["older_counted_at"] == first["older_counted_at"]
    with time_machine.travel(
        NOW + timedelta(seconds=backoffice.CLOSED_DAYS_CACHE_SECONDS + 1), tick=False
    ):
        recounted = backoffice.figures()
    assert line(recounted["months"], "October 2026").jobs == 2


# --- who may see it -----------------------------------------------------------------------------


def test_anonymous_visitors_get_the_admin_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_signed_in_users_who_are_not_staff_get_the_admin_login(client, user):
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_the_view_permissions_are_refused(client, staff_user):
    client.force_login(staff_user)
    assert client.get(URL).status_code == 403
    assert f'href="{URL}"' not in client.get(reverse("admin:index")).content.decode()


def test_staff_who_may_see_jobs_ledger_and_payments_see_it(client, staff_user):
    staff_user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_imageenhancementjob", "view_tokentransaction", "view_stripepayment"]
        )
    )
    client.force_login(staff_user)
    assert client.get(URL).status_code == 200
    assert f'href="{URL}"' in client.get(reverse("admin:index")).content.decode()


def test_only_get_and_head(admin_client):
    assert admin_client.post(URL).status_code == 405


def test_deleted_jobs_count(history):
    assert DeletedJob.objects.count() == 1
    assert backoffice.figures()["days"][0].tier_counts[1] == 1
