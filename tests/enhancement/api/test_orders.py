"""Orders: cost known first, Idempotency-Key replays the first job (no second charge), the
balance and cost in headers, cancel, the result; check_ledger after each."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection

from enhancement.api import services
from enhancement.jobs import worker
from enhancement.models import ImageEnhancementJob, JobStatus
from tests.enhancement.api.conftest import give_api_access
from tests.factories import UserFactory, fund, stored_image
from tokens import services as tokens

pytestmark = pytest.mark.django_db


def order(api, image, tier="TIER_1K", key="order-1", **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.post(
        f"/api/v1/images/{image.pk}/enhancements",
        {"tier": tier, **extra},
        content_type="application/json",
        **headers,
    )


def test_an_order_spends_the_tier_and_says_so_in_headers(api, api_user, image):
    response = order(api, image, "TIER_2K")
    assert response.status_code == 201, response.content
    job = ImageEnhancementJob.objects.get(pk=response.json()["id"])
    assert (job.tier, job.tokens_cost, job.status) == ("TIER_2K", 5, JobStatus.PENDING)
    assert response["X-Tokens-Cost"] == "5"
    assert response["X-Tokens-Remaining"] == "95"
    assert "Idempotent-Replayed" not in response
    call_command("check_ledger")


def test_a_retry_with_the_same_key_replays_the_first_job_and_charges_nothing(api, api_user, image):
    first = order(api, image)
    again = order(api, image)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["X-Tokens-Cost"] == "2"
    assert ImageEnhancementJob.objects.count() == 1
    assert tokens.get_balance(api_user) == 98
    other = order(api, image, key="order-2")
    assert other.json()["id"] != first.json()["id"]
    assert tokens.get_balance(api_user) == 96
    call_command("check_ledger")


def test_the_same_key_for_another_order_is_a_422(api, api_user, image):
    order(api, image, "TIER_1K")
    response = order(api, image, "TIER_4K")
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]
    assert ImageEnhancementJob.objects.count() == 1
    call_command("check_ledger")


def test_two_users_with_one_key_make_two_jobs(api, api_user, image, client):
    order(api, image)
    bob = UserFactory()
    give_api_access(bob)
    fund(bob, 10)
    bob_key = services.create_api_key(user=bob, name="b").raw
    bob_image = stored_image(bob)
    from django.test import Client

    bob_client = Client(HTTP_AUTHORIZATION=f"Bearer {bob_key}")
    assert order(bob_client, bob_image).status_code == 201
    assert ImageEnhancementJob.objects.count() == 2
    call_command("check_ledger")


@pytest.mark.parametrize("key", ["", "x" * 256, "é", "a\x00b"])
def test_a_bad_idempotency_key_is_a_422(api, image, key):
    response = order(api, image, key=key)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]
    assert not ImageEnhancementJob.objects.exists()


def test_an_unknown_tier_is_a_422_and_costs_nothing(api, api_user, image):
    response = order(api, image, "TIER_8K")
    assert response.status_code == 422
    assert "TIER_1K" in response.json()["detail"]
    assert tokens.get_balance(api_user) == 100


def test_too_few_tokens_is_a_402(api, api_user):
    poor = stored_image(api_user)
    tokens.spend(user=api_user, amount=95, source="test", source_id="x", idempotency_key="drain")
    response = order(api, poor, "TIER_4K")
    assert response.status_code == 402
    assert response.json()["detail"].startswith("This needs 10 tokens")
    call_command("check_ledger")


def test_cancel_gives_the_tokens_back(api, api_user, image):
    job_id = order(api, image).json()["id"]
    response = api.post(f"/api/v1/jobs/{job_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "REFUNDED"
    assert response["X-Tokens-Remaining"] == "100"
    assert api.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 200  # already: the same
    call_command("check_ledger")


def test_a_finished_job_cannot_be_cancelled_and_has_a_result(api, api_user, image):
    job_id = order(api, image).json()["id"]
    assert api.get(f"/api/v1/jobs/{job_id}/result").status_code == 409
    worker.process_job(job_id=job_id)
    job = api.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["status"], job["progress"]) == ("COMPLETED", 100)
    assert (job["result"]["width"], job["result"]["height"]) == (1024, 768)
    assert api.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 409
    redirect = api.get(f"/api/v1/jobs/{job_id}/result")
    assert redirect.status_code == 302
    assert redirect["Location"].startswith("/media/f/")
    converted = api.get(f"/api/v1/jobs/{job_id}/result?format=webp&quality=50")
    assert converted.status_code == 200
    assert converted["Content-Type"] == "image/webp"
    assert api.get(f"/api/v1/jobs/{job_id}/result?format=gif").status_code == 422
    assert api.get(f"/api/v1/jobs/{job_id}/result?format=png&quality=0").status_code == 422
    call_command("check_ledger")


def test_another_users_job_is_a_404(api):
    stranger = UserFactory()
    fund(stranger, 10)
    from enhancement.jobs import ordering

    theirs = ordering.order_enhancement(
        user=stranger, image=stored_image(stranger), tier="TIER_1K", request_key=None
    )
    for method, url in [
        ("get", f"/api/v1/jobs/{theirs.pk}"),
        ("post", f"/api/v1/jobs/{theirs.pk}/cancel"),
        ("get", f"/api/v1/jobs/{theirs.pk}/result"),
    ]:
        assert getattr(api, method)(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == JobStatus.PENDING


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_with_one_key_make_one_job():
    from django.test import Client

    user = UserFactory()
    give_api_access(user)
    fund(user, 100)
    raw = services.create_api_key(user=user, name="race").raw
    image = stored_image(user)
    attempts = 6
    barrier = threading.Barrier(attempts)
    codes = []

    def send():
        try:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
            barrier.wait()
            codes.append(order(client, image, key="same-key").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [201] * attempts
    assert ImageEnhancementJob.objects.filter(user=user).count() == 1
    assert tokens.get_balance(user) == 98
    call_command("check_ledger")
