"""The token packs on sale (`TokensPackage`, owned here; billing sells them)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from tokens.models import TokensPackage


def seed_default_packages() -> tuple[list[str], list[str]]:
    """Create the packs of `settings.DEFAULT_TOKEN_PACKAGES` that are missing; returns
    (created, already there) as readable labels.

    A default counts as present when a row has its Stripe price id or its name, and a present
    row is never touched: prices, names or Stripe ids edited in the admin survive every run.
    """
    created, kept = [], []
    with transaction.atomic():
        for order, spec in enumerate(settings.DEFAULT_TOKEN_PACKAGES, start=1):
            label = f"package {spec['name']}"
            present = TokensPackage.objects.filter(
                Q(stripe_price_id=spec["stripe_price_id"]) | Q(name=spec["name"])
            ).exists()
            if present:
                kept.append(label)
                continue
            TokensPackage.objects.create(
                name=spec["name"],
                tokens=spec["tokens"],
                price_usd=Decimal(spec["price"]),
                currency=settings.SHOP_CURRENCY,
                stripe_price_id=spec["stripe_price_id"],
                sort_order=order,
            )
            created.append(label)
    return created, kept
