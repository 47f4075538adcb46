"""Keys: stored hashed with a visible prefix, last use recorded, revoked or unknown keys 401,
a lapsed plan 403 with the reason, the rate limit 429 with Retry-After and RateLimit."""

import pytest
from django.core.cache import cache

from billing.models import SubscriptionStatus
from enhancement.api import services
from enhancement.models import ApiKey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def test_a_key_is_stored_hashed_with_a_visible_prefix(api_user):
    made = services.create_api_key(user=api_user, name="shop")
    row = ApiKey.objects.get(pk=made.key.pk)
    assert made.raw.startswith("lum_") and len(made.raw) > 40
    assert made.raw not in (row.key_hash, row.prefix)
    assert made.raw.startswith(row.prefix) and len(row.prefix) == 12
    assert row.last_used_at is None


def test_a_call_records_the_last_use_and_answers_with_the_balance(api, api_user):
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    assert response["X-Tokens-Remaining"] == "100"
    assert response.json()["balance"] == 100
    assert response.json()["plan"]["api_access"] is True
    assert ApiKey.objects.get(user=api_user).last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [None, "Bearer lum_unknown", "Bearer ", "Basic abc", "Bearer lum_\x00x", "Bearer " + "x" * 500],
    ids=["none", "unknown", "empty", "basic", "nul", "long"],
)
def test_no_key_or_an_unknown_one_is_a_401_problem(client, api_user, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = client.get("/api/v1/me", **extra)
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401
    assert "X-Tokens-Remaining" not in response


def test_a_revoked_key_is_a_401(api, api_user):
    key = ApiKey.objects.get(user=api_user)
    services.revoke_api_key(user=api_user, key_id=key.pk)
    assert api.get("/api/v1/me").status_code == 401


def test_a_key_of_a_lapsed_plan_is_a_403_with_the_reason(api, api_user):
    api_user.subscription.status = SubscriptionStatus.CANCELED
    api_user.subscription.save()
    response = api.get("/api/v1/me")
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    assert "no longer includes API access" in response.json()["detail"]


def test_no_key_without_api_access(user):
    with pytest.raises(services.NoApiAccess):
        services.create_api_key(user=user, name="x")
    assert not ApiKey.objects.exists()


def test_another_users_key_cannot_be_revoked(api_user):
    made = services.create_api_key(user=api_user, name="mine")
    stranger = UserFactory()
    assert services.revoke_api_key(user=stranger, key_id=made.key.pk) is None
    made.key.refresh_from_db()
    assert made.key.revoked_at is None


def test_too_many_calls_are_a_429_with_retry_after_and_ratelimit(api, settings):
    settings.API_RATE_PER_MINUTE = 3
    cache.clear()
    codes = [api.get("/api/v1/me").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = api.get("/api/v1/me")
    assert response["Content-Type"] == PROBLEM
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["RateLimit-Policy"] == "3;w=60"
    assert response["RateLimit"].startswith("limit=3, remaining=0, reset=")
