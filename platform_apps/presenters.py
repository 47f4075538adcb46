"""How platform apps read on a page: prices in words, badges for states."""

from __future__ import annotations

from django.conf import settings

from accounts.templatetags.money import money
from platform_apps.models import (
    AppStatus,
    MonetizationModel,
    MonetizationType,
    RequirementPriority,
    RequirementStatus,
    SubscriptionInterval,
)

_PER_INTERVAL = {SubscriptionInterval.MONTHLY: "a month", SubscriptionInterval.YEARLY: "a year"}

# The site's badge classes (static/css/app.css) for each state.
STATUS_BADGES = {
    AppStatus.DRAFT: "badge-muted",
    AppStatus.ACTIVE: "badge-success",
    AppStatus.ARCHIVED: "badge-warning",
    AppStatus.DELETED: "badge-danger",
}
PRIORITY_BADGES = {
    RequirementPriority.CRITICAL: "badge-danger",
    RequirementPriority.HIGH: "badge-warning",
    RequirementPriority.MEDIUM: "",
    RequirementPriority.LOW: "badge-muted",
}
REQUIREMENT_STATUS_BADGES = {
    RequirementStatus.PENDING: "badge-muted",
    RequirementStatus.IN_PROGRESS: "",
    RequirementStatus.COMPLETED: "badge-success",
    RequirementStatus.REJECTED: "badge-danger",
}


def price_text(model: MonetizationModel, currency: str | None = None) -> str:
    """ "Free", "£4.99 once", "£4.99 a month", "Free, paid tier £4.99", "£0.10 per use"."""
    currency = currency or settings.SHOP_CURRENCY
    amount = money(model.price, currency) if model.price is not None else ""
    match model.type:
        case MonetizationType.FREE:
            return "Free"
        case MonetizationType.ONE_TIME:
            return f"{amount} once"
        case MonetizationType.SUBSCRIPTION:
            return f"{amount} {_PER_INTERVAL.get(model.subscription_interval, '')}".strip()
        case MonetizationType.FREEMIUM:
            return f"Free, paid tier {amount}"
        case MonetizationType.USAGE_BASED:
            return f"{amount} per use"
    return amount


# What each move of the life cycle is called on a button, and what it says afterwards.
TRANSITION_ACTIONS = {
    (AppStatus.DRAFT, AppStatus.ACTIVE): ("Publish", "is active: everyone can find it now."),
    (AppStatus.ACTIVE, AppStatus.DRAFT): ("Back to draft", "is a draft again: only you see it."),
    (AppStatus.ACTIVE, AppStatus.ARCHIVED): ("Archive", "is archived: only you see it."),
    (AppStatus.ARCHIVED, AppStatus.ACTIVE): ("Reactivate", "is active again."),
    (AppStatus.ARCHIVED, AppStatus.DRAFT): ("Back to draft", "is a draft again."),
}


def transitions_for(status: str, allowed: dict) -> list[tuple[str, str]]:
    """(target status, button label) of the moves an app in `status` can make."""
    return [
        (to, TRANSITION_ACTIONS[(status, to)][0])
        for to in sorted(allowed.get(status, ()), key=list(AppStatus.values).index)
        if (status, to) in TRANSITION_ACTIONS
    ]


def transition_done(old: str, new: str) -> str:
    return TRANSITION_ACTIONS.get((old, new), ("", f"is {AppStatus(new).label.lower()}."))[1]
