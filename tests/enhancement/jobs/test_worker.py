"""The worker and the sweeper with the local engine: PENDING -> PROCESSING -> COMPLETED, stored
results, idempotent tasks, cancel, refunds, recovery of killed workers and lost messages."""

from __future__ import annotations

import io
import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_q.models import Schedule
from PIL import Image

from enhancement import storage, tasks
from enhancement.engines import EngineResult
from enhancement.jobs import errors, ordering, sweeper, transitions, worker
from enhancement.models import ImageEnhancementJob, JobStatus
from tests.factories import stored_image
from tokens import services as tokens
from tokens.models import TokenTransaction, TokenTransactionType

pytestmark = pytest.mark.django_db


def order(user, image, tier="TIER_1K"):
    return ordering.order_enhancement(user=user, image=image, tier=tier, request_key=None)


def refunds(job):
    return TokenTransaction.objects.filter(type=TokenTransactionType.REFUND, source_id=job.pk)


def spends(job):
    return TokenTransaction.objects.filter(
        type=TokenTransactionType.SPEND_ENHANCEMENT, source_id=job.pk
    )


def job_keys(job):
    return storage.list_keys(storage.job_prefix(image_id=job.image_id, job_id=job.pk))


@pytest.mark.parametrize(
    ("tier", "size"),
    [("TIER_1K", (1024, 768)), ("TIER_2K", (2048, 1536)), ("TIER_4K", (4096, 3072))],
)
def test_an_order_runs_through_the_queue_to_completed(
    funded_user, image, sync_queue, django_capture_on_commit_callbacks, tier, size
):
    with django_capture_on_commit_callbacks(execute=True):
        job = order(funded_user, image, tier)

    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    assert (job.enhanced_width, job.enhanced_height) == size
    assert job.engine == "local"
    assert job.processing_started_at <= job.processing_completed_at
    assert job.error_message is None and job.retry_count == 0
    prefix = f"images/{image.pk}/jobs/{job.pk}/"
    assert job.enhanced_r2_key.name == prefix + "enhanced.jpg"
    assert job.enhanced_preview_r2_key.name == prefix + "preview.webp"
    data = storage.read_bytes(job.enhanced_r2_key.name)
    assert job.enhanced_size_bytes == len(data)
    assert job.enhanced_format == "jpeg"
    with Image.open(io.BytesIO(data)) as result:
        assert result.size == size and result.format == "JPEG"
    with Image.open(io.BytesIO(storage.read_bytes(job.enhanced_preview_r2_key.name))) as preview:
        assert preview.format == "WEBP" and max(preview.size) == min(max(size), 1600)
    assert spends(job).count() == 1 and not refunds(job).exists()
    assert tokens.get_balance(funded_user) == 100 - job.tokens_cost


def test_a_task_run_twice_changes_nothing_the_second_time(funded_user, image):
    job = order(funded_user, image)
    assert tasks.run_enhancement_job(job.pk) == JobStatus.COMPLETED
    job.refresh_from_db()
    before = (job.status, job.enhanced_r2_key.name, job.processing_completed_at, job.updated_at)
    keys = job_keys(job)

    assert tasks.run_enhancement_job(job.pk).startswith("not claimed")

    job.refresh_from_db()
    assert (
        job.status,
        job.enhanced_r2_key.name,
        job.processing_completed_at,
        job.updated_at,
    ) == before
    assert job_keys(job) == keys and len(keys) == 2
    assert spends(job).count() == 1 and not refunds(job).exists()


def test_only_one_claim_wins(funded_user, image):
    job = order(funded_user, image)
    assert transitions.claim_job(job_id=job.pk) is not None
    assert transitions.claim_job(job_id=job.pk) is None
    assert tasks.run_enhancement_job(job.pk).startswith("not claimed")
    job.refresh_from_db()
    assert job.status == JobStatus.PROCESSING


def test_a_failed_job_is_not_claimed_before_its_back_off(funded_user, image):
    job = order(funded_user, image)
    claimed_at = transitions.claim_job(job_id=job.pk)
    transitions.fail_job(job_id=job.pk, error=RuntimeError("boom"), claimed_at=claimed_at)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.retry_count == 1
    assert job.error_message == transitions.UNEXPECTED_MESSAGE
    assert job.next_attempt_at > timezone.now()

    assert transitions.claim_job(job_id=job.pk) is None
    assert transitions.claim_job(job_id=job.pk, now=job.next_attempt_at) is not None


