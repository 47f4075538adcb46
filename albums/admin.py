from django.contrib import admin

from albums.models import Album, AlbumImage


class AlbumImageInline(admin.TabularInline):
    model = AlbumImage
    extra = 0
    raw_id_fields = ("image",)
    fields = ("image", "sort_order", "added_at")
    readonly_fields = ("added_at",)
    ordering = ("sort_order", "added_at")


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "privacy", "image_count", "sort_order", "created_at")
    list_filter = ("privacy", "created_at")
    list_select_related = ("user",)
    search_fields = ("name", "description", "user__email", "id", "share_token")
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)
    raw_id_fields = ("cover_image",)
    readonly_fields = ("id", "created_at", "updated_at")
    inlines = [AlbumImageInline]
    fieldsets = (
        (None, {"fields": ("id", "user", "name", "description", "cover_image", "sort_order")}),
        ("Sharing", {"fields": ("privacy", "share_token")}),
        ("Audit", {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_image_count=Count("album_images"))

    @admin.display(description="Images", ordering="_image_count")
    def image_count(self, obj):
        return obj._image_count


@admin.register(AlbumImage)
class AlbumImageAdmin(admin.ModelAdmin):
    list_display = ("id", "album", "image", "sort_order", "added_at")
    list_select_related = ("album", "image")
    list_filter = ("added_at",)
    search_fields = ("album__name", "image__name", "album__user__email", "id")
    raw_id_fields = ("album", "image")
    readonly_fields = ("id", "added_at")
