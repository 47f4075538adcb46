"""What an account's deletion asks of billing (registered in `BillingConfig.ready()` with
`accounts.deletion`): the subscription ends at Stripe before anything is deleted; payments and
the subscription's record stay, attached to the anonymised user, for the accounts.
"""

from __future__ import annotations

import logging

from accounts.deletion import DeletionBlocked, Summary
from billing import stripe_api
from billing.errors import StripeUnavailable
from billing.models import StripePayment, Subscription, SubscriptionStatus
from billing.subscriptions import sync_subscription
from core.logging import log_event

logger = logging.getLogger(__name__)

# Stripe's states of a subscription that could still bill or give benefits.
_STRIPE_ENDED = ("canceled", "incomplete_expired")

NOT_CANCELLED_MESSAGE = (
    "We could not cancel your subscription at Stripe just now, so nothing has been deleted. "
    "Please try again in a few minutes."
)
NOT_CONFIGURED_MESSAGE = (
    "Your subscription cannot be cancelled on this installation (payments are not "
    "configured), so nothing has been deleted. Please contact us."
)


def _live_row(user) -> Subscription | None:
    return (
        Subscription.objects.filter(user=user).exclude(status=SubscriptionStatus.CANCELED).first()
    )


def cancel_subscriptions(user) -> None:
    """End at once, at Stripe, every subscription of the user that could still bill: those
    Stripe lists for the user's customer, and the one our row follows. Each cancelled
    subscription's row is brought up to date (CANCELED). Raises `DeletionBlocked` when Stripe
    cannot be reached or refuses (nothing of ours deleted yet; what was already cancelled
    stays cancelled)."""
    row = _live_row(user)
    if not user.stripe_customer_id and row is None:
        return
    if not stripe_api.is_configured():
        if row is None:
            return  # a customer from an earlier configuration: nothing here can bill it
        raise DeletionBlocked(NOT_CONFIGURED_MESSAGE)
    try:
        found = (
            stripe_api.subscriptions_of(user.stripe_customer_id) if user.stripe_customer_id else []
        )
        by_id = {s["id"]: s for s in found}
        if row is not None and row.stripe_subscription_id not in by_id:
            ours = stripe_api.retrieve_subscription(row.stripe_subscription_id)
            by_id[ours["id"]] = ours
        live = [i for i, s in by_id.items() if s.get("status") not in _STRIPE_ENDED]
        if row is not None and row.stripe_subscription_id not in live:
            # ended at Stripe already, and a webhook went missing: the row says so now
            sync_subscription(by_id[row.stripe_subscription_id], grants=False)
        for subscription_id in live:
            cancelled = stripe_api.cancel_subscription(subscription_id)
            log_event(
                logger,
                "subscription.cancelled",
                subscription_id=subscription_id,
                user_id=user.pk,
                cause="account_deleted",
                now=True,
            )
            sync_subscription(cancelled, grants=False)
    except StripeUnavailable as error:
        log_event(
            logger,
            "account.deletion_blocked",
            level=logging.WARNING,
            user_id=user.pk,
            cause="stripe",
            now=True,
        )
        raise DeletionBlocked(NOT_CANCELLED_MESSAGE) from error


def summary(user) -> Summary:
    kept = []
    payments = StripePayment.objects.filter(user=user)
    count = payments.count()
    if count:
        kept.append(
            f"{count} payment record{'s' if count > 1 else ''} of token packs, kept for our "
            "accounts without your name or e-mail address"
        )
    row = Subscription.objects.filter(user=user).select_related("plan").first()
    deleted = []
    if row is not None and row.status != SubscriptionStatus.CANCELED:
        name = row.plan.name if row.plan else "current"
        deleted.append(
            f"Your {name} plan: cancelled at Stripe at once, with no further charges and no "
            "refund of the current period"
        )
    if row is not None:
        kept.append("The record of your subscription and its invoices at Stripe")
    return Summary(deleted=deleted, kept=kept)
