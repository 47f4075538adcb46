from django.contrib import admin

from platform_apps.models import App, MonetizationModel, Requirement


class RequirementInline(admin.TabularInline):
    model = Requirement
    extra = 0
    fields = ("description", "priority", "status", "version", "updated_at")
    readonly_fields = ("updated_at",)


class MonetizationModelInline(admin.TabularInline):
    model = MonetizationModel
    extra = 0
    fields = ("type", "price", "subscription_interval", "features")


@admin.register(App)
class AppAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "status", "domain", "forked_from", "created_at")
    list_filter = ("status", "created_at")
    list_select_related = ("user", "forked_from")
    search_fields = ("name", "description", "domain", "user__email", "id")
    date_hierarchy = "created_at"
    autocomplete_fields = ("user", "forked_from")
    readonly_fields = ("id", "created_at", "updated_at")
    inlines = [RequirementInline, MonetizationModelInline]


@admin.register(Requirement)
class RequirementAdmin(admin.ModelAdmin):
    list_display = ("__str__", "app", "priority", "status", "version", "updated_at")
    list_filter = ("priority", "status")
    list_select_related = ("app",)
    search_fields = ("description", "app__name", "id")
    autocomplete_fields = ("app",)
    readonly_fields = ("id", "created_at", "updated_at")


@admin.register(MonetizationModel)
class MonetizationModelAdmin(admin.ModelAdmin):
    list_display = ("app", "type", "price", "subscription_interval", "created_at")
    list_filter = ("type", "subscription_interval")
    list_select_related = ("app",)
    search_fields = ("app__name", "id")
    autocomplete_fields = ("app",)
    readonly_fields = ("id", "created_at", "updated_at")
