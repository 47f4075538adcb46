"""Token packs bought once: starting Checkout, fulfilling it from the verified webhook, and
refunds and lost disputes taking the tokens back.

Tokens are granted only here, only from a Checkout Session that Stripe's webhook announced and
dj-stripe re-fetched (never from the success redirect), by `fulfil_checkout_session`, which is
safe to call any number of times for one session: one `StripePayment` per session (a unique
column), locked while it changes, and one EARN_PURCHASE transaction keyed by the session
(`stripe:checkout:<session id>`).
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from billing import bonuses, checkout_hooks, stripe_api
from billing.errors import NotForSale
from billing.models import StripePayment, StripePaymentStatus
from billing.stripe_objects import amount, object_id
from core.logging import log_event
from tokens import services as tokens
from tokens.models import TokensPackage, TokenTransactionType

logger = logging.getLogger(__name__)

PACK = "pack"
LEDGER_SOURCE = "stripe"
PAID = ("paid", "no_payment_required")
DONE = (StripePaymentStatus.SUCCEEDED, StripePaymentStatus.REFUNDED)


def grant_key(session_id: str) -> str:
    return f"stripe:checkout:{session_id}"


def _payment_fields(payment: StripePayment) -> dict:
    """The ids a payment's log lines carry (Stripe's ids are references, not secrets)."""
    return {
        "payment_id": payment.pk,
        "user_id": payment.user_id,
        "package_id": payment.package_id,
        "checkout_session_id": payment.stripe_checkout_session_id,
        "payment_intent_id": payment.stripe_payment_intent_id,
    }


# --- starting Checkout ------------------------------------------------------------------------
def start_pack_checkout(
    *, user, package: TokensPackage, success_url: str, cancel_url: str, metadata: dict | None = None
) -> dict:
    """A Stripe Checkout Session (payment mode) for one pack, for this user's Stripe customer
    (created on the first purchase). Returns the session (`id`, `url` to send the user to).
    Nothing is recorded until the webhook says it was paid. `metadata` rides along to the
    purchase-bonus providers (`billing.bonuses`); `billing.checkout_hooks` providers may add
    to the session. Raises `PaymentsNotConfigured`,
    `StripeUnavailable`, `NotForSale`."""
    if not package.active:
        raise NotForSale(f"The {package.name} pack is no longer on sale.")
    ours = {
        "kind": PACK,
        "user_id": user.pk,
        "package_id": package.pk,
        "tokens": str(package.tokens),
    }
    customer = stripe_api.customer_id_for(user)
    params = {
        "mode": "payment",
        "customer": customer,
        "client_reference_id": user.pk,
        "line_items": [{"price": package.stripe_price_id, "quantity": 1}],
        "metadata": {**(metadata or {}), **ours},
        "payment_intent_data": {"metadata": ours},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    checkout = checkout_hooks.Checkout(
        user_id=user.pk, mode=checkout_hooks.PAYMENT, item_id=package.pk
    )
    return stripe_api.create_checkout_session(checkout_hooks.apply(params, checkout))


# --- the webhook's side -----------------------------------------------------------------------
def _purchase_of(session: dict):
    """(user, package, pack tokens) of one of our pack sessions, or None (logged) if the
    session is not one, or names a user or pack that does not exist."""
    metadata = session.get("metadata") or {}
    if session.get("mode") != "payment" or metadata.get("kind") != PACK:
        log_event(
            logger,
            "payment.ignored",
            now=True,
            reason="not_a_pack",
            checkout_session_id=session.get("id"),
        )
        return None
    user = get_user_model().objects.filter(pk=metadata.get("user_id")).first()
    package = TokensPackage.objects.filter(pk=metadata.get("package_id")).first()
    try:
        pack_tokens = int(metadata.get("tokens") or (package.tokens if package else 0))
    except ValueError:
        pack_tokens = 0
    if user is None or package is None or pack_tokens <= 0:
        log_event(
            logger,
            "payment.unfulfillable",
            level=logging.ERROR,
            now=True,
            checkout_session_id=session.get("id"),
            user_id=str(metadata.get("user_id")),
            user_found=user is not None,
            package_id=str(metadata.get("package_id")),
            package_found=package is not None,
            pack_tokens=str(metadata.get("tokens")),
        )
        return None
    return user, package, pack_tokens


def _locked_payment(session: dict, user, package, pack_tokens: int) -> StripePayment:
    """The session's payment row, locked until the end of the transaction (created PENDING if
    it is the first event about it: a concurrent creator's row wins and is locked instead)."""
    session_id = session["id"]
    rows = StripePayment.objects.select_for_update()
    payment = rows.filter(stripe_checkout_session_id=session_id).first()
    if payment is not None:
        return payment
    try:
        with transaction.atomic():
            StripePayment.objects.create(
                user=user,
                package=package,
                tokens_granted=pack_tokens,
                amount_usd=amount(session.get("amount_total"), session.get("currency")),
                currency=(session.get("currency") or package.currency).lower(),
                stripe_checkout_session_id=session_id,
                stripe_payment_intent_id=object_id(session.get("payment_intent")),
                status=StripePaymentStatus.PENDING,
                metadata={"checkout_metadata": session.get("metadata") or {}},
            )
    except IntegrityError:
        pass  # created by a concurrent delivery: lock theirs
    return rows.get(stripe_checkout_session_id=session_id)


