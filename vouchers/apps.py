from django.apps import AppConfig


class VouchersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "vouchers"
    verbose_name = "Vouchers"

    def ready(self):
        from tokens import sources as ledger_sources

        ledger_sources.register("voucher", label="Voucher")
