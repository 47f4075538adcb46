"""The back office's numbers (/admin/numbers/): per day (the last 30) and per month (the last
12), jobs by tier and status, tokens spent and refunded, revenue from packs and from plans,
what the engines are estimated to have cost, and the margin; the heaviest users of the last
7 days.

It reads several apps, so it lives here, above them. Each figure is one grouped query over a
range of days (`enhancement.jobs.figures`, `tokens.figures`, `billing.figures`) giving daily
rows, from which both the 30 days and the 12 months are summed: the page makes the same few
queries whatever the number of jobs, days or users.

A year of a million jobs is still a million rows to read (about a second on a small machine:
bench/backoffice.py), so the year is asked in two parts. The days before the 30 (and before
this month) change rarely (a late refund by staff): their daily rows are counted once and kept
in the cache for `CLOSED_DAYS_CACHE_SECONDS`, and the page says when they were counted. The
last 30 days and this month are counted at every visit, each figure a range of its index.

Money: revenue is kept per currency (packs and plans may be sold in several). Engine costs are
estimates in USD (settings.ENGINE_PRICES); the margin is revenue turned into USD at the fixed
rates of settings.BACKOFFICE_USD_RATES, less the engine cost, and is left empty on a line with
revenue in a currency that has no rate.

Staff only: the admin's login for anyone else, and a 403 for staff who may not see jobs, the
ledger and payments in the admin (a superuser may).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from billing import figures as billing_figures
from enhancement.jobs import figures as job_figures
from enhancement.models import EnhancementTier, JobStatus
from tokens import figures as token_figures

DAYS = 30
MONTHS = 12
HEAVY_USER_DAYS = 7
HEAVY_USERS = 10
# Staff need to be allowed to see each of these in the admin to see their sums here.
REQUIRED_PERMISSIONS = (
    "enhancement.view_imageenhancementjob",
    "tokens.view_tokentransaction",
    "billing.view_stripepayment",
)
WAITING = (JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.FAILED)
ZERO = Decimal(0)
# How long the daily rows of the days before the live ones are kept (a late change to one of
# those days shows within this time).
CLOSED_DAYS_CACHE_SECONDS = 6 * 3600


@dataclass(frozen=True)
class Daily:
    """Every figure's daily rows over a range of days, and when they were counted."""

    jobs: list
    tokens: dict
    packs: list
    plans: list
    counted_at: datetime


def _daily(since: datetime, until: datetime | None = None) -> Daily:
    """One grouped query per figure (five in all: the jobs' two, ledger, packs, plans)."""
    window = {"since": since, "until": until}
    return Daily(
        jobs=job_figures.jobs_by_day(**window),
        tokens=token_figures.spent_and_refunded_by_day(**window),
        packs=billing_figures.pack_revenue_by_day(**window),
        plans=billing_figures.subscription_revenue_by_day(**window),
        counted_at=timezone.now(),
    )


def _closed_daily(since: datetime, until: datetime) -> Daily:
    """`_daily` of days that no longer change much, from the cache when it has them."""
    key = f"backoffice:daily:{since.isoformat()}:{until.isoformat()}"
    found = cache.get(key)
    if found is None:
        found = _daily(since, until)
        cache.set(key, found, CLOSED_DAYS_CACHE_SECONDS)
    return found


@dataclass
class Line:
    """One day's or one month's figures."""

    start: date
    label: str
    jobs: int = 0
    tiers: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EnhancementTier.values, 0))
    completed: int = 0
    refunded: int = 0
    waiting: int = 0  # pending, running, or failed and waiting for a retry
    tokens_spent: int = 0
    tokens_refunded: int = 0
    packs: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    plans: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    engine_cost_usd: Decimal = ZERO

    @property
    def tier_counts(self) -> list[int]:
        return [self.tiers[tier] for tier in EnhancementTier.values]

    @property
    def revenue(self) -> dict[str, Decimal]:
        total: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for part in (self.packs, self.plans):
            for currency, value in part.items():
                total[currency] += value
        return dict(total)

    @property
    def margin_usd(self) -> Decimal | None:
        """Revenue in USD at the fixed rates, less the engine cost; None when a currency of
        this line's revenue has no rate."""
        revenue = ZERO
        for currency, value in self.revenue.items():
            rate = settings.BACKOFFICE_USD_RATES.get(currency, {}).get("usd")
            if rate is None:
                return None
            revenue += value * rate
        return revenue - self.engine_cost_usd

    @property
    def loss(self) -> bool:
        margin = self.margin_usd
        return margin is not None and margin < 0

    @property
    def margin_size(self) -> Decimal | None:
        """The margin without its sign (the page writes a loss as −$1.00, not $-1.00)."""
        margin = self.margin_usd
        return None if margin is None else abs(margin)

    def money(self, part: dict[str, Decimal]) -> list[tuple[str, Decimal]]:
        return sorted((currency, value) for currency, value in part.items() if value)

    @property
    def pack_amounts(self):
        return self.money(self.packs)

    @property
    def plan_amounts(self):
        return self.money(self.plans)


