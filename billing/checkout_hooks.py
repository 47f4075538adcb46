"""What apps above billing add to a Checkout Session (a voucher's free trial, a note about a
bonus waiting) without billing importing them: the hook for checkout parameters.

An app registers a provider in its `AppConfig.ready()`:

    from billing import checkout_hooks

    def voucher_trial(checkout: checkout_hooks.Checkout) -> checkout_hooks.Extras | None:
        if checkout.mode != checkout_hooks.SUBSCRIPTION:
            return None
        return checkout_hooks.Extras(trial_period_days=14, metadata={"voucher_trial": "..."})

    checkout_hooks.register("vouchers", voucher_trial)

The contract:
- A provider is called by `billing.payments.start_pack_checkout` (mode "payment") and
  `billing.subscriptions.start_plan_checkout` (mode "subscription"), before the Checkout
  Session is created, outside any transaction of billing's. It only reads: nothing is used
  until the purchase happens (a checkout may be abandoned), so it must not mark anything spent.
- It returns `Extras` or None. `trial_period_days` (subscription mode only; the longest
  offered wins) becomes `subscription_data.trial_period_days`; `metadata` is added to the
  session's metadata (and the subscription's) under billing's own keys, which win; `message`
  is shown on Stripe's page above the pay button (`custom_text.submit`), the messages of all
  providers joined.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

PAYMENT = "payment"
SUBSCRIPTION = "subscription"
MESSAGE_MAX_LENGTH = 1200  # Stripe's limit for custom_text messages


@dataclass(frozen=True)
class Checkout:
    user_id: str
    mode: str  # PAYMENT (a pack) or SUBSCRIPTION (a plan)
    item_id: str  # the pack's or the plan's id


@dataclass(frozen=True)
class Extras:
    trial_period_days: int | None = None
    metadata: dict = field(default_factory=dict)
    message: str = ""


Provider = Callable[[Checkout], "Extras | None"]

_providers: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Add a checkout provider under `name` (registering the same name again replaces it)."""
    _providers[name] = provider


def unregister(name: str) -> None:
    _providers.pop(name, None)


def extras_for(checkout: Checkout) -> Extras:
    """Every registered provider's extras for this checkout, merged into one."""
    trial = None
    metadata: dict = {}
    messages = []
    for name, provider in list(_providers.items()):
        extras = provider(checkout)
        if extras is None:
            continue
        days = extras.trial_period_days
        if days is not None:
            if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
                raise ValueError(f"checkout provider {name!r} offered a trial of {days!r} days")
            if checkout.mode == SUBSCRIPTION:
                trial = max(trial or 0, days)
        metadata.update({str(k): str(v) for k, v in (extras.metadata or {}).items()})
        if extras.message:
            messages.append(extras.message)
    return Extras(
        trial_period_days=trial,
        metadata=metadata,
        message=" ".join(messages)[:MESSAGE_MAX_LENGTH],
    )


def apply(params: dict, checkout: Checkout) -> dict:
    """`params` of a Checkout Session create call with every provider's extras added
    (billing's own metadata keys are kept as they are)."""
    extras = extras_for(checkout)
    if extras.metadata:
        params["metadata"] = {**extras.metadata, **params.get("metadata", {})}
        if checkout.mode == SUBSCRIPTION:
            data = params.setdefault("subscription_data", {})
            data["metadata"] = {**extras.metadata, **data.get("metadata", {})}
    if extras.trial_period_days:
        params.setdefault("subscription_data", {})["trial_period_days"] = extras.trial_period_days
    if extras.message:
        params["custom_text"] = {"submit": {"message": extras.message}}
    return params
