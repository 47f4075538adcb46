"""The back office for images. Deleting goes through `services.delete_image`, so the stored
objects go with the row (after the commit) and images with unfinished jobs are kept."""

from django.contrib import admin, messages
from django.utils.html import format_html

from enhancement import storage
from enhancement.images import services
from enhancement.models import EnhancedImage


@admin.register(EnhancedImage)
class EnhancedImageAdmin(admin.ModelAdmin):
    list_display = (
        "thumbnail",
        "name",
        "user",
        "dimensions",
        "original_format",
        "original_size_bytes",
        "is_public",
        "view_count",
        "created_at",
    )
    list_display_links = ("thumbnail", "name")
    list_filter = ("is_public", "original_format", "created_at")
    search_fields = ("id", "name", "description", "user__email")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    raw_id_fields = ("user",)
    fields = (
        "preview",
        "id",
        "user",
        "name",
        "description",
        "is_public",
        "view_count",
        "original_r2_key",
        "thumbnail_r2_key",
        "preview_r2_key",
        "original_width",
        "original_height",
        "original_size_bytes",
        "original_format",
        "created_at",
        "updated_at",
    )
    # Only what a person wrote is editable; the file facts and keys are the upload's record.
    readonly_fields = tuple(f for f in fields if f not in ("name", "description", "is_public"))

    def has_add_permission(self, request):
        return False  # images come in through the upload, which checks and stores them

    @admin.display(description="Thumbnail")
    def thumbnail(self, obj):
        url = storage.url_for(obj.thumbnail_r2_key.name)
        if not url:
            return "—"
        return format_html('<img src="{}" alt="" width="64" height="64">', url)

    @admin.display(description="Preview")
    def preview(self, obj):
        url = storage.url_for(obj.preview_r2_key.name)
        if not url:
            return "—"
        return format_html('<img src="{}" alt="">', url)

    @admin.display(description="Dimensions")
    def dimensions(self, obj):
        return f"{obj.original_width} × {obj.original_height}"

    def has_delete_permission(self, request, obj=None):
        if (
            obj is not None
            and obj.enhancement_jobs.filter(status__in=services.UNFINISHED_JOB_STATUSES).exists()
        ):
            return False  # a job may still write files or owe a refund
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        try:
            services.delete_image(image=obj)
        except services.ImageBusy as exc:
            self.message_user(request, f"{obj}: {exc}", messages.ERROR)

    def delete_queryset(self, request, queryset):
        for image in queryset:
            self.delete_model(request, image)
