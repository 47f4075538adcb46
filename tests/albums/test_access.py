"""Every album URL, as the owner, another user and an anonymous visitor, against each privacy
level and link state: private, unlisted (right token, rotated, turned off, expired, behind a
password: none given, wrong, right), public. A visitor who may not see an album gets a 404
(never a 403), exactly as for an album that does not exist; a link that does not work answers
the same whatever the reason."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from albums import services
from albums.models import AlbumPrivacy
from core.ids import new_id, new_share_token
from tests.albums.conftest import PASSWORD, make_shared

pytestmark = pytest.mark.django_db

OK, GONE, ASK, NO = 200, 404, "ask", "no-og"

BY_ID = ("detail", "image", "slideshow", "slides", "download", "og_image")
BY_LINK = (
    "shared",
    "shared_image",
    "shared_slideshow",
    "shared_slides",
    "shared_download",
    "shared_og_image",
)


def urls(album, image_id, token):
    by_id = {
        "detail": reverse("albums:detail", args=[album.pk]),
        "image": reverse("albums:image", args=[album.pk, image_id]),
        "slideshow": reverse("albums:slideshow", args=[album.pk]),
        "slides": reverse("albums:slides", args=[album.pk]),
        "download": reverse("albums:download", args=[album.pk, image_id]),
        "og_image": reverse("albums:og_image", args=[album.pk]),
    }
    by_link = {
        "shared": reverse("albums:shared", args=[token]),
        "shared_image": reverse("albums:shared_image", args=[token, image_id]),
        "shared_slideshow": reverse("albums:shared_slideshow", args=[token]),
        "shared_slides": reverse("albums:shared_slides", args=[token]),
        "shared_download": reverse("albums:shared_download", args=[token, image_id]),
        "shared_og_image": reverse("albums:shared_og_image", args=[token]),
    }
    return {**by_id, **by_link}


def set_state(album, state):
    """Put the album in `state`; returns the token a visitor holds."""
    if state == "private":
        return new_share_token()  # whatever they guess
    if state == "public":
        return make_shared(album, privacy=AlbumPrivacy.PUBLIC, allow_download=True).share_token
    if state == "unlisted":
        return make_shared(album, allow_download=True).share_token
    if state == "rotated":
        old = make_shared(album, allow_download=True).share_token
        services.rotate_link(album=album)
        return old
    if state == "turned off":
        old = make_shared(album, allow_download=True).share_token
        services.stop_sharing(album=album)
        return old
    if state == "expired":
        past = timezone.now() - dt.timedelta(minutes=1)
        return make_shared(album, expires_at=past, allow_download=True).share_token
    if state.startswith("password"):
        return make_shared(album, password=PASSWORD, allow_download=True).share_token
    raise AssertionError(state)


def expected(state, role):
    """What each route answers: a status, ASK (the password form, or a redirect to it) or
    NO (the Open Graph image is never served for this link)."""
    owner = role == "owner"
    by_id = dict.fromkeys(BY_ID, OK if owner else GONE)
    if state == "public":
        by_id = dict.fromkeys(BY_ID, OK)
    else:
        by_id["og_image"] = GONE  # the OG image by id is for public albums only
    if state in ("private", "rotated", "turned off"):
        by_link = dict.fromkeys(BY_LINK, GONE)
    elif owner:
        by_link = dict.fromkeys(BY_LINK, OK)  # the owner always gets in through a live token
        if state in ("expired",) or state.startswith("password"):
            by_link["shared_og_image"] = GONE  # no preview picture for these links
    elif state == "expired":
        by_link = dict.fromkeys(BY_LINK, GONE)
    elif state in ("password", "password wrong"):
        by_link = dict.fromkeys(BY_LINK, ASK)
        by_link["shared_slides"] = GONE
        by_link["shared_og_image"] = GONE
    elif state == "password right":
        by_link = dict.fromkeys(BY_LINK, OK)
        by_link["shared_og_image"] = GONE
    else:  # unlisted, public
        by_link = dict.fromkeys(BY_LINK, OK)
    return {**by_id, **by_link}


STATES = [
    "private",
    "unlisted",
    "rotated",
    "turned off",
    "expired",
    "password",
    "password wrong",
    "password right",
    "public",
]


@pytest.mark.parametrize("role", ["owner", "stranger", "anonymous"])
@pytest.mark.parametrize("state", STATES)
def test_the_access_matrix(state, role, user, other_user, album, photos):
    client = Client()
    if role == "owner":
        client.force_login(user)
    elif role == "stranger":
        client.force_login(other_user)
    token = set_state(album, state)
    if state in ("password wrong", "password right"):
        given = PASSWORD if state == "password right" else "not it"
        response = client.post(reverse("albums:shared", args=[token]), {"password": given})
        if role != "owner":
            assert response.status_code == (302 if state == "password right" else 400)
    image_id = photos[1].pk
    answers = expected(state, role)
    for route, url in urls(album, image_id, token).items():
        response = client.get(url)
        want = answers[route]
        where = (state, role, route)
        if want == OK:
            assert response.status_code in (200, 302), where
            if route.endswith("og_image"):
                assert response.status_code == 302 and "/media/f/" in response["Location"], where
            elif "download" in route:
                assert response["Content-Disposition"].startswith("attachment"), where
            elif route.endswith("slides"):
                assert [s["id"] for s in response.json()["slides"]] == [p.pk for p in photos]
            else:
                assert response.status_code == 200, where
                assert "Photo 2" in response.content.decode(), where
        elif want == ASK:
            if route == "shared":
                assert response.status_code == 200, where
                html = response.content.decode()
                assert "This album has a password" in html, where
                assert "Holidays" not in html and "Photo 2" not in html, where
            else:
                assert response.status_code == 302, where
                assert response["Location"] == reverse("albums:shared", args=[token]), where
        else:
            assert response.status_code == 404, where
            assert "Photo 2" not in response.content.decode(), where


def unmasked(response) -> str:
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", response.content.decode())


def test_a_link_that_does_not_work_answers_like_one_that_never_existed(anon_client, album):
    never = anon_client.get(reverse("albums:shared", args=[new_share_token()]))
    old = make_shared(album).share_token
    services.rotate_link(album=album)
    rotated = anon_client.get(reverse("albums:shared", args=[old]))
    assert never.status_code == rotated.status_code == 404
    assert "This link does not work" in never.content.decode()
    # the same page, but for the CSRF token (masked afresh for every response)
    assert unmasked(never) == unmasked(rotated)
    assert never["X-Robots-Tag"] == "noindex, nofollow"


def test_an_album_id_that_does_not_exist_is_a_404_like_a_private_one(stranger_client, album):
    missing = stranger_client.get(reverse("albums:detail", args=[new_id()]))
    private = stranger_client.get(reverse("albums:detail", args=[album.pk]))
    assert missing.status_code == private.status_code == 404


def test_rotating_the_link_forgets_the_password_entered_for_the_old_one(anon_client, album):
    token = make_shared(album, password=PASSWORD).share_token
    anon_client.post(reverse("albums:shared", args=[token]), {"password": PASSWORD})
    assert "Photo 1" in anon_client.get(reverse("albums:shared", args=[token])).content.decode()
    album = services.rotate_link(album=album)
    assert anon_client.get(reverse("albums:shared", args=[token])).status_code == 404
    fresh = anon_client.get(reverse("albums:shared", args=[album.share_token]))
    assert "This album has a password" in fresh.content.decode()


def test_changing_the_password_asks_for_the_new_one(anon_client, album):
    token = make_shared(album, password=PASSWORD).share_token
    anon_client.post(reverse("albums:shared", args=[token]), {"password": PASSWORD})
    services.set_sharing(album=album, privacy=AlbumPrivacy.UNLISTED, password="another one")
    page = anon_client.get(reverse("albums:shared", args=[token])).content.decode()
    assert "This album has a password" in page


def test_the_password_form_is_rate_limited(anon_client, album, settings):
    settings.ALBUM_PASSWORD_TRIES_PER_MINUTE = 3
    token = make_shared(album, password=PASSWORD).share_token
    url = reverse("albums:shared", args=[token])
    for _ in range(3):
        assert anon_client.post(url, {"password": "guess"}).status_code == 400
    response = anon_client.post(url, {"password": PASSWORD})  # even the right one waits
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Too many tries" in response.content.decode()
    assert "This album has a password" in anon_client.get(url).content.decode()


def test_the_link_counts_tries_from_everyone(album, settings):
    settings.ALBUM_PASSWORD_TRIES_PER_MINUTE = 100
    settings.ALBUM_PASSWORD_TRIES_PER_LINK_PER_MINUTE = 4
    token = make_shared(album, password=PASSWORD).share_token
    url = reverse("albums:shared", args=[token])
    statuses = [
        Client(REMOTE_ADDR=f"10.0.0.{n}").post(url, {"password": "guess"}).status_code
        for n in range(6)
    ]
    assert statuses == [400, 400, 400, 400, 429, 429]


def test_downloads_are_a_404_when_the_owner_did_not_allow_them(anon_client, album, photos):
    token = make_shared(album, privacy=AlbumPrivacy.PUBLIC, allow_download=False).share_token
    for url in (
        reverse("albums:download", args=[album.pk, photos[0].pk]),
        reverse("albums:shared_download", args=[token, photos[0].pk]),
    ):
        assert anon_client.get(url).status_code == 404
    page = anon_client.get(reverse("albums:image", args=[album.pk, photos[0].pk]))
    assert "Download" not in page.content.decode()


def test_an_image_not_in_the_album_is_a_404_through_it(anon_client, album, other_album):
    token = make_shared(album, privacy=AlbumPrivacy.PUBLIC, allow_download=True).share_token
    bob = other_album.album_images.get().image_id
    for url in (
        reverse("albums:image", args=[album.pk, bob]),
        reverse("albums:shared_image", args=[token, bob]),
        reverse("albums:shared_download", args=[token, bob]),
    ):
        assert anon_client.get(url).status_code == 404, url


def test_shared_pages_are_private_to_caches_and_not_indexed(anon_client, album):
    token = make_shared(album).share_token
    response = anon_client.get(reverse("albums:shared", args=[token]))
    assert response["Cache-Control"] == "private, no-cache"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()
