"""Monthly plans: starting Checkout in subscription mode, following the Stripe subscription
through the webhooks, granting each paid period's tokens once, and the customer portal.

Every handler reads the object as Stripe has it now (dj-stripe's re-fetch), so the same event
delivered many times, or events in another order (an invoice before its subscription,
`updated` before `created`), end in the same state. A user has one `Subscription` row (the
schema's one-to-one): a new subscription after a cancelled one takes it over.

Tokens: each paid invoice that starts a period (`subscription_create`, `subscription_cycle`)
grants that period's tokens once, by the rollover rule of `billing.rollover`, keyed by the
invoice (`stripe:invoice:<id>`); a free trial's invoice grants none. A plan change to more
monthly tokens in the middle of a period grants the difference at once (keyed by the period
and the new figure); a change to fewer takes effect at the next renewal. Renewals and
cancellations never take tokens back. A plan's `priority` and `api_access` hold while the
subscription is ACTIVE or TRIALING (`billing.selectors`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from djstripe.models import Customer, Price

from billing import checkout_hooks, rollover, stripe_api
from billing import stripe_objects as objects
from billing.errors import (
    AlreadySubscribed,
    NoCustomer,
    NotForSale,
    PaymentsNotConfigured,
    StripeUnavailable,
)
from billing.models import Subscription, SubscriptionPlan, SubscriptionStatus
from billing.selectors import LIVE_STATUSES
from core.logging import log_event
from tokens import services as tokens
from tokens.models import TokenTransactionType

logger = logging.getLogger(__name__)

PLAN = "plan"
LEDGER_SOURCE = "subscription"
PERIOD_REASONS = ("subscription_create", "subscription_cycle")


# --- starting Checkout and the portal ---------------------------------------------------------
def start_plan_checkout(*, user, plan: SubscriptionPlan, success_url: str, cancel_url: str) -> dict:
    """A Stripe Checkout Session (subscription mode) for one plan. Refused while the user has
    a subscription that is not cancelled (`AlreadySubscribed`: plans change in the portal).
    Raises `PaymentsNotConfigured`, `StripeUnavailable`, `NotForSale`."""
    if not plan.active:
        raise NotForSale(f"The {plan.name} plan is no longer on sale.")
    current = Subscription.objects.filter(user=user).select_related("plan").first()
    if current is not None and current.status != SubscriptionStatus.CANCELED:
        raise AlreadySubscribed(current.plan.name if current.plan else "current")
    ours = {"kind": PLAN, "user_id": user.pk, "plan_id": plan.pk}
    customer = stripe_api.customer_id_for(user)
    params = {
        "mode": "subscription",
        "customer": customer,
        "client_reference_id": user.pk,
        "line_items": [{"price": plan.stripe_price_id, "quantity": 1}],
        "metadata": ours,
        "subscription_data": {"metadata": ours},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    checkout = checkout_hooks.Checkout(
        user_id=user.pk, mode=checkout_hooks.SUBSCRIPTION, item_id=plan.pk
    )
    # a free trial offered by an app above billing (a voucher) rides in subscription_data
    return stripe_api.create_checkout_session(checkout_hooks.apply(params, checkout))


def portal_url(*, user, return_url: str) -> str:
    """Stripe's customer portal for this user (card, plan change, cancellation). Raises
    `PaymentsNotConfigured`, `StripeUnavailable`, or `NoCustomer` for a user who never
    bought anything."""
    if not stripe_api.is_configured():
        raise PaymentsNotConfigured()
    if not user.stripe_customer_id:
        raise NoCustomer()
    return stripe_api.create_portal_session(
        customer=user.stripe_customer_id, return_url=return_url
    )["url"]


# --- plans and users of Stripe objects --------------------------------------------------------
def plan_for_price(price) -> SubscriptionPlan | None:
    """Our plan for a Stripe price (an id or the price object): by its id, else by the plan id
    the catalogue wrote in the price's metadata (a retired price of a plan whose price
    changed)."""
    price_id = objects.object_id(price)
    plan = SubscriptionPlan.objects.filter(stripe_price_id=price_id).first()
    if plan is not None or not price_id:
        return plan
    data = price if isinstance(price, dict) else None
    if data is None:
        row = Price.objects.filter(id=price_id).first()
        data = row.stripe_data if row else stripe_api.retrieve_price(price_id)
    plan_id = (data.get("metadata") or {}).get("lumen_plan_id")
    return SubscriptionPlan.objects.filter(pk=plan_id).first() if plan_id else None


def _user_for(subscription: dict):
    User = get_user_model()
    user_id = (subscription.get("metadata") or {}).get("user_id")
    user = User.objects.filter(pk=user_id).first() if user_id else None
    customer_id = objects.object_id(subscription.get("customer"))
    if user is None and customer_id:
        user = User.objects.filter(stripe_customer_id=customer_id).first()
    if user is None and customer_id:
        customer = Customer.objects.filter(id=customer_id).select_related("subscriber").first()
        user = customer.subscriber if customer else None
    return user


# --- following the subscription ---------------------------------------------------------------
def _locked_row(user) -> Subscription | None:
    return Subscription.objects.select_for_update().filter(user=user).first()


def sync_subscription(subscription: dict, *, grants: bool = True) -> Subscription | None:
    """Make the user's `Subscription` row say what Stripe's subscription says now: price and
    plan, status, period, cancellation at period end, trial. A subscription of no user we know
    is logged and ignored. A different subscription of the same user takes over the row only
    if the row's is cancelled (one live subscription per user); events of an old, cancelled
    one leave the row alone. A plan change to more monthly tokens, in a period already
    granted, grants the difference now (unless `grants` is False: then the next webhook
    about it does)."""
    user = _user_for(subscription)
    if user is None:
        logger.warning("Subscription %s: no user of ours; ignored", subscription.get("id"))
        return None
    price = objects.subscription_item(subscription)["price"]
    plan = plan_for_price(price)
    start, end = objects.subscription_period(subscription)
    status = objects.subscription_status(subscription)
    state = {
        "stripe_subscription_id": subscription["id"],
        "stripe_price_id": objects.object_id(price),
        "plan": plan,
        "status": status,
        "current_period_start": start,
        "current_period_end": end,
        "cancel_at_period_end": objects.cancels_at_period_end(subscription),
        "trial_end": objects.timestamp(subscription.get("trial_end")),
    }
    with transaction.atomic():
        row = _locked_row(user)
        if row is None:
            try:
                with transaction.atomic():
                    Subscription.objects.create(
                        user=user,
                        tokens_per_month=0,
                        max_rollover=plan.max_rollover if plan else 0,
                        **state,
                    )
            except IntegrityError:
                pass  # a concurrent event made it: lock theirs and update it below
            row = _locked_row(user)
        elif row.stripe_subscription_id != subscription["id"]:
            if status == SubscriptionStatus.CANCELED:
                return row  # a late event of an old subscription
            if row.status != SubscriptionStatus.CANCELED:
                logger.error(
                    "User %s has two live subscriptions (%s, %s): the second gets nothing; "
                    "cancel and refund it in Stripe",
                    user.pk,
                    row.stripe_subscription_id,
                    subscription["id"],
                )
                return row
            # a new subscription after a cancelled one: a fresh start
            row.tokens_per_month = 0
            row.rollover_tokens = 0
            row.max_rollover = plan.max_rollover if plan else 0
            row.tokens_period_start = None
        for name, value in state.items():
            setattr(row, name, value)
        if grants:
            _grant_upgrade(row)
        row.save()
        return row


def _grant_upgrade(row: Subscription) -> None:
    """In a live period whose tokens were granted, a plan of more monthly tokens grants the
    difference now and raises the period's allowance (under the caller's lock)."""
    plan = row.plan
    if (
        plan is None
        or row.status not in LIVE_STATUSES
        or row.tokens_period_start is None
        or row.tokens_period_start != row.current_period_start
        or plan.tokens_per_month <= row.tokens_per_month
    ):
        return
    difference = plan.tokens_per_month - row.tokens_per_month
    tokens.grant(
        user=row.user_id,
        amount=difference,
        type=TokenTransactionType.EARN_PURCHASE,
        source=LEDGER_SOURCE,
        source_id=row.pk,
        metadata={"upgrade_to": plan.name, "subscription": row.stripe_subscription_id},
        idempotency_key=(
            f"stripe:upgrade:{row.stripe_subscription_id}:"
            f"{int(row.current_period_start.timestamp())}:{plan.tokens_per_month}"
        ),
    )
    row.tokens_per_month = plan.tokens_per_month
    if plan.max_rollover == 0 or plan.max_rollover >= row.rollover_tokens:
        row.max_rollover = plan.max_rollover
    log_event(
        logger,
        "subscription.upgrade_granted",
        subscription_id=row.pk,
        stripe_subscription_id=row.stripe_subscription_id,
        user_id=row.user_id,
        plan=plan.name,
        tokens_granted=difference,
    )


def _row_for_subscription(subscription_id: str) -> Subscription | None:
    row = Subscription.objects.filter(stripe_subscription_id=subscription_id).first()
    if row is None:
        # The invoice came before any event about its subscription: read it from Stripe.
        row = sync_subscription(stripe_api.retrieve_subscription(subscription_id))
    return row


def grant_invoice(invoice: dict) -> Subscription | None:
    """The tokens of a paid invoice that starts a subscription's period, once.

    Only `paid` invoices of a period (`subscription_create`, `subscription_cycle`) grant; a
    period older than or equal to the last one granted grants nothing (the same invoice again,
    or a late one). The first paid period grants the plan's monthly tokens; each later one
    follows `billing.rollover` with the balance at that moment (its row locked). A trial's
    invoice grants nothing: the first paid period after it is the first period. The plan is
    the invoiced price's; if the subscription has meanwhile moved to a plan of more tokens in
    this same period, the difference follows at once."""
    if invoice.get("status") != "paid" or invoice.get("billing_reason") not in PERIOD_REASONS:
        return None
    subscription_id = objects.invoice_subscription_id(invoice)
    line = objects.invoice_period_line(invoice)
    if not subscription_id or line is None:
        logger.warning("Invoice %s has no subscription period: no tokens", invoice.get("id"))
        return None
    row = _row_for_subscription(subscription_id)
    if row is None:
        return None
    plan = plan_for_price(objects.line_price_id(line))
    if plan is None:
        logger.error("Invoice %s bills a price of no plan: no tokens", invoice.get("id"))
        return None
    start, end = objects.line_period(line)
    with transaction.atomic():
        row = _locked_row(row.user_id)
        if row.stripe_subscription_id != subscription_id:
            logger.error(
                "Invoice %s is for %s, not the user's subscription", invoice["id"], subscription_id
            )
            return row
        if row.tokens_period_start is not None and start <= row.tokens_period_start:
            return row  # granted already (this invoice, or a later period's)
        if row.trial_end is not None and end <= row.trial_end:
            return row  # a free trial: no tokens until the first paid period
        if row.tokens_period_start is None:
            renewal = rollover.first_period(tokens_per_month=plan.tokens_per_month)
        else:
            renewal = rollover.renew(
                balance=tokens.lock_balance(user=row.user_id),
                tokens_per_month=row.tokens_per_month,
                rollover_tokens=row.rollover_tokens,
                new_tokens_per_month=plan.tokens_per_month,
                new_max_rollover=plan.max_rollover,
            )
        if renewal.grant > 0:
            tokens.grant(
                user=row.user_id,
                amount=renewal.grant,
                type=TokenTransactionType.EARN_PURCHASE,
                source=LEDGER_SOURCE,
                source_id=row.pk,
                metadata={
                    "plan": plan.name,
                    "invoice": invoice["id"],
                    "unused": renewal.unused,
                    "rollover": renewal.rollover_tokens,
                },
                idempotency_key=f"stripe:invoice:{invoice['id']}",
            )
        row.tokens_per_month = plan.tokens_per_month
        row.rollover_tokens = renewal.rollover_tokens
        row.max_rollover = plan.max_rollover
        row.tokens_period_start = start
        if start >= row.current_period_start:
            row.current_period_start, row.current_period_end = (
                start,
                max(end, row.current_period_end),
            )
        _grant_upgrade(row)
        row.save()
        log_event(
            logger,
            "subscription.invoice_paid",
            subscription_id=row.pk,
            stripe_subscription_id=subscription_id,
            user_id=row.user_id,
            invoice_id=invoice["id"],
            plan=plan.name,
            amount=str(objects.amount(invoice.get("amount_paid"), invoice.get("currency"))),
            currency=invoice.get("currency"),
            tokens_granted=renewal.grant,
            tokens_unused=renewal.unused,
            rollover_tokens=renewal.rollover_tokens,
            period_start=start.isoformat(),
        )
        return row


def sync_from_checkout(session: dict) -> Subscription | None:
    """A completed subscription Checkout: follow its subscription now (its own events may come
    later)."""
    subscription_id = objects.object_id(session.get("subscription"))
    if session.get("mode") != "subscription" or not subscription_id:
        return None
    return sync_subscription(stripe_api.retrieve_subscription(subscription_id))


# --- staff ------------------------------------------------------------------------------------
def resync_customer(*, user, actor) -> Subscription | None:
    """Staff: read the user's subscriptions from Stripe again and follow the newest (a missed
    webhook). Grants nothing: tokens come only from verified invoice webhooks. Records who did
    it on the row."""
    if not user.stripe_customer_id:
        raise NoCustomer()
    found = stripe_api.subscriptions_of(user.stripe_customer_id)
    row = None
    for subscription in sorted(found, key=lambda s: s.get("created", 0)):
        row = sync_subscription(subscription, grants=False) or row
    if row is not None:
        with transaction.atomic():
            row = _locked_row(user)
            row.staff_actions = [
                *row.staff_actions,
                {
                    "action": "resync",
                    "by": actor.pk,
                    "by_email": actor.email,
                    "at": timezone.now().isoformat(),
                    "subscriptions": len(found),
                },
            ]
            row.save(update_fields=["staff_actions", "updated_at"])
    logger.info("Staff %s re-synced the Stripe customer of %s", actor.pk, user.pk)
    return row


# --- housekeeping -----------------------------------------------------------------------------
@dataclass
class SyncRun:
    checked: int = 0  # live subscriptions whose period had ended without a renewal
    caught_up: int = 0  # of which this run granted a paid period's tokens
    failed: list[str] = field(default_factory=list)  # subscription ids Stripe did not answer for


def overdue(*, now=None):
    """Live subscriptions (and past-due ones, which a late payment revives) whose period ended
    more than `SUBSCRIPTION_SYNC_GRACE_MINUTES` ago: a renewal's webhooks went missing."""
    cutoff = (now or timezone.now()) - dt.timedelta(
        minutes=settings.SUBSCRIPTION_SYNC_GRACE_MINUTES
    )
    return Subscription.objects.filter(
        status__in=(*LIVE_STATUSES, SubscriptionStatus.PAST_DUE),
        current_period_end__lte=cutoff,
    ).order_by("current_period_end", "pk")


