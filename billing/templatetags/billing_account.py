"""`{% plan_and_balance %}` on the account page: the user's plan and token balance, with the
ways to billing and to the tokens page. The accounts app renders it without importing billing
or tokens."""

from __future__ import annotations

from django import template

from billing import selectors
from billing.models import SubscriptionStatus

register = template.Library()


@register.inclusion_tag("billing/_account_plan.html", takes_context=True)
def plan_and_balance(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    subscription = selectors.subscription_of(user)
    if subscription is not None and subscription.status == SubscriptionStatus.CANCELED:
        subscription = None  # an ended plan is history: the billing page shows it
    return {
        "show": True,
        "subscription": subscription,
        # the context processor's figure (regeneration included), as in the header's badge
        "balance": context.get("token_balance"),
    }
