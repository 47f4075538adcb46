"""The verbs of vouchers: redeeming a code, the held bonus and trial meeting their purchase,
batch generation, deactivation and the expiry sweep.

Every use of a voucher locks the voucher row (`select_for_update`), re-checks its state and
counts the use with `F()`, so `current_uses` equals the number of redemptions and never passes
`max_uses`, however many people redeem at once; the unique (voucher, user) constraint refuses a
second redemption by the same user. Tokens move only through `tokens.services`, keyed by the
redemption, so nothing is granted twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from billing import bonuses, checkout_hooks
from billing import selectors as billing_selectors
from core.logging import log_event
from tokens import services as tokens
from tokens.models import TokenTransactionType
from vouchers.models import (
    CODE_MAX_LENGTH,
    Voucher,
    VoucherRedemption,
    VoucherStatus,
    VoucherType,
    normalise_code,
)

logger = logging.getLogger(__name__)

LEDGER_SOURCE = "voucher"
# Generated codes: no 0/O, 1/I/L to misread.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_PATTERN = re.compile(rf"[A-Z0-9]{{1,{CODE_MAX_LENGTH}}}")
BATCH_MAX = 10_000


# --- errors -----------------------------------------------------------------------------------
class VoucherError(Exception):
    """A refusal, with the message a user sees."""

    message = "This voucher cannot be redeemed."

    def __init__(self, message: str | None = None):
        super().__init__(message or self.message)
        if message:
            self.message = message


class VoucherNotFound(VoucherError):
    # the same words for a code that does not exist and one that could not exist
    message = "That code is not valid. Check it and try again."


class VoucherAlreadyRedeemed(VoucherError):
    message = "You have already redeemed this voucher."


class VoucherExpired(VoucherError):
    message = "This voucher has expired."


class VoucherExhausted(VoucherError):
    message = "This voucher has been fully redeemed: no uses are left."


class VoucherInactive(VoucherError):
    message = "This voucher is no longer active."


# --- codes ------------------------------------------------------------------------------------
def parse_code(raw: str) -> str | None:
    """The normalised code, or None if `raw` could never be one (wrong characters or length):
    checked before any query, so junk (a NUL byte) never reaches the database."""
    if not isinstance(raw, str) or len(raw) > CODE_MAX_LENGTH * 3:
        return None
    code = normalise_code(raw)
    return code if CODE_PATTERN.fullmatch(code) else None


def random_code(*, prefix: str = "", length: int = 8) -> str:
    """`prefix` and `length` characters of the unambiguous alphabet, from `secrets`."""
    return normalise_code(prefix) + "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def display_code(code: str) -> str:
    """A long code in groups of four, easier to read out (dashes are ignored when redeemed)."""
    if len(code) <= 8:
        return code
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


# --- redeeming --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    redemption: VoucherRedemption
    voucher: Voucher
    balance: int  # the user's balance after the redemption

    @property
    def message(self) -> str:
        v = self.voucher
        if v.type == VoucherType.FIXED_TOKENS:
            return (
                f"Voucher redeemed: {v.value} token{'s' if v.value != 1 else ''} added. "
                f"Your balance is now {self.balance}."
            )
        if v.type == VoucherType.PERCENTAGE_BONUS:
            return (
                f"Voucher redeemed: {v.value}% extra tokens are waiting for your next token "
                "pack purchase."
            )
        return (
            f"Voucher redeemed: a free trial of {v.value} day{'s' if v.value != 1 else ''} is "
            "waiting for your next subscription."
        )


def _refusal(voucher: Voucher, now: dt.datetime) -> VoucherError | None:
    """Why this locked voucher cannot be used now, if it cannot (its status follows the facts:
    an expired or used-up voucher still marked ACTIVE is marked so)."""
    if voucher.status == VoucherStatus.INACTIVE:
        return VoucherInactive()
    if voucher.status == VoucherStatus.EXPIRED:
        return VoucherExpired()
    if voucher.status == VoucherStatus.DEPLETED:
        return VoucherExhausted()
    if voucher.expires_at is not None and voucher.expires_at <= now:
        Voucher.objects.filter(pk=voucher.pk).update(status=VoucherStatus.EXPIRED, updated_at=now)
        return VoucherExpired()
    if voucher.max_uses is not None and voucher.current_uses >= voucher.max_uses:
        Voucher.objects.filter(pk=voucher.pk).update(status=VoucherStatus.DEPLETED, updated_at=now)
        return VoucherExhausted()
    return None


def redeem(*, user, code: str, now: dt.datetime | None = None) -> Outcome:
    """Redeem `code` for `user`, once.

    Locks the voucher row, re-checks it (ACTIVE, unexpired, a use left) and that the user has
    not redeemed it, then in one transaction: the redemption, the use counted with `F()` (the
    voucher becomes DEPLETED with its last use) and, for FIXED_TOKENS, an EARN_BONUS grant of
    `value` tokens keyed by the redemption. A PERCENTAGE_BONUS or SUBSCRIPTION_TRIAL waits for
    the next purchase (`bonus_for_purchase`, `trial_for_checkout`).

    Raises `VoucherNotFound` (also for a code that could not exist), `VoucherAlreadyRedeemed`,
    `VoucherExpired`, `VoucherExhausted`, `VoucherInactive`; nothing changes then (an expired
    or used-up voucher found ACTIVE is marked EXPIRED or DEPLETED)."""
    normal = parse_code(code)
    if normal is None:
        raise VoucherNotFound()
    now = now or timezone.now()
    refusal = None
    with transaction.atomic():
        voucher = Voucher.objects.select_for_update().filter(code=normal).first()
        if voucher is None:
            raise VoucherNotFound()
        if VoucherRedemption.objects.filter(voucher=voucher, user=user).exists():
            raise VoucherAlreadyRedeemed()
        refusal = _refusal(voucher, now)
        if refusal is None:
            try:
                with transaction.atomic():
                    redemption = VoucherRedemption.objects.create(
                        voucher=voucher,
                        user=user,
                        tokens_granted=(
                            voucher.value if voucher.type == VoucherType.FIXED_TOKENS else 0
                        ),
                        redeemed_at=now,
                    )
            except IntegrityError:
                # the same user's concurrent redemption committed first (the unique constraint)
                raise VoucherAlreadyRedeemed() from None
            uses = voucher.current_uses + 1
            depleted = voucher.max_uses is not None and uses >= voucher.max_uses
            Voucher.objects.filter(pk=voucher.pk).update(
                current_uses=F("current_uses") + 1,
                status=VoucherStatus.DEPLETED if depleted else voucher.status,
                updated_at=now,
            )
            voucher.refresh_from_db()
            if voucher.type == VoucherType.FIXED_TOKENS:
                entry = tokens.grant(
                    user=user,
                    amount=voucher.value,
                    type=TokenTransactionType.EARN_BONUS,
                    source=LEDGER_SOURCE,
                    source_id=redemption.pk,
                    metadata={"voucher": voucher.code},
                    idempotency_key=f"voucher:redemption:{redemption.pk}",
                )
                balance = entry.balance_after
            else:
                balance = tokens.get_balance(user)
            # Ids and the kind only: a code is a bearer secret.
            log_event(
                logger,
                "voucher.redeemed",
                redemption_id=redemption.pk,
                voucher_id=voucher.pk,
                user_id=user.pk,
                kind=voucher.type,
                tokens_granted=redemption.tokens_granted,
            )
            return Outcome(redemption=redemption, voucher=voucher, balance=balance)
    # outside the atomic block, so the status correction above is kept
    raise refusal


# --- the held bonus and trial -----------------------------------------------------------------
def _waiting(user_id: str, voucher_type: str):
    return VoucherRedemption.objects.filter(
        user_id=user_id, applied_at__isnull=True, voucher__type=voucher_type
    ).order_by("redeemed_at", "pk")


def bonus_for_purchase(purchase: bonuses.Purchase) -> None:
    """The `billing.bonuses` provider: a paid pack purchase uses the user's oldest waiting
    PERCENTAGE_BONUS, granting `value`% of the pack's tokens (rounded down) in an EARN_BONUS
    transaction of its own (source "voucher", keyed by the redemption).

    Called inside billing's fulfilment transaction: the redemption row is locked and marked
    applied (to this Checkout Session) in that transaction, so two purchases fulfilled at the
    same moment cannot both use it (the second waits for the lock and then finds it applied),
    and a fulfilment that rolls back leaves it waiting. Returns None: the bonus is its own
    ledger row, not part of the purchase's."""
    redemption = (
        _waiting(purchase.user_id, VoucherType.PERCENTAGE_BONUS)
        .select_for_update(of=("self",))
        .select_related("voucher")
        .first()
    )
    if redemption is None or redemption.applied_at is not None:
        return None
    extra = purchase.tokens * redemption.voucher.value // 100
    if extra <= 0:
        return None  # too small a pack to give anything: the bonus keeps waiting
    redemption.applied_at = timezone.now()
    redemption.applied_to = purchase.checkout_session_id
    redemption.tokens_granted = extra
    redemption.save(update_fields=["applied_at", "applied_to", "tokens_granted"])
    tokens.grant(
        user=purchase.user_id,
        amount=extra,
        type=TokenTransactionType.EARN_BONUS,
        source=LEDGER_SOURCE,
        source_id=redemption.pk,
        metadata={
            "voucher": redemption.voucher.code,
            "percent": redemption.voucher.value,
            "checkout_session": purchase.checkout_session_id,
        },
        idempotency_key=f"voucher:bonus:{redemption.pk}",
    )
    log_event(
        logger,
        "voucher.bonus_applied",
        redemption_id=redemption.pk,
        voucher_id=redemption.voucher_id,
        user_id=purchase.user_id,
        kind=VoucherType.PERCENTAGE_BONUS,
        payment_id=purchase.payment_id,
        tokens_granted=extra,
    )
    return None


