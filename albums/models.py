"""Albums, their images, staff unpublishing and the once-a-day view record.

An album is PRIVATE (its owner only), UNLISTED (anyone with its share link) or PUBLIC (listed in
the gallery, open at its own address, and its link works too). The share link is the album's
`share_token` (made when first needed, random, 192 bits); a link can carry an expiry, a
password (hashed) and an allow-download switch. The constraints keep the states honest: a
private album has no link at all, a shared one always has a token, a public one is open to
everyone (no password, no expiry).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.fields import IdField, TimestampedModel
from core.validators import no_control_characters, no_control_characters_but_line_breaks


class AlbumPrivacy(models.TextChoices):
    PRIVATE = "PRIVATE", "Private"
    UNLISTED = "UNLISTED", "Unlisted (anyone with the link)"
    PUBLIC = "PUBLIC", "Public (listed in the gallery)"


class Album(TimestampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="albums"
    )
    name = models.CharField(max_length=255, validators=[no_control_characters])
    description = models.TextField(
        null=True, blank=True, validators=[no_control_characters_but_line_breaks]
    )
    # The chosen cover; None means the first image in the album's order.
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
    # The share link's settings (an unlisted link; a public album is open to everyone).
    share_expires_at = models.DateTimeField(null=True, blank=True)
    share_password = models.CharField(max_length=128, blank=True, default="")  # a hash
    allow_download = models.BooleanField(default=False)
    # Visitors (not the owner) who opened the album's page, once per visitor per day.
    view_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "-created_at"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="album_user_created_idx"),
            models.Index(fields=["share_token"], name="album_share_token_idx"),
            # the gallery's albums, newest first and most viewed (keyset on (x, id))
            models.Index(fields=["privacy", "created_at", "id"], name="album_privacy_created_idx"),
            models.Index(fields=["privacy", "view_count", "id"], name="album_privacy_views_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(privacy="PRIVATE") | Q(share_token__isnull=False),
                name="album_shared_has_token",
            ),
            models.CheckConstraint(
                condition=~Q(privacy="PRIVATE")
                | (
                    Q(share_token__isnull=True)
                    & Q(share_password="")
                    & Q(share_expires_at__isnull=True)
                ),
                name="album_private_has_no_link",
            ),
            models.CheckConstraint(
                condition=~Q(privacy="PUBLIC")
                | (Q(share_password="") & Q(share_expires_at__isnull=True)),
                name="album_public_is_open",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_shared(self) -> bool:
        return self.privacy != AlbumPrivacy.PRIVATE

    @property
    def has_password(self) -> bool:
        return bool(self.share_password)


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
        indexes = [
            models.Index(fields=["album", "sort_order"], name="albumimage_album_order_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["album", "image"], name="album_image_unique"),
        ]

    def __str__(self):
        return f"{self.image_id} in {self.album_id}"


class Unpublication(models.Model):
    """Staff took an album or an image off public view, with a reason its owner sees.

    Active while `lifted_at` is empty: an unpublished album is private and cannot be shared
    again, an unpublished image is out of the gallery, cannot be published again and is left
    out of every shared or public album. Lifting keeps the row (who, when) as the record."""

    id = IdField()
    album = models.ForeignKey(
        Album, on_delete=models.CASCADE, null=True, blank=True, related_name="unpublications"
    )
    image = models.ForeignKey(
        "enhancement.EnhancedImage",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="unpublications",
    )
    reason = models.TextField(validators=[no_control_characters_but_line_breaks])
    unpublished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(album__isnull=False) & Q(image__isnull=True))
                | (Q(album__isnull=True) & Q(image__isnull=False)),
                name="unpublication_one_target",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="unpublication_has_reason"),
            models.UniqueConstraint(
                fields=["album"],
                condition=Q(lifted_at__isnull=True, album__isnull=False),
                name="unpublication_one_active_per_album",
            ),
            models.UniqueConstraint(
                fields=["image"],
                condition=Q(lifted_at__isnull=True, image__isnull=False),
                name="unpublication_one_active_per_image",
            ),
        ]

    def __str__(self):
        target = f"album {self.album_id}" if self.album_id else f"image {self.image_id}"
        return f"{target} unpublished{' (lifted)' if self.lifted_at else ''}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class DailyView(models.Model):
    """One visitor's view of one album or image on one day: the row that makes a view count
    once per visitor per day (its insert either happens or meets the unique constraint).

    `object_id` is the album's or the image's id (ids are unique across models); the visitor
    key is a signed-in user's id or a keyed hash of an anonymous visitor's address and browser,
    never the address itself. Rows older than yesterday are pruned daily."""

    id = IdField()
    object_id = models.CharField(max_length=25)
    visitor_key = models.CharField(max_length=64)
    day = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="dailyview_day_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["object_id", "visitor_key", "day"], name="daily_view_once"
            ),
        ]

    def __str__(self):
        return f"{self.object_id} by {self.visitor_key} on {self.day}"
