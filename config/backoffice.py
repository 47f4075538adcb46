"""The back office's numbers (/admin/numbers/): per day (the last 30) and per month (the last
12), jobs by tier and status, tokens spent and refunded, revenue from packs and from plans,
what the engines are estimated to have cost, and the margin; the heaviest users of the last
7 days.

It reads several apps, so it lives here, above them. Each figure is one grouped query over a
range of days (`enhancement.jobs.figures`, `tokens.figures`, `billing.figures`), asked once for
the whole year: the 30 days and the 12 months are both summed from those daily rows, so the
page makes the same few queries whatever the number of jobs, days or users.

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
    of each, `heavy` users, and the currencies seen."""
    now = timezone.localtime(now or timezone.now())
    today = now.date()
    first_day = today - timedelta(days=DAYS - 1)
    first_month = _month_start(today, MONTHS - 1)
    since = _midnight(min(first_day, first_month))

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

    for row in job_figures.jobs_by_day(since=since):
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
    for day, (spent, refunded) in token_figures.spent_and_refunded_by_day(since=since).items():
        for line in lines_of(day):
            line.tokens_spent += spent
            line.tokens_refunded += refunded
    for part, rows in (
        ("packs", billing_figures.pack_revenue_by_day(since=since)),
        ("plans", billing_figures.subscription_revenue_by_day(since=since)),
    ):
        for row in rows:
            for line in lines_of(row.day):
                getattr(line, part)[row.currency] += row.amount

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
