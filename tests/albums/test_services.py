"""albums.services: the rules behind the pages, and views counted once per visitor per day."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from albums import services
from albums.models import Album, AlbumImage, AlbumPrivacy, DailyView, Unpublication
from enhancement.images import services as image_services
from enhancement.models import EnhancedImage
from tests.albums.conftest import make_shared
from tests.factories import DailyViewFactory, EnhancedImageFactory

pytestmark = pytest.mark.django_db


def ids(album):
    return list(
        AlbumImage.objects.filter(album=album)
        .order_by("sort_order", "added_at")
        .values_list("image_id", flat=True)
    )


def test_adding_keeps_the_order_given_and_each_image_once(user):
    album = services.create_album(user=user, name="A")
    a, b, c = (EnhancedImageFactory(user=user) for _ in range(3))
    outcome = services.add_images(album=album, image_ids=[b.pk, a.pk, b.pk])
    assert outcome.added == [b.pk, a.pk] and outcome.already == []
    outcome = services.add_images(album=album, image_ids=[c.pk, a.pk])
    assert outcome.added == [c.pk] and outcome.already == [a.pk]
    assert ids(album) == [b.pk, a.pk, c.pk]


def test_an_album_is_bounded(user, settings):
    settings.ALBUM_MAX_IMAGES = 2
    album = services.create_album(user=user, name="A")
    images = [EnhancedImageFactory(user=user) for _ in range(3)]
    services.add_images(album=album, image_ids=[images[0].pk])
    with pytest.raises(services.AlbumFull):
        services.add_images(album=album, image_ids=[images[1].pk, images[2].pk])
    assert ids(album) == [images[0].pk]


def test_only_the_owners_images_go_in(user, other_user):
    album = services.create_album(user=user, name="A")
    mine, theirs = EnhancedImageFactory(user=user), EnhancedImageFactory(user=other_user)
    with pytest.raises(services.ImageNotYours):
        services.add_images(album=album, image_ids=[mine.pk, theirs.pk])
    with pytest.raises(services.ImageNotYours):
        services.add_images(album=album, image_ids=["a" + "0" * 24])  # no such image
    assert ids(album) == []


def test_reorder_needs_exactly_the_albums_ids(album, photos):
    with pytest.raises(services.BadOrder):
        services.reorder(album=album, image_ids=[photos[0].pk, photos[1].pk])
    services.reorder(album=album, image_ids=[p.pk for p in reversed(photos)])
    assert ids(album) == [p.pk for p in reversed(photos)]


def test_move_and_cover(album, photos, other_user):
    assert services.move_image(album=album, image_id=photos[0].pk, offset=-1) is False
    assert services.move_image(album=album, image_id=photos[0].pk, offset=1) is True
    assert ids(album) == [photos[1].pk, photos[0].pk, photos[2].pk]
    with pytest.raises(services.ImageNotInAlbum):
        services.move_image(album=album, image_id=EnhancedImageFactory().pk, offset=1)
    with pytest.raises(services.ImageNotInAlbum):
        services.set_cover(album=album, image_id=EnhancedImageFactory(user=album.user).pk)
    services.set_cover(album=album, image_id=photos[2].pk)
    services.set_cover(album=album, image_id=None)
    album.refresh_from_db()
    assert album.cover_image_id is None


def test_deleting_the_cover_image_falls_back_to_the_first(album, photos):
    services.set_cover(album=album, image_id=photos[1].pk)
    image_services.delete_image(image=photos[1])
    album.refresh_from_db()
    assert album.cover_image_id is None and ids(album) == [photos[0].pk, photos[2].pk]


def test_sharing_rules(album):
    services.set_sharing(album=album, privacy=AlbumPrivacy.UNLISTED)
    album.refresh_from_db()
    token = album.share_token
    assert len(token) == 32  # 192 random bits
    with pytest.raises(services.BadShareSettings):
        services.set_sharing(
            album=album,
            privacy=AlbumPrivacy.UNLISTED,
            expires_at=timezone.now() - dt.timedelta(seconds=1),
        )
    with pytest.raises(services.BadShareSettings):
        services.set_sharing(album=album, privacy=AlbumPrivacy.PUBLIC, password="secret!")
    with pytest.raises(services.BadShareSettings):
        services.set_sharing(album=album, privacy="FRIENDS")
    album.refresh_from_db()
    assert album.share_token == token and album.privacy == AlbumPrivacy.UNLISTED
    services.set_sharing(album=album, privacy=AlbumPrivacy.PUBLIC)  # same link, now listed
    album.refresh_from_db()
    assert album.share_token == token and album.privacy == AlbumPrivacy.PUBLIC


def test_tokens_are_unique_and_random(user):
    tokens = set()
    for n in range(50):
        album = services.create_album(user=user, name=f"A{n}")
        tokens.add(services.set_sharing(album=album, privacy=AlbumPrivacy.UNLISTED).share_token)
    assert len(tokens) == 50


# --- staff unpublishing -------------------------------------------------------------------------
def test_unpublishing_an_album_makes_it_private_and_blocks_sharing(album, staff_user):
    make_shared(album, privacy=AlbumPrivacy.PUBLIC)
    record = services.unpublish_album(album=album, reason="Copyrighted photos", by=staff_user)
    album.refresh_from_db()
    assert album.privacy == AlbumPrivacy.PRIVATE and album.share_token is None
    assert record.unpublished_by == staff_user and record.reason == "Copyrighted photos"
    with pytest.raises(services.AlbumUnpublished, match="Copyrighted photos"):
        services.set_sharing(album=album, privacy=AlbumPrivacy.UNLISTED)
    again = services.unpublish_album(album=album, reason="Twice", by=staff_user)
    assert again == record and Unpublication.objects.count() == 1
    with pytest.raises(services.BadShareSettings):
        services.unpublish_album(album=album, reason="  ", by=staff_user)
    services.lift_unpublication(unpublication=record, by=staff_user)
    services.set_sharing(album=album, privacy=AlbumPrivacy.UNLISTED)
    album.refresh_from_db()
    assert album.privacy == AlbumPrivacy.UNLISTED
    record.refresh_from_db()
    assert record.lifted_by == staff_user and record.lifted_at is not None


def test_an_unpublished_image_cannot_be_published_again_until_lifted(user, staff_user):
    image = EnhancedImageFactory(user=user, is_public=True)
    record = services.unpublish_image(image=image, reason="Private person", by=staff_user)
    image.refresh_from_db()
    assert image.is_public is False
    image_services.set_public(image=image, is_public=True)  # the owner's Publish button
    image.refresh_from_db()
    assert image.is_public is False
    image.is_public = True
    image.save()  # the image admin
    image.refresh_from_db()
    assert image.is_public is False
    services.lift_unpublication(unpublication=record, by=staff_user)
    image_services.set_public(image=image, is_public=True)
    image.refresh_from_db()
    assert image.is_public is True


def test_an_unpublished_image_is_left_out_of_shared_albums(anon_client, album, photos, staff_user):
    token = make_shared(album).share_token
    services.unpublish_image(image=photos[1], reason="Not suitable", by=staff_user)
    html = anon_client.get(reverse("albums:shared", args=[token])).content.decode()
    assert "Photo 1" in html and "Photo 2" not in html and "2 photos" in html
    response = anon_client.get(reverse("albums:shared_image", args=[token, photos[1].pk]))
    assert response.status_code == 404
    slides = anon_client.get(reverse("albums:shared_slides", args=[token])).json()["slides"]
    assert [s["id"] for s in slides] == [photos[0].pk, photos[2].pk]


# --- views --------------------------------------------------------------------------------------
def test_a_view_counts_once_per_visitor_per_day(user, other_user):
    image = EnhancedImageFactory(user=user, is_public=True)
    assert services.count_image_view(image=image, viewer=other_user, visitor_key="u:bob")
    assert not services.count_image_view(image=image, viewer=other_user, visitor_key="u:bob")
    assert services.count_image_view(image=image, viewer=AnonymousUser(), visitor_key="a:1")
    assert not services.count_image_view(image=image, viewer=user, visitor_key="u:owner")
    image.refresh_from_db()
    assert image.view_count == 2
    # another web process (its own cache) sees the same visitor the same day: the row decides
    cache.clear()
    assert not services.count_image_view(image=image, viewer=other_user, visitor_key="u:bob")
    # the next day, the same visitor counts again (the day's cache entries are gone by then)
    DailyView.objects.update(day=timezone.localdate() - dt.timedelta(days=1))
    cache.clear()
    assert services.count_image_view(image=image, viewer=other_user, visitor_key="u:bob")
    image.refresh_from_db()
    assert image.view_count == 3


def test_private_images_and_albums_never_count(user, other_user, album):
    image = EnhancedImageFactory(user=user)
    assert not services.count_image_view(image=image, viewer=other_user, visitor_key="u:bob")
    assert not services.count_album_view(album=album, viewer=other_user, visitor_key="u:bob")
    assert not DailyView.objects.exists()
    assert EnhancedImage.objects.get(pk=image.pk).view_count == 0


def test_album_pages_count_their_visitors_once_a_day(album, photos, user):
    album = make_shared(album, privacy=AlbumPrivacy.PUBLIC)
    EnhancedImage.objects.filter(pk=photos[0].pk).update(is_public=True)
    visitors = [Client(REMOTE_ADDR=f"192.0.2.{n}") for n in range(3)]
    for client in visitors + visitors:  # each twice
        assert client.get(reverse("albums:detail", args=[album.pk])).status_code == 200
        client.get(reverse("albums:shared", args=[album.share_token]))
        client.get(reverse("albums:image", args=[album.pk, photos[0].pk]))
        client.get(reverse("albums:image", args=[album.pk, photos[1].pk]))  # not public
    owner = Client()
    owner.force_login(user)
    owner.get(reverse("albums:shared", args=[album.share_token]))
    album.refresh_from_db()
    assert album.view_count == 3
    assert EnhancedImage.objects.get(pk=photos[0].pk).view_count == 3
    assert EnhancedImage.objects.get(pk=photos[1].pk).view_count == 0


def test_old_view_records_are_pruned(settings):
    today = timezone.localdate()
    for days in (0, 1, 2, 30):
        DailyViewFactory(day=today - dt.timedelta(days=days))
    assert services.prune_daily_views() == 2
    assert sorted(DailyView.objects.values_list("day", flat=True)) == [
        today - dt.timedelta(days=1),
        today,
    ]


def test_the_prune_schedule_is_made_once():
    from django.apps import apps
    from django_q.models import Schedule

    migration = import_module("albums.migrations.0003_prune_daily_views_schedule")
    migration.create_schedule(apps, None)  # (transaction tests on PostgreSQL wipe the table)
    migration.create_schedule(apps, None)
    schedule = Schedule.objects.get(name="albums: prune view records")
    assert schedule.func == "albums.tasks.prune_daily_views"
    assert schedule.schedule_type == Schedule.CRON and schedule.repeats == -1


def test_deleting_an_album_leaves_its_images(album, photos):
    services.delete_album(album=album)
    assert not Album.objects.exists()
    assert EnhancedImage.objects.filter(pk__in=[p.pk for p in photos]).count() == 3
