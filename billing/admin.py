from django.contrib import admin

from billing.models import StripePayment, Subscription, SubscriptionPlan


@admin.register(SubscriptionPlan)
class SubscriptionPlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "tokens_per_month",
        "price_gbp",
        "max_rollover",
        "priority",
        "api_access",
        "active",
        "sort_order",
        "stripe_price_id",
    )
    list_editable = ("active", "sort_order")
    list_filter = ("active", "priority", "api_access")
    search_fields = ("name", "stripe_price_id", "id")
    ordering = ("sort_order", "price_gbp")
    readonly_fields = ("id", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("id", "name", "stripe_price_id", "active", "sort_order")}),
        (
            "What it gives",
            {"fields": ("tokens_per_month", "max_rollover", "priority", "api_access")},
        ),
        ("Price", {"fields": ("price_gbp",)}),
        ("Audit", {"fields": ("created_at", "updated_at")}),
    )


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "stripe_price_id",
        "status",
        "tokens_per_month",
        "rollover_tokens",
        "current_period_end",
        "cancel_at_period_end",
    )
    list_filter = ("status", "cancel_at_period_end", "stripe_price_id")
    list_select_related = ("user",)
    search_fields = ("user__email", "stripe_subscription_id", "stripe_price_id", "id")
    date_hierarchy = "current_period_end"
    raw_id_fields = ("user",)
    readonly_fields = ("id", "stripe_subscription_id", "created_at", "updated_at")


@admin.register(StripePayment)
class StripePaymentAdmin(admin.ModelAdmin):
    """Payments are written by the Stripe webhook; the admin reads them (and may fix a status)."""

    list_display = (
        "stripe_payment_intent_id",
        "user",
        "package",
        "tokens_granted",
        "amount_usd",
        "currency",
        "status",
        "created_at",
    )
    list_filter = ("status", "currency", "created_at")
    list_select_related = ("user", "package")
    search_fields = ("stripe_payment_intent_id", "user__email", "id")
    date_hierarchy = "created_at"
    readonly_fields = (
        "id",
        "user",
        "package",
        "tokens_granted",
        "amount_usd",
        "currency",
        "stripe_payment_intent_id",
        "metadata",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
