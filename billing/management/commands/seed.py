"""`manage.py seed`: the token packs and subscription plans a fresh install sells (SCHEMA.md).

Idempotent and respectful of the back office: a default is created only when no row has its
Stripe price id or its name. A row that exists is never touched, so a second run changes
nothing, and prices, names or Stripe ids edited in the admin survive every later run.
"""

from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q

from billing.models import SubscriptionPlan
from tokens.models import TokensPackage

# Prices in GBP. `stripe_price_id` is a stable placeholder until the shop's real Stripe prices
# are entered in the admin.
PACKAGES = [
    {"name": "Starter", "tokens": 10, "price": "2.99", "stripe_price_id": "price_pack_starter"},
    {"name": "Basic", "tokens": 50, "price": "9.99", "stripe_price_id": "price_pack_basic"},
    {"name": "Pro", "tokens": 150, "price": "24.99", "stripe_price_id": "price_pack_pro"},
    {"name": "Power", "tokens": 500, "price": "69.99", "stripe_price_id": "price_pack_power"},
]

# max_rollover 0 = unlimited. Paid tiers above Hobby get the priority queue; Studio also gets
# the API.
PLANS = [
    {
        "name": "Hobby",
        "tokens_per_month": 30,
        "price_gbp": "4.99",
        "max_rollover": 30,
        "priority": False,
        "api_access": False,
        "stripe_price_id": "price_plan_hobby",
    },
    {
        "name": "Creator",
        "tokens_per_month": 100,
        "price_gbp": "12.99",
        "max_rollover": 100,
        "priority": True,
        "api_access": False,
        "stripe_price_id": "price_plan_creator",
    },
    {
        "name": "Studio",
        "tokens_per_month": 300,
        "price_gbp": "29.99",
        "max_rollover": 0,
        "priority": True,
        "api_access": True,
        "stripe_price_id": "price_plan_studio",
    },
]


def _present(model, *, name: str, stripe_price_id: str) -> bool:
    return model.objects.filter(Q(stripe_price_id=stripe_price_id) | Q(name=name)).exists()


def seed_defaults() -> tuple[list[str], list[str]]:
    """Create the missing defaults; returns (created, already there) as readable labels."""
    created, kept = [], []
    with transaction.atomic():
        for order, spec in enumerate(PACKAGES, start=1):
            label = f"package {spec['name']}"
            if _present(TokensPackage, name=spec["name"], stripe_price_id=spec["stripe_price_id"]):
                kept.append(label)
                continue
            TokensPackage.objects.create(
                name=spec["name"],
                tokens=spec["tokens"],
                price_usd=Decimal(spec["price"]),
                currency="gbp",
                stripe_price_id=spec["stripe_price_id"],
                sort_order=order,
            )
            created.append(label)
        for order, spec in enumerate(PLANS, start=1):
            label = f"plan {spec['name']}"
            if _present(
                SubscriptionPlan, name=spec["name"], stripe_price_id=spec["stripe_price_id"]
            ):
                kept.append(label)
                continue
            SubscriptionPlan.objects.create(
                **{**spec, "price_gbp": Decimal(spec["price_gbp"])}, sort_order=order
            )
            created.append(label)
    return created, kept


class Command(BaseCommand):
    help = "Load the default token packages and subscription plans (safe to run again)."

    def handle(self, *args, **options):
        created, kept = seed_defaults()
        for label in created:
            self.stdout.write(f"created {label}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seed: {len(created)} created, {len(kept)} already present (left unchanged)."
            )
        )
