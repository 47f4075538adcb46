"""The cron entry points: each prints one line of what it did and is safe beside the schedule
and itself (a second run in the same interval does nothing more)."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from enhancement.jobs import ordering, transitions
from enhancement.models import ImageEnhancementJob, JobStatus
from tests.factories import UserFactory, fund, stored_image
from tokens import services

pytestmark = pytest.mark.django_db


def run(name) -> str:
    out = io.StringIO()
    call_command(name, stdout=out)
    return out.getvalue().strip()


def test_regenerate_tokens_credits_once_per_interval(settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        users = [UserFactory() for _ in range(3)]
    later = start + timedelta(minutes=settings.TOKEN_REGEN_INTERVAL_MINUTES * 2 + 1)
    with time_machine.travel(later, tick=False):
        first = run("regenerate_tokens")
        second = run("regenerate_tokens")  # the same interval again: nothing more
    assert first == "regenerate_tokens: 6 tokens credited to 3 balances"
    assert second == "regenerate_tokens: 0 tokens credited to 0 balances"
    with time_machine.travel(later, tick=False):
        assert [services.get_balance(u) for u in users] == [2, 2, 2]
    call_command("check_ledger", stdout=io.StringIO())


def test_recover_stuck_jobs_takes_a_dead_workers_job_back_once(user):
    fund(user, 10)
    job = ordering.order_enhancement(
        user=user, image=stored_image(user), tier="TIER_1K", request_key=None
    )
    claimed = transitions.claim_job(job_id=job.pk)
    with time_machine.travel(claimed + timedelta(minutes=5)):
        first = run("recover_stuck_jobs")
        second = run("recover_stuck_jobs")
    assert first.startswith("recover_stuck_jobs: 1 recovered")
    assert "0 recovered" in second
    assert ImageEnhancementJob.objects.get(pk=job.pk).status == JobStatus.FAILED
