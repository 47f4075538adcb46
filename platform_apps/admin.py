"""The back office of platform apps: every app, deleted ones included, with their requirements
(and the history of each text), pricing and forks.

An app's status moves through `services` only: the owner's pages, or the actions here (soft
delete, and restore, which only staff can do and which records who did it). The domain typed
here is normalised and checked like on the site.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from platform_apps import selectors, services
from platform_apps.domains import InvalidDomain, normalize_domain
from platform_apps.models import (
    App,
    AppStatus,
    MonetizationModel,
    Requirement,
    RequirementRevision,
)


class AppAdminForm(forms.ModelForm):
    class Meta:
        model = App
        fields = ("name", "description", "user", "forked_from", "domain")

    def clean_domain(self):
        try:
            domain = normalize_domain(self.cleaned_data.get("domain"))
        except InvalidDomain as exc:
            raise forms.ValidationError(exc.message) from None
        if domain and selectors.domain_taken(domain, exclude_app_id=self.instance.pk):
            raise forms.ValidationError(services.domain_taken_message(domain))
        return domain


class RequirementInline(admin.TabularInline):
    """Read here; changed on the requirement's own page, where a new text makes a version."""

    model = Requirement
    extra = 0
    fields = ("description", "priority", "status", "version", "updated_at")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class MonetizationModelInline(admin.TabularInline):
    model = MonetizationModel
    extra = 0
    fields = ("type", "price", "subscription_interval", "features")


@admin.register(App)
class AppAdmin(admin.ModelAdmin):
    form = AppAdminForm
    list_display = ("name", "user", "status", "domain", "forked_from", "created_at", "deleted_at")
    list_filter = ("status", "created_at")
    list_select_related = ("user", "forked_from")
    search_fields = ("name", "description", "domain", "user__email", "id")
    date_hierarchy = "created_at"
    autocomplete_fields = ("user", "forked_from")
    fields = (
        "id",
        "name",
        "description",
        "user",
        "forked_from",
        "status",
        "domain",
        "deleted_at",
        "staff_actions_list",
        "created_at",
        "updated_at",
    )
    readonly_fields = (
        "id",
        "status",
        "deleted_at",
        "staff_actions_list",
        "created_at",
        "updated_at",
    )
    inlines = [RequirementInline, MonetizationModelInline]
    actions = ("soft_delete_apps", "restore_apps")

    @admin.display(description="Staff actions")
    def staff_actions_list(self, app):
        if not app.staff_actions:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} at {} by {}</li>",
                (
                    (entry.get("action"), entry.get("at"), entry.get("by"))
                    for entry in app.staff_actions
                ),
            ),
        )

    @admin.action(description="Soft-delete the selected apps (hidden everywhere but here)")
    def soft_delete_apps(self, request, queryset):
        done = 0
        for app in queryset.exclude(status=AppStatus.DELETED):
            services.delete_app(app=app)
            done += 1
        self.message_user(request, f"{done} app(s) deleted.", messages.SUCCESS)

    @admin.action(description="Restore the selected deleted apps (as drafts)")
    def restore_apps(self, request, queryset):
        done = 0
        for app in queryset.filter(status=AppStatus.DELETED):
            services.restore_app(app=app, actor=request.user)
            done += 1
        level = messages.SUCCESS if done else messages.WARNING
        self.message_user(request, f"{done} app(s) restored as drafts.", level)


class RequirementRevisionInline(admin.TabularInline):
    model = RequirementRevision
    extra = 0
    fields = ("version", "description", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Requirement)
class RequirementAdmin(admin.ModelAdmin):
    list_display = ("__str__", "app", "priority", "status", "version", "updated_at")
    list_filter = ("priority", "status")
    list_select_related = ("app",)
    search_fields = ("description", "app__name", "id")
    autocomplete_fields = ("app",)
    readonly_fields = ("id", "version", "created_at", "updated_at")
    inlines = [RequirementRevisionInline]

    def get_readonly_fields(self, request, obj=None):
        # a requirement stays with its app (its history belongs there)
        return (*self.readonly_fields, "app") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # through the service, so a new text raises the version and keeps the earlier one
        services.update_requirement(
            requirement=obj,
            description=obj.description,
            priority=obj.priority,
            status=obj.status,
        )


@admin.register(RequirementRevision)
class RequirementRevisionAdmin(admin.ModelAdmin):
    """The history of requirement texts: read-only (written by `services.update_requirement`)."""

    list_display = ("requirement", "version", "created_at")
    list_select_related = ("requirement",)
    search_fields = ("description", "requirement__id", "requirement__app__name")
    readonly_fields = ("id", "requirement", "version", "description", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MonetizationModel)
class MonetizationModelAdmin(admin.ModelAdmin):
    list_display = ("app", "type", "price", "subscription_interval", "created_at")
    list_filter = ("type", "subscription_interval")
    list_select_related = ("app",)
    search_fields = ("app__name", "id")
    autocomplete_fields = ("app",)
    readonly_fields = ("id", "created_at", "updated_at")