def test_transient_failures_back_off_then_refund_after_the_last_try(funded_user, image):
    job = order(funded_user, image)
    now = timezone.now()
    delays = []
    for _ in range(job.max_retries):
        claimed_at = transitions.claim_job(job_id=job.pk, now=now)
        assert claimed_at is not None
        failed = transitions.fail_job(
            job_id=job.pk, error=RuntimeError("boom"), claimed_at=claimed_at, now=now
        )
        if failed.status == JobStatus.FAILED:
            delays.append(failed.next_attempt_at - now)
            now = failed.next_attempt_at

    job.refresh_from_db()
    assert delays == [timedelta(seconds=30), timedelta(seconds=60)]
    assert job.status == JobStatus.REFUNDED
    assert job.retry_count == job.max_retries == 3
    assert job.error_message == "We tried 3 times and the enhancement kept failing, so we stopped."
    assert refunds(job).count() == 1
    assert refunds(job).get().idempotency_key == f"refund:job:{job.pk}"
    assert tokens.get_balance(funded_user) == 100


def test_a_stale_failure_report_does_not_touch_a_newer_attempt(funded_user, image):
    job = order(funded_user, image)
    first = transitions.claim_job(job_id=job.pk)
    transitions.fail_job(job_id=job.pk, error=RuntimeError("x"), claimed_at=first)
    job.refresh_from_db()
    second = transitions.claim_job(job_id=job.pk, now=job.next_attempt_at)

    transitions.fail_job(job_id=job.pk, error=RuntimeError("late"), claimed_at=first)

    job.refresh_from_db()
    assert job.status == JobStatus.PROCESSING and job.processing_started_at == second
    assert job.retry_count == 1


def test_a_missing_original_refunds_at_once(funded_user, image):
    storage.delete_keys([image.original_r2_key.name])
    job = order(funded_user, image)

    assert tasks.run_enhancement_job(job.pk) == JobStatus.REFUNDED

    job.refresh_from_db()
    assert job.error_message == worker.MISSING_ORIGINAL_MESSAGE
    assert job.retry_count == 0
    assert tokens.get_balance(funded_user) == 100


def test_a_result_arriving_after_a_refund_is_thrown_away(
    staff_user, funded_user, image, django_capture_on_commit_callbacks
):
    job = order(funded_user, image)
    transitions.claim_job(job_id=job.pk)
    transitions.refund_job(
        job=job, actor=staff_user
    )  # support refunded it while the worker was still running

    result = EngineResult(data=_jpeg(1024, 768), format="jpeg", width=1024, height=768, prompt=None)
    with django_capture_on_commit_callbacks(execute=True):
        transitions.complete_job(job=job, result=result, engine="local")

    job.refresh_from_db()
    assert job.status == JobStatus.REFUNDED
    assert job.enhanced_r2_key.name in (None, "")
    assert job_keys(job) == []
    assert refunds(job).count() == 1


def test_a_late_success_completes_a_job_the_sweeper_had_given_up_on(funded_user, image):
    job = order(funded_user, image)
    transitions.claim_job(job_id=job.pk)
    later = timezone.now() + sweeper.stuck_after() + timedelta(seconds=1)
    sweeper.recover_stuck_jobs(now=later)  # the worker looked dead: FAILED, due again
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED

    result = EngineResult(data=_jpeg(1024, 768), format="jpeg", width=1024, height=768, prompt=None)
    transitions.complete_job(job=job, result=result, engine="local")

    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    assert tasks.run_enhancement_job(job.pk).startswith("not claimed")
    assert len(job_keys(job)) == 2


# --- cancel ---------------------------------------------------------------------------------------
def test_cancelling_a_pending_job_refunds_it_at_once(funded_user, image):
    job = order(funded_user, image, "TIER_4K")
    assert tokens.get_balance(funded_user) == 90

    cancelled = transitions.cancel_job(user=funded_user, job=job)

    assert cancelled.status == JobStatus.REFUNDED
    assert cancelled.error_message == transitions.CANCELLED_MESSAGE
    assert tokens.get_balance(funded_user) == 100
    # Twice is the same as once; the task does nothing afterwards.
    assert transitions.cancel_job(user=funded_user, job=job).status == JobStatus.REFUNDED
    assert tasks.run_enhancement_job(job.pk).startswith("not claimed")
    assert refunds(job).count() == 1
    assert tokens.get_balance(funded_user) == 100


def test_a_job_waiting_for_its_retry_can_be_cancelled_too(funded_user, image):
    job = order(funded_user, image)
    claimed_at = transitions.claim_job(job_id=job.pk)
    transitions.fail_job(job_id=job.pk, error=RuntimeError("x"), claimed_at=claimed_at)

    assert transitions.cancel_job(user=funded_user, job=job).status == JobStatus.REFUNDED

    job.refresh_from_db()
    with time_machine.travel(job.next_attempt_at or timezone.now() + timedelta(hours=1)):
        assert sweeper.recover_stuck_jobs().retried == 0
        assert transitions.claim_job(job_id=job.pk) is None
    assert refunds(job).count() == 1
    assert tokens.get_balance(funded_user) == 100


