"""The back office: albums with their images, privacy, cover and order; staff unpublish an album
(an action with a reason) or an image (an Unpublication added by id), the owner sees the reason,
and staff can lift it; who acted is recorded."""

from __future__ import annotations

from html import unescape

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from albums.models import AlbumPrivacy, Unpublication
from enhancement.images import services as image_services
from tests.albums.conftest import make_shared
from tests.factories import UserFactory
from tests.media import media_keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(db):
    admin = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    client.admin = admin
    return client


def test_the_album_admin_shows_images_cover_order_and_privacy(admin_client_, album, photos):
    make_shared(album, privacy=AlbumPrivacy.PUBLIC)
    changelist = admin_client_.get(reverse("admin:albums_album_changelist")).content.decode()
    assert "Holidays" in changelist and "Public (listed in the gallery)" in changelist
    page = admin_client_.get(reverse("admin:albums_album_change", args=[album.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    keys = media_keys(html)
    assert {p.thumbnail_r2_key.name for p in photos} <= keys
    assert html.count('name="album_images-') > 0 and "sort_order" in html
    assert 'name="share_password"' not in html  # shown as set / not set, never the hash


def test_staff_unpublish_an_album_with_a_reason_the_owner_sees(
    admin_client_, owner_client, anon_client, album
):
    token = make_shared(album, privacy=AlbumPrivacy.PUBLIC).share_token
    url = reverse("admin:albums_album_changelist")
    ask = admin_client_.post(url, {"action": "unpublish", ACTION_CHECKBOX_NAME: [album.pk]})
    assert ask.status_code == 200 and "Reason (shown to the owner)" in ask.content.decode()
    # no reason: asked again, nothing done
    admin_client_.post(
        url, {"action": "unpublish", ACTION_CHECKBOX_NAME: [album.pk], "apply": "1", "reason": ""}
    )
    album.refresh_from_db()
    assert album.privacy == AlbumPrivacy.PUBLIC
    done = admin_client_.post(
        url,
        {
            "action": "unpublish",
            ACTION_CHECKBOX_NAME: [album.pk],
            "apply": "1",
            "reason": "These photos belong to someone else.",
        },
        follow=True,
    )
    assert "1 album unpublished" in done.content.decode()
    album.refresh_from_db()
    assert album.privacy == AlbumPrivacy.PRIVATE and album.share_token is None
    record = Unpublication.objects.get(album=album)
    assert record.unpublished_by == admin_client_.admin
    # gone for visitors, explained to the owner, who cannot share it again
    assert anon_client.get(reverse("albums:detail", args=[album.pk])).status_code == 404
    assert anon_client.get(reverse("albums:shared", args=[token])).status_code == 404
    page = owner_client.get(reverse("albums:detail", args=[album.pk])).content.decode()
    assert "Our staff took this album off public view" in page
    assert "These photos belong to someone else." in page
    listed = owner_client.get(reverse("albums:list")).content.decode()
    assert "Unpublished by staff" in listed
    refused = owner_client.post(reverse("albums:sharing", args=[album.pk]), {"privacy": "PUBLIC"})
    assert refused.status_code == 400
    assert "cannot be shared for now" in refused.content.decode()
    # staff lift it: the owner may share again
    admin_client_.post(url, {"action": "allow_sharing_again", ACTION_CHECKBOX_NAME: [album.pk]})
    record.refresh_from_db()
    assert record.lifted_by == admin_client_.admin
    ok = owner_client.post(reverse("albums:sharing", args=[album.pk]), {"privacy": "PUBLIC"})
    assert ok.status_code == 302


def test_staff_unpublish_an_image_by_adding_a_record(
    admin_client_, owner_client, anon_client, photos
):
    image = photos[0]
    image_services.set_public(image=image, is_public=True)
    add = reverse("admin:albums_unpublication_add")
    assert admin_client_.get(add, {"image": image.pk}).status_code == 200
    neither = admin_client_.post(add, {"reason": "x"})
    assert "Choose either an image or an album" in neither.content.decode()
    response = admin_client_.post(add, {"image": image.pk, "reason": "A stranger's face."})
    assert response.status_code == 302
    image.refresh_from_db()
    assert image.is_public is False
    record = Unpublication.objects.get(image=image)
    assert record.unpublished_by == admin_client_.admin
    assert anon_client.get(reverse("images:detail", args=[image.pk])).status_code == 302  # login
    page = unescape(owner_client.get(reverse("images:detail", args=[image.pk])).content.decode())
    assert "Our staff took this image off public view" in page and "A stranger's face." in page
    # publishing again does not bring it back
    owner_client.post(reverse("images:publish", args=[image.pk]), {"is_public": "on"})
    image.refresh_from_db()
    assert image.is_public is False
    # the record cannot be edited or deleted, only lifted
    change = admin_client_.get(reverse("admin:albums_unpublication_change", args=[record.pk]))
    assert 'name="reason"' not in change.content.decode()
    assert (
        admin_client_.post(
            reverse("admin:albums_unpublication_delete", args=[record.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    admin_client_.post(
        reverse("admin:albums_unpublication_changelist"),
        {"action": "lift", ACTION_CHECKBOX_NAME: [record.pk]},
    )
    owner_client.post(reverse("images:publish", args=[image.pk]), {"is_public": "on"})
    image.refresh_from_db()
    assert image.is_public is True


def test_view_records_are_read_only_in_the_admin(admin_client_):
    response = admin_client_.get(reverse("admin:albums_dailyview_changelist"))
    assert response.status_code == 200
    assert admin_client_.get(reverse("admin:albums_dailyview_add")).status_code == 403
