"""billing's part of a data export (`accounts.exports.sections`): payments.json (every pack
bought, refunds included) and subscription.json (the plan, its state and period). Registered
in `BillingConfig.ready()`."""

from __future__ import annotations

from accounts.exports import sections
from billing.models import StripePayment, Subscription

DESCRIBES = """\
payments.json             every token pack you bought, with refunds and receipts
subscription.json         your plan, its state and current period (null: none)"""


def payment_rows(user):
    for payment in (
        StripePayment.objects.filter(user=user)
        .select_related("package")
        .order_by("created_at", "pk")
        .iterator(200)
    ):
        yield {
            "id": payment.pk,
            "at": payment.created_at,
            "pack": payment.package.name,
            "tokens_granted": payment.tokens_granted,
            "amount": payment.amount_usd,
            "currency": payment.currency.upper(),
            "status": payment.status,
            "amount_refunded": payment.amount_refunded,
            "tokens_taken_back": payment.tokens_clawed_back,
            "receipt_url": payment.receipt_url or None,
            "stripe_payment_intent_id": payment.stripe_payment_intent_id,
        }


def subscription_data(user) -> dict | None:
    subscription = Subscription.objects.filter(user=user).select_related("plan").first()
    if subscription is None:
        return None
    return {
        "plan": subscription.plan.name if subscription.plan else None,
        "status": subscription.status,
        "started_at": subscription.created_at,
        "current_period_start": subscription.current_period_start,
        "current_period_end": subscription.current_period_end,
        "cancel_at_period_end": subscription.cancel_at_period_end,
        "trial_end": subscription.trial_end,
        "tokens_per_month": subscription.tokens_per_month,
        "rollover_tokens": subscription.rollover_tokens,
        "max_rollover": subscription.max_rollover,
        "stripe_subscription_id": subscription.stripe_subscription_id,
    }


def write_billing(user, archive) -> None:
    archive.write_json_list("payments.json", payment_rows(user))
    archive.write_json("subscription.json", subscription_data(user))


def register() -> None:
    sections.register("billing", write_billing, order=60, describes=DESCRIBES)
