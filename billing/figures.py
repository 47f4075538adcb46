"""The back office's figures of money taken (config.backoffice): packs and plans, by day and
currency. Grouped queries only.

- Packs: our `StripePayment` rows that were paid (SUCCEEDED, or REFUNDED since), net of what
  was refunded, on the day of the payment.
- Plans: Stripe's invoices of subscriptions (`billing_reason` subscription_*), as dj-stripe
  keeps them from the webhooks: `amount_paid` of those `paid`, on the day the invoice was made
  (a renewal's invoice is made and charged within the hour). A refund of a plan's charge is not
  taken off (billing does not follow them).
Amounts come per currency: nothing is converted here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import BigIntegerField, Count, F, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncDate
from djstripe.models import Invoice

from billing.models import StripePayment, StripePaymentStatus
from billing.stripe_objects import amount

PAID = (StripePaymentStatus.SUCCEEDED, StripePaymentStatus.REFUNDED)


@dataclass(frozen=True)
class Revenue:
    """What was taken on one day in one currency (in its major unit: pounds, not pence)."""

    day: date
    currency: str
    amount: Decimal
    payments: int


def pack_revenue_by_day(*, since: datetime, until: datetime | None = None) -> list[Revenue]:
    """Pack payments made at or after `since` (and before `until`), net of refunds, by day and
    currency. One query."""
    rows = StripePayment.objects.all()
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    rows = (
        rows.filter(status__in=PAID, created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day", "currency")
        .annotate(net=Sum(F("amount_usd") - F("amount_refunded")), payments=Count("*"))
        .order_by("day", "currency")
    )
    return [
        Revenue(
            day=row["day"],
            currency=row["currency"].lower(),
            amount=row["net"] or Decimal(0),
            payments=row["payments"],
        )
        for row in rows
    ]


def subscription_revenue_by_day(*, since: datetime, until: datetime | None = None) -> list[Revenue]:
    """Paid subscription invoices made at or after `since` (and before `until`; in the mode of
    our Stripe key: live or test), by day and currency. One query."""
    rows = Invoice.objects.all()
    if until is not None:
        rows = rows.filter(created__lt=until)
    rows = (
        rows.filter(
            created__gte=since,
            livemode=settings.STRIPE_LIVE_MODE,
            stripe_data__status="paid",
            stripe_data__billing_reason__startswith="subscription",
        )
        .annotate(
            day=TruncDate("created"),
            currency=KT("stripe_data__currency"),
            paid=Cast(KT("stripe_data__amount_paid"), BigIntegerField()),
        )
        .values("day", "currency")
        .annotate(minor_units=Sum("paid"), payments=Count("*"))
        .order_by("day", "currency")
    )
    totals: dict[tuple, list] = defaultdict(lambda: [0, 0])
    for row in rows:
        total = totals[(row["day"], (row["currency"] or "").lower())]
        total[0] += row["minor_units"] or 0
        total[1] += row["payments"]
    return [
        Revenue(day=day, currency=currency, amount=amount(units, currency), payments=count)
        for (day, currency), (units, count) in sorted(totals.items())
    ]
