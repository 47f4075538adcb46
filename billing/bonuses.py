"""Extra tokens on a pack purchase, offered by apps above billing (the percentage-bonus vouchers)
without billing importing them: the hook by which they add to what a payment grants.

An app registers a provider in its `AppConfig.ready()`:

    from billing import bonuses

    def voucher_bonus(purchase: bonuses.Purchase) -> bonuses.Bonus | None:
        ...  # e.g. find the redemption named in purchase.metadata and mark it used
        return bonuses.Bonus(tokens=purchase.tokens * 20 // 100, reason="Voucher SPRING20")

    bonuses.register("vouchers", voucher_bonus)

The contract:
- A provider is called once per paid pack purchase, by `billing.payments` while it fulfils the
  Checkout Session: inside that transaction, with the payment row locked, before the grant. A
  purchase already fulfilled is never offered again, so a provider is not called twice for one
  payment, however often Stripe delivers the webhook.
- It returns a `Bonus` (tokens > 0) or None. The payment grants the pack's tokens plus every
  bonus as one EARN_PURCHASE transaction, and `StripePayment.tokens_granted` includes them, so a
  refund takes back bonus tokens in proportion too; each bonus is listed in the payment's
  `metadata["bonuses"]`.
- It may write its own rows in that transaction (a redemption marked used). If it raises, the
  whole fulfilment rolls back and Stripe delivers the webhook again later.
- `Purchase.metadata` is the Checkout Session's metadata: whatever the app asked
  `billing.payments.start_pack_checkout(..., metadata=...)` to carry (a voucher code chosen on
  the pricing page), next to billing's own keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Purchase:
    user_id: str
    package_id: str
    tokens: int  # the pack's tokens, before any bonus
    payment_id: str  # the StripePayment being fulfilled
    checkout_session_id: str
    metadata: dict


@dataclass(frozen=True)
class Bonus:
    tokens: int
    reason: str  # shown to staff in the payment's metadata


Provider = Callable[[Purchase], "Bonus | None"]

_providers: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Add a bonus provider under `name` (registering the same name again replaces it)."""
    _providers[name] = provider


def unregister(name: str) -> None:
    _providers.pop(name, None)


def bonuses_for(purchase: Purchase) -> list[tuple[str, Bonus]]:
    """Every registered provider's bonus for this purchase, in registration order."""
    found = []
    for name, provider in list(_providers.items()):
        bonus = provider(purchase)
        if bonus is None:
            continue
        if isinstance(bonus.tokens, bool) or not isinstance(bonus.tokens, int) or bonus.tokens <= 0:
            raise ValueError(f"bonus provider {name!r} returned {bonus.tokens!r} tokens")
        found.append((name, bonus))
    return found
