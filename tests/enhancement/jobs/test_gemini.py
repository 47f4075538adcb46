"""The job flow with the real google-genai client against the loopback fake Gemini server."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from PIL import Image

from enhancement import storage, tasks
from enhancement.engines.gemini import BUSY_MESSAGE, NO_IMAGE_MESSAGE, SAFETY_MESSAGE
from enhancement.jobs import ordering, sweeper
from enhancement.models import JobStatus
from tests.factories import stored_image
from tests.fakes.gemini_server import (
    delay,
    error,
    finish_safety,
    no_image,
    not_an_image,
    ok,
    safety_block,
)
from tokens import services as tokens
from tokens.models import TokenTransaction, TokenTransactionType

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(funded_user):
    return stored_image(funded_user, width=64, height=48)


def order(user, image, tier="TIER_1K"):
    return ordering.order_enhancement(user=user, image=image, tier=tier, request_key=None)


def ledger(job):
    return list(
        TokenTransaction.objects.filter(source_id=job.pk)
        .order_by("created_at")
        .values_list("type", "amount")
    )


def run_retry(job, sweep):
    """Travel to just after the job's back-off and let the sweeper send it to the (inline)
    queue, as the scheduled sweeper would."""
    job.refresh_from_db()
    with time_machine.travel(job.next_attempt_at + timedelta(seconds=1)), sweep(execute=True):
        assert sweeper.recover_stuck_jobs().retried == 1
    job.refresh_from_db()
    return job


def test_gemini_success(funded_user, photo, fake_gemini, settings):
    fake_gemini.push(ok())
    job = order(funded_user, photo, "TIER_2K")

    assert tasks.run_enhancement_job(job.pk) == JobStatus.COMPLETED

    job.refresh_from_db()
    assert job.engine == "gemini"
    assert job.gemini_prompt == settings.GEMINI_PROMPT
    assert (job.enhanced_width, job.enhanced_height) == (2048, 1536)
    with Image.open(io.BytesIO(storage.read_bytes(job.enhanced_r2_key.name))) as result:
        assert result.size == (2048, 1536)
    [request] = fake_gemini.requests
    assert request.api_key == "test-key"
    assert request.image_config == {"aspectRatio": "4:3", "imageSize": "2K"}
    assert ledger(job) == [(TokenTransactionType.SPEND_ENHANCEMENT, -5)]


def test_a_429_then_success_is_retried_and_charged_once(
    funded_user, photo, fake_gemini, sync_queue, django_capture_on_commit_callbacks
):
    fake_gemini.push(error(429), ok())
    with django_capture_on_commit_callbacks(execute=True):
        job = order(funded_user, photo)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.retry_count == 1
    assert job.error_message == BUSY_MESSAGE

    job = run_retry(job, django_capture_on_commit_callbacks)

    assert job.status == JobStatus.COMPLETED
    assert job.retry_count == 1 and job.error_message is None
    assert len(fake_gemini.requests) == 2
    assert ledger(job) == [(TokenTransactionType.SPEND_ENHANCEMENT, -2)]
    assert tokens.get_balance(funded_user) == 98


def test_a_500_on_every_try_ends_refunded_with_the_tokens_back(
    funded_user, photo, fake_gemini, sync_queue, django_capture_on_commit_callbacks
):
    fake_gemini.default = error(500)
    with django_capture_on_commit_callbacks(execute=True):
        job = order(funded_user, photo, "TIER_4K")
    job.refresh_from_db()
    assert (job.status, job.retry_count) == (JobStatus.FAILED, 1)

    job = run_retry(job, django_capture_on_commit_callbacks)
    assert (job.status, job.retry_count) == (JobStatus.FAILED, 2)
    job = run_retry(job, django_capture_on_commit_callbacks)

    assert job.status == JobStatus.REFUNDED
    assert job.retry_count == job.max_retries == 3
    assert "We tried 3 times" in job.error_message
    assert len(fake_gemini.requests) == 3
    assert ledger(job) == [
        (TokenTransactionType.SPEND_ENHANCEMENT, -10),
        (TokenTransactionType.REFUND, 10),
    ]
    assert tokens.get_balance(funded_user) == 100
    # A late duplicate of the task changes nothing.
    assert tasks.run_enhancement_job(job.pk).startswith("not claimed")
    assert len(ledger(job)) == 2


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (safety_block(), SAFETY_MESSAGE),
        (finish_safety(), SAFETY_MESSAGE),
        (no_image(), NO_IMAGE_MESSAGE),
        (not_an_image(), "The AI returned an image that could not be read."),
        (error(400), "The AI service could not process this image."),
    ],
    ids=["safety-block", "finish-safety", "no-image", "not-an-image", "bad-request"],
)
def test_a_permanent_refusal_refunds_at_once(funded_user, photo, fake_gemini, reply, message):
    fake_gemini.push(reply)
    job = order(funded_user, photo)

    assert tasks.run_enhancement_job(job.pk) == JobStatus.REFUNDED

    job.refresh_from_db()
    assert job.retry_count == 0
    assert job.error_message == message
    assert job.enhanced_r2_key.name in (None, "")
    assert storage.list_keys(storage.job_prefix(image_id=job.image_id, job_id=job.pk)) == []
    assert ledger(job) == [
        (TokenTransactionType.SPEND_ENHANCEMENT, -2),
        (TokenTransactionType.REFUND, 2),
    ]
    assert tokens.get_balance(funded_user) == 100


def test_a_timeout_is_a_transient_failure(funded_user, photo, fake_gemini, settings):
    settings.GEMINI_TIMEOUT_MS = 300
    fake_gemini.push(delay(5))
    job = order(funded_user, photo)

    assert tasks.run_enhancement_job(job.pk) == JobStatus.FAILED

    job.refresh_from_db()
    assert job.retry_count == 1
    assert job.error_message == BUSY_MESSAGE
    assert job.next_attempt_at is not None
    assert ledger(job) == [(TokenTransactionType.SPEND_ENHANCEMENT, -2)]
