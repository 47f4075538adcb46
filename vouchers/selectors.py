"""Read-only queries of vouchers for pages (the tokens and pricing pages, the redeem page)."""

from __future__ import annotations

from dataclasses import dataclass

from billing import selectors as billing_selectors
from vouchers.models import VoucherRedemption, VoucherType


@dataclass(frozen=True)
class Waiting:
    bonus_percent: int | None  # a PERCENTAGE_BONUS waiting for the next pack purchase
    trial_days: int | None  # a SUBSCRIPTION_TRIAL waiting for the next subscription checkout

    def __bool__(self) -> bool:
        return bool(self.bonus_percent or self.trial_days)


def waiting_for(user) -> Waiting:
    """What the user's redeemed vouchers hold for a later purchase (the oldest of each kind,
    the one the next purchase uses). Two queries at most."""
    if not getattr(user, "is_authenticated", False):
        return Waiting(None, None)
    held = list(
        VoucherRedemption.objects.filter(
            user=user,
            applied_at__isnull=True,
            voucher__type__in=(VoucherType.PERCENTAGE_BONUS, VoucherType.SUBSCRIPTION_TRIAL),
        )
        .select_related("voucher")
        .order_by("redeemed_at", "pk")
    )
    bonus = next((r for r in held if r.voucher.type == VoucherType.PERCENTAGE_BONUS), None)
    trials = [r for r in held if r.voucher.type == VoucherType.SUBSCRIPTION_TRIAL]
    if trials:
        subscription = billing_selectors.subscription_of(user)
        trials = [
            r
            for r in trials
            # a trial a subscription already had (vouchers.services._trial_used)
            if not (
                subscription is not None
                and subscription.trial_end is not None
                and subscription.trial_end > r.redeemed_at
            )
        ]
    return Waiting(
        bonus_percent=bonus.voucher.value if bonus else None,
        trial_days=trials[0].voucher.value if trials else None,
    )


def redemptions_of(user):
    """The user's redemptions, newest first, with their voucher."""
    return VoucherRedemption.objects.filter(user=user).select_related("voucher")
