"""Stripe's webhooks, after dj-stripe: it checks the signature (the secret of the
`WebhookEndpoint` row), stores the event once (a repeated event id is not processed again),
re-fetches the event's object from Stripe and syncs it into its tables, then sends the event's
signal; billing's receivers (connected in `BillingConfig.ready()`, after dj-stripe's own)
read that fresh copy and call billing's services. Everything runs in dj-stripe's transaction:
an exception rolls it all back and answers 500, and Stripe delivers the event again.

An event that names nothing of ours (another app's Checkout, an unknown customer) is logged and
acknowledged; so is a type billing does not handle (dj-stripe stores it and nothing happens).
"""

from __future__ import annotations

import logging

from djstripe import models as djstripe_models
from djstripe import signals as djstripe_signals
from djstripe.signals import WEBHOOK_SIGNALS

from billing import payments, stripe_api, subscriptions
from billing.stripe_objects import invoice_subscription_id, object_id
from core.logging import log_event

logger = logging.getLogger(__name__)


def _fresh(event, model) -> dict | None:
    """The event's object as dj-stripe re-fetched it from Stripe (its row's data), or None
    when Stripe no longer has it (dj-stripe skipped it) or it is not that kind of object."""
    data = (event.data or {}).get("object") or {}
    row = model.objects.filter(id=data.get("id")).first() if data.get("id") else None
    if row is None:
        log_event(
            logger,
            "webhook.ignored",
            level=logging.WARNING,
            now=True,
            event_id=event.id,
            event_type=event.type,
            reason="no_current_object",
        )
        return None
    return row.stripe_data


def on_checkout_completed(sender, event, **kwargs):
    session = _fresh(event, djstripe_models.Session)
    if session is None:
        return
    if session.get("mode") == "subscription":
        subscriptions.sync_from_checkout(session)
    else:
        payments.fulfil_checkout_session(session)


def on_checkout_payment_failed(sender, event, **kwargs):
    session = _fresh(event, djstripe_models.Session)
    if session is not None:
        payments.fail_checkout_session(session)


def on_checkout_expired(sender, event, **kwargs):
    # Nothing was paid and nothing was recorded: the pricing page simply stays as it was.
    log_event(
        logger,
        "payment.checkout_expired",
        now=True,
        checkout_session_id=(event.data or {}).get("object", {}).get("id"),
    )


def on_subscription_changed(sender, event, **kwargs):
    subscription = _fresh(event, djstripe_models.Subscription)
    if subscription is not None:
        subscriptions.sync_subscription(subscription)


def on_invoice_paid(sender, event, **kwargs):
    invoice = _fresh(event, djstripe_models.Invoice)
    if invoice is not None:
        subscriptions.grant_invoice(invoice)


def on_invoice_payment_failed(sender, event, **kwargs):
    invoice = _fresh(event, djstripe_models.Invoice)
    subscription_id = invoice and invoice_subscription_id(invoice)
    if subscription_id:
        # past due now: follow the subscription even if its own event is late
        subscriptions.sync_subscription(stripe_api.retrieve_subscription(subscription_id))


def on_charge_refunded(sender, event, **kwargs):
    charge = _fresh(event, djstripe_models.Charge)
    if charge is not None:
        payments.record_refund(charge)


def on_dispute_closed(sender, event, **kwargs):
    dispute = _fresh(event, djstripe_models.Dispute)
    if dispute is None:
        return
    if not dispute.get("payment_intent"):
        charge = djstripe_models.Charge.objects.filter(id=object_id(dispute.get("charge"))).first()
        dispute = {**dispute, "payment_intent": charge and charge.stripe_data.get("payment_intent")}
    payments.record_dispute(dispute)


RECEIVERS = {
    "checkout.session.completed": on_checkout_completed,
    "checkout.session.async_payment_succeeded": on_checkout_completed,
    "checkout.session.async_payment_failed": on_checkout_payment_failed,
    "checkout.session.expired": on_checkout_expired,
    "customer.subscription.created": on_subscription_changed,
    "customer.subscription.updated": on_subscription_changed,
    "customer.subscription.deleted": on_subscription_changed,
    "customer.subscription.paused": on_subscription_changed,
    "customer.subscription.resumed": on_subscription_changed,
    "customer.subscription.trial_will_end": on_subscription_changed,
    "invoice.paid": on_invoice_paid,
    "invoice.payment_succeeded": on_invoice_paid,
    "invoice.payment_failed": on_invoice_payment_failed,
    "charge.refunded": on_charge_refunded,
    "charge.dispute.closed": on_dispute_closed,
}


# --- one log line per webhook: received (or rejected), then processed, ignored or failed ------
# Only the event's id and type, and dj-stripe's trigger row: never the payload, its headers or
# the signature.
def _event_of(trigger) -> dict:
    body = trigger.json_body if isinstance(trigger.json_body, dict) else {}
    return {
        "event_id": str(body.get("id") or "") or None,
        "event_type": str(body.get("type") or "") or None,
        "trigger_id": trigger.pk,
    }


def on_webhook_validated(sender, instance, valid, **kwargs):
    # Logged at once: a receipt is a fact whether or not the processing commits.
    log_event(
        logger,
        "webhook.received" if valid else "webhook.rejected",
        level=logging.INFO if valid else logging.WARNING,
        now=True,
        **_event_of(instance),
    )


def on_webhook_processing(sender, instance, **kwargs):
    event_id = _event_of(instance)["event_id"]
    # dj-stripe processes an event id once; a repeated delivery is acknowledged and logged so.
    instance._billing_seen_before = bool(
        event_id and djstripe_models.Event.objects.filter(id=event_id).exists()
    )


def on_webhook_processed(sender, instance, **kwargs):
    fields = _event_of(instance)
    if getattr(instance, "_billing_seen_before", False):
        outcome = "webhook.duplicate"
    elif fields["event_type"] in RECEIVERS:
        outcome = "webhook.processed"
    else:
        outcome = "webhook.ignored"  # stored by dj-stripe; billing does nothing with its type
    log_event(logger, outcome, **fields)  # after dj-stripe's transaction commits


def on_webhook_failed(sender, instance, exception, **kwargs):
    # Rolled back: Stripe delivers it again. The exception's type only (its text may quote
    # Stripe's answer); the traceback is on dj-stripe's trigger row.
    log_event(
        logger,
        "webhook.failed",
        level=logging.ERROR,
        now=True,
        **_event_of(instance),
        error=type(exception).__name__,
    )


def connect() -> None:
    """Connect billing's receivers to dj-stripe's event signals (once; dj-stripe's own handlers
    were connected first, so the object is synced before billing reads it), and the webhook's
    log lines to dj-stripe's processing signals."""
    for event_type, receiver in RECEIVERS.items():
        WEBHOOK_SIGNALS[event_type].connect(
            receiver, dispatch_uid=f"billing:{event_type}", weak=False
        )
    for signal, receiver in (
        (djstripe_signals.webhook_post_validate, on_webhook_validated),
        (djstripe_signals.webhook_pre_process, on_webhook_processing),
        (djstripe_signals.webhook_post_process, on_webhook_processed),
        (djstripe_signals.webhook_processing_error, on_webhook_failed),
    ):
        signal.connect(receiver, dispatch_uid=f"billing:log:{receiver.__name__}", weak=False)
