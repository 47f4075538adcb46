from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.templatetags.money import money
from billing import subscriptions
from billing.errors import BillingError
from billing.models import StripePayment, Subscription, SubscriptionPlan
from tokens.models import TokenTransaction


@admin.register(SubscriptionPlan)
class SubscriptionPlanAdmin(admin.ModelAdmin):
    """Plans and their Stripe price ids (`manage.py stripe_catalogue` writes them; a changed
    price gets a new Stripe price on its next run)."""

    list_display = (
        "name",
        "tokens_per_month",
        "price",
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

    @admin.display(description="Price a month", ordering="price_gbp")
    def price(self, plan):
        return money(plan.price_gbp, "gbp")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "price_gbp" in form.base_fields:
            form.base_fields["price_gbp"].label = "Price a month (GBP)"
        return form


def _resync(modeladmin, request, queryset):
    """Read each selected user's subscriptions from Stripe again (grants nothing)."""
    users = {row.user for row in queryset.select_related("user")}
    done = 0
    for user in users:
        try:
            subscriptions.resync_customer(user=user, actor=request.user)
        except BillingError as error:
            modeladmin.message_user(request, f"{user}: {error}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(
            request, f"{done} customer(s) re-synced from Stripe.", messages.SUCCESS
        )


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Subscriptions follow Stripe through the webhooks; staff read them here and may re-sync
    a customer whose webhook went missing (recorded on the row)."""

    list_display = (
        "user",
        "plan",
        "status",
        "tokens_per_month",
        "rollover_tokens",
        "current_period_end",
        "cancel_at_period_end",
    )
    list_filter = ("status", "cancel_at_period_end", "plan")
    list_select_related = ("user", "plan")
    search_fields = ("user__email", "stripe_subscription_id", "stripe_price_id", "id")
    date_hierarchy = "current_period_end"
    actions = ("resync_from_stripe",)
    fields = (
        "id",
        "user",
        "plan",
        "stripe_subscription_id",
        "stripe_price_id",
        "status",
        "current_period_start",
        "current_period_end",
        "cancel_at_period_end",
        "trial_end",
        "tokens_per_month",
        "rollover_tokens",
        "max_rollover",
        "tokens_period_start",
        "ledger_rows",
        "staff_actions_list",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Ledger rows")
    def ledger_rows(self, subscription):
        return _ledger_rows("subscription", subscription.pk)

    @admin.display(description="Staff actions")
    def staff_actions_list(self, subscription):
        if not subscription.staff_actions:
            return "—"
        return format_html_join(
            "",
            "<p>{} by {} at {}</p>",
            (
                (a["action"], a.get("by_email", a["by"]), a["at"])
                for a in subscription.staff_actions
            ),
        )

    @admin.action(description="Re-sync the customer from Stripe")
    def resync_from_stripe(self, request, queryset):
        _resync(self, request, queryset)


def _ledger_rows(source: str, source_id: str):
    rows = TokenTransaction.objects.filter(source=source, source_id=source_id).order_by(
        "created_at"
    )
    changelist = reverse("admin:tokens_tokentransaction_changelist")
    items = format_html_join(
        "",
        '<li><a href="{}">{} {}</a> → {} <span class="muted">{}</span></li>',
        (
            (
                reverse("admin:tokens_tokentransaction_change", args=[row.pk]),
                row.get_type_display(),
                f"{row.amount:+d}",
                row.balance_after,
                row.created_at.strftime("%Y-%m-%d %H:%M"),
            )
            for row in rows
        ),
    )
    return format_html(
        '<ul class="ledger-rows">{}</ul>'
        '<a href="{}?source={}&amp;source_id={}">All in the ledger</a>',
        items,
        changelist,
        source,
        source_id,
    )


@admin.register(StripePayment)
class StripePaymentAdmin(admin.ModelAdmin):
    """Payments are written by the Stripe webhook; the admin reads them, with their ledger
    rows (the grant and any clawback)."""

    list_display = (
        "created_at",
        "user",
        "package",
        "tokens_granted",
        "amount",
        "status",
        "tokens_clawed_back",
    )
    list_filter = ("status", "currency", "package", "created_at")
    list_select_related = ("user", "package")
    search_fields = (
        "stripe_payment_intent_id",
        "stripe_checkout_session_id",
        "user__email",
        "id",
    )
    date_hierarchy = "created_at"
    actions = ("resync_from_stripe",)
    fields = (
        "id",
        "user",
        "package",
        "status",
        "tokens_granted",
        "amount",
        "currency",
        "refunded",
        "tokens_clawed_back",
        "ledger_rows",
        "receipt",
        "stripe_checkout_session_id",
        "stripe_payment_intent_id",
        "metadata",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Ledger rows")
    def ledger_rows(self, payment):
        return _ledger_rows("stripe", payment.pk)

    # `amount_usd` is the schema's name; Stripe charged it in the payment's `currency`.
    @admin.display(description="Amount", ordering="amount_usd")
    def amount(self, payment):
        return money(payment.amount_usd, payment.currency)

    @admin.display(description="Refunded")
    def refunded(self, payment):
        return money(payment.amount_refunded, payment.currency)

    @admin.display(description="Receipt")
    def receipt(self, payment):
        if not payment.receipt_url:
            return "—"
        return format_html(
            '<a href="{}" rel="noopener noreferrer">Stripe receipt</a>', payment.receipt_url
        )

    @admin.action(description="Re-sync the customer's subscription from Stripe")
    def resync_from_stripe(self, request, queryset):
        _resync(self, request, queryset)
