"""Ordering one enhancement and a batch: tokens and job in one transaction, idempotent forms."""

from __future__ import annotations

import pytest
from django_q.models import OrmQ

from billing.models import Subscription, SubscriptionPlan, SubscriptionStatus
from enhancement.jobs import errors, ordering, tiers, transitions
from enhancement.models import ImageEnhancementJob, JobStatus
from tests.factories import UserFactory, fund, stored_image
from tokens import services as tokens
from tokens.models import TokenTransaction, TokenTransactionType

pytestmark = pytest.mark.django_db

TIERS = [("TIER_1K", 2), ("TIER_2K", 5), ("TIER_4K", 10)]


@pytest.mark.parametrize(("tier", "cost"), TIERS)
def test_order_spends_the_tier_cost_and_creates_a_pending_job(funded_user, image, tier, cost):
    job = ordering.order_enhancement(user=funded_user, image=image, tier=tier, request_key="k" * 32)

    job.refresh_from_db()
    assert job.status == JobStatus.PENDING
    assert (job.tier, job.tokens_cost, job.user, job.image) == (tier, cost, funded_user, image)
    assert job.max_retries == 3 and job.retry_count == 0
    spend = TokenTransaction.objects.get(type=TokenTransactionType.SPEND_ENHANCEMENT)
    assert spend.amount == -cost
    assert spend.idempotency_key == f"spend:job:{job.pk}"
    assert (spend.source, spend.source_id) == ("enhancement", job.pk)
    assert tokens.get_balance(funded_user) == 100 - cost


def test_too_few_tokens_creates_no_job_and_says_so(user):
    fund(user, 4)
    image = stored_image(user)

    with pytest.raises(tokens.InsufficientTokens) as exc:
        ordering.order_enhancement(user=user, image=image, tier="TIER_2K", request_key="a" * 32)

    assert "needs 5 tokens and you have 4" in str(exc.value)
    assert not ImageEnhancementJob.objects.exists()
    assert tokens.get_balance(user) == 4
    assert not TokenTransaction.objects.filter(type="SPEND_ENHANCEMENT").exists()


def test_an_image_deleted_before_the_order_commits_is_not_ordered(funded_user, image):
    from enhancement.models import EnhancedImage

    stale = EnhancedImage.objects.get(pk=image.pk)  # the view loaded it; then it was deleted
    EnhancedImage.objects.filter(pk=image.pk).delete()

    with pytest.raises(errors.NotYourImage):
        ordering.order_enhancement(user=funded_user, image=stale, tier="TIER_1K", request_key=None)

    assert not ImageEnhancementJob.objects.exists()
    assert tokens.get_balance(funded_user) == 100


def test_the_same_request_key_makes_one_job(funded_user, image):
    first = ordering.order_enhancement(
        user=funded_user, image=image, tier="TIER_1K", request_key="r1" * 8
    )
    again = ordering.order_enhancement(
        user=funded_user, image=image, tier="TIER_1K", request_key="r1" * 8
    )

    assert again.pk == first.pk
    assert ImageEnhancementJob.objects.count() == 1
    assert TokenTransaction.objects.filter(type="SPEND_ENHANCEMENT").count() == 1
    assert tokens.get_balance(funded_user) == 98


def test_without_a_request_key_each_order_is_a_new_job(funded_user, image):
    ordering.order_enhancement(user=funded_user, image=image, tier="TIER_1K", request_key=None)
    ordering.order_enhancement(user=funded_user, image=image, tier="TIER_1K", request_key=None)
    assert ImageEnhancementJob.objects.count() == 2


def test_another_users_request_key_is_refused_not_returned(funded_user, image, other_user):
    ordering.order_enhancement(
        user=funded_user, image=image, tier="TIER_1K", request_key="same" * 4
    )
    fund(other_user, 10)
    theirs = stored_image(other_user)

    with pytest.raises(errors.RequestKeyUsed):
        ordering.order_enhancement(
            user=other_user, image=theirs, tier="TIER_1K", request_key="same" * 4
        )
    assert tokens.get_balance(other_user) == 10


