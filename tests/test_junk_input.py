"""Whatever a client sends to any page or action of the app, the answer is never a 500.

Every URL the app routes (the owner's real ids filled in) is sent junk: query strings and form
fields of the wrong type, absurd numbers, unknown choices, huge and non-ASCII values."""

import itertools

import pytest

from enhancement.jobs import ordering
from enhancement.models import ImageEnhancementJob
from tests.enhancement.factories import stored_image
from tokens import services as tokens
from tokens.models import TokenTransactionType

pytestmark = pytest.mark.django_db

JUNK_VALUES = ["", "0", "-1", "99999999999999999999", "abc", "TIER_8K", "ünï💥", "x" * 5000, "1e9"]
FIELDS = [
    "tier",
    "request_key",
    "image_ids",
    "confirm",
    "skip_already_enhanced",
    "format",
    "quality",
    "page",
    "type",
    "name",
    "description",
    "is_public",
]


@pytest.fixture
def urls(user):
    tokens.grant(user=user, amount=50, type=TokenTransactionType.EARN_BONUS, source="test")
    image = stored_image(user, name="Junk target")
    job = ordering.order_enhancement(user=user, image=image, tier="TIER_1K", request_key=None)
    return [
        "/",
        "/healthz",
        "/tokens/",
        "/tokens/status/",
        "/images/",
        "/images/upload/",
        f"/images/{image.pk}/",
        f"/images/{image.pk}/edit/",
        f"/images/{image.pk}/publish/",
        f"/images/{image.pk}/original/",
        f"/images/{image.pk}/enhance/",
        "/jobs/batch/",
        f"/jobs/{job.pk}/",
        f"/jobs/{job.pk}/download/",
        f"/jobs/{job.pk}/cancel/",
        f"/images/{image.pk}/delete/",
    ]


def test_no_junk_gets_a_500(owner_client, user, urls):
    values = itertools.cycle(JUNK_VALUES)
    for url in urls:
        for method in ("get", "post"):
            for _ in range(3):
                data = {field: next(values) for field in FIELDS}
                if method == "post":
                    data["image_ids"] = [next(values), next(values)]
                response = getattr(owner_client, method)(url, data)
                assert response.status_code < 500, (method, url, data, response.status_code)
    # and the junk spent nothing it should not have: the one real order's 2 tokens only
    assert (
        tokens.get_balance(user)
        + sum(j.tokens_cost for j in ImageEnhancementJob.objects.filter(status="PENDING"))
        == 50
    )