@pytest.mark.parametrize("state", ["PROCESSING", "COMPLETED"])
def test_a_running_or_finished_job_cannot_be_cancelled(funded_user, image, state):
    job = order(funded_user, image)
    if state == "PROCESSING":
        transitions.claim_job(job_id=job.pk)
    else:
        tasks.run_enhancement_job(job.pk)

    with pytest.raises(errors.JobNotCancellable) as exc:
        transitions.cancel_job(user=funded_user, job=job)

    assert "can no longer be cancelled" in str(exc.value) or "nothing to cancel" in str(exc.value)
    job.refresh_from_db()
    assert job.status == state
    assert not refunds(job).exists()


def test_someone_else_cannot_cancel_a_job(funded_user, image, other_user):
    job = order(funded_user, image)
    with pytest.raises(errors.JobNotCancellable):
        transitions.cancel_job(user=other_user, job=job)
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING


# --- refund and retry by hand ---------------------------------------------------------------------
def test_refund_by_hand_is_idempotent_and_refuses_completed_jobs(staff_user, funded_user, image):
    job = order(funded_user, image)
    transitions.refund_job(job=job, actor=staff_user)
    transitions.refund_job(job=job, actor=staff_user)
    assert refunds(job).count() == 1
    assert tokens.get_balance(funded_user) == 100

    done = order(funded_user, stored_image(funded_user))
    tasks.run_enhancement_job(done.pk)
    with pytest.raises(errors.JobNotRefundable):
        transitions.refund_job(job=done, actor=staff_user)


def test_retry_by_hand_runs_a_failed_job_now(
    staff_user, funded_user, image, sync_queue, django_capture_on_commit_callbacks
):
    job = order(funded_user, image)
    claimed_at = transitions.claim_job(job_id=job.pk)
    transitions.fail_job(job_id=job.pk, error=RuntimeError("x"), claimed_at=claimed_at)

    with django_capture_on_commit_callbacks(execute=True):
        transitions.retry_job(job=job, actor=staff_user)

    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED and job.retry_count == 1
    with pytest.raises(errors.JobNotRetryable):
        transitions.retry_job(job=job, actor=staff_user)


