from django.apps import AppConfig


def _known_redemptions(ids: set[str]):
    from vouchers.models import VoucherRedemption

    return VoucherRedemption.objects.filter(pk__in=ids).values_list("pk", flat=True)


class VouchersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "vouchers"
    verbose_name = "Vouchers"

    def ready(self):
        from billing import bonuses, checkout_hooks
        from tokens import sources as ledger_sources
        from vouchers import services

        # a ledger row of source "voucher" names its redemption (check_ledger verifies it)
        ledger_sources.register("voucher", label="Voucher", known_ids=_known_redemptions)
        bonuses.register("vouchers", services.bonus_for_purchase)
        checkout_hooks.register("vouchers", services.extras_for_checkout)
        # Its part of "Download my data" (accounts.exports.sections).
        from vouchers import data_export

        data_export.register()
