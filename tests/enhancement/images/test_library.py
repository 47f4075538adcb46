"""The library page ("My images"): whose images, in which order, pages, job badges, queries."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from enhancement.models import EnhancedImage, JobStatus
from tests.factories import EnhancedImageFactory, ImageEnhancementJobFactory

URL = reverse("images:library")

pytestmark = pytest.mark.django_db


def make_images(user, count, *, start=None):
    """`count` images of `user`, uploaded a minute apart (the last one newest)."""
    start = start or timezone.now() - timedelta(days=1)
    made = []
    for i in range(count):
        image = EnhancedImageFactory(user=user, name=f"Photo {i:03d}")
        EnhancedImage.objects.filter(pk=image.pk).update(created_at=start + timedelta(minutes=i))
        made.append(image)
    return made


def card_names(response):
    return re.findall(r'class="image-card-name"[^>]*>([^<]+)</a>', response.content.decode())


def test_anonymous_is_sent_to_login(anon_client):
    response = anon_client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_empty_library_invites_an_upload(owner_client):
    response = owner_client.get(URL)
    assert response.status_code == 200
    assert "No images yet" in response.content.decode()
    assert reverse("images:upload") in response.content.decode()


def test_the_library_shows_only_the_owners_images_newest_first(owner_client, user, other_user):
    make_images(user, 3)
    EnhancedImageFactory(user=other_user, name="Bob's secret")

    response = owner_client.get(URL)

    assert response.status_code == 200
    assert card_names(response) == ["Photo 002", "Photo 001", "Photo 000"]
    assert "Bob&#x27;s secret" not in response.content.decode()


def test_the_library_is_paginated(owner_client, user):
    make_images(user, 30)

    first = owner_client.get(URL)
    second = owner_client.get(URL, {"page": 2})
    beyond = owner_client.get(URL, {"page": 99})
    nonsense = owner_client.get(URL, {"page": "x"})

    assert card_names(first) == [f"Photo {i:03d}" for i in range(29, 5, -1)]
    assert card_names(second) == [f"Photo {i:03d}" for i in range(5, -1, -1)]
    assert card_names(beyond) == card_names(second)
    assert card_names(nonsense) == card_names(first)
    assert "Page 1 of 2" in first.content.decode()
    assert 'href="?page=2"' in first.content.decode()


def test_each_card_links_its_image_and_has_a_batch_checkbox(owner_client, user):
    (image,) = make_images(user, 1)

    html = owner_client.get(URL).content.decode()

    assert reverse("images:detail", args=[image.pk]) in html
    assert (
        f'<input type="checkbox" name="image_ids" value="{image.pk}" form="batch-form" '
        f'aria-label="Select {image.name}">'
    ) in html
    assert 'alt="Photo 000"' in html


def test_cards_show_signed_thumbnails_with_a_srcset(owner_client, user):
    EnhancedImageFactory(user=user, original_width=3000, original_height=2000)

    html = owner_client.get(URL).content.decode()

    srcset = re.search(r'srcset="([^"]+)"', html).group(1)
    thumb, preview = [part.strip() for part in srcset.split(",")]
    assert thumb.startswith("/media/f/") and thumb.endswith(" 400w")
    assert preview.startswith("/media/f/") and preview.endswith(" 1600w")
    assert "/media/users/" not in html  # never a plain path to a private object


def test_a_small_image_needs_no_srcset(owner_client, user):
    EnhancedImageFactory(user=user, original_width=300, original_height=200)
    assert "srcset=" not in owner_client.get(URL).content.decode()


@pytest.mark.parametrize(
    ("status", "tier", "badge"),
    [
        (JobStatus.PENDING, "TIER_1K", "Enhancing…"),
        (JobStatus.PROCESSING, "TIER_1K", "Enhancing…"),
        (JobStatus.FAILED, "TIER_2K", "Retrying…"),
        (JobStatus.COMPLETED, "TIER_2K", "Enhanced 2K"),
        (JobStatus.REFUNDED, "TIER_4K", "Failed — refunded 10 tokens"),
    ],
)
def test_each_card_shows_its_latest_enhancement_state(owner_client, user, status, tier, badge):
    image = EnhancedImageFactory(user=user)
    old = ImageEnhancementJobFactory(image=image, status=JobStatus.COMPLETED, tier="TIER_1K")
    old_time = timezone.now() - timedelta(hours=1)
    type(old).objects.filter(pk=old.pk).update(created_at=old_time)
    ImageEnhancementJobFactory(image=image, status=status, tier=tier)

    html = owner_client.get(URL).content.decode()

    assert badge in html
    assert "Enhanced 1K" not in html  # only the latest job counts


def test_the_query_count_does_not_grow_with_the_number_of_images(
    owner_client, user, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_images(user, 20)
    for image in EnhancedImage.objects.all()[:5]:
        ImageEnhancementJobFactory(image=image, status=JobStatus.COMPLETED)
    owner_client.get(URL)  # warm the session
    with CaptureQueriesContext(connection) as at_20:
        assert owner_client.get(URL).status_code == 200

    make_images(user, 180)
    with CaptureQueriesContext(connection) as at_200:
        assert owner_client.get(URL).status_code == 200

    assert len(at_200) == len(at_20)
    # session, user, count, the page of images (+ room for the balance badge in the navigation)
    with django_assert_max_num_queries(6):
        owner_client.get(URL, {"page": 3})