def fulfil_checkout_session(session: dict) -> StripePayment | None:
    """Grant what a completed pack Checkout bought, once.

    `session` is the Checkout Session as Stripe has it now (dj-stripe's re-fetch). Paid
    (`payment_status` paid): the payment becomes SUCCEEDED with its payment intent, the amount
    and currency Stripe charged and the receipt, and the pack's tokens plus any bonus are
    granted in one EARN_PURCHASE transaction keyed by the session. Complete but not yet paid (a
    bank debit on its way): a PENDING payment, no tokens; `checkout.session.async_payment_
    succeeded` calls this again later. Already SUCCEEDED or REFUNDED: nothing changes. Not one
    of our pack sessions, or naming a missing user or pack: logged, None."""
    if session.get("status") != "complete":
        return None
    purchase = _purchase_of(session)
    if purchase is None:
        return None
    user, package, pack_tokens = purchase
    with transaction.atomic():
        payment = _locked_payment(session, user, package, pack_tokens)
        if payment.status in DONE:
            return payment
        payment.stripe_payment_intent_id = object_id(session.get("payment_intent"))
        if session.get("payment_status") not in PAID:
            payment.save(update_fields=["stripe_payment_intent_id", "updated_at"])
            log_event(logger, "payment.pending", **_payment_fields(payment))
            return payment
        found = bonuses.bonuses_for(
            bonuses.Purchase(
                user_id=user.pk,
                package_id=package.pk,
                tokens=pack_tokens,
                payment_id=payment.pk,
                checkout_session_id=session["id"],
                metadata=session.get("metadata") or {},
            )
        )
        total = pack_tokens + sum(bonus.tokens for _name, bonus in found)
        currency = (session.get("currency") or payment.currency).lower()
        payment.status = StripePaymentStatus.SUCCEEDED
        payment.tokens_granted = total
        payment.amount_usd = amount(session.get("amount_total"), currency)
        payment.currency = currency
        charge = {}
        if payment.stripe_payment_intent_id:
            charge = stripe_api.latest_charge(payment.stripe_payment_intent_id)
            payment.receipt_url = charge.get("receipt_url") or ""
        payment.metadata = {
            **(payment.metadata or {}),
            "pack_tokens": pack_tokens,
            "bonuses": [{"by": name, "tokens": b.tokens, "reason": b.reason} for name, b in found],
        }
        payment.save()
        tokens.grant(
            user=user,
            amount=total,
            type=TokenTransactionType.EARN_PURCHASE,
            source=LEDGER_SOURCE,
            source_id=payment.pk,
            metadata={"pack": package.name, "checkout_session": session["id"]},
            idempotency_key=grant_key(session["id"]),
        )
        log_event(
            logger,
            "payment.paid",
            **_payment_fields(payment),
            amount=str(payment.amount_usd),
            currency=payment.currency,
            tokens_granted=total,
            pack_tokens=pack_tokens,
            bonus_tokens=total - pack_tokens,
        )
        if charge.get("amount_refunded"):
            # refunded before this fulfilment (its charge.refunded found no payment then)
            _account_refund(payment, charge)
        return payment


def fail_checkout_session(session: dict) -> StripePayment | None:
    """A delayed payment that failed: the session's payment is FAILED, no tokens (a payment
    already SUCCEEDED is left alone)."""
    purchase = _purchase_of(session)
    if purchase is None:
        return None
    with transaction.atomic():
        payment = _locked_payment(session, *purchase)
        if payment.status == StripePaymentStatus.PENDING:
            payment.status = StripePaymentStatus.FAILED
            payment.save(update_fields=["status", "updated_at"])
            log_event(logger, "payment.failed", **_payment_fields(payment))
        return payment


