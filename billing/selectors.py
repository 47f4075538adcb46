"""Read-only questions other apps ask billing (DESIGN: enhancement asks whether a plan gives
priority; the API will ask about API access), and the queries of billing's own pages. Callers
never import billing's models."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from billing.models import StripePayment, Subscription, SubscriptionPlan, SubscriptionStatus
from tokens.models import TokensPackage

# A subscription in these states gives its plan's benefits (priority, API access).
LIVE_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)


def _live_with(user_ids: Iterable[str], flag: str) -> set[str]:
    """The users among `user_ids` whose ACTIVE or TRIALING subscription's plan has `flag`: the
    row's plan, or for a row without one (written by hand) the plan of its price."""
    user_ids = list(set(user_ids))
    if not user_ids:
        return set()
    flagged_prices = SubscriptionPlan.objects.filter(**{flag: True}).values("stripe_price_id")
    return set(
        Subscription.objects.filter(
            Q(**{f"plan__{flag}": True}) | Q(plan__isnull=True, stripe_price_id__in=flagged_prices),
            user_id__in=user_ids,
            status__in=LIVE_STATUSES,
        ).values_list("user_id", flat=True)
    )


def priority_user_ids(user_ids: Iterable[str]) -> set[str]:
    """The users among `user_ids` whose ACTIVE or TRIALING subscription's plan has priority
    (past due, unpaid or cancelled: no priority). One query, whatever the number of users."""
    return _live_with(user_ids, "priority")


def has_priority(user_id: str) -> bool:
    """Whether this user's live plan sends their jobs to the priority queue."""
    return user_id in priority_user_ids([user_id])


def has_api_access(user_id: str) -> bool:
    """Whether this user's ACTIVE or TRIALING plan includes the API."""
    return user_id in _live_with([user_id], "api_access")


# --- billing's pages --------------------------------------------------------------------------
def packs_on_sale():
    return TokensPackage.objects.filter(active=True).order_by("sort_order", "price_usd")


def plans_on_sale():
    return SubscriptionPlan.objects.filter(active=True).order_by("sort_order", "price_gbp")


def subscription_of(user) -> Subscription | None:
    return Subscription.objects.filter(user=user).select_related("plan").first()


def payments_of(user):
    """The user's pack payments (one per completed Checkout), newest first, with their pack."""
    return StripePayment.objects.filter(user=user).select_related("package").order_by("-created_at")


@dataclass(frozen=True)
class CheckoutState:
    """Where a user's return from Checkout stands, for the success page."""

    kind: str  # "pack" or "plan"
    state: str  # "waiting", "processing", "done", "failed"
    payment: StripePayment | None = None
    subscription: Subscription | None = None

    @property
    def final(self) -> bool:
        return self.state in ("done", "failed")


def checkout_state(user, *, session_id: str, kind: str) -> CheckoutState:
    if kind == "plan":
        subscription = subscription_of(user)
        granted = subscription is not None and (
            subscription.tokens_period_start is not None
            or subscription.status == SubscriptionStatus.TRIALING
        )
        live = subscription is not None and subscription.status in LIVE_STATUSES
        return CheckoutState(
            kind, "done" if live and granted else "waiting", subscription=subscription
        )
    payment = (
        StripePayment.objects.filter(user=user, stripe_checkout_session_id=session_id)
        .select_related("package")
        .first()
    )
    if payment is None:
        return CheckoutState(kind, "waiting")
    state = {
        "SUCCEEDED": "done",
        "REFUNDED": "done",
        "FAILED": "failed",
    }.get(payment.status, "processing")
    return CheckoutState(kind, state, payment=payment)
