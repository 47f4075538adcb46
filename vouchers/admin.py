from django.contrib import admin

from vouchers.models import Voucher, VoucherRedemption


class VoucherRedemptionInline(admin.TabularInline):
    """Redemptions are written by the redeem service (with their tokens): shown, never edited."""

    model = VoucherRedemption
    extra = 0
    fields = ("user", "tokens_granted", "redeemed_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "type",
        "value",
        "current_uses",
        "max_uses",
        "status",
        "expires_at",
        "created_at",
    )
    list_filter = ("type", "status", "expires_at", "created_at")
    search_fields = ("code", "id")
    date_hierarchy = "created_at"
    readonly_fields = ("id", "current_uses", "created_at", "updated_at")
    inlines = [VoucherRedemptionInline]
    fieldsets = (
        (None, {"fields": ("id", "code", "type", "value", "status")}),
        ("Limits", {"fields": ("max_uses", "current_uses", "expires_at")}),
        ("More", {"fields": ("metadata",)}),
        ("Audit", {"fields": ("created_at", "updated_at")}),
    )


@admin.register(VoucherRedemption)
class VoucherRedemptionAdmin(admin.ModelAdmin):
    list_display = ("voucher", "user", "tokens_granted", "redeemed_at")
    list_filter = ("redeemed_at", "voucher__type")
    list_select_related = ("voucher", "user")
    search_fields = ("voucher__code", "user__email", "id")
    date_hierarchy = "redeemed_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
