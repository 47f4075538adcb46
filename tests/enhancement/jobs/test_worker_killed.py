"""A worker killed mid-job (kill -9 of the whole cluster) on PostgreSQL: a new cluster takes
the job back once its lease lapses, and it completes exactly once, charged once.

The engine is the real Gemini client against the loopback fake, whose first answer never
comes in time (the worker is killed while it waits); the next attempt gets an image at once.
The time from the kill to COMPLETED is printed (`-s` shows it); bench/worker_recovery.py
measures it with the default settings."""

from __future__ import annotations

import time
from importlib import import_module

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from enhancement.jobs import ordering
from enhancement.models import ImageEnhancementJob, JobStatus
from tests import cluster as qcluster
from tests.factories import fund, stored_image
from tests.fakes.gemini_server import FakeGeminiServer, delay
from tokens import services as tokens
from tokens.models import TokenTransaction, TokenTransactionType

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def status_of(job) -> str:
    return ImageEnhancementJob.objects.filter(pk=job.pk).values_list("status", flat=True).get()


def test_a_job_whose_cluster_was_killed_completes_once_on_a_new_one(
    user, settings, tmp_path, capsys
):
    # The schedule the migrations make (transactional tests flush it): the sweep every 30 s.
    import_module("enhancement.migrations.0008_sweeper_every_30_seconds").every_30_seconds(
        apps, None
    )
    fund(user, 20)
    image = stored_image(user, width=320, height=240)

    with FakeGeminiServer() as fake:
        fake.push(delay(600))  # the first attempt hangs until its worker is killed
        env = qcluster.cluster_env(
            database_url=database_url(),
            media_root=str(settings.MEDIA_ROOT),
            GEMINI_API_KEY="test-key",
            GEMINI_BASE_URL=fake.base_url,
            GEMINI_TIMEOUT_MS="900000",
            # a short lease keeps the test short; the bench runs the defaults (5 s / 20 s)
            ENHANCEMENT_HEARTBEAT_SECONDS="1",
            ENHANCEMENT_LEASE_SECONDS="3",
            Q_WORKERS="1",
        )
        first = qcluster.start_cluster(env, log=tmp_path / "first.log")
        try:
            job = ordering.order_enhancement(
                user=user, image=image, tier="TIER_1K", request_key=None
            )
            try:
                qcluster.wait_for(
                    lambda: status_of(job) == JobStatus.PROCESSING and fake.requests,
                    timeout=60,
                    what="the first worker to call the engine",
                )
            except AssertionError as exc:
                log = (tmp_path / "first.log").read_text()[-3000:]
                raise AssertionError(f"{exc}\n{log}") from None
            qcluster.wait_for(
                lambda: (
                    ImageEnhancementJob.objects.get(pk=job.pk).heartbeat_at
                    > ImageEnhancementJob.objects.get(pk=job.pk).processing_started_at
                ),
                timeout=10,
                what="a heartbeat",
            )
        finally:
            qcluster.kill_hard(first)
        killed_at = time.monotonic()
        assert status_of(job) == JobStatus.PROCESSING  # what the dead worker left

        second = qcluster.start_cluster(env, log=tmp_path / "second.log")
        try:
            qcluster.wait_for(
                lambda: status_of(job) in (JobStatus.COMPLETED, JobStatus.REFUNDED),
                timeout=150,
                every=0.2,
                what="the job to finish on the new cluster",
            )
            recovered_s = time.monotonic() - killed_at
        finally:
            qcluster.stop(second)

    job.refresh_from_db()
    with capsys.disabled():
        print(f"\nkill -9 -> {job.status}: {recovered_s:.1f} s (lease 3 s, sweep every 30 s)")
    assert job.status == JobStatus.COMPLETED, (tmp_path / "second.log").read_text()[-3000:]
    assert job.retry_count == 1  # the killed attempt counted as one failed try
    ledger = list(TokenTransaction.objects.filter(source_id=job.pk).values_list("type", "amount"))
    assert ledger == [(TokenTransactionType.SPEND_ENHANCEMENT, -2)]  # charged once, no refund
    assert tokens.get_balance(user) == 18
    assert len(fake.requests) == 2  # the hung call and the one that finished
    call_command("check_ledger")
