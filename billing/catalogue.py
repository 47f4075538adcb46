"""The subscription plans on sale (`SubscriptionPlan`), and the catalogue in Stripe: products
and prices for our packs and plans (`manage.py stripe_catalogue`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from djstripe.settings import djstripe_settings

from billing import stripe_api
from billing.errors import PaymentsNotConfigured
from billing.models import SubscriptionPlan
from core.defaults import create_missing
from tokens import catalogue as token_catalogue
from tokens.models import TokensPackage


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


# --- the catalogue in Stripe ------------------------------------------------------------------
# Our products and their prices' lookup keys are named after our rows, so a run finds what an
# earlier run made, on any machine, without ids copied by hand.
KEY_PREFIX = "lumen"
PLAN_CURRENCY = "gbp"  # plans are priced in GBP (`SubscriptionPlan.price_gbp`)


@dataclass(frozen=True)
class Synced:
    name: str
    price_id: str
    action: str  # "kept", "created" or "replaced <old price id>"

    def __str__(self):
        return f"{self.name}: {self.price_id} ({self.action})"


def _minor_units(amount: Decimal, currency: str) -> int:
    if currency.lower() in djstripe_settings.ZERO_DECIMAL_CURRENCIES:
        return int(amount)
    return int((amount * 100).to_integral_value())


def _same_price(price: dict, *, unit_amount: int, currency: str, interval: str | None) -> bool:
    recurring = price.get("recurring") or {}
    return (
        price.get("unit_amount") == unit_amount
        and (price.get("currency") or "").lower() == currency
        and recurring.get("interval") == interval
    )


def _sync_one(
    *, key: str, name: str, unit_amount: int, currency: str, interval: str | None, metadata: dict
) -> Synced:
    """The product `key` (created, or renamed and re-activated) and its active price with the
    lookup key `key`: kept if it has this amount, currency and interval, else a new price takes
    the key over and the old one is retired (deactivated; subscriptions already on it go on)."""
    product = stripe_api.retrieve_product(key)
    if product is None:
        stripe_api.create_product({"id": key, "name": name, "metadata": metadata})
    elif product.get("name") != name or not product.get("active"):
        stripe_api.update_product(key, {"name": name, "active": True})
    current = stripe_api.active_price_with_lookup_key(key)
    if current and _same_price(
        current, unit_amount=unit_amount, currency=currency, interval=interval
    ):
        return Synced(name, current["id"], "kept")
    params = {
        "product": key,
        "unit_amount": unit_amount,
        "currency": currency,
        "lookup_key": key,
        "transfer_lookup_key": True,
        "nickname": name,
        "metadata": metadata,
    }
    if interval:
        params["recurring"] = {"interval": interval}
    price = stripe_api.create_price(params)
    if current:
        stripe_api.deactivate_price(current["id"])
        return Synced(name, price["id"], f"replaced {current['id']}")
    return Synced(name, price["id"], "created")


def sync_stripe_catalogue() -> list[Synced]:
    """Create or update in Stripe the products and prices of the active packs (one-time) and
    plans (monthly, GBP), and store each price id on its row. Idempotent: a second run keeps
    everything; a changed price makes a new Stripe price and retires the old one. Inactive rows
    are left as they are. Raises `PaymentsNotConfigured`, `StripeUnavailable` (what was done
    before the failure is kept; running again finishes)."""
    if not stripe_api.is_configured():
        raise PaymentsNotConfigured()
    done = []
    for package in TokensPackage.objects.filter(active=True).order_by("sort_order", "price_usd"):
        currency = package.currency.lower()
        synced = _sync_one(
            key=f"{KEY_PREFIX}_pack_{package.pk}",
            name=f"{package.name} pack ({package.tokens} tokens)",
            unit_amount=_minor_units(package.price_usd, currency),
            currency=currency,
            interval=None,
            metadata={"lumen_pack_id": package.pk, "tokens": str(package.tokens)},
        )
        if package.stripe_price_id != synced.price_id:
            token_catalogue.set_stripe_price_id(package, synced.price_id)
        done.append(synced)
    for plan in SubscriptionPlan.objects.filter(active=True).order_by("sort_order", "price_gbp"):
        synced = _sync_one(
            key=f"{KEY_PREFIX}_plan_{plan.pk}",
            name=f"{plan.name} plan ({plan.tokens_per_month} tokens a month)",
            unit_amount=_minor_units(plan.price_gbp, PLAN_CURRENCY),
            currency=PLAN_CURRENCY,
            interval="month",
            metadata={"lumen_plan_id": plan.pk, "tokens_per_month": str(plan.tokens_per_month)},
        )
        if plan.stripe_price_id != synced.price_id:
            SubscriptionPlan.objects.filter(pk=plan.pk).update(stripe_price_id=synced.price_id)
        done.append(synced)
    return done
