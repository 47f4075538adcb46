"""The pages and actions of jobs through the HTTP client: owner, stranger (404), anonymous
(login), CSRF, rate limit, live status fragment, downloads, batch with its confirmation."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from enhancement import tasks
from enhancement.jobs import ordering, transitions
from enhancement.models import ImageEnhancementJob, JobStatus
from tests.factories import fund, stored_image
from tokens import services as tokens

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def order(user, image, tier="TIER_1K"):
    return ordering.order_enhancement(user=user, image=image, tier=tier, request_key=None)


@pytest.fixture
def completed(funded_user, image):
    job = order(funded_user, image)
    tasks.run_enhancement_job(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    return job


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- order ----------------------------------------------------------------------------------------
def test_tiers_the_balance_cannot_pay_for_are_disabled_with_what_is_missing(owner_client, user):
    fund(user, 3)
    image = stored_image(user, width=64, height=48)
    page = text(owner_client.get(reverse("images:detail", args=[image.pk])))

    one_k = re.search(r'<input type="radio" name="tier" id="tier-TIER_1K"[^>]*>', page)[0]
    four_k = re.search(r'<input type="radio" name="tier" id="tier-TIER_4K"[^>]*>', page)[0]
    assert "disabled" not in one_k and "checked" in one_k
    assert "disabled" in four_k
    assert "2 more tokens needed" in page and "7 more tokens needed" in page
    assert reverse("billing:pricing") in page


def test_with_no_tokens_every_tier_is_disabled_and_so_is_the_button(owner_client, user):
    image = stored_image(user, width=64, height=48)
    page = text(owner_client.get(reverse("images:detail", args=[image.pk])))
    assert page.count('name="tier"') == 3 and page.count(" disabled") >= 4
    assert "not enough for any size yet" in page


def test_a_cancelled_job_reads_as_cancelled_not_failed(owner_client, funded_user, image):
    job = order(funded_user, image)
    transitions.cancel_job(user=funded_user, job=job)
    card = text(owner_client.get(reverse("jobs:detail", args=[job.pk]), **HTMX))
    assert ">Cancelled</span>" in card and "badge-muted" in card and "badge-danger" not in card
    library = text(owner_client.get(reverse("images:library")))
    assert "Cancelled — tokens returned" in library and "Failed" not in library


def test_the_library_badge_follows_a_running_job(owner_client, funded_user, image):
    job = order(funded_user, image)
    library = text(owner_client.get(reverse("images:library")))
    badge_url = reverse("images:badge", args=[image.pk])
    assert f'hx-get="{badge_url}"' in library and "Enhancing…" in library
    transitions.claim_job(job_id=job.pk)
    transitions.cancel_job  # noqa: B018 (the job runs; then it completes)
    ImageEnhancementJob.objects.filter(pk=job.pk).update(
        status=JobStatus.COMPLETED, enhanced_r2_key="images/x/jobs/y/enhanced.jpg"
    )
    badge = text(owner_client.get(badge_url))
    assert "Enhanced 1K" in badge and "hx-get" not in badge  # done: no more polling
    assert stranger_badge_is_404(badge_url)


def stranger_badge_is_404(url):
    from tests.factories import UserFactory

    stranger = Client()
    stranger.force_login(UserFactory())
    return stranger.get(url).status_code == 404


def test_the_image_page_offers_the_tiers_with_cost_and_output_size(owner_client, image):
    response = owner_client.get(reverse("images:detail", args=[image.pk]))

    assert response.status_code == 200
    page = text(response)
    assert f'action="{reverse("jobs:order", args=[image.pk])}"' in page
    for value, label, cost, size in (
        ("TIER_1K", "1K", 2, "1024&nbsp;×&nbsp;768"),
        ("TIER_2K", "2K", 5, "2048&nbsp;×&nbsp;1536"),
        ("TIER_4K", "4K", 10, "4096&nbsp;×&nbsp;3072"),
    ):
        assert re.search(
            rf'<label class="order-tier"[^>]*>.*?value="{value}"[^>]*> {label}</span> '
            rf'<span class="order-tier-cost">{cost} tokens</span> '
            rf'<span class="order-tier-size muted">{size}&nbsp;px</span>',
            page,
        )
    assert "Your balance: <strong>100 tokens</strong>" in page
    assert re.search(r'name="request_key" value="[0-9a-f]{32}"', page)
    assert "No enhancements yet" in page


def test_each_render_has_a_fresh_request_key(owner_client, image):
    url = reverse("images:detail", args=[image.pk])
    keys = {
        re.search(r'name="request_key" value="(\w+)"', owner_client.get(url).content.decode())[1]
        for _ in range(2)
    }
    assert len(keys) == 2


def test_ordering_redirects_to_the_image_with_a_message(owner_client, funded_user, image):
    response = owner_client.post(
        reverse("jobs:order", args=[image.pk]), {"tier": "TIER_2K", "request_key": "k" * 32}
    )

    job = ImageEnhancementJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("images:detail", args=[image.pk]) + f"#job-{job.pk}"
    assert (job.tier, job.status, job.user) == ("TIER_2K", JobStatus.PENDING, funded_user)
    page = text(owner_client.get(response["Location"]))
    assert "Your 2K enhancement is on its way" in page
    assert f'id="job-{job.pk}"' in page
    assert f'hx-get="{reverse("jobs:detail", args=[job.pk])}" hx-trigger="every 2s"' in page
    assert "Your balance: <strong>95 tokens</strong>" in page


def test_a_double_submitted_order_makes_one_job(owner_client, funded_user, image):
    data = {"tier": "TIER_1K", "request_key": "d" * 32}
    url = reverse("jobs:order", args=[image.pk])
    first = owner_client.post(url, data)
    second = owner_client.post(url, data)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert ImageEnhancementJob.objects.count() == 1
    assert tokens.get_balance(funded_user) == 98


def test_too_few_tokens_says_so_and_creates_nothing(client, user):
    fund(user, 3)
    image = stored_image(user)
    client.force_login(user)

    response = client.post(
        reverse("jobs:order", args=[image.pk]), {"tier": "TIER_2K", "request_key": "e" * 32}
    )

    assert response.status_code == 402
    assert "This needs 5 tokens and you have 3." in text(response)
    assert reverse("tokens:page") in text(response)
    assert not ImageEnhancementJob.objects.exists()
    assert tokens.get_balance(user) == 3


@pytest.mark.parametrize(
    "data", [{}, {"tier": "TIER_8K"}, {"tier": "TIER_1K", "request_key": "<bad key>"}]
)
def test_a_bad_order_form_is_a_400(owner_client, image, data):
    response = owner_client.post(reverse("jobs:order", args=[image.pk]), data)
    assert response.status_code == 400
    assert ImageEnhancementJob.objects.count() == 0


def test_ordering_is_rate_limited_per_user(owner_client, funded_user, image, settings):
    settings.ENHANCEMENT_ORDER_RATE_PER_MINUTE = 3
    url = reverse("jobs:order", args=[image.pk])
    codes = [owner_client.post(url, {"tier": "TIER_1K"}).status_code for _ in range(4)]

    assert codes == [302, 302, 302, 429]
    assert ImageEnhancementJob.objects.count() == 3
    last = owner_client.post(url, {"tier": "TIER_1K"})
    assert "at most 3 orders a minute" in text(last)
    assert 1 <= int(last["Retry-After"]) <= 60  # when the minute's window ends


def test_order_is_for_the_owner_only(stranger_client, anon_client, image):
    url = reverse("jobs:order", args=[image.pk])
    assert stranger_client.post(url, {"tier": "TIER_1K"}).status_code == 404
    response = anon_client.post(url, {"tier": "TIER_1K"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not ImageEnhancementJob.objects.exists()


def test_order_needs_post_and_csrf(user, image):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    url = reverse("jobs:order", args=[image.pk])
    assert client.get(url).status_code == 405
    assert client.post(url, {"tier": "TIER_1K"}).status_code == 403
    assert not ImageEnhancementJob.objects.exists()


# --- status ---------------------------------------------------------------------------------------
def test_the_status_fragment_polls_while_the_job_runs_and_stops_when_done(
    owner_client, funded_user, image
):
    job = order(funded_user, image)
    url = reverse("jobs:detail", args=[job.pk])

    pending = owner_client.get(url, **HTMX)
    assert pending.status_code == 200
    body = text(pending)
    assert "<html" not in body and body.lstrip().startswith("<li")
    assert 'hx-trigger="every 2s"' in body
    assert "Waiting in the queue" in body
    assert reverse("jobs:cancel", args=[job.pk]) in body

    transitions.claim_job(job_id=job.pk)
    running = text(owner_client.get(url, **HTMX))
    assert "Enhancing… (attempt 1 of 3)" in running and "every 2s" in running
    assert reverse("jobs:cancel", args=[job.pk]) not in running

    ImageEnhancementJob.objects.filter(pk=job.pk).update(status=JobStatus.PENDING)
    tasks.run_enhancement_job(job.pk)
    done = text(owner_client.get(url, **HTMX))
    assert "hx-trigger" not in done
    assert "Before" in done and "After" in done and 'type="range"' in done
    assert "1024 × 768 px" in done
    assert reverse("jobs:download", args=[job.pk]) in done


def test_a_refunded_job_says_why_and_that_the_tokens_came_back(owner_client, funded_user, image):
    job = order(funded_user, image, "TIER_4K")
    transitions.cancel_job(user=funded_user, job=job)

    body = text(owner_client.get(reverse("jobs:detail", args=[job.pk]), **HTMX))
    assert "Cancelled. Your 10 tokens were returned to your balance." in body
    assert "hx-trigger" not in body


def test_a_failed_job_waiting_for_its_retry_says_so(owner_client, funded_user, image):
    job = order(funded_user, image)
    claimed = transitions.claim_job(job_id=job.pk)
    transitions.fail_job(job_id=job.pk, error=RuntimeError("x"), claimed_at=claimed)

    body = text(owner_client.get(reverse("jobs:detail", args=[job.pk]), **HTMX))
    assert transitions.UNEXPECTED_MESSAGE in body and "tried once of 3" in body
    assert "Next try in " in body and " ago" not in body
    assert 'hx-trigger="every 5s"' in body


def test_a_failed_job_past_its_retry_time_never_says_ago(owner_client, funded_user, image):
    """Due, and waiting for the sweeper's next round: "any moment now", not "4 seconds ago"."""
    job = order(funded_user, image)
    claimed = transitions.claim_job(job_id=job.pk)
    transitions.fail_job(job_id=job.pk, error=RuntimeError("x"), claimed_at=claimed)
    ImageEnhancementJob.objects.filter(pk=job.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=4)
    )
    body = text(owner_client.get(reverse("jobs:detail", args=[job.pk]), **HTMX))
    assert "Next try any moment now." in body and "ago" not in body


