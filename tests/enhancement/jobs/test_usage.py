"""What each job cost: the engine's usage stored on the job when it completes, on a failed
attempt that still cost something, added up over retries, kept when the job is deleted."""

from __future__ import annotations

from decimal import Decimal

import pytest

from enhancement import tasks
from enhancement.engines import EngineResult, TransientEngineError
from enhancement.engines.local import UPSCALER_MODEL
from enhancement.engines.usage import EngineUsage
from enhancement.jobs import ordering, transitions
from enhancement.models import DeletedJob, JobStatus
from tests import images
from tests.fakes.gemini_server import INPUT_IMAGE_TOKENS, OUTPUT_IMAGE_TOKENS, ok, safety_block

pytestmark = pytest.mark.django_db

MODEL = "gemini-3-pro-image-preview"
PRICES = {
    MODEL: {
        "input_per_million": Decimal("2"),
        "output_per_million": Decimal("12"),
        "image_output_per_million": Decimal("120"),
    },
    "local": {"cpu_second": Decimal("1")},  # a dollar a CPU second: the cost reads as seconds
}


@pytest.fixture(autouse=True)
def _prices(settings):
    settings.ENGINE_PRICES = PRICES
    settings.GEMINI_MODEL = MODEL


def order(user, image, tier="TIER_1K"):
    return ordering.order_enhancement(user=user, image=image, tier=tier, request_key=None)


def prompt_tokens(settings) -> int:
    return -(-len(settings.GEMINI_PROMPT) // 4) + INPUT_IMAGE_TOKENS


def test_a_local_job_stores_its_time_cpu_and_cost(funded_user, image):
    job = order(funded_user, image)
    assert tasks.run_enhancement_job(job.pk) == JobStatus.COMPLETED
    job.refresh_from_db()
    assert (job.engine, job.engine_model) == ("local", UPSCALER_MODEL)
    assert job.engine_seconds > 0
    assert job.engine_cpu_seconds > 0
    assert (job.engine_input_tokens, job.engine_output_tokens) == (None, None)
    # At $1 a CPU second the cost is the CPU time (stored to the millisecond).
    assert abs(job.engine_cost_usd - job.engine_cpu_seconds) <= Decimal("0.0005")


def test_a_gemini_job_stores_the_tokens_it_reported_and_their_price(
    funded_user, image, fake_gemini, settings
):
    fake_gemini.push(ok())
    job = order(funded_user, image, "TIER_4K")
    assert tasks.run_enhancement_job(job.pk) == JobStatus.COMPLETED
    job.refresh_from_db()
    assert job.engine_model == MODEL
    assert job.engine_input_tokens == prompt_tokens(settings)
    assert job.engine_output_tokens == OUTPUT_IMAGE_TOKENS["4K"] == 2000
    assert job.engine_seconds > 0
    expected = Decimal(prompt_tokens(settings) * 2 + 2000 * 120) / 1_000_000
    assert job.engine_cost_usd == expected.quantize(Decimal("0.000001"))


def test_a_refused_answer_is_refunded_and_its_cost_kept(funded_user, image, fake_gemini, settings):
    fake_gemini.push(safety_block())
    job = order(funded_user, image)
    assert tasks.run_enhancement_job(job.pk) == JobStatus.REFUNDED
    job.refresh_from_db()
    assert job.engine_input_tokens == prompt_tokens(settings)
    assert job.engine_output_tokens is None
    assert job.engine_cost_usd == (Decimal(prompt_tokens(settings) * 2) / 1_000_000).quantize(
        Decimal("0.000001")
    )


def test_a_retried_job_adds_up_what_each_attempt_cost(funded_user, image, fake_gemini, settings):
    job = order(funded_user, image)
    # The first attempt answered but failed in a way worth retrying, and said what it used.
    first = EngineUsage(
        engine="gemini",
        model=MODEL,
        wall_seconds=1.25,
        cpu_seconds=0.5,
        input_tokens=1000,
        output_tokens=500,
        output_image_tokens=0,
    )
    claimed_at = transitions.claim_job(job_id=job.pk)
    job = transitions.fail_job(
        job_id=job.pk,
        error=TransientEngineError("try again", usage=first),
        claimed_at=claimed_at,
        engine="gemini",
    )
    assert (job.status, job.retry_count) == (JobStatus.FAILED, 1)
    assert job.engine_cost_usd == Decimal("0.008000")  # 1000 x $2/M + 500 x $12/M

    fake_gemini.push(ok())
    job.next_attempt_at = None
    job.save(update_fields=["next_attempt_at"])
    assert tasks.run_enhancement_job(job.pk) == JobStatus.COMPLETED
    job.refresh_from_db()
    assert job.engine_input_tokens == 1000 + prompt_tokens(settings)
    assert job.engine_output_tokens == 500 + 1120
    assert job.engine_seconds > Decimal("1.25")
    second = Decimal(prompt_tokens(settings) * 2 + 1120 * 120) / 1_000_000
    assert job.engine_cost_usd == Decimal("0.008") + second.quantize(Decimal("0.000001"))


def test_a_result_that_comes_after_a_refund_still_counts_its_cost(funded_user, image, staff_user):
    job = order(funded_user, image)
    transitions.claim_job(job_id=job.pk)
    transitions.refund_job(job=job, actor=staff_user)
    result = EngineResult(
        data=images.jpeg_bytes(64, 48),
        format="jpeg",
        width=64,
        height=48,
        prompt=None,
        usage=EngineUsage(engine="local", model="lanczos", wall_seconds=2.0, cpu_seconds=1.5),
    )
    job = transitions.complete_job(job=job, result=result, engine="local")
    job.refresh_from_db()
    assert job.status == JobStatus.REFUNDED
    assert (job.engine_seconds, job.engine_cpu_seconds) == (Decimal("2.000"), Decimal("1.500"))
    assert job.engine_cost_usd == Decimal("1.500000")


def test_a_deleted_job_keeps_its_cost_for_the_back_office(funded_user, image, fake_gemini):
    fake_gemini.push(ok())
    job = order(funded_user, image)
    tasks.run_enhancement_job(job.pk)
    job.refresh_from_db()
    assert job.engine_cost_usd > 0
    transitions.delete_job(job=job)
    assert DeletedJob.objects.get(pk=job.pk).engine_cost_usd == job.engine_cost_usd
