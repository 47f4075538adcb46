"""Reading Stripe's objects (plain dicts) in our words, across the API versions dj-stripe may
pin: since 2025 a subscription's period lives on its items, an invoice's subscription under
`parent.subscription_details`, an invoice line's price under `pricing.price_details`; older
versions had them at the top. No I/O here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from djstripe.settings import djstripe_settings

from billing.models import SubscriptionStatus

# Stripe's subscription statuses in ours (the schema's five): a subscription whose first
# payment never came (`incomplete`) or that is paused gives nothing, like an unpaid one.
SUBSCRIPTION_STATUSES = {
    "active": SubscriptionStatus.ACTIVE,
    "trialing": SubscriptionStatus.TRIALING,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.UNPAID,
    "incomplete": SubscriptionStatus.UNPAID,
    "paused": SubscriptionStatus.UNPAID,
    "canceled": SubscriptionStatus.CANCELED,
    "incomplete_expired": SubscriptionStatus.CANCELED,
}


def object_id(value) -> str | None:
    """The id of a field that is either an id or an expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def amount(minor_units: int | None, currency: str) -> Decimal:
    """Stripe's integer amount in the currency's major unit (pence -> pounds)."""
    value = Decimal(minor_units or 0)
    if (currency or "").lower() in djstripe_settings.ZERO_DECIMAL_CURRENCIES:
        return value
    return (value / 100).quantize(Decimal("0.01"))


def timestamp(value: int | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromtimestamp(int(value), tz=dt.UTC)


def subscription_item(subscription: dict) -> dict:
    items = (subscription.get("items") or {}).get("data") or []
    if not items:
        raise ValueError(f"subscription {subscription.get('id')} has no items")
    return items[0]


def subscription_period(subscription: dict) -> tuple[dt.datetime, dt.datetime]:
    item = subscription_item(subscription)
    start = item.get("current_period_start", subscription.get("current_period_start"))
    end = item.get("current_period_end", subscription.get("current_period_end"))
    return timestamp(start), timestamp(end)


def subscription_status(subscription: dict) -> str:
    return SUBSCRIPTION_STATUSES.get(subscription.get("status"), SubscriptionStatus.UNPAID)


def cancels_at_period_end(subscription: dict) -> bool:
    """Cancelled by the customer, still running until its period ends (the portal sets either
    flag, depending on its configuration)."""
    if subscription.get("status") in ("canceled", "incomplete_expired"):
        return False
    return bool(subscription.get("cancel_at_period_end") or subscription.get("cancel_at"))


def invoice_subscription_id(invoice: dict) -> str | None:
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return object_id(details.get("subscription") or invoice.get("subscription"))


def invoice_period_line(invoice: dict) -> dict | None:
    """The invoice's line for a subscription period (not a proration), if there is one."""
    for line in (invoice.get("lines") or {}).get("data") or []:
        parent = line.get("parent") or {}
        details = parent.get("subscription_item_details") or {}
        proration = details.get("proration", line.get("proration", False))
        if proration or not line_price_id(line):
            continue
        if details or line.get("type") == "subscription" or line.get("subscription"):
            return line
    return None


def line_price_id(line: dict) -> str | None:
    pricing = line.get("pricing") or {}
    details = pricing.get("price_details") or {}
    return object_id(details.get("price") or line.get("price") or line.get("plan"))


def line_period(line: dict) -> tuple[dt.datetime, dt.datetime]:
    period = line.get("period") or {}
    return timestamp(period.get("start")), timestamp(period.get("end"))
