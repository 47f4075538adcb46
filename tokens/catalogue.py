"""The token packs on sale (`TokensPackage`, owned here; billing sells them)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from core.defaults import create_missing
from tokens.models import TokensPackage


def seed_default_packages() -> tuple[list[str], list[str]]:
    """Create the packs of `settings.DEFAULT_TOKEN_PACKAGES` that are missing (by Stripe price
    id or name); rows that exist are left as the admin made them. Returns (created, kept)."""
    return create_missing(
        TokensPackage,
        settings.DEFAULT_TOKEN_PACKAGES,
        label="package",
        create=lambda spec, order: TokensPackage.objects.create(
            name=spec["name"],
            tokens=spec["tokens"],
            price_usd=Decimal(spec["price"]),
            currency=settings.SHOP_CURRENCY,
            stripe_price_id=spec["stripe_price_id"],
            sort_order=order,
        ),
    )


def set_stripe_price_id(package: TokensPackage, price_id: str) -> None:
    """Record the Stripe price that sells `package` (billing's `stripe_catalogue` command)."""
    TokensPackage.objects.filter(pk=package.pk).update(stripe_price_id=price_id)
    package.stripe_price_id = price_id
