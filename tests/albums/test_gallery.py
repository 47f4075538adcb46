"""The public gallery: what it lists (public images, public albums; never a private image nor
one only in an unlisted album), with whose public name, newest first or most viewed, and its
keyset pages (every row once, forwards and back; a cursor that is not ours is a 400 with the
first page)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from albums import services
from albums.models import AlbumPrivacy
from enhancement.models import EnhancedImage
from tests.albums.conftest import make_shared
from tests.factories import AlbumFactory, AlbumImageFactory, EnhancedImageFactory, UserFactory

pytestmark = pytest.mark.django_db

GALLERY = "/gallery/"


def names(html: str) -> list[str]:
    return re.findall(r'class="gallery-card-name" href="[^"]+">([^<]+)</a>', html)


def test_the_gallery_lists_public_images_only(anon_client, user, other_user):
    EnhancedImageFactory(user=user, name="Public one", is_public=True)
    EnhancedImageFactory(user=user, name="Private one")
    unlisted_only = EnhancedImageFactory(user=user, name="Only in an unlisted album")
    in_public_album = EnhancedImageFactory(user=user, name="Only in a public album")
    unlisted = AlbumFactory(user=user, privacy=AlbumPrivacy.UNLISTED, name="Unlisted album")
    AlbumImageFactory(album=unlisted, image=unlisted_only)
    public = AlbumFactory(user=user, privacy=AlbumPrivacy.PUBLIC, name="Public album")
    AlbumImageFactory(album=public, image=in_public_album)
    AlbumFactory(user=user, name="Private album")

    photos = anon_client.get(GALLERY).content.decode()
    assert names(photos) == ["Public one"]
    albums = anon_client.get(GALLERY, {"show": "albums"}).content.decode()
    assert names(albums) == ["Public album"]
    for hidden in ("Private one", "Only in an unlisted album", "Unlisted album", "Private album"):
        assert hidden not in photos + albums


def test_owners_are_named_by_their_public_name_never_their_email(anon_client):
    named = UserFactory(email="jane.doe@example.com", name="Jane Doe", public_name="Lens Lover")
    unnamed = UserFactory(email="secret.person@example.com", name="Secret Person")
    EnhancedImageFactory(user=named, name="Jane's", is_public=True)
    EnhancedImageFactory(user=unnamed, name="Other's", is_public=True)
    AlbumFactory(user=unnamed, privacy=AlbumPrivacy.PUBLIC, name="Their album")
    html = anon_client.get(GALLERY).content.decode()
    html += anon_client.get(GALLERY, {"show": "albums"}).content.decode()
    assert "Lens Lover" in html and "A Lumen member" in html
    for private in ("jane.doe", "secret.person", "example.com", "Jane Doe", "Secret Person"):
        assert private not in html


def test_view_counts_and_the_most_viewed_order(anon_client, user):
    for name, views in (("Few", 3), ("Many", 1200), ("None", 0)):
        EnhancedImageFactory(user=user, name=name, is_public=True, view_count=views)
    newest = anon_client.get(GALLERY).content.decode()
    assert names(newest) == ["None", "Many", "Few"]
    popular = anon_client.get(GALLERY, {"sort": "popular"}).content.decode()
    assert names(popular) == ["Many", "Few", "None"]
    assert "1,200 views" in popular and "3 views" in popular and "0 views" in popular


def test_public_albums_show_cover_count_and_views(anon_client, user, album, photos):
    make_shared(album, privacy=AlbumPrivacy.PUBLIC)
    html = anon_client.get(GALLERY, {"show": "albums"}).content.decode()
    assert "Holidays" in html and "3 photos" in html and "0 views" in html
    assert f'href="/albums/{album.pk}/"' in html
    anon_client.get(f"/albums/{album.pk}/")  # a visitor's view
    html = anon_client.get(GALLERY, {"show": "albums", "sort": "popular"}).content.decode()
    assert "1 view" in html


def walk(client, params, direction="after"):
    """Every page from the first, following the Next links; the names on each page."""
    pages = []
    html = client.get(GALLERY, params).content.decode()
    while True:
        pages.append(names(html))
        match = re.search(r'href="\?([^"]+)" rel="next"', html)
        if not match:
            return pages, html
        query = match.group(1).replace("&amp;", "&")
        html = client.get(GALLERY + "?" + query).content.decode()


@pytest.mark.parametrize("sort", ["newest", "popular"])
def test_keyset_pages_give_every_image_once_in_order(anon_client, user, settings, sort):
    settings.GALLERY_PAGE_SIZE = 4
    now = timezone.now()
    made = []
    for n in range(11):
        image = EnhancedImageFactory(
            user=user, name=f"Img {n:02d}", is_public=True, view_count=n % 3
        )
        made.append(image)
    # ties on purpose: several images share a moment and a view count (the id breaks the tie)
    for n, image in enumerate(made):
        EnhancedImage.objects.filter(pk=image.pk).update(
            created_at=now - dt.timedelta(seconds=n // 2)
        )
    pages, _ = walk(anon_client, {"sort": sort})
    assert [len(page) for page in pages] == [4, 4, 3]
    flat = [name for page in pages for name in page]
    if sort == "newest":
        key = sorted(made, key=lambda i: (now - dt.timedelta(seconds=made.index(i) // 2), i.pk))
    else:
        key = sorted(made, key=lambda i: (i.view_count, i.pk))
    assert flat == [image.name for image in reversed(key)]

    # and back again with the Previous links
    html = anon_client.get(GALLERY, {"sort": sort}).content.decode()
    for _ in range(2):
        query = re.search(r'href="\?([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
        html = anon_client.get(GALLERY + "?" + query).content.decode()
    back = []
    while True:
        back.insert(0, names(html))
        match = re.search(r'href="\?([^"]+)" rel="prev"', html)
        if not match:
            break
        html = anon_client.get(
            GALLERY + "?" + match.group(1).replace("&amp;", "&")
        ).content.decode()
    assert back == pages


def test_album_pages_by_keyset(anon_client, user, settings):
    settings.GALLERY_PAGE_SIZE = 2
    for n in range(5):
        AlbumFactory(user=user, privacy=AlbumPrivacy.PUBLIC, name=f"Album {n}")
    pages, _ = walk(anon_client, {"show": "albums"})
    assert pages == [["Album 4", "Album 3"], ["Album 2", "Album 1"], ["Album 0"]]


@pytest.mark.parametrize(
    "cursor",
    ["junk", "1.x", "99999999999999999999999.a" + "b" * 24, "\x00", "1.A" + "b" * 24, "x" * 200],
)
def test_a_cursor_that_is_not_ours_is_a_400_with_the_first_page(anon_client, user, cursor):
    EnhancedImageFactory(user=user, name="Still here", is_public=True)
    for param in ("after", "before"):
        response = anon_client.get(GALLERY, {param: cursor})
        assert response.status_code == 400
        html = response.content.decode()
        assert "That page link is not one of ours" in html and "Still here" in html


def test_unknown_tabs_and_sorts_fall_back_to_the_defaults(anon_client, user):
    EnhancedImageFactory(user=user, name="Shown", is_public=True)
    html = anon_client.get(GALLERY, {"show": "everything", "sort": "random"}).content.decode()
    assert names(html) == ["Shown"]


def test_an_empty_gallery_says_so(anon_client, client, user):
    assert "No public photos yet" in anon_client.get(GALLERY).content.decode()
    assert "No public albums yet" in anon_client.get(GALLERY, {"show": "albums"}).content.decode()


def test_an_image_staff_unpublished_leaves_the_gallery(anon_client, user, staff_user):
    image = EnhancedImageFactory(user=user, name="Removed", is_public=True)
    services.unpublish_image(image=image, reason="Not ours to show", by=staff_user)
    assert "Removed" not in anon_client.get(GALLERY).content.decode()


def test_the_nav_links_the_gallery_for_everyone_and_albums_for_members(anon_client, owner_client):
    anon = anon_client.get(reverse("home")).content.decode()
    assert 'href="/gallery/"' in anon and 'href="/albums/"' not in anon
    member = owner_client.get(reverse("albums:gallery")).content.decode()
    assert 'href="/albums/"' in member
    assert re.search(r'href="/gallery/" aria-current="page">Gallery', member)
