"""A paid job is never deleted behind the ledger's back: not in the admin, and where a job goes
(with its image, or through `delete_job`) the tokens of an unfinished one come back, its files
go after the commit, and the ledger's rows still point at a record."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from enhancement import storage
from enhancement.images import services as images
from enhancement.jobs import ordering, transitions
from enhancement.models import DeletedJob, ImageEnhancementJob, JobStatus
from tests.factories import UserFactory
from tokens import services as tokens
from tokens.models import TokenTransaction, TokenTransactionType

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    staff = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client


def order(user, image, tier="TIER_1K"):
    return ordering.order_enhancement(user=user, image=image, tier=tier, request_key=None)


def completed(job):
    """Complete `job` as a worker would, with a real stored result."""
    from enhancement.engines import EngineResult
    from tests import images as test_images

    transitions.claim_job(job_id=job.pk)
    data = test_images.jpeg_bytes(64, 48)
    result = EngineResult(data=data, format="jpeg", width=64, height=48, prompt=None)
    return transitions.complete_job(job=job, result=result, engine="local")


def test_the_admin_cannot_delete_a_job(admin_client, funded_user, image):
    job = order(funded_user, image)
    changelist = reverse("admin:enhancement_imageenhancementjob_changelist")

    page = admin_client.get(changelist).content.decode()
    assert 'value="delete_selected"' not in page
    assert admin_client.get(
        reverse("admin:enhancement_imageenhancementjob_delete", args=[job.pk])
    ).status_code in (403, 302)
    response = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [job.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    response = admin_client.post(
        reverse("admin:enhancement_imageenhancementjob_delete", args=[job.pk]), {"post": "yes"}
    )
    assert response.status_code in (403, 302)
    assert ImageEnhancementJob.objects.filter(pk=job.pk).exists()
    assert tokens.get_balance(funded_user) == 98


@pytest.mark.parametrize("status", ["PENDING", "PROCESSING", "FAILED"])
def test_deleting_an_unfinished_job_refunds_it_first(funded_user, image, staff_user, status):
    job = order(funded_user, image, "TIER_2K")
    if status != "PENDING":
        claimed = transitions.claim_job(job_id=job.pk)
        if status == "FAILED":
            transitions.fail_job(job_id=job.pk, error=RuntimeError("x"), claimed_at=claimed)
    assert tokens.get_balance(funded_user) == 95

    transitions.delete_job(job=job, actor=staff_user)

    assert not ImageEnhancementJob.objects.filter(pk=job.pk).exists()
    assert tokens.get_balance(funded_user) == 100
    record = DeletedJob.objects.get(pk=job.pk)
    assert (record.user_id, record.status, record.tokens_cost) == (funded_user.pk, "REFUNDED", 5)
    refund = TokenTransaction.objects.get(type=TokenTransactionType.REFUND, source_id=job.pk)
    assert refund.metadata["by_id"] == staff_user.pk
    transitions.delete_job(job=job, actor=staff_user)  # again: nothing more happens
    assert tokens.get_balance(funded_user) == 100


def test_deleting_a_completed_job_keeps_its_spend_and_deletes_its_files(
    funded_user, image, django_capture_on_commit_callbacks
):
    job = completed(order(funded_user, image))
    assert job.status == JobStatus.COMPLETED
    keys = [job.enhanced_r2_key.name, job.enhanced_preview_r2_key.name]
    assert all(storage.get_storage().exists(k) for k in keys)

    with django_capture_on_commit_callbacks(execute=True):
        transitions.delete_job(job=job)

    assert tokens.get_balance(funded_user) == 98  # paid for and delivered: no refund
    assert not any(storage.get_storage().exists(k) for k in keys)
    assert DeletedJob.objects.get(pk=job.pk).status == "COMPLETED"
    call_command("check_ledger")


def test_deleting_an_image_leaves_a_record_of_each_job(funded_user, image):
    jobs = [completed(order(funded_user, image)), completed(order(funded_user, image, "TIER_2K"))]
    images.delete_image(image=image)
    assert set(DeletedJob.objects.values_list("pk", flat=True)) == {j.pk for j in jobs}
    call_command("check_ledger")


def test_check_ledger_reports_a_spend_whose_job_vanished(funded_user, image, capsys):
    job = order(funded_user, image)
    with connection.cursor() as cursor:  # what a careless script or the old admin did
        cursor.execute("DELETE FROM enhancement_imageenhancementjob WHERE id = %s", [job.pk])
    with pytest.raises(CommandError):
        call_command("check_ledger")
    assert f"points at enhancement {job.pk}" in capsys.readouterr().err
    # repair as support would: give the tokens back through the services and record the job
    DeletedJob.objects.create(
        id=job.pk,
        user_id=funded_user.pk,
        image_id=image.pk,
        tier=job.tier,
        tokens_cost=job.tokens_cost,
        status="REFUNDED",
        created_at=job.created_at,
    )
    tokens.refund(
        user=funded_user,
        amount=job.tokens_cost,
        source="enhancement",
        source_id=job.pk,
        idempotency_key=f"refund:job:{job.pk}",
    )
    call_command("check_ledger")