@dataclass(frozen=True)
class Heavy:
    label: str
    email: str
    user_url: str
    jobs_url: str
    jobs: int
    tokens: int
    engine_cost_usd: Decimal


def _month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def figures(now: datetime | None = None) -> dict:
    """Every figure of the page: `days` and `months` (newest first, each a `Line`), `totals`
    of each, `heavy` users, the currencies seen, and when the older days were counted."""
    now = timezone.localtime(now or timezone.now())
    today = now.date()
    first_day = today - timedelta(days=DAYS - 1)
    first_month = _month_start(today, MONTHS - 1)
    live_since = _midnight(min(first_day, _month_start(today)))
    parts = [_closed_daily(_midnight(first_month), live_since), _daily(live_since)]

    days = {
        first_day + timedelta(days=n): Line(
            start=first_day + timedelta(days=n),
            label=(first_day + timedelta(days=n)).strftime("%a %d %b"),
        )
        for n in range(DAYS)
    }
    months = {}
    for n in range(MONTHS - 1, -1, -1):
        start = _month_start(today, n)
        months[start] = Line(start=start, label=start.strftime("%B %Y"))

    def lines_of(day: date) -> list[Line]:
        found = [months[_month_start(day)]] if _month_start(day) in months else []
        if day in days:
            found.append(days[day])
        return found

    for row in (row for part in parts for row in part.jobs):
        for line in lines_of(row.day):
            line.jobs += row.jobs
            line.tiers[row.tier] = line.tiers.get(row.tier, 0) + row.jobs
            if row.status == JobStatus.COMPLETED:
                line.completed += row.jobs
            elif row.status == JobStatus.REFUNDED:
                line.refunded += row.jobs
            elif row.status in WAITING:
                line.waiting += row.jobs
            line.engine_cost_usd += row.engine_cost_usd
    for day, (spent, refunded) in (item for part in parts for item in part.tokens.items()):
        for line in lines_of(day):
            line.tokens_spent += spent
            line.tokens_refunded += refunded
    for name in ("packs", "plans"):
        for row in (row for part in parts for row in getattr(part, name)):
            for line in lines_of(row.day):
                getattr(line, name)[row.currency] += row.amount

    day_lines = list(reversed(days.values()))
    month_lines = list(reversed(months.values()))
    currencies = sorted({c for line in month_lines + day_lines for c in line.revenue})
    return {
        "days": day_lines,
        "months": month_lines,
        "day_total": _total(day_lines, f"{DAYS} days"),
        "month_total": _total(month_lines, f"{MONTHS} months"),
        "heavy": _heavy(now - timedelta(days=HEAVY_USER_DAYS)),
        "currencies": currencies,
        "unrated": [c for c in currencies if c not in settings.BACKOFFICE_USD_RATES],
        "live_since": live_since,
        "older_counted_at": parts[0].counted_at,
    }


def _total(lines: list[Line], label: str) -> Line:
    total = Line(start=lines[-1].start, label=label)
    for line in lines:
        total.jobs += line.jobs
        for tier, count in line.tiers.items():
            total.tiers[tier] = total.tiers.get(tier, 0) + count
        total.completed += line.completed
        total.refunded += line.refunded
        total.waiting += line.waiting
        total.tokens_spent += line.tokens_spent
        total.tokens_refunded += line.tokens_refunded
        for currency, value in line.packs.items():
            total.packs[currency] += value
        for currency, value in line.plans.items():
            total.plans[currency] += value
        total.engine_cost_usd += line.engine_cost_usd
    return total


def _heavy(since: datetime) -> list[Heavy]:
    """The heaviest users since `since` (one query), with their accounts (one more)."""
    rows = job_figures.heaviest_users(since=since, limit=HEAVY_USERS)
    users = get_user_model().objects.in_bulk([row.user_id for row in rows])
    jobs_url = reverse("admin:enhancement_imageenhancementjob_changelist")
    heavy = []
    for row in rows:
        user = users.get(row.user_id)
        heavy.append(
            Heavy(
                label=user.public_label if user else "(gone)",
                email=(user.email or "") if user else "",
                user_url=reverse("admin:accounts_user_change", args=[row.user_id]),
                jobs_url=f"{jobs_url}?user__id__exact={row.user_id}",
                jobs=row.jobs,
                tokens=row.tokens,
                engine_cost_usd=row.engine_cost_usd,
            )
        )
    return heavy


@require_safe
def numbers_view(request):
    if not request.user.has_perms(REQUIRED_PERMISSIONS):
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": "Numbers",
        "tiers": EnhancementTier.labels,
        "days_count": DAYS,
        "months_count": MONTHS,
        "heavy_days": HEAVY_USER_DAYS,
        "time_zone": settings.TIME_ZONE,
        "closed_hours": CLOSED_DAYS_CACHE_SECONDS // 3600,
        "rates": sorted(
            (currency, rates["usd"])
            for currency, rates in settings.BACKOFFICE_USD_RATES.items()
            if "usd" in rates and currency != "usd"
        ),
        **figures(),
    }
    return TemplateResponse(request, "admin/numbers.html", context)


# Behind the admin's own login and staff check, as every admin page.
numbers = admin.site.admin_view(numbers_view)
