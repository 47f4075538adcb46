"""System checks for an installation that takes payments (`STRIPE_SECRET_KEY` set): without a
webhook endpoint no purchase would ever be granted, and packs or plans still on the seed's
placeholder price ids cannot be bought."""

from __future__ import annotations

import re

from django.conf import settings
from django.core import checks
from django.db import DatabaseError

# A price id Stripe made ("price_1Q..."), not a seed placeholder such as "price_pack_starter".
STRIPE_PRICE_ID = re.compile(r"^price_[A-Za-z0-9]+$")


# Not tagged "database" (Django runs those only with --database): like dj-stripe's own checks,
# it reads a few rows, and stays quiet on a database that is not migrated yet.
@checks.register("billing")
def check_payments_setup(app_configs=None, **kwargs):
    if not settings.STRIPE_SECRET_KEY:
        return []
    from djstripe.models import WebhookEndpoint

    from billing.models import SubscriptionPlan
    from tokens.models import TokensPackage

    messages = []
    try:
        if not WebhookEndpoint.objects.exclude(secret="").exists():
            messages.append(
                checks.Warning(
                    "Payments are configured but no Stripe webhook endpoint has a signing "
                    "secret: paid purchases would never be granted.",
                    hint="Add the endpoint in Stripe and its row here (README, Billing).",
                    id="billing.W001",
                )
            )
        placeholders = [
            row.name
            for model in (TokensPackage, SubscriptionPlan)
            for row in model.objects.filter(active=True).only("name", "stripe_price_id")
            if not STRIPE_PRICE_ID.match(row.stripe_price_id)
        ]
    except DatabaseError:
        return messages  # not migrated yet
    if placeholders:
        messages.append(
            checks.Warning(
                f"Packs or plans on sale without a Stripe price: {', '.join(placeholders)}.",
                hint="Run manage.py stripe_catalogue to create their products and prices.",
                id="billing.W002",
            )
        )
    return messages
