from django.conf import settings
from django.contrib import admin, messages

from accounts.templatetags.money import money
from tokens import services
from tokens.admin_actions import grant_tokens
from tokens.models import TokensPackage, TokenTransaction, UserTokenBalance


class CapFilter(admin.SimpleListFilter):
    title = "balance"
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [
            ("empty", "Empty (0)"),
            ("below", "Below the regeneration cap"),
            ("cap", "At or above the cap"),
        ]

    def queryset(self, request, queryset):
        cap = settings.TOKEN_REGEN_CAP
        return {
            "empty": lambda: queryset.filter(balance=0),
            "below": lambda: queryset.filter(balance__lt=cap),
            "cap": lambda: queryset.filter(balance__gte=cap),
        }.get(self.value(), lambda: queryset)()


@admin.register(UserTokenBalance)
class UserTokenBalanceAdmin(admin.ModelAdmin):
    """Balances are read-only here: they change only through tokens.services, so that each
    change has its ledger entry (`manage.py check_ledger`). Rows are created with the user."""

    list_display = ["user", "balance", "last_regeneration", "updated_at"]
    list_filter = [CapFilter, "last_regeneration"]
    search_fields = ["user__email", "user__id", "user__name"]
    list_select_related = ["user"]
    readonly_fields = ["id", "user", "balance", "last_regeneration", "created_at", "updated_at"]
    ordering = ["-updated_at"]
    actions = ["apply_regeneration", grant_tokens]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Apply the regeneration that is due")
    def apply_regeneration(self, request, queryset):
        credited = 0
        for user_id in queryset.values_list("user_id", flat=True):
            if services.regenerate(user=user_id) is not None:
                credited += 1
        self.message_user(request, f"{credited} balance(s) credited.", messages.SUCCESS)


@admin.register(TokenTransaction)
class TokenTransactionAdmin(admin.ModelAdmin):
    """The ledger is append-only: viewable, never added, changed or deleted here."""

    list_display = ["created_at", "user", "type", "amount", "balance_after", "source", "source_id"]
    list_filter = ["type", "source", "created_at"]
    search_fields = ["user__email", "user__id", "source_id", "idempotency_key", "id"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    fields = [
        "id",
        "user",
        "type",
        "amount",
        "balance_after",
        "source",
        "source_id",
        "idempotency_key",
        "metadata",
        "created_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TokensPackage)
class TokensPackageAdmin(admin.ModelAdmin):
    """Packs and their Stripe price ids (`manage.py stripe_catalogue` writes them; a changed
    price gets a new Stripe price on its next run)."""

    list_display = [
        "name",
        "tokens",
        "price",
        "active",
        "sort_order",
        "stripe_price_id",
    ]
    list_editable = ["active", "sort_order"]
    list_filter = ["active", "currency"]
    search_fields = ["name", "stripe_price_id"]
    ordering = ["sort_order", "price_usd"]
    readonly_fields = ["id", "created_at", "updated_at"]

    # `price_usd` is the schema's name; the amount is in the pack's `currency` (the shop's, GBP
    # by default), so the back office names the currency, never "USD".
    @admin.display(description="Price", ordering="price_usd")
    def price(self, package):
        return money(package.price_usd, package.currency)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        currency = (obj.currency if obj else settings.SHOP_CURRENCY).upper()
        if "price_usd" in form.base_fields:
            form.base_fields["price_usd"].label = f"Price ({currency})"
            form.base_fields["price_usd"].help_text = "In the currency below."
        return form
