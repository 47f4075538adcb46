"""Loading a product's default rows (packs, plans) without ever touching what staff changed."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import models, transaction
from django.db.models import Q


def create_missing(
    model: type[models.Model],
    specs: Iterable[dict],
    *,
    label: str,
    create: Callable[[dict, int], models.Model],
) -> tuple[list[str], list[str]]:
    """Create the rows of `specs` that are missing; returns (created, already there) as
    readable labels ("<label> <name>").

    A spec counts as present when a row has its `stripe_price_id` or its `name`, and a present
    row is never touched, so what the admin edited survives every run. `create(spec, order)`
    makes one row (`order` counts from 1). One transaction for the lot.
    """
    created, kept = [], []
    with transaction.atomic():
        for order, spec in enumerate(specs, start=1):
            text = f"{label} {spec['name']}"
            present = model.objects.filter(
                Q(stripe_price_id=spec["stripe_price_id"]) | Q(name=spec["name"])
            ).exists()
            if present:
                kept.append(text)
            else:
                create(spec, order)
                created.append(text)
    return created, kept
