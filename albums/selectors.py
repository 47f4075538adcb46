"""Read-only queries of albums and the gallery, each a fixed number of queries whatever the
number of albums or images (the tests hold them to it with `django_assert_max_num_queries`).

Images a visitor sees leave out those staff unpublished; owners see all of theirs (marked).
The gallery pages by keyset (`created_at, id` or `view_count, id`), so its 400th page costs what
its first does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from albums.models import Album, AlbumImage, AlbumPrivacy, Unpublication
from core.ids import ID_REGEX
from enhancement.models import EnhancedImage, ImageEnhancementJob, JobStatus

IMAGE_CARD_FIELDS = (
    "id",
    "user_id",
    "name",
    "description",
    "original_width",
    "original_height",
    "thumbnail_r2_key",
    "preview_r2_key",
    "is_public",
    "view_count",
    "created_at",
)


def _active_image_unpublication(image_ref: str = "pk") -> Exists:
    return Exists(
        Unpublication.objects.filter(image_id=OuterRef(image_ref), lifted_at__isnull=True)
    )


def best_results(image_ids: Iterable[str] | QuerySet) -> dict[str, ImageEnhancementJob]:
    """The best enhancement of each image: its completed job with the largest result (the
    newest among equals), by image id; images without one are left out. One query."""
    best = (
        ImageEnhancementJob.objects.filter(image=OuterRef("image_id"), status=JobStatus.COMPLETED)
        .annotate(_area=F("enhanced_width") * F("enhanced_height"))
        .order_by(F("_area").desc(nulls_last=True), "-created_at", "-id")
        .values("id")[:1]
    )
    jobs = ImageEnhancementJob.objects.filter(
        image_id__in=image_ids, status=JobStatus.COMPLETED, pk=Subquery(best)
    )
    return {job.image_id: job for job in jobs}


# --- album cards (the owner's list, the gallery) ------------------------------------------------
@dataclass(frozen=True)
class AlbumCard:
    album: Album
    cover: EnhancedImage | None
    image_count: int


def _with_count_and_cover(queryset: QuerySet[Album], *, for_visitors: bool) -> QuerySet[Album]:
    members = AlbumImage.objects.filter(album=OuterRef("pk"))
    if for_visitors:
        members = members.exclude(_active_image_unpublication("image_id"))
    count = members.order_by().values("album").annotate(c=Count("pk")).values("c")
    # the chosen cover while it is (visibly) in the album, else the first image
    chosen = members.filter(image_id=OuterRef("cover_image_id")).values("image_id")[:1]
    first = members.order_by("sort_order", "added_at", "id").values("image_id")[:1]
    cover = Coalesce(Subquery(chosen), Subquery(first))
    return queryset.annotate(
        image_count=Coalesce(Subquery(count, output_field=IntegerField()), 0),
        cover_pick_id=cover,
    )


def _cards(albums: list[Album]) -> list[AlbumCard]:
    cover_ids = {album.cover_pick_id for album in albums if album.cover_pick_id}
    covers = {}
    if cover_ids:
        covers = {
            image.pk: image
            for image in EnhancedImage.objects.filter(pk__in=cover_ids).only(*IMAGE_CARD_FIELDS)
        }
    return [
        AlbumCard(album, covers.get(album.cover_pick_id), album.image_count) for album in albums
    ]


def owner_albums(*, user: AbstractBaseUser) -> list[AlbumCard]:
    """The user's albums (their order, then newest first), each with its cover and count, and
    whether staff unpublished it. Two queries."""
    queryset = _with_count_and_cover(Album.objects.filter(user=user), for_visitors=False).annotate(
        is_unpublished=Exists(
            Unpublication.objects.filter(album=OuterRef("pk"), lifted_at__isnull=True)
        )
    )
    return _cards(list(queryset.order_by("sort_order", "-created_at", "-id")))


def albums_for_image(*, user: AbstractBaseUser, image: EnhancedImage) -> list[Album]:
    """The user's albums with `has_image` (this image is in it). One query."""
    return list(
        Album.objects.filter(user=user)
        .annotate(has_image=Exists(AlbumImage.objects.filter(album=OuterRef("pk"), image=image)))
        .order_by("sort_order", "-created_at", "-id")
        .only("id", "name", "privacy")
    )


def album_choices(*, user: AbstractBaseUser) -> list[Album]:
    """The user's albums for an "add to album" menu. One query."""
    return list(
        Album.objects.filter(user=user)
        .order_by("sort_order", "-created_at", "-id")
        .only("id", "name", "privacy")
    )


# --- an album's images --------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """An image in an album, with its best enhancement (None when it has none)."""

    image: EnhancedImage
    best: ImageEnhancementJob | None
    position: int
    is_unpublished: bool = False


def album_entries(*, album: Album, for_visitors: bool) -> list[Entry]:
    """The album's images in its order with their best enhancement: two queries. Visitors do
    not get images staff unpublished; the owner gets them marked."""
    rows = (
        AlbumImage.objects.filter(album=album)
        .select_related("image")
        .only(*(f"image__{name}" for name in IMAGE_CARD_FIELDS), "album_id", "sort_order")
        .annotate(is_unpublished=_active_image_unpublication("image_id"))
        .order_by("sort_order", "added_at", "id")
    )
    if for_visitors:
        rows = rows.filter(is_unpublished=False)
    rows = list(rows)
    best = best_results([row.image_id for row in rows]) if rows else {}
    return [
        Entry(row.image, best.get(row.image_id), index, row.is_unpublished)
        for index, row in enumerate(rows)
    ]