def _period_start(invoice: dict) -> tuple[float, int]:
    line = objects.invoice_period_line(invoice)
    start = objects.line_period(line)[0] if line else None
    return (start.timestamp() if start else 0.0, invoice.get("created") or 0)


def sync_overdue(*, now=None) -> SyncRun:
    """Catch up on missed webhooks: read each overdue subscription and its invoices from Stripe
    again, follow the subscription (`sync_subscription`) and grant every paid period not yet
    granted, oldest first (`grant_invoice`). Safe beside the webhooks, the schedule and another
    run: a period grants once, under the row's lock and keyed by its invoice, whichever path
    gets there first. A subscription Stripe does not answer for is left for the next run."""
    run = SyncRun()
    for row in overdue(now=now):
        run.checked += 1
        granted_until = row.tokens_period_start
        try:
            sync_subscription(stripe_api.retrieve_subscription(row.stripe_subscription_id))
            invoices = stripe_api.invoices_of(row.stripe_subscription_id)
            for invoice in sorted(invoices, key=_period_start):
                grant_invoice(invoice)
        except StripeUnavailable:
            logger.warning("Subscription %s: Stripe did not answer", row.stripe_subscription_id)
            run.failed.append(row.stripe_subscription_id)
            continue
        row.refresh_from_db(fields=["tokens_period_start"])
        if row.tokens_period_start != granted_until:
            run.caught_up += 1
    return run
