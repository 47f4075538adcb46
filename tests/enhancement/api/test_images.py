"""Images through the API: the upload page's very checks and messages, cursor pages, another
user's images are 404, ids checked before any query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enhancement.models import EnhancedImage
from tests import images
from tests.factories import UserFactory, stored_image, upload_file

pytestmark = pytest.mark.django_db


def test_upload_makes_an_image(api, api_user):
    response = api.post(
        "/api/v1/images", {"file": upload_file("Beach.jpg", images.jpeg_bytes(80, 60))}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["width"], body["height"], body["name"]) == (80, 60, "Beach")
    assert EnhancedImage.objects.get(pk=body["id"]).user == api_user
    assert response["X-Tokens-Remaining"] == "100"


def test_a_refused_upload_has_the_upload_pages_message(api):
    response = api.post("/api/v1/images", {"file": upload_file("notes.jpg", b"not an image")})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"]
    assert not EnhancedImage.objects.exists()


def test_upload_without_a_file_is_a_422_problem(api):
    response = api.post("/api/v1/images", {})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"


def test_pages_follow_the_cursor(api, api_user):
    made = [stored_image(api_user, name=f"{n}.jpg").pk for n in range(5)]
    seen = []
    url = "/api/v1/images?limit=2"
    while url:
        body = api.get(url).json()
        seen += [item["id"] for item in body["items"]]
        url = (
            f"/api/v1/images?limit=2&cursor={body['next_cursor']}" if body["next_cursor"] else None
        )
    assert sorted(seen) == sorted(made) and len(seen) == 5


@pytest.mark.parametrize(
    ("cursor", "status"),
    [("junk", 400), ("AAAA", 400), ("x" * 90, 400), ("%00", 422), ("a.b", 422)],
)
def test_a_bad_cursor_is_refused(api, api_user, cursor, status):
    stored_image(api_user)
    response = api.get(f"/api/v1/images?cursor={cursor}")
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"


def test_another_users_image_is_a_404(api):
    theirs = stored_image(UserFactory())
    for method, url in [
        ("get", f"/api/v1/images/{theirs.pk}"),
        ("delete", f"/api/v1/images/{theirs.pk}"),
        ("get", f"/api/v1/tiers?image={theirs.pk}"),
        ("post", f"/api/v1/images/{theirs.pk}/enhancements"),
    ]:
        response = (
            getattr(api, method)(url, content_type="application/json", data={"tier": "TIER_1K"})
            if method == "post"
            else getattr(api, method)(url)
        )
        assert response.status_code == 404, (method, url)
    assert EnhancedImage.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize("junk", ["abc%00def", "%00", "A" + "b" * 24, "x" * 300])
def test_a_junk_id_is_a_404_before_any_query_with_it(api, junk):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/v1/images/{junk}")
    assert response.status_code == 404
    assert not [q for q in queries if "\x00" in q["sql"] or "bbbbbbbb" in q["sql"]]


def test_get_and_delete_an_image(api, api_user):
    image = stored_image(api_user)
    assert api.get(f"/api/v1/images/{image.pk}").json()["id"] == image.pk
    assert api.delete(f"/api/v1/images/{image.pk}").status_code == 204
    assert not EnhancedImage.objects.filter(pk=image.pk).exists()


def test_tiers_say_cost_and_size_before_ordering(api, image):
    tiers = api.get(f"/api/v1/tiers?image={image.pk}").json()
    assert [(t["tier"], t["width"], t["height"]) for t in tiers] == [
        ("TIER_1K", 1024, 768),
        ("TIER_2K", 2048, 1536),
        ("TIER_4K", 4096, 3072),
    ]
    assert all(t["tokens_cost"] > 0 for t in tiers)
