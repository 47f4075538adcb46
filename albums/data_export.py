"""albums' part of a data export (`accounts.exports.sections`): albums.json, each album with
its photos in order, its privacy, its share link and the link's settings (whether it has a
password, never the password's hash), and whether staff took it off public view (with the
reason its owner is shown). Registered in `AlbumsConfig.ready()`."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse

from accounts.exports import sections
from albums.models import Album, AlbumImage, AlbumPrivacy, Unpublication

DESCRIBES = "albums.json               your albums, their photos in order, sharing and links"


def _share(album: Album) -> dict | None:
    if album.privacy == AlbumPrivacy.PRIVATE or not album.share_token:
        return None
    return {
        "link": settings.SITE_URL.rstrip("/") + reverse("albums:shared", args=[album.share_token]),
        "expires_at": album.share_expires_at,
        "password_protected": album.has_password,
        "visitors_may_download": album.allow_download,
    }


def album_rows(user):
    albums = (
        Album.objects.filter(user=user)
        .order_by("sort_order", "created_at", "pk")
        .prefetch_related(
            Prefetch(
                "album_images",
                queryset=AlbumImage.objects.order_by("sort_order", "added_at", "pk"),
            ),
            Prefetch(
                "unpublications",
                queryset=Unpublication.objects.filter(lifted_at__isnull=True),
                to_attr="active_unpublications",
            ),
        )
    )
    for album in albums.iterator(chunk_size=100):
        unpublished = album.active_unpublications[0] if album.active_unpublications else None
        yield {
            "id": album.pk,
            "name": album.name,
            "description": album.description,
            "created_at": album.created_at,
            "updated_at": album.updated_at,
            "privacy": album.privacy,
            "in_gallery": album.privacy == AlbumPrivacy.PUBLIC and unpublished is None,
            "share": _share(album),
            "cover_image_id": album.cover_image_id,
            "view_count": album.view_count,
            "unpublished": (
                {"at": unpublished.created_at, "reason": unpublished.reason}
                if unpublished
                else None
            ),
            "images": [
                {"image_id": item.image_id, "position": position, "added_at": item.added_at}
                for position, item in enumerate(album.album_images.all(), start=1)
            ],
        }


def write_albums(user, archive) -> None:
    archive.write_json_list("albums.json", album_rows(user))


def register() -> None:
    sections.register("albums", write_albums, order=40, describes=DESCRIBES)
