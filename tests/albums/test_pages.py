"""The owner's album pages through the HTTP client: list, create, rename, add (album page,
library, image page), remove, reorder, cover, sharing, rotate, stop, delete; each bad input a
clear message and nothing changed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse
from django.utils import timezone

from albums import services
from albums.models import Album, AlbumImage, AlbumPrivacy
from enhancement.models import EnhancedImage
from tests.albums.conftest import make_shared
from tests.factories import stored_image
from tests.media import media_keys

pytestmark = pytest.mark.django_db


def order_of(album):
    return list(
        AlbumImage.objects.filter(album=album)
        .order_by("sort_order", "added_at")
        .values_list("image__name", flat=True)
    )


# --- the list and a new album -------------------------------------------------------------------
def test_the_list_shows_each_album_with_cover_count_and_privacy(owner_client, album, photos):
    empty = services.create_album(user=album.user, name="Empty one")
    make_shared(empty, privacy=AlbumPrivacy.PUBLIC)
    html = owner_client.get(reverse("albums:list")).content.decode()
    assert "Holidays" in html and "3 images" in html and "Private" in html
    assert "Empty one" in html and "0 images" in html and "Public" in html
    assert "No images yet" in html  # the empty album's cover


def test_the_list_and_album_pages_need_a_sign_in(anon_client, album):
    for url in (reverse("albums:list"), reverse("albums:pick", args=[album.pk])):
        response = anon_client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_create_an_album(owner_client, user):
    response = owner_client.post(
        reverse("albums:create"), {"name": "  Trip\tto  Rome ", "description": "Line 1\r\nLine 2"}
    )
    album = Album.objects.get(user=user)
    assert response.status_code == 302 and response["Location"] == f"/albums/{album.pk}/"
    assert album.name == "Trip to Rome" and album.description == "Line 1\nLine 2"
    assert album.privacy == AlbumPrivacy.PRIVATE and album.share_token is None


def test_an_album_without_a_name_is_refused_with_a_message(owner_client, user):
    response = owner_client.post(reverse("albums:create"), {"name": "   "})
    assert response.status_code == 400
    assert "Give the album a name." in response.content.decode()
    assert not Album.objects.exists()


def test_rename_and_describe(owner_client, album):
    response = owner_client.post(
        reverse("albums:edit", args=[album.pk]), {"name": "Summer", "description": ""}
    )
    assert response.status_code == 302
    album.refresh_from_db()
    assert (album.name, album.description) == ("Summer", None)
    bad = owner_client.post(reverse("albums:edit", args=[album.pk]), {"name": ""})
    assert bad.status_code == 400 and "Give the album a name." in bad.content.decode()
    album.refresh_from_db()
    assert album.name == "Summer"


def test_delete_keeps_the_images(owner_client, album, photos):
    confirm = owner_client.get(reverse("albums:delete", args=[album.pk]))
    assert confirm.status_code == 200
    assert "Its images stay in your library" in confirm.content.decode()
    response = owner_client.post(reverse("albums:delete", args=[album.pk]))
    assert response.status_code == 302
    assert not Album.objects.exists() and not AlbumImage.objects.exists()
    assert EnhancedImage.objects.filter(pk__in=[p.pk for p in photos]).count() == 3


# --- the owner's album page ---------------------------------------------------------------------
def test_the_album_page_lists_the_images_in_order_with_their_controls(owner_client, album):
    html = owner_client.get(reverse("albums:detail", args=[album.pk])).content.decode()
    assert html.index("Photo 1") < html.index("Photo 2") < html.index("Photo 3")
    assert html.count('name="ids"') == 3  # the order form's hidden ids
    assert html.count(">↑ Up<") == 3 and html.count(">↓ Down<") == 3
    assert html.count(">Cover</span>") == 1  # the first image is the cover by default
    assert html.count("Make cover") == 3  # any may be chosen (the first too: then it stays)
    assert 'draggable="true"' in html
    assert "albums/albums.js" in html


# --- adding images ------------------------------------------------------------------------------
def test_add_images_from_the_album_page(owner_client, user):
    album = services.create_album(user=user, name="New")
    images = [stored_image(user, name=f"Pick {n}") for n in range(2)]
    page = owner_client.get(reverse("albums:pick", args=[album.pk])).content.decode()
    assert "Pick 0" in page and "Pick 1" in page
    response = owner_client.post(
        reverse("albums:pick", args=[album.pk]), {"image_ids": [images[1].pk, images[0].pk]}
    )
    assert response.status_code == 302
    assert order_of(album) == ["Pick 1", "Pick 0"]
    # again: they are marked on the picker, and adding one again says so
    page = owner_client.get(reverse("albums:pick", args=[album.pk])).content.decode()
    assert page.count("Already in the album") == 2
    again = owner_client.post(
        reverse("albums:pick", args=[album.pk]), {"image_ids": [images[0].pk]}, follow=True
    )
    assert "This image is already in “New”." in again.content.decode()
    assert AlbumImage.objects.filter(album=album).count() == 2


def test_add_ticked_images_from_the_library(owner_client, user, album, photos):
    extra = stored_image(user, name="Extra")
    library = owner_client.get(reverse("images:library")).content.decode()
    # the bar posts the library's batch form to albums' view, with the user's albums to choose
    assert f'formaction="{reverse("albums:add_images")}"' in library
    assert f'<option value="{album.pk}">Holidays</option>' in library
    response = owner_client.post(
        reverse("albums:add_images"),
        {
            "album": album.pk,
            "image_ids": [extra.pk, photos[0].pk],
            "tier": "TIER_1K",  # the batch form's own fields come along
            "next": "/images/?page=1",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/images/?page=1"
    assert "Added 1 image to “Holidays”. 1 was already there." in response.content.decode()
    assert order_of(album) == ["Photo 1", "Photo 2", "Photo 3", "Extra"]


def test_add_to_a_new_album_from_an_image_page(owner_client, user, photos):
    image = photos[0]
    page = owner_client.get(reverse("images:detail", args=[image.pk])).content.decode()
    assert "Albums and sharing" in page and "Not in any album yet." in page
    response = owner_client.post(
        reverse("albums:add_images"),
        {
            "album": "new",
            "new_album_name": "Best of",
            "image_ids": image.pk,
            "next": f"/images/{image.pk}/",
        },
        follow=True,
    )
    album = Album.objects.get(name="Best of")
    assert "Added to “Best of”." in response.content.decode()
    assert order_of(album) == ["Photo 1"]
    page = owner_client.get(reverse("images:detail", args=[image.pk])).content.decode()
    assert f'href="/albums/{album.pk}/">Best of</a>' in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"album": "new", "image_ids": "PLACEHOLDER"}, "Give the new album a name."),
        ({"album": "new", "new_album_name": "X"}, "Tick at least one image first."),
        ({"image_ids": "PLACEHOLDER"}, "Choose an album."),
        ({"album": "junk!", "image_ids": "PLACEHOLDER"}, "Choose one of your albums."),
        ({"album": "new", "new_album_name": "X", "image_ids": "nope"}, "not an image of yours"),
    ],
)
def test_bad_adds_say_why_and_change_nothing(owner_client, photos, data, message):
    data = {k: (photos[0].pk if v == "PLACEHOLDER" else v) for k, v in data.items()}
    response = owner_client.post(reverse("albums:add_images"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Album.objects.exists() and not AlbumImage.objects.exists()


def test_someone_elses_image_is_refused_and_no_album_is_left_behind(
    owner_client, album, other_album
):
    bob_image = other_album.album_images.get().image
    for target in (album.pk, "new"):
        response = owner_client.post(
            reverse("albums:add_images"),
            {"album": target, "new_album_name": "Stolen", "image_ids": [bob_image.pk]},
        )
        assert response.status_code == 400
        assert "Only your own images can go in your albums" in response.content.decode()
    assert not Album.objects.filter(name="Stolen").exists()
    assert not AlbumImage.objects.filter(album=album, image=bob_image).exists()


def test_someone_elses_album_is_a_404(owner_client, photos, other_album):
    response = owner_client.post(
        reverse("albums:add_images"), {"album": other_album.pk, "image_ids": [photos[0].pk]}
    )
    assert response.status_code == 404
    assert other_album.album_images.count() == 1


# --- remove, reorder, cover -----------------------------------------------------------------------
def test_remove_an_image(owner_client, album, photos):
    services.set_cover(album=album, image_id=photos[1].pk)
    response = owner_client.post(reverse("albums:remove_image", args=[album.pk, photos[1].pk]))
    assert response.status_code == 302
    assert order_of(album) == ["Photo 1", "Photo 3"]
    album.refresh_from_db()
    assert album.cover_image_id is None  # back to the first image
    assert EnhancedImage.objects.filter(pk=photos[1].pk).exists()
    again = owner_client.post(reverse("albums:remove_image", args=[album.pk, photos[1].pk]))
    assert again.status_code == 400 and "not in this album" in again.content.decode()


def test_reorder_by_a_post_of_every_id(owner_client, album, photos):
    new = [photos[2].pk, photos[0].pk, photos[1].pk]
    response = owner_client.post(reverse("albums:reorder", args=[album.pk]), {"ids": new})
    assert response.status_code == 302
    assert order_of(album) == ["Photo 3", "Photo 1", "Photo 2"]
    # the page's script asks for JSON
    response = owner_client.post(
        reverse("albums:reorder", args=[album.pk]),
        {"ids": [p.pk for p in photos]},
        headers={"x-requested-with": "fetch"},
    )
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert order_of(album) == ["Photo 1", "Photo 2", "Photo 3"]


@pytest.mark.parametrize(
    "ids",
    [
        "missing one",
        "twice",
        "from another album",
        "junk",
        "none",
    ],
)
def test_a_bad_order_changes_nothing(owner_client, album, photos, other_album, ids):
    bob = other_album.album_images.get().image_id
    ids = {
        "missing one": [photos[0].pk, photos[1].pk],
        "twice": [photos[0].pk, photos[0].pk, photos[1].pk],
        "from another album": [photos[0].pk, photos[1].pk, bob],
        "junk": [photos[0].pk, photos[1].pk, "x" * 30],
        "none": [],
    }[ids]
    response = owner_client.post(
        reverse("albums:reorder", args=[album.pk]),
        {"ids": ids},
        headers={"x-requested-with": "fetch"},
    )
    assert response.status_code == 400
    assert "every image of this album exactly once" in response.json()["error"]
    assert order_of(album) == ["Photo 1", "Photo 2", "Photo 3"]
    html = owner_client.post(reverse("albums:reorder", args=[album.pk]), {"ids": ids})
    assert html.status_code == 400 and "Nothing was changed" in html.content.decode()


def test_move_up_and_down_with_the_buttons(owner_client, album, photos):
    url = reverse("albums:move_image", args=[album.pk, photos[2].pk])
    assert owner_client.post(url, {"direction": "up"}).status_code == 302
    assert order_of(album) == ["Photo 1", "Photo 3", "Photo 2"]
    owner_client.post(url, {"direction": "up"})
    owner_client.post(url, {"direction": "up"})  # already first: nothing moves
    assert order_of(album) == ["Photo 3", "Photo 1", "Photo 2"]
    owner_client.post(url, {"direction": "down"})
    assert order_of(album) == ["Photo 1", "Photo 3", "Photo 2"]
    assert owner_client.post(url, {"direction": "sideways"}).status_code == 400


def test_choose_the_cover(owner_client, album, photos, other_album):
    url = reverse("albums:cover", args=[album.pk])
    assert owner_client.post(url, {"image_id": photos[2].pk}).status_code == 302
    album.refresh_from_db()
    assert album.cover_image_id == photos[2].pk
    listed = media_keys(owner_client.get(reverse("albums:list")).content.decode())
    assert photos[2].thumbnail_r2_key.name in listed
    assert photos[0].thumbnail_r2_key.name not in listed
    page = owner_client.get(reverse("albums:detail", args=[album.pk])).content.decode()
    assert re.search(r"Photo 3</a>\s*<div class=\"album-item-badges\">\s*<span[^>]*>Cover", page)
    bob = other_album.album_images.get().image_id
    response = owner_client.post(url, {"image_id": bob})
    assert response.status_code == 400 and "not in this album" in response.content.decode()
    album.refresh_from_db()
    assert album.cover_image_id == photos[2].pk


# --- sharing --------------------------------------------------------------------------------------
def sharing(client, album, **data):
    return client.post(reverse("albums:sharing", args=[album.pk]), data)


def test_share_by_link_with_expiry_password_and_downloads(owner_client, album):
    response = sharing(
        owner_client,
        album,
        privacy="UNLISTED",
        expiry="7",
        password="pass word",
        allow_download="on",
    )
    assert response.status_code == 302
    album.refresh_from_db()
    assert album.privacy == "UNLISTED" and re.fullmatch(r"[A-Za-z0-9_-]{32}", album.share_token)
    assert check_password("pass word", album.share_password)
    assert "pass word" not in album.share_password
    assert album.allow_download
    expected = timezone.now() + dt.timedelta(days=7)
    assert abs((album.share_expires_at - expected).total_seconds()) < 60
    html = owner_client.get(reverse("albums:detail", args=[album.pk])).content.decode()
    assert f"http://testserver/s/{album.share_token}/" in html
    assert "Copy link" in html and "New link" in html and "Stop sharing" in html
    assert "Visitors need the password you set." in html

    # saving again without touching the password or expiry keeps them
    token = album.share_token
    sharing(owner_client, album, privacy="UNLISTED", expiry="keep", allow_download="on")
    album.refresh_from_db()
    assert album.share_token == token and check_password("pass word", album.share_password)
    assert abs((album.share_expires_at - expected).total_seconds()) < 60

    # a date: the link works through that day
    day = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    sharing(owner_client, album, privacy="UNLISTED", expiry="date", expires_on=day)
    album.refresh_from_db()
    assert timezone.localtime(album.share_expires_at).date().isoformat() > day
    assert not album.allow_download  # unticked

    sharing(owner_client, album, privacy="UNLISTED", expiry="never", remove_password="on")
    album.refresh_from_db()
    assert album.share_expires_at is None and album.share_password == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"privacy": "SECRET"}, "Select a valid choice"),
        ({"privacy": "UNLISTED", "expiry": "date"}, "Choose the last day the link works."),
        ({"privacy": "UNLISTED", "expiry": "date", "expires_on": "2001-01-01"}, "Choose today"),
        ({"privacy": "UNLISTED", "expiry": "date", "expires_on": "31/02/2030"}, "Enter a valid"),
        ({"privacy": "UNLISTED", "expiry": "365"}, "Select a valid choice"),
        ({"privacy": "UNLISTED", "password": "abc"}, "at least 4 characters"),
        ({"privacy": "PUBLIC", "password": "a password"}, "A public album is open to everyone"),
        ({"privacy": "PUBLIC", "expiry": "7"}, "A public album is open to everyone"),
    ],
)
def test_bad_sharing_settings_say_why_and_change_nothing(owner_client, album, data, message):
    response = sharing(owner_client, album, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    album.refresh_from_db()
    assert album.privacy == "PRIVATE" and album.share_token is None


def test_rotate_makes_a_new_link_and_stop_turns_sharing_off(owner_client, album):
    sharing(owner_client, album, privacy="UNLISTED", password="pass word")
    album.refresh_from_db()
    old = album.share_token
    assert owner_client.post(reverse("albums:rotate_link", args=[album.pk])).status_code == 302
    album.refresh_from_db()
    assert album.share_token != old and album.privacy == "UNLISTED"
    assert check_password("pass word", album.share_password)  # the settings stay
    assert owner_client.post(reverse("albums:stop_sharing", args=[album.pk])).status_code == 302
    album.refresh_from_db()
    assert album.privacy == "PRIVATE" and album.share_token is None
    assert album.share_password == "" and album.share_expires_at is None
    # a private album has no link to rotate
    response = owner_client.post(reverse("albums:rotate_link", args=[album.pk]), follow=True)
    assert "has no link to replace" in response.content.decode()
    # sharing again makes a fresh link: the old one never comes back
    sharing(owner_client, album, privacy="PUBLIC")
    album.refresh_from_db()
    assert album.share_token not in (None, old)


def test_going_public_drops_the_links_password_and_expiry(owner_client, album):
    sharing(owner_client, album, privacy="UNLISTED", password="pass word", expiry="1")
    response = sharing(owner_client, album, privacy="PUBLIC", expiry="keep")
    assert response.status_code == 302
    album.refresh_from_db()
    assert album.privacy == "PUBLIC" and album.share_password == ""
    assert album.share_expires_at is None


def test_every_owner_action_is_a_404_for_someone_else(stranger_client, album, photos):
    posts = [
        ("albums:edit", [album.pk], {"name": "Mine now"}),
        ("albums:sharing", [album.pk], {"privacy": "PUBLIC"}),
        ("albums:rotate_link", [album.pk], {}),
        ("albums:stop_sharing", [album.pk], {}),
        ("albums:pick", [album.pk], {"image_ids": [photos[0].pk]}),
        ("albums:reorder", [album.pk], {"ids": [p.pk for p in reversed(photos)]}),
        ("albums:cover", [album.pk], {"image_id": photos[1].pk}),
        ("albums:move_image", [album.pk, photos[0].pk], {"direction": "down"}),
        ("albums:remove_image", [album.pk, photos[0].pk], {}),
        ("albums:delete", [album.pk], {}),
    ]
    for name, args, data in posts:
        assert stranger_client.post(reverse(name, args=args), data).status_code == 404, name
    for name in ("albums:pick", "albums:delete", "albums:detail", "albums:slideshow"):
        assert stranger_client.get(reverse(name, args=[album.pk])).status_code == 404, name
    album.refresh_from_db()
    assert album.name == "Holidays" and album.privacy == "PRIVATE"
    assert order_of(album) == ["Photo 1", "Photo 2", "Photo 3"]
