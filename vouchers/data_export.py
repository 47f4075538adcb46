"""vouchers' part of a data export (`accounts.exports.sections`): voucher_redemptions.json,
every code the user redeemed and what it gave. Registered in `VouchersConfig.ready()`."""

from __future__ import annotations

from accounts.exports import sections
from vouchers.models import VoucherRedemption

DESCRIBES = "voucher_redemptions.json  every voucher code you redeemed and what it gave"


def redemption_rows(user):
    for redemption in (
        VoucherRedemption.objects.filter(user=user)
        .select_related("voucher")
        .order_by("redeemed_at", "pk")
        .iterator(200)
    ):
        yield {
            "id": redemption.pk,
            "code": redemption.voucher.code,
            "type": redemption.voucher.type,
            "value": redemption.voucher.value,
            "redeemed_at": redemption.redeemed_at,
            "tokens_granted": redemption.tokens_granted,
            "applied_at": redemption.applied_at,
        }


def write_vouchers(user, archive) -> None:
    archive.write_json_list("voucher_redemptions.json", redemption_rows(user))


def register() -> None:
    sections.register("vouchers", write_vouchers, order=70, describes=DESCRIBES)
