"""The one module that calls Stripe for billing's own needs (dj-stripe makes its own calls when
it processes a webhook). Everything it returns is plain data (dicts), never a Stripe object.

Both speak to `stripe.api_base`, which dj-stripe sets from `STRIPE_API_HOST` when that setting
exists (stripe-mock, the tests' loopback fake); the API version is dj-stripe's, so our calls
and its re-fetches see the same shapes. Stripe's errors become `StripeUnavailable`, whose text
a user can read; the cause goes to the log.
"""

from __future__ import annotations

import logging

import stripe
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from djstripe.models import Customer
from djstripe.settings import djstripe_settings

from billing.errors import BillingError, PaymentsNotConfigured, StripeUnavailable

logger = logging.getLogger(__name__)


def is_configured() -> bool:
    """Whether this installation has a Stripe secret key (payments can be taken)."""
    return bool(settings.STRIPE_SECRET_KEY)


def _client() -> stripe.StripeClient:
    if not is_configured():
        raise PaymentsNotConfigured()
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": stripe.api_base},
        stripe_version=djstripe_settings.STRIPE_API_VERSION,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
    )


def _call(what: str, function, *args, **kwargs) -> dict:
    try:
        result = function(*args, **kwargs)
    except stripe.StripeError as error:
        logger.warning("Stripe refused %s: %s", what, error)
        raise StripeUnavailable(str(error)) from error
    return result.to_dict() if hasattr(result, "to_dict") else result


def is_missing(error: StripeUnavailable) -> bool:
    """Whether Stripe's answer was "no such object"."""
    cause = error.__cause__
    return isinstance(cause, stripe.InvalidRequestError) and cause.code == "resource_missing"


# --- customers --------------------------------------------------------------------------------
def customer_id_for(user) -> str:
    """The user's Stripe customer, created the first time they buy (dj-stripe's `Customer`,
    with an idempotency key per user, so two first purchases at once make one customer), and
    recorded in `User.stripe_customer_id` (the schema's link; accounts has no verb for it)."""
    if user.stripe_customer_id:
        return user.stripe_customer_id
    if not is_configured():
        raise PaymentsNotConfigured()
    try:
        customer, _created = Customer.get_or_create(
            subscriber=user, livemode=settings.STRIPE_LIVE_MODE, api_key=settings.STRIPE_SECRET_KEY
        )
    except stripe.StripeError as error:
        logger.warning("Stripe refused to create a customer for %s: %s", user.pk, error)
        raise StripeUnavailable(str(error)) from error
    users = get_user_model().objects
    with transaction.atomic():
        users.filter(pk=user.pk, stripe_customer_id__isnull=True).update(
            stripe_customer_id=customer.id
        )
    user.stripe_customer_id = users.values_list("stripe_customer_id", flat=True).get(pk=user.pk)
    return user.stripe_customer_id


# --- Checkout and the customer portal ---------------------------------------------------------
def create_checkout_session(params: dict) -> dict:
    return _call("a Checkout session", _client().v1.checkout.sessions.create, params)


def create_portal_session(*, customer: str, return_url: str) -> dict:
    return _call(
        "a portal session",
        _client().v1.billing_portal.sessions.create,
        {"customer": customer, "return_url": return_url},
    )


# --- reading objects --------------------------------------------------------------------------
def retrieve_subscription(subscription_id: str) -> dict:
    return _call("a subscription", _client().v1.subscriptions.retrieve, subscription_id)


def subscriptions_of(customer_id: str) -> list[dict]:
    """Every subscription of the customer, cancelled ones included, newest first."""
    page = _call(
        "the subscriptions",
        _client().v1.subscriptions.list,
        {"customer": customer_id, "status": "all", "limit": 100},
    )
    return page["data"]


def invoices_of(subscription_id: str) -> list[dict]:
    """The subscription's invoices, newest first: the latest 100, more than eight years of
    monthly periods."""
    page = _call(
        "the invoices",
        _client().v1.invoices.list,
        {"subscription": subscription_id, "limit": 100},
    )
    return page["data"]


def cancel_subscription(subscription_id: str) -> dict:
    """End the subscription now (not at the period's end), without a final invoice or
    proration: the account it belongs to is being deleted. Returns the cancelled
    subscription."""
    return _call(
        "cancelling a subscription",
        _client().v1.subscriptions.cancel,
        subscription_id,
        {"invoice_now": False, "prorate": False},
    )


def anonymise_customer(customer_id: str) -> dict:
    """Remove the name, e-mail address, phone, description and addresses from the customer at
    Stripe (its payments stay, for the accounts): the account it belongs to is being
    deleted."""
    return _call(
        "anonymising a customer",
        _client().v1.customers.update,
        customer_id,
        {field: "" for field in ANONYMISED_CUSTOMER_FIELDS},
    )


# What Stripe's customer object holds of the person (an empty string unsets each).
ANONYMISED_CUSTOMER_FIELDS = ("name", "email", "phone", "description", "address", "shipping")


def retrieve_price(price_id: str) -> dict:
    return _call("a price", _client().v1.prices.retrieve, price_id)


def latest_charge(payment_intent_id: str) -> dict:
    """The payment's charge (its receipt, what was refunded), or {} when there is none yet or
    Stripe cannot say."""
    try:
        intent = _call(
            "a payment intent",
            _client().v1.payment_intents.retrieve,
            payment_intent_id,
            {"expand": ["latest_charge"]},
        )
    except BillingError:
        return {}
    charge = intent.get("latest_charge")
    return charge if isinstance(charge, dict) else {}


# --- the catalogue ----------------------------------------------------------------------------
def retrieve_product(product_id: str) -> dict | None:
    try:
        return _call("a product", _client().v1.products.retrieve, product_id)
    except StripeUnavailable as error:
        if is_missing(error):
            return None
        raise


def create_product(params: dict) -> dict:
    return _call("a new product", _client().v1.products.create, params)


def update_product(product_id: str, params: dict) -> dict:
    return _call("a product update", _client().v1.products.update, product_id, params)


def active_price_with_lookup_key(lookup_key: str) -> dict | None:
    page = _call(
        "the prices",
        _client().v1.prices.list,
        {"lookup_keys": [lookup_key], "active": True, "limit": 1},
    )
    return page["data"][0] if page["data"] else None


def create_price(params: dict) -> dict:
    return _call("a new price", _client().v1.prices.create, params)


def deactivate_price(price_id: str) -> dict:
    return _call("retiring a price", _client().v1.prices.update, price_id, {"active": False})
