"""The gallery, an album page (the owner's and a visitor's), the albums list and the slideshow
run a fixed number of queries whatever their size: the same bound with 2 rows and with 30."""

from __future__ import annotations

import re

import pytest
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse

from albums import services
from albums.models import AlbumPrivacy
from enhancement.models import EnhancedImage
from tests.albums.conftest import make_shared
from tests.factories import (
    AlbumFactory,
    EnhancedImageFactory,
    ImageEnhancementJobFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# The bound of each page: its rows in one or two queries whatever their number, plus what every
# page of its kind costs (the session and the user when signed in, the balance badge; a
# visitor's first view today: one INSERT of the day's record and one UPDATE of the count).
BOUNDS = {
    "gallery photos": 1,  # the page of images with their owners
    "gallery albums": 2,  # albums (count and cover as subqueries), their cover images
    "albums list": 5,  # session, user, albums, covers, balance
    "album page (owner)": 7,  # album, session, user, entries, best results, staff note, balance
    # album, entries, best results, the owner's public name, view record, view count
    "album page (visitor)": 6,
    "shared album": 6,
    "slideshow": 3,  # album, entries, best results
    "slides": 3,
    # album, the order's ids, the image, its best result, the owner's name, view record, count
    "shared image": 7,
}


def populate(user, n):
    """`n` public images of `n` people, each in `n` public albums (1 image each) and in one
    big public album of `user`, half of them enhanced."""
    big = services.create_album(user=user, name="Big")
    images = []
    for i in range(n):
        owner = UserFactory()
        image = EnhancedImageFactory(user=owner, is_public=True, name=f"Image {i}")
        if i % 2:
            ImageEnhancementJobFactory(image=image, status="COMPLETED")
        album = AlbumFactory(user=owner, privacy=AlbumPrivacy.PUBLIC, name=f"Album {i}")
        services.add_images(album=album, image_ids=[image.pk])
        mine = EnhancedImageFactory(user=user, name=f"Mine {i}")
        if i % 2:
            ImageEnhancementJobFactory(image=mine, status="COMPLETED")
        images.append(mine)
    services.add_images(album=big, image_ids=[image.pk for image in images])
    for i in range(n):
        services.create_album(user=user, name=f"Empty {i}")
    return make_shared(big, privacy=AlbumPrivacy.PUBLIC), images


@pytest.mark.parametrize("n", [2, 30])
def test_page_queries_do_not_grow_with_rows(n, user, django_assert_max_num_queries):
    big, images = populate(user, n)
    owner = Client()
    owner.force_login(user)
    visitor = Client()
    pages = {
        "gallery photos": (visitor, reverse("albums:gallery")),
        "gallery albums": (visitor, reverse("albums:gallery") + "?show=albums&sort=popular"),
        "albums list": (owner, reverse("albums:list")),
        "album page (owner)": (owner, reverse("albums:detail", args=[big.pk])),
        "album page (visitor)": (visitor, reverse("albums:detail", args=[big.pk])),
        "shared album": (visitor, reverse("albums:shared", args=[big.share_token])),
        "slideshow": (visitor, reverse("albums:slideshow", args=[big.pk])),
        "slides": (visitor, reverse("albums:shared_slides", args=[big.share_token])),
        "shared image": (
            visitor,
            reverse("albums:shared_image", args=[big.share_token, images[n // 2].pk]),
        ),
    }
    for name, (client, url) in pages.items():
        with django_assert_max_num_queries(BOUNDS[name]):
            response = client.get(url)
        assert response.status_code == 200, name


def test_grids_are_kept_rendered_for_a_few_seconds_and_follow_the_owners_changes(
    album, photos, settings, django_assert_num_queries
):
    settings.ALBUMS_PAGE_CACHE_SECONDS = 30
    make_shared(album, privacy=AlbumPrivacy.PUBLIC)
    for photo in photos:
        EnhancedImage.objects.filter(pk=photo.pk).update(is_public=True)
    visitor = Client()
    gallery = reverse("albums:gallery")
    first = visitor.get(gallery).content.decode()
    with django_assert_num_queries(0):  # the page of photos comes from the cache
        again = visitor.get(gallery).content.decode()
    assert again.count('class="gallery-card-name"') == first.count('class="gallery-card-name"') == 3

    page = reverse("albums:detail", args=[album.pk])
    assert "Photo 2" in visitor.get(page).content.decode()
    with django_assert_num_queries(1):  # who may see it is asked every time; the grid is kept
        assert "Photo 2" in visitor.get(page).content.decode()
    # the owner's change shows at once: the album's updated_at is part of the key
    services.remove_image(album=album, image_id=photos[1].pk)
    html = visitor.get(page).content.decode()
    assert "Photo 2" not in html and "2 photos" in html


def test_nothing_is_kept_when_the_setting_is_zero(user, settings, django_assert_num_queries):
    settings.ALBUMS_PAGE_CACHE_SECONDS = 0
    EnhancedImageFactory(user=user, is_public=True, name="Fresh")
    visitor = Client()
    visitor.get(reverse("albums:gallery"))
    with django_assert_num_queries(1):
        assert "Fresh" in visitor.get(reverse("albums:gallery")).content.decode()


def test_visitors_without_cookies_get_a_kept_page_with_their_own_csrf_token(
    album, photos, settings, django_assert_num_queries
):
    from albums.fragments import CSRF_PLACEHOLDER

    settings.ALBUMS_PAGE_CACHE_SECONDS = 30
    make_shared(album, privacy=AlbumPrivacy.PUBLIC)
    page = reverse("albums:detail", args=[album.pk])
    first, second = Client(), Client()
    one = first.get(page)
    with django_assert_num_queries(1):  # the access check only
        two = second.get(page)
    tokens = []
    for response, client in ((one, first), (two, second)):
        html = response.content.decode()
        assert "Photo 2" in html and CSRF_PLACEHOLDER not in html
        token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
        cookie = client.cookies["csrftoken"].value
        assert _unmask_cipher_token(token) == cookie  # each visitor's own, matching their cookie
        tokens.append(cookie)
    assert tokens[0] != tokens[1]
    # the gallery too; a signed-in visitor always gets a page rendered for them
    gallery = reverse("albums:gallery")
    Client().get(gallery)
    with django_assert_num_queries(0):
        Client().get(gallery)
    signed_in = Client()
    signed_in.force_login(album.user)
    html = signed_in.get(gallery).content.decode()
    assert "tokens</a>" in html  # their balance badge, not a visitor's header


def test_a_page_kept_for_visitors_stops_when_access_does(album, photos, settings):
    settings.ALBUMS_PAGE_CACHE_SECONDS = 30
    token = make_shared(album).share_token
    assert Client().get(reverse("albums:shared", args=[token])).status_code == 200
    services.stop_sharing(album=album)
    assert Client().get(reverse("albums:shared", args=[token])).status_code == 404
