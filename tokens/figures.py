"""The back office's figures of the ledger (config.backoffice): tokens spent on enhancements and
given back, by day. One grouped query."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from django.db.models import Sum
from django.db.models.functions import TruncDate

from tokens.models import TokenTransaction, TokenTransactionType


def spent_and_refunded_by_day(
    *, since: datetime, until: datetime | None = None
) -> dict[date, tuple[int, int]]:
    """{day: (tokens spent on enhancements, tokens refunded)} for the ledger's rows at or after
    `since` (and before `until`), both as positive numbers; days without either are left out.
    One query (a range of the `tokentx_type_created_idx` index)."""
    rows = TokenTransaction.objects.all()
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    rows = (
        rows.filter(
            type__in=[TokenTransactionType.SPEND_ENHANCEMENT, TokenTransactionType.REFUND],
            created_at__gte=since,
        )
        .annotate(day=TruncDate("created_at"))
        .values("day", "type")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    days: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        if row["type"] == TokenTransactionType.SPEND_ENHANCEMENT:
            days[row["day"]][0] += -row["total"]
        else:
            days[row["day"]][1] += row["total"]
    return {day: (spent, refunded) for day, (spent, refunded) in days.items()}
