"""The back office's figures of jobs (config.backoffice): how many by day, tier and status, what
their engines cost, and who ordered most. Grouped queries only, whatever the number of days or
rows: the page's query count does not grow with the data.

Deleted jobs count too, through the `DeletedJob` each leaves (its tier, status at deletion,
creation time and cost): a user deleting a picture does not take its job out of the history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from enhancement.models import DeletedJob, ImageEnhancementJob, JobStatus

ZERO = Decimal(0)


@dataclass(frozen=True)
class JobsOfADay:
    """The jobs made on one day (the site's time zone) of one tier in one status."""

    day: date
    tier: str
    status: str
    jobs: int
    engine_cost_usd: Decimal


@dataclass(frozen=True)
class HeavyUser:
    user_id: str
    jobs: int
    tokens: int  # the tokens of their jobs that were not refunded
    engine_cost_usd: Decimal


def _by_day(queryset, since: datetime, until: datetime | None = None):
    if until is not None:
        queryset = queryset.filter(created_at__lt=until)
    return (
        queryset.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day", "tier", "status")
        .annotate(jobs=Count("*"), cost=Sum("engine_cost_usd"))
        .order_by()
    )


def jobs_by_day(*, since: datetime, until: datetime | None = None) -> list[JobsOfADay]:
    """Jobs made at or after `since` (and before `until`), by day, tier and status, with their
    estimated engine cost (USD; jobs without one count 0). Two queries: one over the jobs, one
    over the deleted jobs (a range of the `*_created_idx` indexes)."""
    totals: dict[tuple, list] = defaultdict(lambda: [0, ZERO])
    for model in (ImageEnhancementJob, DeletedJob):
        for row in _by_day(model.objects.all(), since, until):
            total = totals[(row["day"], row["tier"], row["status"])]
            total[0] += row["jobs"]
            total[1] += row["cost"] or ZERO
    return [
        JobsOfADay(day=day, tier=tier, status=status, jobs=jobs, engine_cost_usd=cost)
        for (day, tier, status), (jobs, cost) in sorted(totals.items())
    ]


def heaviest_users(*, since: datetime, limit: int = 10) -> list[HeavyUser]:
    """The users who ordered the most since `since`: by the tokens of their jobs that were not
    refunded, then by jobs. One query, over the jobs still there (deleted ones are left out)."""
    rows = (
        ImageEnhancementJob.objects.filter(created_at__gte=since)
        .values("user_id")
        .annotate(
            jobs=Count("*"),
            tokens=Sum("tokens_cost", filter=~Q(status=JobStatus.REFUNDED), default=0),
            cost=Sum("engine_cost_usd", default=ZERO),
        )
        .order_by("-tokens", "-jobs", "user_id")[:limit]
    )
    return [
        HeavyUser(
            user_id=row["user_id"],
            jobs=row["jobs"],
            tokens=row["tokens"],
            engine_cost_usd=row["cost"],
        )
        for row in rows
    ]
