"""The back office for albums: albums with their images (thumbnail, order, cover), privacy and
link; staff unpublishing of an album or an image with a reason its owner sees (recorded with who
did it), and lifting it; the once-a-day view records (read only).

Unpublishing goes through `albums.services`, so the album turns private (its link dies) or the
image leaves the gallery in the same transaction as the record."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Exists, OuterRef
from django.template.response import TemplateResponse
from django.utils.html import format_html

from albums import services
from albums.models import Album, AlbumImage, DailyView, Unpublication
from core.forms import DescriptionField
from enhancement import storage


def _thumb(image) -> str:
    if image is None:
        return "—"
    url = storage.url_for(image.thumbnail_r2_key.name or image.preview_r2_key.name)
    if not url:
        return "—"
    return format_html('<img src="{}" alt="" width="64" height="64">', url)


class ReasonForm(forms.Form):
    reason = DescriptionField(
        max_length=2000,
        label="Reason (shown to the owner)",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        error_messages={"required": "Give the owner a reason."},
    )


class AlbumImageInline(admin.TabularInline):
    model = AlbumImage
    extra = 0
    raw_id_fields = ("image",)
    fields = ("thumbnail", "image", "sort_order", "added_at")
    readonly_fields = ("thumbnail", "added_at")
    ordering = ("sort_order", "added_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("image")

    @admin.display(description="Thumbnail")
    def thumbnail(self, obj):
        return _thumb(obj.image if obj.image_id else None)


class UnpublicationInline(admin.TabularInline):
    model = Unpublication
    fk_name = "album"
    extra = 0
    can_delete = False
    fields = ("reason", "unpublished_by", "created_at", "lifted_at", "lifted_by")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False  # through the "Unpublish" action, which makes the album private too


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "privacy",
        "image_count",
        "view_count",
        "unpublished",
        "sort_order",
        "created_at",
    )
    list_filter = ("privacy", "allow_download", "created_at")
    list_select_related = ("user",)
    search_fields = ("name", "description", "user__email", "id", "share_token")
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)
    raw_id_fields = ("cover_image",)
    readonly_fields = (
        "id",
        "cover",
        "password_set",
        "view_count",
        "created_at",
        "updated_at",
    )
    inlines = [AlbumImageInline, UnpublicationInline]
    actions = ["unpublish", "allow_sharing_again"]
    fieldsets = (
        (
            None,
            {"fields": ("id", "user", "name", "description", "cover", "cover_image", "sort_order")},
        ),
        (
            "Sharing",
            {
                "fields": (
                    "privacy",
                    "share_token",
                    "share_expires_at",
                    "password_set",
                    "allow_download",
                    "view_count",
                )
            },
        ),
        ("Audit", {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _image_count=Count("album_images"),
                _unpublished=Exists(
                    Unpublication.objects.filter(album=OuterRef("pk"), lifted_at__isnull=True)
                ),
            )
        )

    @admin.display(description="Images", ordering="_image_count")
    def image_count(self, obj):
        return obj._image_count

    @admin.display(description="Unpublished", boolean=True, ordering="_unpublished")
    def unpublished(self, obj):
        return obj._unpublished

    @admin.display(description="Cover")
    def cover(self, obj):
        return _thumb(obj.cover_image)

    @admin.display(description="Link password", boolean=True)
    def password_set(self, obj):
        return obj.has_password

    @admin.action(description="Unpublish the selected albums (with a reason for the owner)")
    def unpublish(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done = 0
            for album in queryset:
                services.unpublish_album(
                    album=album, reason=form.cleaned_data["reason"], by=request.user
                )
                done += 1
            self.message_user(
                request,
                f"{done} album{'s' if done != 1 else ''} unpublished: private now, their links "
                "stopped, and their owners see your reason.",
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "albums/admin/unpublish.html",
            {
                **self.admin_site.each_context(request),
                "title": "Unpublish albums",
                "objects": queryset,
                "form": form,
                "action": "unpublish",
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Allow the selected albums to be shared again")
    def allow_sharing_again(self, request, queryset):
        lifted = 0
        for record in Unpublication.objects.filter(album__in=queryset, lifted_at__isnull=True):
            services.lift_unpublication(unpublication=record, by=request.user)
            lifted += 1
        self.message_user(
            request, f"{lifted} album{'s' if lifted != 1 else ''} may be shared again."
        )


@admin.register(AlbumImage)
class AlbumImageAdmin(admin.ModelAdmin):
    list_display = ("id", "thumbnail", "album", "image", "sort_order", "added_at")
    list_select_related = ("album", "image")
    list_filter = ("added_at",)
    search_fields = ("album__name", "image__name", "album__user__email", "id")
    raw_id_fields = ("album", "image")
    readonly_fields = ("id", "added_at")

    @admin.display(description="Thumbnail")
    def thumbnail(self, obj):
        return _thumb(obj.image)


class UnpublicationForm(forms.ModelForm):
    class Meta:
        model = Unpublication
        fields = ["image", "album", "reason"]

    def clean(self):
        data = super().clean()
        if bool(data.get("image")) == bool(data.get("album")):
            raise forms.ValidationError("Choose either an image or an album to unpublish.")
        return data


@admin.register(Unpublication)
class UnpublicationAdmin(admin.ModelAdmin):
    """Staff's record of what they took off public view. "Add" unpublishes an image (or an
    album) by id; the image's owner sees the reason on its page."""

    form = UnpublicationForm
    list_display = ("target", "owner", "short_reason", "unpublished_by", "created_at", "active")
    list_filter = ("created_at", ("lifted_at", admin.EmptyFieldListFilter))
    list_select_related = ("album__user", "image__user", "unpublished_by")
    search_fields = ("reason", "album__name", "image__name", "album__id", "image__id")
    raw_id_fields = ("image", "album")
    readonly_fields = ("unpublished_by", "created_at", "lifted_at", "lifted_by")
    actions = ["lift"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # a record is what happened: not edited afterwards
            return ("image", "album", "reason", *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        if obj.image_id:
            record = services.unpublish_image(image=obj.image, reason=obj.reason, by=request.user)
        else:
            record = services.unpublish_album(album=obj.album, reason=obj.reason, by=request.user)
        obj.pk = record.pk
        obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        return False  # lift it instead: the record stays

    @admin.display(description="Album or image")
    def target(self, obj):
        if obj.album_id:
            return f"Album: {obj.album}"
        return f"Image: {obj.image}"

    @admin.display(description="Owner")
    def owner(self, obj):
        return (obj.album or obj.image).user

    @admin.display(description="Reason")
    def short_reason(self, obj):
        return obj.reason if len(obj.reason) <= 80 else obj.reason[:79] + "…"

    @admin.display(description="Active", boolean=True)
    def active(self, obj):
        return obj.lifted_at is None

    @admin.action(description="Lift: allow sharing or publishing again")
    def lift(self, request, queryset):
        count = 0
        for record in queryset.filter(lifted_at__isnull=True):
            services.lift_unpublication(unpublication=record, by=request.user)
            count += 1
        self.message_user(request, f"{count} lifted.")


@admin.register(DailyView)
class DailyViewAdmin(admin.ModelAdmin):
    list_display = ("object_id", "visitor_key", "day")
    list_filter = ("day",)
    search_fields = ("object_id",)
    readonly_fields = ("id", "object_id", "visitor_key", "day")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
