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
        from billing import checks, webhooks  # noqa: F401 (system checks)
        from tokens import sources as ledger_sources

        # The ledger rows billing writes: a pack payment's grant and clawbacks (source_id: the
        # StripePayment), a subscription's period grants (source_id: the Subscription).
        ledger_sources.register("stripe", label="Payment", known_ids=known_payment_ids)
        ledger_sources.register(
            "subscription", label="Subscription", known_ids=known_subscription_ids
        )
        webhooks.connect()