@dataclass(frozen=True)
class PlacedEntry:
    """One image of an album with where it stands: its neighbours' ids for the arrows."""

    entry: Entry
    previous_id: str | None
    next_id: str | None
    count: int


def album_entry(*, album: Album, image_id: str, for_visitors: bool) -> PlacedEntry | None:
    """One image of the album with its best enhancement and its neighbours (None when it is
    not in the album, or unpublished for visitors). Three queries whatever the album's size
    (ids only for the order)."""
    order = AlbumImage.objects.filter(album=album)
    if for_visitors:
        order = order.exclude(_active_image_unpublication("image_id"))
    ids = list(order.order_by("sort_order", "added_at", "id").values_list("image_id", flat=True))
    if image_id not in ids:
        return None
    index = ids.index(image_id)
    image = EnhancedImage.objects.select_related("user").get(pk=image_id)
    entry = Entry(image, best_results([image_id]).get(image_id), index)
    return PlacedEntry(
        entry=entry,
        previous_id=ids[index - 1] if index > 0 else None,
        next_id=ids[index + 1] if index + 1 < len(ids) else None,
        count=len(ids),
    )


# --- the gallery --------------------------------------------------------------------------------
class Sort:
    NEWEST = "newest"
    POPULAR = "popular"
    CHOICES = ((NEWEST, "Newest"), (POPULAR, "Most viewed"))


_CURSOR = re.compile(rf"^(\d{{1,20}})\.({ID_REGEX})$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class BadCursor(ValueError):
    pass


def _encode(sort: str, row) -> str:
    if sort == Sort.POPULAR:
        value = row.view_count
    else:
        delta = row.created_at - _EPOCH
        value = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{value}.{row.pk}"


def _decode(sort: str, cursor: str):
    match = _CURSOR.match(cursor)
    if not match:
        raise BadCursor(cursor)
    number, pk = int(match.group(1)), match.group(2)
    if sort == Sort.POPULAR:
        if number > 2**31:
            raise BadCursor(cursor)
        return number, pk
    try:
        return _EPOCH + dt.timedelta(microseconds=number), pk
    except OverflowError as exc:
        raise BadCursor(cursor) from exc


@dataclass(frozen=True)
class KeysetPage:
    rows: list
    next_cursor: str | None  # for ?after=
    previous_cursor: str | None  # for ?before=


def _keyset(
    queryset: QuerySet, *, field: str, sort: str, after: str, before: str, size: int
) -> KeysetPage:
    """One page of `queryset` ordered by (`field`, id) descending, after or before a cursor.

    The filter is written `field <= v AND (field < v OR id < pk)` so that the database walks
    its (field, id) index from the cursor instead of filtering every row before it."""
    if after:
        value, pk = _decode(sort, after)
        queryset = queryset.filter(
            Q(**{f"{field}__lte": value}) & (Q(**{f"{field}__lt": value}) | Q(pk__lt=pk))
        ).order_by(f"-{field}", "-pk")
    elif before:
        value, pk = _decode(sort, before)
        queryset = queryset.filter(
            Q(**{f"{field}__gte": value}) & (Q(**{f"{field}__gt": value}) | Q(pk__gt=pk))
        ).order_by(field, "pk")
    else:
        queryset = queryset.order_by(f"-{field}", "-pk")
    rows = list(queryset[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if before:
        rows.reverse()
        has_next, has_previous = True, more
    else:
        has_next, has_previous = more, bool(after)
    return KeysetPage(
        rows=rows,
        next_cursor=_encode(sort, rows[-1]) if rows and has_next else None,
        previous_cursor=_encode(sort, rows[0]) if rows and has_previous else None,
    )


def gallery_images(*, sort: str, after: str = "", before: str = "", size: int) -> KeysetPage:
    """Public images with their owner (for the public name), newest first or most viewed.
    One query. Raises `BadCursor`."""
    queryset = (
        EnhancedImage.objects.filter(is_public=True)
        .select_related("user")
        .only(*IMAGE_CARD_FIELDS, "user__id", "user__public_name")
    )
    field = "view_count" if sort == Sort.POPULAR else "created_at"
    return _keyset(queryset, field=field, sort=sort, after=after, before=before, size=size)


def gallery_albums(*, sort: str, after: str = "", before: str = "", size: int) -> KeysetPage:
    """Public albums with their owner, count and cover (images staff unpublished left out).
    Two queries. Raises `BadCursor`."""
    queryset = _with_count_and_cover(
        Album.objects.filter(privacy=AlbumPrivacy.PUBLIC)
        .select_related("user")
        .only(
            "id",
            "name",
            "description",
            "privacy",
            "cover_image_id",
            "view_count",
            "created_at",
            "user__id",
            "user__public_name",
        ),
        for_visitors=True,
    )
    field = "view_count" if sort == Sort.POPULAR else "created_at"
    page = _keyset(queryset, field=field, sort=sort, after=after, before=before, size=size)
    return KeysetPage(_cards(page.rows), page.next_cursor, page.previous_cursor)
