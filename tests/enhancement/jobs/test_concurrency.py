"""Races on PostgreSQL with real threads and connections: a double-submitted form, two batches
for one balance, two workers claiming one job, a cancel racing a claim."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from enhancement.jobs import errors, ordering, transitions
from enhancement.models import ImageEnhancementJob, JobStatus
from tests.enhancement.jobs.conftest import assert_ledger_balanced
from tests.factories import UserFactory, fund, stored_image
from tokens import services as tokens
from tokens.models import TokenTransaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(count, target):
    """Run `target(i)` in `count` threads started at the same moment; return their results."""
    barrier = threading.Barrier(count)
    results = [None] * count
    errors = []

    def worker(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


def test_two_concurrent_submissions_of_the_same_form_make_one_job():
    user = UserFactory(email="racer@example.com")
    fund(user, 20)
    image = stored_image(user)
    url = reverse("jobs:order", args=[image.pk])
    data = {"tier": "TIER_2K", "request_key": "c0ffee" * 5}

    def submit(_):
        client = Client()
        client.force_login(user)
        return client.post(url, data)

    responses = run_together(2, submit)

    assert [r.status_code for r in responses] == [302, 302]
    assert responses[0]["Location"] == responses[1]["Location"]
    assert ImageEnhancementJob.objects.count() == 1
    assert TokenTransaction.objects.filter(type="SPEND_ENHANCEMENT").count() == 1
    assert tokens.get_balance(user) == 15
    assert_ledger_balanced()


def test_two_concurrent_batches_of_the_same_form_make_one_set_of_jobs():
    user = UserFactory(email="batcher@example.com")
    fund(user, 12)  # enough for one batch of two 2K jobs, not for two
    images = [stored_image(user, name=f"p{i}.jpg") for i in range(2)]

    results = run_together(
        2,
        lambda _: [
            j.pk
            for j in ordering.order_batch(
                user=user, images=images, tier="TIER_2K", request_key="ba7c4" * 6
            )
        ],
    )

    assert sorted(results[0]) == sorted(results[1])
    assert ImageEnhancementJob.objects.count() == 2
    assert tokens.get_balance(user) == 2
    assert_ledger_balanced()


def test_two_batches_racing_for_one_balance_the_loser_is_told_its_whole_total():
    """The batch locks the balance row before it checks the total, so the check holds for the
    spends that follow: the batch that loses the race is refused with its own total against
    what the winner left, never half-spent and never with one job's cost."""
    user = UserFactory(email="two-tabs@example.com")
    fund(user, 6)  # one batch of two 1K jobs (4 tokens), not two
    first = [stored_image(user, name=f"a{i}.jpg") for i in range(2)]
    second = [stored_image(user, name=f"b{i}.jpg") for i in range(2)]

    def order(i):
        try:
            return ordering.order_batch(user=user, images=(first, second)[i], tier="TIER_1K")
        except tokens.InsufficientTokens as exc:
            return exc

    results = run_together(2, order)

    refused = [r for r in results if isinstance(r, tokens.InsufficientTokens)]
    ordered = [r for r in results if isinstance(r, list)]
    assert len(refused) == 1 and len(ordered) == 1
    assert (refused[0].needed, refused[0].available) == (4, 2)
    assert len(ordered[0]) == 2
    assert ImageEnhancementJob.objects.count() == 2
    assert tokens.get_balance(user) == 2
    assert_ledger_balanced()


def test_eight_workers_claiming_one_job_one_wins():
    user = UserFactory(email="claimer@example.com")
    fund(user, 10)
    job = ordering.order_enhancement(
        user=user, image=stored_image(user), tier="TIER_1K", request_key=None
    )

    claims = run_together(8, lambda _: transitions.claim_job(job_id=job.pk))

    assert sum(claim is not None for claim in claims) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.PROCESSING


def test_a_cancel_racing_a_claim_ends_in_exactly_one_state():
    user = UserFactory(email="canceller@example.com")
    fund(user, 10)
    job = ordering.order_enhancement(
        user=user, image=stored_image(user), tier="TIER_1K", request_key=None
    )

    def act(i):
        if i == 0:
            return transitions.claim_job(job_id=job.pk) is not None
        try:
            transitions.cancel_job(user=user, job=job)
            return "cancelled"
        except errors.JobNotCancellable:
            return "refused"

    claimed, cancel = run_together(2, act)

    job.refresh_from_db()
    if claimed:
        assert cancel == "refused" and job.status == JobStatus.PROCESSING
        assert tokens.get_balance(user) == 8
    else:
        assert cancel == "cancelled" and job.status == JobStatus.REFUNDED
        assert tokens.get_balance(user) == 10
    assert_ledger_balanced()
