"""The subscription plans on sale (`SubscriptionPlan`)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from billing.models import SubscriptionPlan
from core.defaults import create_missing


def seed_default_plans() -> tuple[list[str], list[str]]:
    """Create the plans of `settings.DEFAULT_SUBSCRIPTION_PLANS` that are missing (by Stripe
    price id or name); rows that exist are left as the admin made them. Returns (created,
    kept)."""
    return create_missing(
        SubscriptionPlan,
        settings.DEFAULT_SUBSCRIPTION_PLANS,
        label="plan",
        create=lambda spec, order: SubscriptionPlan.objects.create(
            **{**spec, "price_gbp": Decimal(spec["price_gbp"])}, sort_order=order
        ),
    )
