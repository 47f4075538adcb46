"""What visitors see: the best enhanced version with a before/after slider (else the preview),
derivatives only: no page a visitor sees links an original (nor a job's full result, which
keeps the photo's EXIF); downloads without any metadata; Open Graph tags whose image URL stays
valid as long as the share; the slideshow's slides and their refresh."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from albums import services
from albums.models import AlbumPrivacy
from enhancement import storage
from enhancement.images import services as image_services
from tests import images
from tests.albums.conftest import PASSWORD, enhance, make_shared
from tests.media import media_keys

pytestmark = pytest.mark.django_db


def visitor_pages(client, album, photos, token):
    """The HTML of every page a visitor can open for this album and its images."""
    urls = [
        reverse("albums:detail", args=[album.pk]),
        reverse("albums:slideshow", args=[album.pk]),
        reverse("albums:shared", args=[token]),
        reverse("albums:shared_slideshow", args=[token]),
        reverse("albums:gallery"),
        reverse("albums:gallery") + "?show=albums",
    ]
    for photo in photos:
        urls += [
            reverse("albums:image", args=[album.pk, photo.pk]),
            reverse("albums:shared_image", args=[token, photo.pk]),
            reverse("images:detail", args=[photo.pk]),  # the public image page
        ]
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        pages[url] = response.content.decode()
    for url in (
        reverse("albums:slides", args=[album.pk]),
        reverse("albums:shared_slides", args=[token]),
    ):
        pages[url] = client.get(url).content.decode()
    return pages


def test_no_page_a_visitor_sees_links_an_original_or_a_full_result(album, photos, user):
    job = enhance(photos[0])
    token = make_shared(album, privacy=AlbumPrivacy.PUBLIC, allow_download=True).share_token
    for photo in photos:
        image_services.set_public(image=photo, is_public=True)
    stranger = Client()
    pages = visitor_pages(stranger, album, photos, token)
    seen = set()
    for url, html in pages.items():
        keys = media_keys(html.replace("\\/", "/"))
        seen |= keys
        for key in keys:
            assert not re.search(r"/original\.[a-z0-9]+$", key), (url, key)
            assert not re.search(r"/enhanced\.[a-z0-9]+$", key), (url, key)
        for photo in photos:
            assert photo.original_r2_key.name not in html, url
        assert job.enhanced_r2_key.name not in html, url
    # what they do see: thumbnails, previews and the enhanced preview
    assert job.enhanced_preview_r2_key.name in seen
    assert {p.thumbnail_r2_key.name for p in photos} <= seen
    assert {p.preview_r2_key.name for p in photos} <= seen
    # and every picture they are shown carries no metadata at all
    for key in seen:
        with Image.open(io.BytesIO(storage.read_bytes(key))) as img:
            assert not img.getexif() and "xmp" not in img.info and "exif" not in img.info, key


def test_the_best_enhanced_version_with_a_before_after_slider(anon_client, album, photos):
    enhance(photos[0], tier="TIER_1K")
    best = enhance(photos[0], tier="TIER_4K", data=images.jpeg_with_exif(240, 160, orientation=1))
    enhance(photos[0], tier="TIER_2K", data=images.jpeg_with_exif(180, 120, orientation=1))
    token = make_shared(album).share_token
    html = anon_client.get(reverse("albums:shared_image", args=[token, photos[0].pk])).content
    html = html.decode()
    keys = media_keys(html)
    assert best.enhanced_preview_r2_key.name in keys  # the largest result
    assert photos[0].preview_r2_key.name in keys  # the "before"
    assert "data-album-compare" in html and "Enhanced 4K" in html
    assert 'type="range"' in html
    # an image without an enhancement: its preview, no slider
    plain = anon_client.get(reverse("albums:shared_image", args=[token, photos[1].pk])).content
    assert "data-album-compare" not in plain.decode()
    assert photos[1].preview_r2_key.name in media_keys(plain.decode())


def test_the_public_image_page_shows_the_best_version_and_share_tags(anon_client, photos):
    image = photos[0]
    image_services.set_public(image=image, is_public=True)
    job = enhance(image)
    html = anon_client.get(reverse("images:detail", args=[image.pk])).content.decode()
    assert job.enhanced_preview_r2_key.name in media_keys(html)
    assert "data-album-compare" in html
    og = f"http://testserver/gallery/images/{image.pk}/og.webp"
    assert f'<meta property="og:image" content="{og}">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert f'<meta property="og:url" content="http://testserver/images/{image.pk}/">' in html
    assert "Copy link" in html and f'value="http://testserver/images/{image.pk}/"' in html
    # the OG image: a fresh signed link to the best preview, for as long as the image is public
    response = anon_client.get(og)
    assert response.status_code == 302
    assert media_keys(response["Location"]) == {job.enhanced_preview_r2_key.name}
    image_services.set_public(image=image, is_public=False)
    assert anon_client.get(og).status_code == 404


def test_open_graph_of_a_shared_album_outlives_the_signed_urls(anon_client, album, photos):
    token = make_shared(album).share_token
    html = anon_client.get(reverse("albums:shared", args=[token])).content.decode()
    og = f"http://testserver/s/{token}/og.webp"
    assert f'<meta property="og:image" content="{og}">' in html
    assert '<meta property="og:title" content="Holidays">' in html
    assert '<meta property="og:description" content="Sea and sun">' in html
    # the tag names our route, never a signed (expiring) media link; the route signs afresh
    tag = re.search(r'property="og:image" content="([^"]+)"', html).group(1)
    assert "/media/" not in tag
    response = anon_client.get(og)
    assert response.status_code == 302
    assert media_keys(response["Location"]) == {photos[0].preview_r2_key.name}  # the cover
    services.set_cover(album=album, image_id=photos[2].pk)
    assert media_keys(anon_client.get(og)["Location"]) == {photos[2].preview_r2_key.name}
    # ... and stops with the share
    services.stop_sharing(album=album)
    assert anon_client.get(og).status_code == 404


def test_a_password_protected_link_shows_nothing_of_itself_in_a_preview(anon_client, album):
    token = make_shared(album, password=PASSWORD).share_token
    html = anon_client.get(reverse("albums:shared", args=[token])).content.decode()
    assert "og:image" not in html and "Holidays" not in html
    assert anon_client.get(reverse("albums:shared_og_image", args=[token])).status_code == 404


def test_a_visitors_download_is_the_best_version_without_any_metadata(album, photos):
    job = enhance(photos[0], tier="TIER_2K")
    stored = storage.read_bytes(job.enhanced_r2_key.name)
    assert images.GPS_MARKER.encode() in stored  # the result kept the location (owner's choice)
    token = make_shared(album, allow_download=True).share_token
    client = Client()
    response = client.get(reverse("albums:shared_download", args=[token, photos[0].pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert 'filename="Photo 1-enhanced-2K.webp"' in response["Content-Disposition"]
    data = response.content
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (job.enhanced_width, job.enhanced_height)
        assert not img.getexif() and "exif" not in img.info and "xmp" not in img.info
    assert images.CAMERA_MAKE.encode() not in data and images.GPS_MARKER.encode() not in data
    # without an enhancement: the preview (already without metadata)
    plain = client.get(reverse("albums:shared_download", args=[token, photos[1].pk]))
    assert plain.content == storage.read_bytes(photos[1].preview_r2_key.name)
    original = storage.read_bytes(photos[1].original_r2_key.name)
    assert images.CAMERA_MAKE.encode() in original  # the original had it; the download has not
    assert images.CAMERA_MAKE.encode() not in plain.content


def test_downloads_are_rate_limited(album, photos, settings):
    settings.ALBUM_DOWNLOADS_PER_MINUTE = 2
    token = make_shared(album, allow_download=True).share_token
    client = Client()
    url = reverse("albums:shared_download", args=[token, photos[1].pk])
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]


def test_the_slideshow_lists_every_photo_and_refreshes_its_links(anon_client, album, photos):
    job = enhance(photos[1])
    token = make_shared(album).share_token
    html = anon_client.get(
        reverse("albums:shared_slideshow", args=[token]), {"start": photos[2].pk}
    ).content.decode()
    assert html.count("data-slide-id=") == 3
    assert f'data-slide-id="{photos[2].pk}"' in html
    assert re.search(rf'data-slide-id="{photos[2].pk}"[^>]*data-start', html)
    assert 'data-slides-url="/s/' in html and 'data-refresh-after="1800"' in html
    assert job.enhanced_preview_r2_key.name in media_keys(html)
    assert "albums/slideshow.js" in html and "<script>" not in html
    slides = anon_client.get(reverse("albums:shared_slides", args=[token])).json()
    assert [s["id"] for s in slides["slides"]] == [p.pk for p in photos]
    assert media_keys(slides["slides"][1]["url"]) == {job.enhanced_preview_r2_key.name}
    assert slides["refresh_after"] == 1800
    services.stop_sharing(album=album)
    assert anon_client.get(reverse("albums:shared_slides", args=[token])).status_code == 404


def test_the_owner_sees_their_link_as_visitors_do_with_a_note(owner_client, album):
    token = make_shared(album, password=PASSWORD).share_token
    html = owner_client.get(reverse("albums:shared", args=[token])).content.decode()
    assert "This is your album as people with the link see it." in html
    assert "Visitors enter the password first." in html and "Photo 1" in html


def test_visitors_see_the_owners_public_name_only(anon_client, album, user):
    user.public_name = "Sunny"
    user.save()
    token = make_shared(album).share_token
    html = anon_client.get(reverse("albums:shared", args=[token])).content.decode()
    assert "By Sunny" in html and "alice" not in html and "example.com" not in html
