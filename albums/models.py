from django.conf import settings
from django.db import models
from django.db.models import Q

from core.fields import IdField, TimestampedModel


class AlbumPrivacy(models.TextChoices):
    PRIVATE = "PRIVATE", "Private"
    UNLISTED = "UNLISTED", "Unlisted (anyone with the link)"
    PUBLIC = "PUBLIC", "Public (listed in the gallery)"


class Album(TimestampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="albums"
    )
    name = models.CharField(max_length=255)
    description = models.TextField(null=True, blank=True)
    cover_image = models.ForeignKey(
        "enhancement.EnhancedImage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_column="cover_image_id",
    )
    privacy = models.CharField(
        max_length=16, choices=AlbumPrivacy.choices, default=AlbumPrivacy.PRIVATE
    )
    share_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "-created_at"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="album_user_created_idx"),
            models.Index(fields=["share_token"], name="album_share_token_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(privacy="PRIVATE") | Q(share_token__isnull=False),
                name="album_shared_has_token",
            ),
        ]

    def __str__(self):
        return self.name


class AlbumImage(models.Model):
    id = IdField()
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="album_images")
    image = models.ForeignKey(
        "enhancement.EnhancedImage", on_delete=models.CASCADE, related_name="album_images"
    )
    sort_order = models.IntegerField(default=0)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sort_order", "added_at"]
        constraints = [
            models.UniqueConstraint(fields=["album", "image"], name="album_image_unique"),
        ]

    def __str__(self):
        return f"{self.image_id} in {self.album_id}"