def _trial_used(redemption: VoucherRedemption, subscription) -> bool:
    """A trial redemption is used once a subscription of the user has had a trial that ended
    after the redemption (the trial it gave)."""
    return (
        subscription is not None
        and subscription.trial_end is not None
        and subscription.trial_end > redemption.redeemed_at
    )


def settle_trials(*, user_id: str) -> None:
    """Mark applied the user's waiting trial redemption that a subscription has used."""
    subscription = billing_selectors.subscription_of(user_id)
    with transaction.atomic():
        for redemption in _waiting(user_id, VoucherType.SUBSCRIPTION_TRIAL).select_for_update(
            of=("self",)
        ):
            if _trial_used(redemption, subscription):
                redemption.applied_at = timezone.now()
                redemption.applied_to = subscription.stripe_subscription_id or ""
                redemption.save(update_fields=["applied_at", "applied_to"])
                log_event(
                    logger,
                    "voucher.trial_applied",
                    redemption_id=redemption.pk,
                    voucher_id=redemption.voucher_id,
                    user_id=user_id,
                    kind=VoucherType.SUBSCRIPTION_TRIAL,
                    stripe_subscription_id=redemption.applied_to,
                )
                break


def extras_for_checkout(checkout: checkout_hooks.Checkout) -> checkout_hooks.Extras | None:
    """The `billing.checkout_hooks` provider: a waiting trial becomes Stripe's trial period on
    a subscription checkout; a waiting bonus is named on a pack checkout's page. Only reads (a
    checkout may be abandoned): a trial is marked used once a subscription had it."""
    if checkout.mode == checkout_hooks.SUBSCRIPTION:
        settle_trials(user_id=checkout.user_id)
        redemption = (
            _waiting(checkout.user_id, VoucherType.SUBSCRIPTION_TRIAL)
            .select_related("voucher")
            .first()
        )
        if redemption is None:
            return None
        days = redemption.voucher.value
        return checkout_hooks.Extras(
            trial_period_days=days,
            metadata={"voucher_trial": redemption.pk},
            message=f"Your voucher gives you a free trial of {days} days.",
        )
    redemption = (
        _waiting(checkout.user_id, VoucherType.PERCENTAGE_BONUS).select_related("voucher").first()
    )
    if redemption is None:
        return None
    return checkout_hooks.Extras(
        metadata={"voucher_bonus": redemption.pk},
        message=f"Your voucher adds {redemption.voucher.value}% extra tokens to this pack.",
    )


