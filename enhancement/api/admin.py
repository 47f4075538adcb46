"""The API's rows in the back office: keys (never the secret: only its prefix and hash),
webhook endpoints, and the delivery log with a "send again" action."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone

from enhancement.api import webhooks
from enhancement.models import ApiKey, DeliveryStatus, WebhookDelivery, WebhookEndpoint


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("key_hash", "prefix", "last_used_at", "created_at", "updated_at")
    raw_id_fields = ("user",)
    actions = ("revoke",)

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        messages.success(request, f"Revoked {count} key(s).")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "user", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("secret",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "event_type",
        "job_id",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event_type")
    search_fields = ("job_id", "endpoint__url", "endpoint__user__email")
    list_select_related = ("endpoint",)
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ("send_again",)

    @admin.action(description="Send the selected deliveries again now")
    def send_again(self, request, queryset):
        now = timezone.now()
        count = queryset.update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            give_up_at=now + webhooks.retry_window(),
            updated_at=now,
        )
        messages.success(request, f"{count} delivery(ies) will be sent by the next sweep.")
