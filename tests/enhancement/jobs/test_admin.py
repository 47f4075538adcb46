"""The jobs admin: list with filters and search, read-only details, retry and refund actions
through the job services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from enhancement.jobs import ordering, transitions
from enhancement.models import ImageEnhancementJob, JobStatus
from tests.factories import UserFactory
from tokens import services as tokens

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    staff = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client


def order(user, image, tier="TIER_1K"):
    return ordering.order_enhancement(user=user, image=image, tier=tier, request_key=None)


def failed_job(user, image):
    job = order(user, image)
    claimed = transitions.claim_job(job_id=job.pk)
    return transitions.fail_job(job_id=job.pk, error=RuntimeError("x"), claimed_at=claimed)


def test_the_list_filters_and_searches(
    admin_client, funded_user, image, django_assert_max_num_queries
):
    failed = failed_job(funded_user, image)
    pending = order(funded_user, image, "TIER_4K")
    url = reverse("admin:enhancement_imageenhancementjob_changelist")

    with django_assert_max_num_queries(12):
        response = admin_client.get(url)
    assert response.status_code == 200
    assert failed.pk in response.content.decode() and pending.pk in response.content.decode()

    by_status = admin_client.get(url, {"status__exact": "FAILED"}).content.decode()
    assert failed.pk in by_status and pending.pk not in by_status
    by_tier = admin_client.get(url, {"tier__exact": "TIER_4K"}).content.decode()
    assert pending.pk in by_tier and failed.pk not in by_tier
    by_email = admin_client.get(url, {"q": "alice@example.com"}).content.decode()
    assert failed.pk in by_email
    assert pending.pk in admin_client.get(url, {"q": pending.pk}).content.decode()
    assert failed.pk in admin_client.get(url, {"q": image.name}).content.decode()


def test_a_job_is_read_only_in_the_admin(admin_client, funded_user, image):
    job = order(funded_user, image)
    url = reverse("admin:enhancement_imageenhancementjob_change", args=[job.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()
    assert admin_client.get(reverse("admin:enhancement_imageenhancementjob_add")).status_code == 403


def test_retry_action_runs_a_failed_job_through_the_service(
    admin_client, funded_user, image, sync_queue, django_capture_on_commit_callbacks
):
    job = failed_job(funded_user, image)
    done = order(funded_user, image)
    transitions.cancel_job(user=funded_user, job=done)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:enhancement_imageenhancementjob_changelist"),
            {"action": "retry_jobs", "_selected_action": [job.pk, done.pk]},
            follow=True,
        )

    body = response.content.decode()
    assert "1 job sent to the queue again." in body
    assert "Only a failed or waiting job can be retried" in body
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED


def test_refund_action_gives_the_tokens_back_once(admin_client, funded_user, image):
    job = failed_job(funded_user, image)
    url = reverse("admin:enhancement_imageenhancementjob_changelist")
    data = {"action": "refund_jobs", "_selected_action": [job.pk]}

    first = admin_client.post(url, data, follow=True).content.decode()
    second = admin_client.post(url, data, follow=True).content.decode()

    assert "1 job refunded." in first
    assert "already refunded" in second
    job.refresh_from_db()
    assert job.status == JobStatus.REFUNDED and job.error_message == "Refunded by support."
    assert tokens.get_balance(funded_user) == 100


def test_the_admin_is_for_staff_only(owner_client, funded_user, image):
    order(funded_user, image)
    response = owner_client.get(reverse("admin:enhancement_imageenhancementjob_changelist"))
    assert response.status_code == 302
    assert ImageEnhancementJob.objects.count() == 1
