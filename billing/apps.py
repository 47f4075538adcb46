from django.apps import AppConfig


def known_payment_ids(ids: set[str]):
    from billing.models import StripePayment

    return StripePayment.objects.filter(pk__in=ids).values_list("pk", flat=True)


def known_subscription_ids(ids: set[str]):
    from billing.models import Subscription

    return Subscription.objects.filter(pk__in=ids).values_list("pk", flat=True)


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        from accounts import deletion as account_deletion
        from billing import checks, deletion, webhooks  # noqa: F401 (system checks)
        from tokens import sources as ledger_sources

        # The ledger rows billing writes: a pack payment's grant and clawbacks (source_id: the
        # StripePayment), a subscription's period grants (source_id: the Subscription).
        ledger_sources.register("stripe", label="Payment", known_ids=known_payment_ids)
        ledger_sources.register(
            "subscription", label="Subscription", known_ids=known_subscription_ids
        )
        webhooks.connect()
        # An account's deletion first ends its subscription at Stripe (nothing is deleted if
        # Stripe cannot be reached); payments and the subscription's row stay, anonymised.
        account_deletion.register_preparation("billing", deletion.cancel_subscriptions, order=10)
        # Then the person leaves Stripe's customer record and dj-stripe's copies of it.
        account_deletion.register_preparation(
            "billing-customer", deletion.anonymise_customer_at_stripe, order=20
        )
        account_deletion.register("billing-customer", deletion.anonymise_customer_records, order=50)
        account_deletion.register_summary("billing", deletion.summary, order=60)
        # Its part of "Download my data" (accounts.exports.sections).
        from billing import data_export

        data_export.register()