def test_a_job_whose_worker_stopped_answering_says_so(owner_client, funded_user, image):
    job = order(funded_user, image)
    transitions.claim_job(job_id=job.pk)
    ImageEnhancementJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=2)
    )
    body = text(owner_client.get(reverse("jobs:detail", args=[job.pk]), **HTMX))
    assert "stopped answering" in body and "attempt 1 of 3" not in body


def test_the_last_try_says_how_often_in_words(funded_user, image, settings):
    job = order(funded_user, image)
    ImageEnhancementJob.objects.filter(pk=job.pk).update(max_retries=1)
    claimed = transitions.claim_job(job_id=job.pk)
    job = transitions.fail_job(job_id=job.pk, error=RuntimeError("x"), claimed_at=claimed)
    assert job.status == JobStatus.REFUNDED
    assert job.error_message.startswith("We tried once and")


def test_without_htmx_the_status_is_a_whole_page(owner_client, completed):
    response = owner_client.get(reverse("jobs:detail", args=[completed.pk]))
    assert response.status_code == 200
    body = text(response)
    assert "<html" in body and "1K enhancement of" in body
    assert reverse("images:detail", args=[completed.image_id]) in body


def test_the_status_costs_the_same_few_queries_every_time(
    owner_client, completed, django_assert_max_num_queries
):
    url = reverse("jobs:detail", args=[completed.pk])
    owner_client.get(url, **HTMX)
    # session, user, the job with its image, the balance of the navigation badge
    with django_assert_max_num_queries(4):
        owner_client.get(url, **HTMX)