# --- the sweeper ----------------------------------------------------------------------------------
def test_a_killed_workers_job_is_retried_by_the_sweeper(
    funded_user, image, sync_queue, django_capture_on_commit_callbacks
):
    job = order(funded_user, image)
    transitions.claim_job(job_id=job.pk)  # ...and the worker died: the job stays PROCESSING

    with time_machine.travel(timezone.now() + sweeper.lease() - timedelta(seconds=2)):
        assert sweeper.recover_stuck_jobs().recovered == 0  # not yet: it may still be running
    with (
        time_machine.travel(timezone.now() + sweeper.lease() + timedelta(seconds=2)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        report = tasks.sweep_stuck_jobs()

    assert report["recovered"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    assert job.retry_count == 1
    assert spends(job).count() == 1 and not refunds(job).exists()


def test_a_killed_worker_on_the_last_try_is_refunded(funded_user, image):
    job = order(funded_user, image)
    ImageEnhancementJob.objects.filter(pk=job.pk).update(retry_count=2)
    transitions.claim_job(job_id=job.pk)

    later = timezone.now() + sweeper.lease() + timedelta(seconds=1)
    report = sweeper.recover_stuck_jobs(now=later)
    sweeper.recover_stuck_jobs(now=later)  # twice: nothing more

    assert report.refunded == 1
    job.refresh_from_db()
    assert job.status == JobStatus.REFUNDED and job.retry_count == 3
    assert refunds(job).count() == 1
    assert tokens.get_balance(funded_user) == 100


def test_a_job_whose_worker_renews_its_lease_is_never_taken_back(funded_user, image):
    """A slow engine call (a long Gemini answer) is not a dead worker: as long as the lease is
    renewed, however long after the claim, the sweeper leaves the job alone."""
    job = order(funded_user, image)
    claimed_at = transitions.claim_job(job_id=job.pk)
    for minutes in (1, 5, 30):
        beat = claimed_at + timedelta(minutes=minutes)
        assert transitions.renew_lease(job_id=job.pk, claimed_at=claimed_at, now=beat)
        soon = beat + sweeper.lease() - timedelta(seconds=1)
        assert sweeper.recover_stuck_jobs(now=soon).recovered == 0
    assert sweeper.recover_stuck_jobs(now=soon + timedelta(seconds=2)).recovered == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.retry_count == 1
    # the old attempt's renewals no longer hold it: its claim is not the job's any more
    transitions.claim_job(job_id=job.pk, now=soon + timedelta(seconds=3))
    assert not transitions.renew_lease(job_id=job.pk, claimed_at=claimed_at)


def test_a_job_claimed_before_leases_existed_uses_the_task_timeout(funded_user, image):
    job = order(funded_user, image)
    claimed_at = transitions.claim_job(job_id=job.pk)
    ImageEnhancementJob.objects.filter(pk=job.pk).update(heartbeat_at=None)
    almost = claimed_at + sweeper.stuck_after() - timedelta(seconds=1)
    assert sweeper.recover_stuck_jobs(now=almost).recovered == 0
    assert sweeper.recover_stuck_jobs(now=almost + timedelta(seconds=2)).recovered == 1


@pytest.mark.django_db(transaction=True)
def test_the_lease_is_renewed_from_a_thread_while_the_engine_works(funded_user, image, settings):
    settings.ENHANCEMENT_HEARTBEAT_SECONDS = 0.2
    job = order(funded_user, image)
    claimed_at = transitions.claim_job(job_id=job.pk)
    with worker.Lease(job_id=job.pk, claimed_at=claimed_at):
        time.sleep(0.9)  # the engine at work
        beats = ImageEnhancementJob.objects.get(pk=job.pk).heartbeat_at
    assert beats > claimed_at
    # a job that moved on (here: cancelled) is not kept alive
    ImageEnhancementJob.objects.filter(pk=job.pk).update(status=JobStatus.REFUNDED)
    assert not transitions.renew_lease(job_id=job.pk, claimed_at=claimed_at)


def test_the_sweeper_runs_a_failed_job_when_its_retry_is_due_once(
    funded_user, image, sync_queue, django_capture_on_commit_callbacks
):
    job = order(funded_user, image)
    claimed_at = transitions.claim_job(job_id=job.pk)
    transitions.fail_job(job_id=job.pk, error=RuntimeError("x"), claimed_at=claimed_at)
    job.refresh_from_db()

    assert sweeper.recover_stuck_jobs().retried == 0  # not due yet
    with (
        time_machine.travel(job.next_attempt_at + timedelta(seconds=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        report = sweeper.recover_stuck_jobs()
    assert report.retried == 1

    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED


def test_a_due_retry_is_enqueued_once_not_every_minute(funded_user, image):
    from django_q.models import OrmQ

    job = order(funded_user, image)
    claimed_at = transitions.claim_job(job_id=job.pk)
    transitions.fail_job(job_id=job.pk, error=RuntimeError("x"), claimed_at=claimed_at)
    job.refresh_from_db()
    due = job.next_attempt_at + timedelta(seconds=1)

    with time_machine.travel(due):
        assert sweeper.recover_stuck_jobs().retried == 1
    with time_machine.travel(due + timedelta(minutes=1)):
        assert sweeper.recover_stuck_jobs().as_dict() == {
            "recovered": 0,
            "refunded": 0,
            "retried": 0,
            "requeued": 0,
        }
    assert OrmQ.objects.count() == 1
    # ...but if that message is lost too, it is sent again after a while.
    with time_machine.travel(due + sweeper.requeue_after() + timedelta(seconds=1)):
        assert sweeper.recover_stuck_jobs().requeued == 1
    assert OrmQ.objects.count() == 2


def test_a_pending_job_whose_message_was_lost_is_enqueued_again(
    funded_user, image, sync_queue, django_capture_on_commit_callbacks
):
    job = order(funded_user, image)  # its on_commit enqueue never ran: the message is lost

    assert sweeper.recover_stuck_jobs().requeued == 0  # a young PENDING job is just waiting
    with (
        time_machine.travel(timezone.now() + sweeper.requeue_after() + timedelta(seconds=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert sweeper.recover_stuck_jobs().requeued == 1

    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED


def test_the_migrations_schedule_the_sweeper_every_30_seconds_once():
    from importlib import import_module

    from croniter import croniter
    from django.apps import apps

    migration = import_module("enhancement.migrations.0008_sweeper_every_30_seconds")
    migration.every_30_seconds(apps, None)
    migration.every_30_seconds(apps, None)

    schedule = Schedule.objects.get(name="enhancement: sweep stuck jobs")
    assert schedule.func == "enhancement.tasks.sweep_stuck_jobs"
    assert (schedule.schedule_type, schedule.repeats, schedule.cluster) == (Schedule.CRON, -1, None)
    runs = croniter(schedule.cron, timezone.now())
    first, second = runs.get_next(float), runs.get_next(float)
    assert second - first == 30


def test_the_migration_schedules_the_sweeper_every_minute_once():
    """What `0002_job_sweeper_schedule` runs (called here: transactional tests flush the table
    that the migration filled, and --reuse-db keeps it flushed)."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("enhancement.migrations.0002_job_sweeper_schedule")
    migration.create_schedule(apps, None)
    migration.create_schedule(apps, None)

    schedule = Schedule.objects.get(name="enhancement: sweep stuck jobs")
    assert schedule.func == "enhancement.tasks.sweep_stuck_jobs"
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)
    assert schedule.cluster is None


def _jpeg(width, height):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()
