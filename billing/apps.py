from django.apps import AppConfig


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        from tokens import sources as ledger_sources

        # The sources of the ledger rows billing writes (their pages come with checkout).
        for source in ("stripe", "billing"):
            ledger_sources.register(source, label="Payment")
        ledger_sources.register("subscription", label="Subscription")
