"""What an account's deletion asks of billing (registered in `BillingConfig.ready()` with
`accounts.deletion`): the subscription ends at Stripe before anything is deleted; payments and
the subscription's record stay, attached to the anonymised user, for the accounts.
"""

from __future__ import annotations

import json
import logging

from django.db.models import Q

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
NOT_ANONYMISED_MESSAGE = (
    "We could not remove your name and e-mail address from our payment processor's records "
    "just now, so nothing has been deleted. Please try again in a few minutes."
)
NOT_CONFIGURED_MESSAGE = (
    "Your subscription cannot be cancelled on this installation (payments are not "
    "configured), so nothing has been deleted. Please contact us."
)


def _live_row(user) -> Subscription | None:
    return (
        Subscription.objects.filter(user=user).exclude(status=SubscriptionStatus.CANCELED).first()
    )


def _blocked(user, message: str) -> DeletionBlocked:
    """Stripe could not be reached: logged, and the error that stops the deletion."""
    log_event(
        logger,
        "account.deletion_blocked",
        level=logging.WARNING,
        user_id=user.pk,
        cause="stripe",
        now=True,
    )
    return DeletionBlocked(message)


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
        raise _blocked(user, NOT_CANCELLED_MESSAGE) from error


def anonymise_customer_at_stripe(user) -> None:
    """Remove the person from the Stripe customer (name, e-mail, phone, addresses): its
    payments stay there, for the accounts. Raises `DeletionBlocked` when Stripe cannot be
    reached (nothing of ours deleted yet)."""
    if not user.stripe_customer_id or not stripe_api.is_configured():
        return
    try:
        stripe_api.anonymise_customer(user.stripe_customer_id)
    except StripeUnavailable as error:
        if stripe_api.is_missing(error):
            return  # the customer is gone at Stripe already
        raise _blocked(user, NOT_ANONYMISED_MESSAGE) from error


# Keys of Stripe objects that hold the person: cleared wherever they appear in dj-stripe's
# copies (the customer, its Checkout sessions, charges, payment intents and methods, invoices).
PERSONAL_KEYS = frozenset(
    {
        "name",
        "email",
        "phone",
        "address",
        "shipping",
        "description",
        "receipt_email",
        "billing_details",
        "customer_details",
        "customer_email",
        "customer_name",
        "customer_phone",
        "customer_address",
        "customer_shipping",
        "shipping_details",
    }
)
# Inside these, a "name" is a product's or a plan's, not the person's.
_NOT_PERSONAL_PARENTS = frozenset({"price", "product", "plan", "lines", "line_items"})


def scrub(value, *, parent: str = ""):
    """`value` (a Stripe object as JSON) without the person's details."""
    if isinstance(value, dict):
        return {
            key: (
                None
                if key in PERSONAL_KEYS and parent not in _NOT_PERSONAL_PARENTS and item
                else scrub(item, parent=key if key in _NOT_PERSONAL_PARENTS else parent)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub(item, parent=parent) for item in value]
    return value


def anonymise_customer_records(user) -> None:
    """dj-stripe's local copies of the user's Stripe objects keep their ids and amounts (the
    accounts) but no name, e-mail address, phone or address."""
    from django.apps import apps
    from djstripe.models import Customer, Event, WebhookEventTrigger

    customers = Customer.objects.filter(subscriber=user)
    if user.stripe_customer_id:
        customers = customers | Customer.objects.filter(id=user.stripe_customer_id)
    ids = list(customers.values_list("djstripe_id", flat=True).distinct())
    stripe_ids = list(customers.values_list("id", flat=True).distinct())
    if not ids:
        return
    # the events Stripe sent about them, and the webhooks' raw bodies that carried them
    events = list(
        Event.objects.filter(
            Q(data__object__customer__in=stripe_ids) | Q(data__object__id__in=stripe_ids)
        )
    )
    for event in events:
        event.data = scrub(event.data)
        event.stripe_data = scrub(event.stripe_data)
    Event.objects.bulk_update(events, ["data", "stripe_data"], batch_size=500)
    triggers = list(WebhookEventTrigger.objects.filter(event__in=events))
    for trigger in triggers:
        try:
            trigger.body = json.dumps(scrub(json.loads(trigger.body)))
        except ValueError:
            trigger.body = ""
    WebhookEventTrigger.objects.bulk_update(triggers, ["body"], batch_size=500)
    for row in Customer.objects.filter(djstripe_id__in=ids):
        row.email = ""
        row.stripe_data = scrub(row.stripe_data)
        row.save(update_fields=["email", "stripe_data"])
    for model in apps.get_app_config("djstripe").get_models():
        if model in (Customer, Event) or not any(
            field.name == "customer" and field.concrete for field in model._meta.get_fields()
        ):
            continue
        rows = list(model.objects.filter(customer__djstripe_id__in=ids))
        for row in rows:
            row.stripe_data = scrub(row.stripe_data)
        model.objects.bulk_update(rows, ["stripe_data"], batch_size=500)


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
    if user.stripe_customer_id:
        kept.append(
            "Your payments at Stripe, our payment processor, which keeps them for its own legal "
            "duties; we remove your name, e-mail address and addresses from its customer record"
        )
    return Summary(deleted=deleted, kept=kept)
