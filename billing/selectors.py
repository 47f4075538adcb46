"""Read-only questions other apps ask billing (DESIGN: enhancement asks whether a plan gives
priority; the API will ask about API access). Callers never import billing's models."""

from __future__ import annotations

from collections.abc import Iterable

from billing.models import Subscription, SubscriptionPlan, SubscriptionStatus

# A subscription in these states gives its plan's benefits.
LIVE_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)


def priority_user_ids(user_ids: Iterable[str]) -> set[str]:
    """The users among `user_ids` whose active (or trialing) subscription's plan has priority.
    One query, whatever the number of users."""
    user_ids = list(set(user_ids))
    if not user_ids:
        return set()
    priority_prices = SubscriptionPlan.objects.filter(priority=True).values("stripe_price_id")
    return set(
        Subscription.objects.filter(
            user_id__in=user_ids,
            status__in=LIVE_STATUSES,
            stripe_price_id__in=priority_prices,
        ).values_list("user_id", flat=True)
    )


def has_priority(user_id: str) -> bool:
    """Whether this user's live plan sends their jobs to the priority queue."""
    return user_id in priority_user_ids([user_id])