# --- refunds and disputes ---------------------------------------------------------------------
def _locked_payment_of_intent(payment_intent_id: str | None) -> StripePayment | None:
    if not payment_intent_id:
        return None
    return (
        StripePayment.objects.select_for_update()
        .filter(stripe_payment_intent_id=payment_intent_id)
        .first()
    )


def _take_back(payment: StripePayment, *, target: int, reason: str, stripe_id: str) -> None:
    """Account for `target` of the payment's tokens taken back in all: take the difference
    from what was already accounted for, as far as the balance allows (the rest is spent)."""
    target = min(target, payment.tokens_granted)
    due = target - payment.tokens_clawed_back
    if due <= 0:
        return
    tokens.claw_back(
        user=payment.user_id,
        amount=due,
        source=LEDGER_SOURCE,
        source_id=payment.pk,
        metadata={"reason": reason, "stripe_object": stripe_id, "asked": due},
        idempotency_key=f"stripe:clawback:{payment.pk}:{target}",
    )
    payment.tokens_clawed_back = target


def record_refund(charge: dict) -> StripePayment | None:
    """A charge refunded, in full or in part (Stripe's `amount_refunded` is the total so far):
    the pack payment is REFUNDED, and the share of its tokens that the refunded share of the
    money bought (rounded down, all of them for a full refund) is taken back, as far as the
    balance allows. Repeated or out-of-order events take nothing twice. A charge of no pack
    payment (a subscription's invoice) is only logged."""
    with transaction.atomic():
        payment = _locked_payment_of_intent(object_id(charge.get("payment_intent")))
        if payment is None:
            log_event(
                logger,
                "payment.refund_ignored",
                now=True,
                reason="no_pack",
                charge_id=charge.get("id"),
            )
            return None
        if payment.status not in DONE:
            # Not granted yet: its fulfilment reads the charge and accounts for the refund.
            log_event(
                logger,
                "payment.refund_early",
                level=logging.WARNING,
                now=True,
                **_payment_fields(payment),
                status=payment.status,
                charge_id=charge.get("id"),
            )
            return payment
        _account_refund(payment, charge)
        return payment


def _account_refund(payment: StripePayment, charge: dict) -> None:
    """Under the caller's lock of the payment: the refunded share of the charge, taken back."""
    paid = charge.get("amount_captured") or charge.get("amount") or 0
    refunded = min(charge.get("amount_refunded") or 0, paid)
    if paid <= 0 or refunded <= 0:
        return
    payment.amount_refunded = max(
        payment.amount_refunded, amount(refunded, charge.get("currency") or payment.currency)
    )
    target = (
        payment.tokens_granted if refunded >= paid else payment.tokens_granted * refunded // paid
    )
    _take_back(payment, target=target, reason="refund", stripe_id=charge["id"])
    payment.status = StripePaymentStatus.REFUNDED
    payment.save()
    log_event(
        logger,
        "payment.refunded",
        **_payment_fields(payment),
        charge_id=charge["id"],
        amount_refunded=str(payment.amount_refunded),
        currency=payment.currency,
        tokens_clawed_back=payment.tokens_clawed_back,
    )


def record_dispute(dispute: dict) -> StripePayment | None:
    """A dispute closed: lost, the payment is REFUNDED and all its tokens are taken back as far
    as the balance allows; won (or still open), nothing changes."""
    if dispute.get("status") != "lost":
        return None
    intent_id = object_id(dispute.get("payment_intent"))
    with transaction.atomic():
        payment = _locked_payment_of_intent(intent_id)
        if payment is None:
            log_event(
                logger,
                "payment.dispute_ignored",
                now=True,
                reason="no_pack",
                dispute_id=dispute.get("id"),
            )
            return None
        if payment.status not in DONE:
            return payment
        _take_back(
            payment, target=payment.tokens_granted, reason="dispute lost", stripe_id=dispute["id"]
        )
        payment.status = StripePaymentStatus.REFUNDED
        payment.metadata = {
            **(payment.metadata or {}),
            "dispute": dispute["id"],
            "dispute_status": "lost",
        }
        payment.save()
        log_event(
            logger,
            "payment.dispute_lost",
            **_payment_fields(payment),
            dispute_id=dispute["id"],
            tokens_clawed_back=payment.tokens_clawed_back,
        )
        return payment