def test_an_image_of_another_user_cannot_be_ordered(funded_user, other_user):
    theirs = stored_image(other_user)
    with pytest.raises(errors.NotYourImage):
        ordering.order_enhancement(user=funded_user, image=theirs, tier="TIER_1K", request_key=None)
    assert not ImageEnhancementJob.objects.exists()


def test_an_unknown_tier_is_refused(funded_user, image):
    with pytest.raises(tiers.InvalidTier):
        ordering.order_enhancement(user=funded_user, image=image, tier="TIER_8K", request_key=None)
    assert tokens.get_balance(funded_user) == 100


def test_the_job_is_enqueued_after_the_commit_on_the_default_queue(
    funded_user, image, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ordering.order_enhancement(user=funded_user, image=image, tier="TIER_1K", request_key=None)
        assert not OrmQ.objects.exists()  # nothing is sent before the commit
    for callback in callbacks:  # the enqueue, and the job.created log line
        callback()
    from django_q.conf import Conf

    assert list(OrmQ.objects.values_list("key", flat=True)) == [Conf.CLUSTER_NAME]


def _subscribe(user, *, priority: bool, status=SubscriptionStatus.ACTIVE):
    from datetime import timedelta

    from django.utils import timezone

    plan = SubscriptionPlan.objects.create(
        name="Studio" if priority else "Hobby",
        tokens_per_month=300,
        price_gbp="29.99",
        stripe_price_id=f"price_{'studio' if priority else 'hobby'}",
        priority=priority,
    )
    now = timezone.now()
    Subscription.objects.create(
        user=user,
        stripe_subscription_id=f"sub_{user.pk}",
        stripe_price_id=plan.stripe_price_id,
        status=status,
        current_period_start=now,
        current_period_end=now + timedelta(days=30),
        tokens_per_month=plan.tokens_per_month,
    )


@pytest.mark.parametrize(
    ("priority", "status", "queue"),
    [
        (True, SubscriptionStatus.ACTIVE, "priority"),
        (True, SubscriptionStatus.TRIALING, "priority"),
        (True, SubscriptionStatus.CANCELED, "default"),
        (False, SubscriptionStatus.ACTIVE, "default"),
    ],
)
def test_users_of_a_priority_plan_go_through_the_priority_queue(
    funded_user, image, settings, django_capture_on_commit_callbacks, priority, status, queue
):
    from django_q.conf import Conf

    _subscribe(funded_user, priority=priority, status=status)
    with django_capture_on_commit_callbacks(execute=True):
        ordering.order_enhancement(user=funded_user, image=image, tier="TIER_1K", request_key=None)

    expected = settings.Q_PRIORITY_CLUSTER if queue == "priority" else Conf.CLUSTER_NAME
    assert list(OrmQ.objects.values_list("key", flat=True)) == [expected]


# --- batch ----------------------------------------------------------------------------------------
def test_a_batch_makes_one_job_per_image_and_spends_for_all(funded_user):
    images = [stored_image(funded_user, name=f"p{i}.jpg") for i in range(3)]

    created = ordering.order_batch(
        user=funded_user, images=images, tier="TIER_2K", request_key="b" * 32
    )

    assert [job.image for job in created] == images
    assert all(job.status == JobStatus.PENDING and job.tokens_cost == 5 for job in created)
    assert tokens.get_balance(funded_user) == 85
    keys = set(
        TokenTransaction.objects.filter(type="SPEND_ENHANCEMENT").values_list(
            "idempotency_key", flat=True
        )
    )
    assert keys == {f"spend:job:{job.pk}" for job in created}


def test_a_batch_spends_for_all_or_none(user):
    fund(user, 9)
    images = [stored_image(user, name=f"p{i}.jpg") for i in range(2)]

    with pytest.raises(tokens.InsufficientTokens) as exc:
        ordering.order_batch(user=user, images=images, tier="TIER_2K", request_key="c" * 32)

    assert "needs 10 tokens and you have 9" in str(exc.value)
    assert not ImageEnhancementJob.objects.exists()
    assert tokens.get_balance(user) == 9


def test_a_resubmitted_batch_returns_the_same_jobs(funded_user):
    images = [stored_image(funded_user, name=f"p{i}.jpg") for i in range(2)]
    first = ordering.order_batch(
        user=funded_user, images=images, tier="TIER_1K", request_key="d" * 32
    )
    again = ordering.order_batch(
        user=funded_user,
        images=images,
        tier="TIER_1K",
        skip_already_enhanced=True,
        request_key="d" * 32,
    )
    assert {j.pk for j in again} == {j.pk for j in first}
    assert ImageEnhancementJob.objects.count() == 2
    assert tokens.get_balance(funded_user) == 96


def test_a_batch_can_skip_images_already_enhanced_at_that_tier(staff_user, funded_user):
    done, refunded, other_tier, fresh = (
        stored_image(funded_user, name=f"p{i}.jpg") for i in range(4)
    )
    ordering.order_enhancement(user=funded_user, image=done, tier="TIER_1K", request_key=None)
    failed = ordering.order_enhancement(
        user=funded_user, image=refunded, tier="TIER_1K", request_key=None
    )
    transitions.refund_job(job=failed, actor=staff_user)
    ordering.order_enhancement(user=funded_user, image=other_tier, tier="TIER_2K", request_key=None)
    images = [done, refunded, other_tier, fresh]

    plan = ordering.plan_batch(
        user=funded_user, images=images, tier="TIER_1K", skip_already_enhanced=True
    )
    assert plan.to_order == [refunded, other_tier, fresh]
    assert plan.skipped == [done]
    assert plan.total_cost == 6

    created = ordering.order_batch(
        user=funded_user,
        images=images,
        tier="TIER_1K",
        skip_already_enhanced=True,
        request_key=None,
    )
    assert [job.image for job in created] == [refunded, other_tier, fresh]

    with pytest.raises(errors.NothingToOrder):
        ordering.order_batch(
            user=funded_user,
            images=[done],
            tier="TIER_1K",
            skip_already_enhanced=True,
            request_key=None,
        )


def test_a_batch_is_limited_in_size(funded_user, settings):
    settings.ENHANCEMENT_BATCH_MAX = 2
    images = [stored_image(funded_user, name=f"p{i}.jpg") for i in range(3)]
    with pytest.raises(errors.BatchTooLarge, match="at most 2 images"):
        ordering.order_batch(user=funded_user, images=images, tier="TIER_1K", request_key=None)
    with pytest.raises(errors.EmptyBatch):
        ordering.order_batch(user=funded_user, images=[], tier="TIER_1K", request_key=None)
    assert not ImageEnhancementJob.objects.exists()


def test_a_batch_with_an_image_of_another_user_orders_nothing(funded_user):
    stranger = UserFactory(email="carol@example.com")
    images = [stored_image(funded_user), stored_image(stranger)]
    with pytest.raises(errors.NotYourImage):
        ordering.order_batch(user=funded_user, images=images, tier="TIER_1K", request_key=None)
    assert not ImageEnhancementJob.objects.exists()
    assert tokens.get_balance(funded_user) == 100


def test_tier_options_give_the_exact_output_size_for_the_image(funded_user):
    portrait = stored_image(funded_user, width=48, height=64)
    options = {
        o.value: (o.label, o.tokens_cost, o.width, o.height) for o in tiers.tier_options(portrait)
    }
    assert options == {
        "TIER_1K": ("1K", 2, 768, 1024),
        "TIER_2K": ("2K", 5, 1536, 2048),
        "TIER_4K": ("4K", 10, 3072, 4096),
    }
