"""Who acted: what staff do by hand to a job (refund, retry) records the staff user on the job
and, for a refund, in the ledger row; the admin shows it. What users and workers do records no
one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from enhancement.engines import PermanentEngineError
from enhancement.jobs import ordering, transitions
from enhancement.models import JobStatus
from tests.factories import UserFactory
from tokens.models import TokenTransaction, TokenTransactionType

pytestmark = pytest.mark.django_db


def order(user, image):
    return ordering.order_enhancement(user=user, image=image, tier="TIER_1K", request_key=None)


def refund_row(job):
    return TokenTransaction.objects.get(type=TokenTransactionType.REFUND, source_id=job.pk)


def test_a_refund_by_staff_names_them_on_the_job_and_in_the_ledger(funded_user, image, staff_user):
    job = order(funded_user, image)

    transitions.refund_job(job=job, actor=staff_user, reason="Refunded by support.")

    job.refresh_from_db()
    assert job.status == JobStatus.REFUNDED
    [entry] = job.staff_actions
    assert entry["action"] == "refund"
    assert entry["by"] == "staff@example.com" and entry["by_id"] == staff_user.pk
    assert entry["at"]
    assert refund_row(job).metadata == {
        "reason": "Refunded by support.",
        "by": "staff@example.com",
        "by_id": staff_user.pk,
    }


def test_a_retry_by_staff_is_recorded_and_a_second_action_adds_to_the_record(
    funded_user, image, staff_user
):
    other_staff = UserFactory(email="second@example.com", is_staff=True)
    job = order(funded_user, image)
    claimed = transitions.claim_job(job_id=job.pk)
    transitions.fail_job(job_id=job.pk, error=RuntimeError("x"), claimed_at=claimed)

    transitions.retry_job(job=job, actor=staff_user)
    transitions.refund_job(job=job, actor=other_staff)

    job.refresh_from_db()
    assert [(e["action"], e["by"]) for e in job.staff_actions] == [
        ("retry", "staff@example.com"),
        ("refund", "second@example.com"),
    ]
    assert refund_row(job).metadata["by"] == "second@example.com"


def test_a_cancel_by_the_user_and_a_refund_by_the_worker_name_no_staff(funded_user, image):
    cancelled = order(funded_user, image)
    transitions.cancel_job(user=funded_user, job=cancelled)

    gave_up = order(funded_user, image)
    claimed = transitions.claim_job(job_id=gave_up.pk)
    transitions.fail_job(job_id=gave_up.pk, error=PermanentEngineError("no"), claimed_at=claimed)

    for job in (cancelled, gave_up):
        job.refresh_from_db()
        assert job.status == JobStatus.REFUNDED
        assert job.staff_actions == []
        assert "by" not in refund_row(job).metadata


def test_the_admin_actions_record_the_signed_in_staff_user_and_show_it(client, funded_user, image):
    admin = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)
    job = order(funded_user, image)

    client.post(
        reverse("admin:enhancement_imageenhancementjob_changelist"),
        {"action": "refund_jobs", "_selected_action": [job.pk]},
    )

    job.refresh_from_db()
    assert job.staff_actions[0]["by"] == "admin@example.com"
    assert refund_row(job).metadata["by_id"] == admin.pk
    page = client.get(reverse("admin:enhancement_imageenhancementjob_change", args=[job.pk]))
    assert "Refund by admin@example.com" in page.content.decode()