# --- staff ------------------------------------------------------------------------------------
def generate_batch(
    *,
    count: int,
    prefix: str,
    type: str,
    value: int,
    max_uses: int | None,
    expires_at: dt.datetime | None,
    length: int = 8,
    created_by=None,
) -> list[Voucher]:
    """`count` new vouchers with random codes (`prefix` + `length` characters of the
    unambiguous alphabet, from `secrets`), created in one transaction; a code that happens to
    exist already is drawn again. Records who made them in each voucher's metadata."""
    if not 1 <= count <= BATCH_MAX:
        raise ValueError(f"A batch is 1 to {BATCH_MAX} codes.")
    prefix = normalise_code(prefix)
    if len(prefix) + length > CODE_MAX_LENGTH:
        raise ValueError("The prefix is too long for the code length.")
    metadata = {"batch": secrets.token_hex(6)}
    if created_by is not None:
        metadata["created_by"] = str(created_by.pk)
    with transaction.atomic():
        codes: set[str] = set()
        while len(codes) < count:
            wanted = {random_code(prefix=prefix, length=length) for _ in range(count - len(codes))}
            wanted -= codes
            taken = set(Voucher.objects.filter(code__in=wanted).values_list("code", flat=True))
            codes |= wanted - taken
        return Voucher.objects.bulk_create(
            [
                Voucher(
                    code=code,
                    type=type,
                    value=value,
                    max_uses=max_uses,
                    expires_at=expires_at,
                    metadata=metadata,
                )
                for code in sorted(codes)
            ]
        )


def deactivate(*, voucher_ids, now: dt.datetime | None = None) -> int:
    """ACTIVE vouchers among `voucher_ids` become INACTIVE (redemptions already made stay, as
    do bonuses and trials waiting). Returns how many changed."""
    now = now or timezone.now()
    return Voucher.objects.filter(pk__in=voucher_ids, status=VoucherStatus.ACTIVE).update(
        status=VoucherStatus.INACTIVE, updated_at=now
    )


def sweep_expired(*, now: dt.datetime | None = None) -> int:
    """ACTIVE vouchers whose `expires_at` has passed become EXPIRED. Safe to run any time, any
    number of times. Returns how many changed."""
    now = now or timezone.now()
    return Voucher.objects.filter(status=VoucherStatus.ACTIVE, expires_at__lte=now).update(
        status=VoucherStatus.EXPIRED, updated_at=now
    )
