"""The gallery, an album page (the owner's and a visitor's), the albums list and the slideshow
run a fixed number of queries whatever their size: the same bound with 2 rows and with 30."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from albums import services
from albums.models import AlbumPrivacy
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
    "album page (visitor)": 5,  # album, entries, best results, view record, view count
    "shared album": 5,
    "slideshow": 3,  # album, entries, best results
    "slides": 3,
    "shared image": 6,  # album, the order's ids, the image, its best result, view record, count
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
