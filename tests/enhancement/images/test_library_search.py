"""The library at hundreds of images: search by name, sort, and the chosen results as one
streamed zip."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from enhancement import storage
from enhancement.models import EnhancedImage, ImageEnhancementJob, JobStatus
from tests.factories import ImageEnhancementJobFactory, stored_image

pytestmark = pytest.mark.django_db
LIBRARY = "/images/"


def names_on(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'class="image-card-name"[^>]*>([^<]+)</a>', html)


@pytest.fixture
def shelf(user):
    """Three images made a minute apart; 'Beach' was enhanced last, 'Alps' never."""
    now = timezone.now()
    made = {}
    for minutes, name in ((3, "beach dusk"), (2, "Alps"), (1, "Beach morning")):
        image = stored_image(user, name=name)
        EnhancedImage.objects.filter(pk=image.pk).update(
            created_at=now - timedelta(minutes=minutes)
        )
        made[name] = image
    for name, ago in (("beach dusk", 1), ("Beach morning", 30)):
        job = ImageEnhancementJobFactory(image=made[name], user=user, status=JobStatus.COMPLETED)
        ImageEnhancementJob.objects.filter(pk=job.pk).update(
            processing_completed_at=now - timedelta(minutes=ago)
        )
        storage.save_bytes(job.enhanced_r2_key.name, f"result of {name}".encode())
    return made


def test_search_finds_names_in_any_case_and_keeps_the_order(owner_client, shelf):
    found = owner_client.get(LIBRARY, {"q": "BEACH", "sort": "oldest"})
    assert names_on(found) == ["beach dusk", "Beach morning"]
    assert "named like “BEACH”" in found.content.decode()
    nothing = owner_client.get(LIBRARY, {"q": "zebra"})
    assert "No image named like “zebra”" in nothing.content.decode()


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["Beach morning", "Alps", "beach dusk"]),
        ("oldest", ["beach dusk", "Alps", "Beach morning"]),
        ("name", ["Alps", "beach dusk", "Beach morning"]),
        ("enhanced", ["beach dusk", "Beach morning", "Alps"]),
        ("nonsense", ["Beach morning", "Alps", "beach dusk"]),  # falls back to newest
    ],
)
def test_each_order(owner_client, shelf, sort, expected):
    assert names_on(owner_client.get(LIBRARY, {"sort": sort})) == expected


def test_the_pages_keep_the_search_and_the_order(owner_client, user, settings):
    for n in range(30):
        stored_image(user, name=f"pic {n:02d}")
    html = owner_client.get(LIBRARY, {"q": "pic", "sort": "name"}).content.decode()
    assert "?page=2&amp;q=pic&amp;sort=name" in html


def test_the_library_costs_the_same_queries_at_any_size(
    owner_client, user, django_assert_max_num_queries
):
    for n in range(3):
        stored_image(user, name=f"a{n}")
    with django_assert_max_num_queries(8) as small:
        owner_client.get(LIBRARY, {"sort": "enhanced", "q": "a"})
    for n in range(30):
        stored_image(user, name=f"b{n}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        owner_client.get(LIBRARY, {"sort": "enhanced", "q": "a"})


def test_the_chosen_results_download_as_one_streamed_zip(owner_client, user, shelf, other_user):
    strangers = stored_image(other_user, name="not yours")
    job = ImageEnhancementJobFactory(image=strangers, user=other_user, status=JobStatus.COMPLETED)
    storage.save_bytes(job.enhanced_r2_key.name, b"private")
    chosen = [shelf["beach dusk"].pk, shelf["Alps"].pk, shelf["Beach morning"].pk, strangers.pk]

    response = owner_client.post(reverse("images:download_results"), {"image_ids": chosen})

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)  # written as it is sent
    assert response["Content-Type"] == "application/zip"
    assert 'filename="lumen-enhanced-2-images.zip"' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    contents = {name: archive.read(name) for name in archive.namelist()}
    assert sorted(contents.values()) == [b"result of Beach morning", b"result of beach dusk"]
    assert all(
        name.startswith(("beach dusk-enhanced-", "Beach morning-enhanced-")) for name in contents
    )


def test_a_selection_without_results_or_with_junk_says_so(owner_client, shelf):
    url = reverse("images:download_results")
    empty = owner_client.post(url, {"image_ids": [shelf["Alps"].pk]}, follow=True)
    assert "None of the ticked images has an enhanced result yet" in empty.content.decode()
    junk = owner_client.post(url, {"image_ids": ["../../etc", "x\x00"]}, follow=True)
    assert "not valid" in junk.content.decode()
    none = owner_client.post(url, {}, follow=True)
    assert "Tick the images" in none.content.decode()


def test_same_names_in_a_zip_are_told_apart():
    from enhancement.images.archive import unique_names

    assert unique_names(["a.jpg", "A.jpg", "a.jpg", "b"]) == [
        "a.jpg",
        "A (2).jpg",
        "a (3).jpg",
        "b",
    ]