def test_status_is_for_the_owner_only(stranger_client, anon_client, completed):
    url = reverse("jobs:detail", args=[completed.pk])
    assert stranger_client.get(url).status_code == 404
    assert stranger_client.get(url, **HTMX).status_code == 404
    assert anon_client.get(url).status_code == 302


def test_the_image_page_shows_every_enhancement_side_by_side(owner_client, funded_user, image):
    first = order(funded_user, image, "TIER_1K")
    tasks.run_enhancement_job(first.pk)
    second = order(funded_user, image, "TIER_2K")
    tasks.run_enhancement_job(second.pk)
    refunded = order(funded_user, image, "TIER_4K")
    transitions.cancel_job(user=funded_user, job=refunded)

    page = text(owner_client.get(reverse("images:detail", args=[image.pk])))
    assert page.count('class="card job-card') == 3
    assert page.count("data-compare") == 2
    assert "Your 10 tokens were returned" in page
    assert (
        page.index(f"job-{refunded.pk}")
        < page.index(f"job-{second.pk}")
        < page.index(f"job-{first.pk}")
    )


# --- cancel ---------------------------------------------------------------------------------------
def test_cancelling_a_pending_job(owner_client, funded_user, image):
    job = order(funded_user, image, "TIER_2K")
    response = owner_client.post(reverse("jobs:cancel", args=[job.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("images:detail", args=[image.pk])
    assert "Cancelled. Your 5 tokens were returned to your balance." in text(response)
    job.refresh_from_db()
    assert job.status == JobStatus.REFUNDED
    assert tokens.get_balance(funded_user) == 100


def test_cancelling_a_running_job_is_refused(owner_client, funded_user, image):
    job = order(funded_user, image)
    transitions.claim_job(job_id=job.pk)

    response = owner_client.post(reverse("jobs:cancel", args=[job.pk]))
    assert response.status_code == 409
    assert "already running and can no longer be cancelled" in text(response)
    htmx = owner_client.post(reverse("jobs:cancel", args=[job.pk]), **HTMX)
    assert htmx.status_code == 409 and "<html" not in text(htmx)
    job.refresh_from_db()
    assert job.status == JobStatus.PROCESSING


def test_cancel_is_for_the_owner_only(stranger_client, anon_client, funded_user, image):
    job = order(funded_user, image)
    url = reverse("jobs:cancel", args=[job.pk])
    assert stranger_client.post(url).status_code == 404
    assert anon_client.post(url).status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING


# --- download -------------------------------------------------------------------------------------
def test_download_as_stored_redirects_to_a_signed_url_with_a_name(owner_client, completed):
    response = owner_client.get(reverse("jobs:download", args=[completed.pk]))

    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    file = owner_client.get(response["Location"])
    assert file.status_code == 200
    assert 'filename="Beach-enhanced-1K.jpg"' in file["Content-Disposition"]
    data = b"".join(file.streaming_content)
    assert len(data) == completed.enhanced_size_bytes


@pytest.mark.parametrize(
    ("fmt", "pillow", "content_type", "ext"),
    [
        ("png", "PNG", "image/png", "png"),
        ("jpeg", "JPEG", "image/jpeg", "jpg"),
        ("webp", "WEBP", "image/webp", "webp"),
    ],
)
def test_download_converted(owner_client, completed, fmt, pillow, content_type, ext):
    response = owner_client.get(
        reverse("jobs:download", args=[completed.pk]), {"format": fmt, "quality": 80}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert f'filename="Beach-enhanced-1K.{ext}"' in response["Content-Disposition"]
    with Image.open(io.BytesIO(response.content)) as converted:
        assert converted.format == pillow
        assert converted.size == (1024, 768)


def test_the_quality_changes_the_converted_file(owner_client, completed):
    url = reverse("jobs:download", args=[completed.pk])
    low = owner_client.get(url, {"format": "webp", "quality": 10}).content
    high = owner_client.get(url, {"format": "webp", "quality": 95}).content
    assert len(low) < len(high)


@pytest.mark.parametrize(
    "query",
    [{"format": "gif"}, {"format": "png", "quality": "0"}, {"format": "jpeg", "quality": "abc"}],
)
def test_a_bad_download_request_is_a_400(owner_client, completed, query):
    response = owner_client.get(reverse("jobs:download", args=[completed.pk]), query)
    assert response.status_code == 400


def test_download_is_for_the_owner_of_a_completed_job_only(
    owner_client, stranger_client, anon_client, completed, funded_user, image
):
    url = reverse("jobs:download", args=[completed.pk])
    assert stranger_client.get(url).status_code == 404
    assert stranger_client.get(url, {"format": "png"}).status_code == 404
    assert anon_client.get(url).status_code == 302
    pending = order(funded_user, image)
    assert owner_client.get(reverse("jobs:download", args=[pending.pk])).status_code == 404


# --- batch ----------------------------------------------------------------------------------------
def test_the_library_has_the_batch_bar(owner_client, image):
    page = text(owner_client.get(reverse("images:library")))
    assert f'<form id="batch-form" method="post" action="{reverse("jobs:batch")}"' in page
    assert 'name="tier"' in page and 'name="skip_already_enhanced"' in page
    assert 'form="batch-form"' in page


def test_a_batch_shows_its_total_then_orders_on_confirmation(owner_client, funded_user):
    images = [stored_image(funded_user, name=f"p{i}.jpg") for i in range(3)]
    data = {"image_ids": [i.pk for i in images], "tier": "TIER_2K"}

    review = owner_client.post(reverse("jobs:batch"), data)
    assert review.status_code == 200
    page = text(review)
    assert "Enhance 3 images at 2K" in page
    assert "<strong>15 tokens</strong>" in page
    assert "Spend 15 tokens and enhance" in page
    assert not ImageEnhancementJob.objects.exists()

    key = re.search(r'name="request_key" value="(\w+)"', page)[1]
    confirm = {**data, "confirm": "1", "request_key": key}
    response = owner_client.post(reverse("jobs:batch"), confirm, follow=True)
    assert "3 2K enhancements ordered for 15 tokens." in text(response)
    assert ImageEnhancementJob.objects.filter(status=JobStatus.PENDING).count() == 3
    assert tokens.get_balance(funded_user) == 85

    owner_client.post(reverse("jobs:batch"), confirm)  # resubmitted: nothing more
    assert ImageEnhancementJob.objects.count() == 3
    assert tokens.get_balance(funded_user) == 85


def test_a_batch_review_lists_what_is_skipped(owner_client, funded_user):
    done, fresh = (
        stored_image(funded_user, name="done.jpg"),
        stored_image(funded_user, name="fresh.jpg"),
    )
    order(funded_user, done)
    data = {"image_ids": [done.pk, fresh.pk], "tier": "TIER_1K", "skip_already_enhanced": "on"}

    page = text(owner_client.post(reverse("jobs:batch"), data))
    assert "Enhance 1 image at 1K" in page
    assert "Skipped (already enhanced at 1K)" in page and "done.jpg" in page


def test_a_batch_beyond_the_balance_shows_the_shortfall_and_orders_nothing(client, user):
    fund(user, 7)
    images = [stored_image(user, name=f"p{i}.jpg") for i in range(2)]
    client.force_login(user)
    data = {"image_ids": [i.pk for i in images], "tier": "TIER_2K"}

    review = text(client.post(reverse("jobs:batch"), data))
    assert "You need 3 more tokens" in review and "Spend" not in review

    forced = client.post(reverse("jobs:batch"), {**data, "confirm": "1", "request_key": "f" * 32})
    assert forced.status_code == 402
    assert "This needs 10 tokens and you have 7." in text(forced)
    assert not ImageEnhancementJob.objects.exists()


def test_batch_orders_count_towards_the_rate_limit(owner_client, funded_user, image, settings):
    settings.ENHANCEMENT_ORDER_RATE_PER_MINUTE = 1
    owner_client.post(reverse("jobs:order", args=[image.pk]), {"tier": "TIER_1K"})
    data = {"image_ids": [image.pk], "tier": "TIER_2K", "confirm": "1", "request_key": "h" * 32}

    response = owner_client.post(reverse("jobs:batch"), data)

    assert response.status_code == 429
    assert "at most 1 order a minute" in text(response)
    assert 1 <= int(response["Retry-After"]) <= 60
    assert ImageEnhancementJob.objects.count() == 1


def test_a_batch_over_the_limit_is_refused(owner_client, funded_user, settings):
    settings.ENHANCEMENT_BATCH_MAX = 2
    images = [stored_image(funded_user, name=f"p{i}.jpg") for i in range(3)]
    response = owner_client.post(
        reverse("jobs:batch"),
        {"image_ids": [i.pk for i in images], "tier": "TIER_1K", "confirm": "1"},
    )
    assert response.status_code == 400
    assert "Select at most 2 images at a time." in text(response)
    assert not ImageEnhancementJob.objects.exists()


def test_a_batch_with_nothing_selected_is_refused(owner_client, image):
    response = owner_client.post(reverse("jobs:batch"), {"tier": "TIER_1K"})
    assert response.status_code == 400
    assert "Select at least one image to enhance." in text(response)


def test_a_batch_cannot_include_someone_elses_image(stranger_client, other_user, image):
    fund(other_user, 100)
    theirs = stored_image(other_user)
    data = {
        "image_ids": [theirs.pk, image.pk],
        "tier": "TIER_1K",
        "confirm": "1",
        "request_key": "g" * 32,
    }
    response = stranger_client.post(reverse("jobs:batch"), data)
    assert response.status_code == 400
    assert not ImageEnhancementJob.objects.exists()


def test_batch_needs_a_login_and_a_post(anon_client, owner_client, image):
    response = anon_client.post(reverse("jobs:batch"), {"image_ids": [image.pk], "tier": "TIER_1K"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert owner_client.get(reverse("jobs:batch")).status_code == 405
