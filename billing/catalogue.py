"""The subscription plans on sale (`SubscriptionPlan`)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from billing.models import SubscriptionPlan


def seed_default_plans() -> tuple[list[str], list[str]]:
    """Create the plans of `settings.DEFAULT_SUBSCRIPTION_PLANS` that are missing; returns
    (created, already there) as readable labels.

    A default counts as present when a row has its Stripe price id or its name, and a present
    row is never touched: what the admin changed survives every run.
    """
    created, kept = [], []
    with transaction.atomic():
        for order, spec in enumerate(settings.DEFAULT_SUBSCRIPTION_PLANS, start=1):
            label = f"plan {spec['name']}"
            present = SubscriptionPlan.objects.filter(
                Q(stripe_price_id=spec["stripe_price_id"]) | Q(name=spec["name"])
            ).exists()
            if present:
                kept.append(label)
                continue
            SubscriptionPlan.objects.create(
                **{**spec, "price_gbp": Decimal(spec["price_gbp"])}, sort_order=order
            )
            created.append(label)
    return created, kept
