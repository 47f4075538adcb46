import csv

from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from vouchers import services
from vouchers.forms import BatchForm, VoucherAdminForm
from vouchers.models import Voucher, VoucherRedemption

CSV_COLUMNS = (
    "code",
    "type",
    "value",
    "status",
    "current_uses",
    "max_uses",
    "expires_at",
    "created_at",
    "redeemed_by",
    "redeemed_at",
    "tokens_granted",
    "applied_at",
    "applied_to",
)


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = (
        "" if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))
    )
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class VoucherRedemptionInline(admin.TabularInline):
    """Redemptions are written by the redeem service (with their tokens): shown, never edited."""

    model = VoucherRedemption
    extra = 0
    fields = ("user", "tokens_granted", "redeemed_at", "applied_at", "applied_to")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    form = VoucherAdminForm
    change_list_template = "admin/vouchers/voucher/change_list.html"
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
    actions = ["export_csv", "deactivate"]
    fieldsets = (
        (None, {"fields": ("id", "code", "type", "value", "status")}),
        ("Limits", {"fields": ("max_uses", "current_uses", "expires_at")}),
        ("More", {"fields": ("metadata",)}),
        ("Audit", {"fields": ("created_at", "updated_at")}),
    )

    def get_urls(self):
        generate = path(
            "generate/",
            self.admin_site.admin_view(self.generate_view),
            name="vouchers_voucher_generate",
        )
        return [generate, *super().get_urls()]

    def generate_view(self, request):
        """Generate a batch of random codes (services.generate_batch) in one step."""
        if not self.has_add_permission(request):
            return HttpResponse(status=403)
        form = BatchForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            made = services.generate_batch(
                count=data["count"],
                prefix=data["prefix"],
                type=data["type"],
                value=data["value"],
                max_uses=data["max_uses"],
                expires_at=data["expires_at"],
                length=data["length"],
                created_by=request.user,
            )
            batch = made[0].metadata["batch"]
            for voucher in made:
                self.log_addition(request, voucher, [{"added": {"batch": batch}}])
            self.message_user(
                request, f"{len(made)} voucher codes generated (batch {batch}).", messages.SUCCESS
            )
            url = reverse("admin:vouchers_voucher_changelist")
            return redirect(f"{url}?metadata__batch={batch}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Generate voucher codes",
            "form": form,
        }
        return TemplateResponse(request, "admin/vouchers/voucher/generate.html", context)

    def lookup_allowed(self, lookup, value, request=None):
        # the batch link after a generation filters on the batch id in metadata
        return lookup == "metadata__batch" or super().lookup_allowed(lookup, value, request)

    @admin.action(description="Export the selected codes and their redemptions as CSV")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="vouchers-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        vouchers = queryset.order_by("code").prefetch_related("redemptions__user")
        for voucher in vouchers:
            head = [
                voucher.code,
                voucher.type,
                voucher.value,
                voucher.status,
                voucher.current_uses,
                voucher.max_uses,
                voucher.expires_at,
                voucher.created_at,
            ]
            redemptions = sorted(voucher.redemptions.all(), key=lambda r: r.redeemed_at)
            if not redemptions:
                writer.writerow([_cell(v) for v in head] + [""] * 5)
            for r in redemptions:
                tail = [r.user.email, r.redeemed_at, r.tokens_granted, r.applied_at, r.applied_to]
                writer.writerow([_cell(v) for v in head + tail])
        return response

    @admin.action(description="Deactivate the selected vouchers", permissions=["change"])
    def deactivate(self, request, queryset):
        active = list(queryset.filter(status="ACTIVE"))
        count = services.deactivate(voucher_ids=[v.pk for v in active])
        for voucher in active:
            self.log_change(request, voucher, "Deactivated")
        self.message_user(
            request, f"{count} voucher{'s' if count != 1 else ''} deactivated.", messages.SUCCESS
        )


@admin.register(VoucherRedemption)
class VoucherRedemptionAdmin(admin.ModelAdmin):
    list_display = ("voucher", "user", "tokens_granted", "redeemed_at", "applied_at")
    list_filter = ("redeemed_at", "voucher__type", "applied_at")
    list_select_related = ("voucher", "user")
    search_fields = ("voucher__code", "user__email", "id")
    date_hierarchy = "redeemed_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
