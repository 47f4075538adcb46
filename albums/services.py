"""The verbs of albums: make, edit and delete an album; add, remove, order its images and choose
its cover; share it (privacy, link, expiry, password, downloads), rotate or stop the link; staff
unpublishing; views counted once per visitor per day.

Every verb that changes an album's images or its link locks the album row first
(`select_for_update`), so two tabs adding, reordering or rotating at once are applied one after
the other, never interleaved. Errors are `AlbumError`s whose text a person can read; when one is
raised nothing was changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from albums.models import Album, AlbumImage, AlbumPrivacy, DailyView, Unpublication
from core.ids import new_id, new_share_token
from enhancement.images import services as image_services
from enhancement.models import EnhancedImage


class AlbumError(Exception):
    """Base of the album domain errors; `str(e)` is a sentence a person can read."""


class ImageNotYours(AlbumError):
    def __init__(self):
        super().__init__("Only your own images can go in your albums. Nothing was added.")


class ImageNotInAlbum(AlbumError):
    def __init__(self):
        super().__init__("That image is not in this album. Nothing was changed.")


class BadOrder(AlbumError):
    def __init__(self):
        super().__init__(
            "The new order must list every image of this album exactly once (the album may "
            "have changed in another tab). Nothing was changed: reload the page and try again."
        )


class AlbumFull(AlbumError):
    def __init__(self, limit: int):
        super().__init__(
            f"An album holds at most {limit} images. Nothing was added: make a second album."
        )


class AlbumUnpublished(AlbumError):
    def __init__(self, reason: str):
        super().__init__(
            "Our staff took this album off public view, so it cannot be shared for now. "
            f"Their reason: {reason}"
        )


class BadShareSettings(AlbumError):
    pass


# --- albums -------------------------------------------------------------------------------------
def create_album(*, user: AbstractBaseUser, name: str, description: str | None = None) -> Album:
    """A new private album (name and description already cleaned by the form)."""
    return Album.objects.create(user=user, name=name, description=description or None)


def update_album(*, album: Album, name: str, description: str | None) -> Album:
    album.name = name
    album.description = description or None
    album.save(update_fields=["name", "description", "updated_at"])
    return album


def delete_album(*, album: Album) -> None:
    """Delete the album and its list of images; the images themselves stay in the library."""
    Album.objects.filter(pk=album.pk).delete()


def _locked(album: Album) -> Album:
    return Album.objects.select_for_update().get(pk=album.pk)


# --- the images of an album ---------------------------------------------------------------------
@dataclass
class AddOutcome:
    added: list[str] = field(default_factory=list)  # image ids, in the order given
    already: list[str] = field(default_factory=list)  # image ids that were in the album


def add_images(*, album: Album, image_ids: Iterable[str]) -> AddOutcome:
    """Add the owner's images at the end of the album, in the order given (duplicates in the
    request counted once). An image already there stays where it is (`already`).

    Locks the album. Raises `ImageNotYours` if any id is not an image of the album's owner and
    `AlbumFull` past `ALBUM_MAX_IMAGES`; in both cases nothing is added."""
    wanted = list(dict.fromkeys(image_ids))
    if not wanted:
        return AddOutcome()
    with transaction.atomic():
        album = _locked(album)
        owned = set(
            EnhancedImage.objects.filter(pk__in=wanted, user_id=album.user_id).values_list(
                "pk", flat=True
            )
        )
        if owned != set(wanted):
            raise ImageNotYours()
        present = set(
            AlbumImage.objects.filter(album=album, image_id__in=wanted).values_list(
                "image_id", flat=True
            )
        )
        new = [image_id for image_id in wanted if image_id not in present]
        outcome = AddOutcome(added=new, already=[i for i in wanted if i in present])
        if not new:
            return outcome
        count = AlbumImage.objects.filter(album=album).count()
        if count + len(new) > settings.ALBUM_MAX_IMAGES:
            raise AlbumFull(settings.ALBUM_MAX_IMAGES)
        last = AlbumImage.objects.filter(album=album).aggregate(m=Max("sort_order"))["m"]
        start = -1 if last is None else last
        AlbumImage.objects.bulk_create(
            AlbumImage(album=album, image_id=image_id, sort_order=start + 1 + index)
            for index, image_id in enumerate(new)
        )
        Album.objects.filter(pk=album.pk).update(updated_at=timezone.now())
        return outcome


def remove_image(*, album: Album, image_id: str) -> None:
    """Take an image out of the album (it stays in the library). If it was the cover, the cover
    goes back to the first image. Raises `ImageNotInAlbum`."""
    with transaction.atomic():
        album = _locked(album)
        deleted, _ = AlbumImage.objects.filter(album=album, image_id=image_id).delete()
        if not deleted:
            raise ImageNotInAlbum()
        fields = {"updated_at": timezone.now()}
        if album.cover_image_id == image_id:
            fields["cover_image"] = None
        Album.objects.filter(pk=album.pk).update(**fields)


def _ordered_ids(album: Album) -> list[str]:
    return list(
        AlbumImage.objects.filter(album=album)
        .order_by("sort_order", "added_at", "id")
        .values_list("image_id", flat=True)
    )


def _save_order(album: Album, image_ids: list[str]) -> None:
    rows = list(AlbumImage.objects.filter(album=album))
    position = {image_id: index for index, image_id in enumerate(image_ids)}
    changed = []
    for row in rows:
        if row.sort_order != position[row.image_id]:
            row.sort_order = position[row.image_id]
            changed.append(row)
    AlbumImage.objects.bulk_update(changed, ["sort_order"], batch_size=500)
    Album.objects.filter(pk=album.pk).update(updated_at=timezone.now())


def reorder(*, album: Album, image_ids: list[str]) -> None:
    """Put the album's images in the order given, which must name each of them exactly once.
    Locks the album; raises `BadOrder` (nothing changed) otherwise."""
    with transaction.atomic():
        album = _locked(album)
        current = _ordered_ids(album)
        if len(image_ids) != len(current) or set(image_ids) != set(current):
            raise BadOrder()
        _save_order(album, list(image_ids))


def move_image(*, album: Album, image_id: str, offset: int) -> bool:
    """Move one image `offset` places (-1: up, +1: down) in the album's order; False when it is
    already at that end. Raises `ImageNotInAlbum`."""
    with transaction.atomic():
        album = _locked(album)
        order = _ordered_ids(album)
        if image_id not in order:
            raise ImageNotInAlbum()
        index = order.index(image_id)
        target = index + offset
        if target < 0 or target >= len(order):
            return False
        order.insert(target, order.pop(index))
        _save_order(album, order)
        return True


def set_cover(*, album: Album, image_id: str | None) -> Album:
    """Choose the album's cover among its images (None: the first image). Raises
    `ImageNotInAlbum` (the cover unchanged)."""
    with transaction.atomic():
        album = _locked(album)
        if (
            image_id is not None
            and not AlbumImage.objects.filter(album=album, image_id=image_id).exists()
        ):
            raise ImageNotInAlbum()
        album.cover_image_id = image_id
        album.save(update_fields=["cover_image", "updated_at"])
        return album


# --- sharing ------------------------------------------------------------------------------------
KEEP = object()  # "leave this setting as it is" for `set_sharing`


def active_unpublication(*, album: Album) -> Unpublication | None:
    return Unpublication.objects.filter(album=album, lifted_at__isnull=True).first()


def set_sharing(
    *,
    album: Album,
    privacy: str,
    expires_at: dt.datetime | None | object = KEEP,
    password: str | None | object = KEEP,
    allow_download: bool | object = KEEP,
) -> Album:
    """Who may see the album, and the link's settings.

    - PRIVATE turns sharing off: the link, its password and expiry are gone (sharing again
      makes a new link, so an old one never comes back to life).
    - UNLISTED or PUBLIC makes the link if there is none yet. A public album is open to
      everyone: it keeps no password and no expiry (they are removed).
    - `password`: a new one (stored hashed), None to remove it, KEEP to leave it.
    - `expires_at`: a moment in the future, None for never, KEEP to leave it.

    Locks the album. Raises `AlbumUnpublished` while staff's unpublishing stands (unless the
    album is made private), `BadShareSettings` for a past expiry or a password/expiry on a
    public album."""
    if privacy not in AlbumPrivacy.values:
        raise BadShareSettings("Choose private, unlisted or public.")
    with transaction.atomic():
        album = _locked(album)
        if privacy != AlbumPrivacy.PRIVATE:
            unpublication = active_unpublication(album=album)
            if unpublication is not None:
                raise AlbumUnpublished(unpublication.reason)
        if privacy == AlbumPrivacy.PRIVATE:
            album.share_token = None
            album.share_password = ""
            album.share_expires_at = None
        else:
            if not album.share_token:
                album.share_token = new_share_token()
            if privacy == AlbumPrivacy.PUBLIC:
                if (expires_at is not KEEP and expires_at is not None) or (
                    password is not KEEP and password
                ):
                    raise BadShareSettings(
                        "A public album is open to everyone: a password or an expiry only "
                        "applies to an unlisted link."
                    )
                album.share_password = ""
                album.share_expires_at = None
            else:
                if expires_at is not KEEP:
                    if expires_at is not None and expires_at <= timezone.now():
                        raise BadShareSettings("Choose an expiry in the future.")
                    album.share_expires_at = expires_at
                if password is not KEEP:
                    album.share_password = make_password(password) if password else ""
        if allow_download is not KEEP:
            album.allow_download = bool(allow_download)
        album.privacy = privacy
        album.save(
            update_fields=[
                "privacy",
                "share_token",
                "share_password",
                "share_expires_at",
                "allow_download",
                "updated_at",
            ]
        )
        return album


def rotate_link(*, album: Album) -> Album:
    """A new share token: the old link stops working at once (visitors who had unlocked a
    password with it must enter it again). Only for a shared album; a private one has no link.
    Locks the album."""
    with transaction.atomic():
        album = _locked(album)
        if album.privacy == AlbumPrivacy.PRIVATE:
            raise BadShareSettings("This album is private: it has no link to replace.")
        album.share_token = new_share_token()
        album.save(update_fields=["share_token", "updated_at"])
        return album


def stop_sharing(*, album: Album) -> Album:
    """Turn sharing off: the album becomes private and its link stops working."""
    return set_sharing(album=album, privacy=AlbumPrivacy.PRIVATE)


# --- staff: unpublish ---------------------------------------------------------------------------
def unpublish_album(*, album: Album, reason: str, by: AbstractBaseUser) -> Unpublication:
    """Staff take an album off public view: it becomes private (its link stops working) and
    cannot be shared again until staff lift this. The reason is shown to its owner. Doing it
    to an album already unpublished keeps the first record. Locks the album."""
    reason = (reason or "").strip()
    if not reason:
        raise BadShareSettings("Give the owner a reason.")
    with transaction.atomic():
        album = _locked(album)
        existing = active_unpublication(album=album)
        if existing is not None:
            return existing
        album.privacy = AlbumPrivacy.PRIVATE
        album.share_token = None
        album.share_password = ""
        album.share_expires_at = None
        album.save(
            update_fields=[
                "privacy",
                "share_token",
                "share_password",
                "share_expires_at",
                "updated_at",
            ]
        )
        return Unpublication.objects.create(album=album, reason=reason, unpublished_by=by)


def active_image_unpublication(*, image_id: str) -> Unpublication | None:
    return Unpublication.objects.filter(image_id=image_id, lifted_at__isnull=True).first()


def unpublish_image(*, image: EnhancedImage, reason: str, by: AbstractBaseUser) -> Unpublication:
    """Staff take an image off public view: out of the gallery (made private through
    enhancement's own verb), left out of every shared or public album, and it cannot be
    published again until staff lift this (albums' `pre_save` guard). Locks the image row so
    a publish at the same moment waits and then meets the record."""
    reason = (reason or "").strip()
    if not reason:
        raise BadShareSettings("Give the owner a reason.")
    with transaction.atomic():
        locked = EnhancedImage.objects.select_for_update().get(pk=image.pk)
        existing = active_image_unpublication(image_id=locked.pk)
        if existing is not None:
            return existing
        record = Unpublication.objects.create(image=locked, reason=reason, unpublished_by=by)
        image_services.set_public(image=locked, is_public=False)
        return record


def lift_unpublication(*, unpublication: Unpublication, by: AbstractBaseUser) -> Unpublication:
    """Staff allow the album or image to be shared again (its owner decides whether to). The
    record stays, with who lifted it and when. Lifting twice does nothing."""
    with transaction.atomic():
        row = Unpublication.objects.select_for_update().get(pk=unpublication.pk)
        if row.lifted_at is None:
            row.lifted_at = timezone.now()
            row.lifted_by = by
            row.save(update_fields=["lifted_at", "lifted_by"])
        return row


# --- views, once per visitor per day ------------------------------------------------------------
def _first_view_today(*, object_id: str, visitor_key: str) -> bool:
    """Insert today's (object, visitor) row; True only for the request that inserted it. One
    statement (`INSERT ... ON CONFLICT DO NOTHING RETURNING`): two requests at once cannot both
    see "first", and no transaction is held open. A cache entry for the day answers repeated
    views (a refresh, the next photo) without a query; the row stays the one that decides."""
    day = timezone.localdate()
    visitor_key = visitor_key[:64]
    if not cache.add(f"albums:viewed:{day}:{object_id}:{visitor_key}", 1, timeout=86_400):
        return False
    table = DailyView._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, object_id, visitor_key, day) VALUES (%s, %s, %s, %s) "  # noqa: S608 (our table name)
            "ON CONFLICT (object_id, visitor_key, day) DO NOTHING RETURNING id",
            [new_id(), object_id, visitor_key, day],
        )
        return cursor.fetchone() is not None


def _is_owner(viewer: AbstractBaseUser | AnonymousUser, owner_id: str) -> bool:
    return bool(getattr(viewer, "is_authenticated", False)) and viewer.pk == owner_id


def count_album_view(
    *, album: Album, viewer: AbstractBaseUser | AnonymousUser, visitor_key: str
) -> bool:
    """Count a visitor's view of a shared or public album, once per visitor per day (the owner
    never counts). Atomic: the day's row decides, the count is an `F()` increment."""
    if album.privacy == AlbumPrivacy.PRIVATE or _is_owner(viewer, album.user_id):
        return False
    if not _first_view_today(object_id=album.pk, visitor_key=visitor_key):
        return False
    Album.objects.filter(pk=album.pk).update(view_count=F("view_count") + 1)
    return True


def count_image_view(
    *, image: EnhancedImage, viewer: AbstractBaseUser | AnonymousUser, visitor_key: str
) -> bool:
    """Count a visitor's view of a public image, once per visitor per day, through
    enhancement's `record_view` (which re-checks in the database that it is public)."""
    if not image.is_public or _is_owner(viewer, image.user_id):
        return False
    if not _first_view_today(object_id=image.pk, visitor_key=visitor_key):
        return False
    return image_services.record_view(image=image, viewer=viewer)


def prune_daily_views(*, keep_days: int = 1) -> int:
    """Delete the view records older than yesterday (they decide nothing any more)."""
    cutoff = timezone.localdate() - dt.timedelta(days=keep_days)
    deleted, _ = DailyView.objects.filter(day__lt=cutoff).delete()
    return deleted
