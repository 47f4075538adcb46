"""Deleting an account (/account/delete/): confirmed by the password, or by a fresh sign-in with
the provider for an account without one. The subscription ends at Stripe first (the loopback
fake, through the real client); then, in one transaction, every image, job, result, album,
share link, app, key and export goes, the stored objects after the commit, and the user row
stays as an anonymous tombstone for the payments and the ledger. Nothing is deleted when the
password is wrong, the tries are used up, or Stripe cannot be reached."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client

from accounts import deletion
from albums import services as albums
from albums.models import Album, AlbumPrivacy
from billing.models import StripePayment, Subscription, SubscriptionStatus
from enhancement import storage
from enhancement.engines import EngineResult
from enhancement.images import services as images
from enhancement.jobs import ordering, transitions, worker
from enhancement.models import (
    ApiKey,
    DeletedJob,
    EnhancedImage,
    ImageEnhancementJob,
    JobStatus,
    WebhookEndpoint,
)
from platform_apps.models import App
from tests import images as test_images
from tests.accounts.test_social_login import fake_github  # noqa: F401 (a fixture)
from tests.billing.conftest import (  # noqa: F401 (fixtures)
    catalogue,
    fake_stripe,
    stripe_server,
    webhook,
)
from tests.billing.test_subscriptions import subscribe
from tests.factories import (
    DEFAULT_PASSWORD,
    ApiKeyFactory,
    AppFactory,
    VoucherRedemptionFactory,
    WebhookEndpointFactory,
    fund,
    stored_image,
    verified_user,
)
from tests.fakes import s3
from tests.tokens.test_welcome import confirm_last_mail, sign_up
from tokens import services as tokens
from tokens.models import TokenTransaction, TokenTransactionType
from vouchers.models import VoucherRedemption

pytestmark = pytest.mark.django_db

DELETE_URL = "/account/delete/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def order(user, image):
    return ordering.order_enhancement(user=user, image=image, tier="TIER_1K", request_key=None)


def a_result() -> EngineResult:
    data = test_images.jpeg_bytes(64, 48)
    return EngineResult(data=data, format="jpeg", width=64, height=48, prompt=None)


def jobs_in_every_state(user) -> dict[str, ImageEnhancementJob]:
    """One job of each state, each on its own stored image, made the way the worker and the
    pages make them."""
    jobs = {}
    jobs["pending"] = order(user, stored_image(user, name="Pending.jpg"))

    jobs["processing"] = order(user, stored_image(user, name="Running.jpg"))
    transitions.claim_job(job_id=jobs["processing"].pk)

    jobs["completed"] = order(user, stored_image(user, name="Done.jpg"))
    transitions.claim_job(job_id=jobs["completed"].pk)
    transitions.complete_job(job=jobs["completed"], result=a_result(), engine="local")

    jobs["failed"] = order(user, stored_image(user, name="Retrying.jpg"))
    claimed_at = transitions.claim_job(job_id=jobs["failed"].pk)
    transitions.fail_job(
        job_id=jobs["failed"].pk, error=RuntimeError("boom"), claimed_at=claimed_at
    )

    jobs["refunded"] = order(user, stored_image(user, name="Cancelled.jpg"))
    transitions.cancel_job(user=user, job=jobs["refunded"])

    for name, job in jobs.items():
        job.refresh_from_db()
        assert job.status == name.upper(), (name, job.status)
    return jobs


def buy_pack(fake, webhook, client, pack):  # noqa: F811 (the fixture's value)
    response = client.post(f"/billing/checkout/pack/{pack.pk}/")
    assert response.status_code == 303
    session = fake.pay_checkout(response["Location"].rsplit("/", 1)[1])
    webhook.deliver(fake.event("checkout.session.completed", session))


def sessions_of(user) -> list[str]:
    return [
        session.session_key
        for session in Session.objects.all()
        if session.get_decoded().get(SESSION_KEY) == str(user.pk)
    ]


@pytest.fixture
def alice(db):
    """A verified account that had its welcome tokens (its address is remembered for that)."""
    user = verified_user("alice@example.com")
    assert tokens.grant_welcome(user=user, email=user.email) is not None
    return user


# --- the test -----------------------------------------------------------------------
def test_deleting_an_account_leaves_no_object_and_an_anonymous_record_for_the_accounts(
    alice,
    fake_stripe,  # noqa: F811
    webhook,  # noqa: F811
    catalogue,  # noqa: F811
    s3_endpoint,
    bucket,
    settings,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    settings.ALBUMS_PAGE_CACHE_SECONDS = 0  # the gallery rendered afresh on each visit
    client = signed_in(alice)
    elsewhere = signed_in(alice)  # the same person signed in on another device

    # money: a plan (customer and subscription at the fake Stripe) and a pack payment
    subscription_id = subscribe(fake_stripe, webhook, client, catalogue["hobby"])
    buy_pack(fake_stripe, webhook, client, catalogue["starter"])
    fund(alice, 100)
    VoucherRedemptionFactory(user=alice)

    # photos: jobs in every state, a published photo, an album shared by link
    jobs = jobs_in_every_state(alice)
    published = stored_image(alice, name="Sunset.jpg")
    images.set_public(image=published, is_public=True)
    album = albums.create_album(user=alice, name="Holidays")
    albums.add_images(album=album, image_ids=[published.pk, jobs["completed"].image_id])
    album = albums.set_sharing(album=album, privacy=AlbumPrivacy.UNLISTED)
    share_url = f"/s/{album.share_token}/"
    ApiKeyFactory(user=alice)
    WebhookEndpointFactory(user=alice)
    AppFactory(user=alice)

    # someone else's things, which must not be touched
    bob = verified_user("bob@example.com")
    bobs_image = stored_image(bob, name="Bob.jpg")
    bobs_keys = s3.list_keys(s3_endpoint, bucket, storage.image_prefix(image_id=bobs_image.pk))
    assert bobs_keys

    alices_images = list(EnhancedImage.objects.filter(user=alice).values_list("pk", flat=True))
    assert len(alices_images) == 6
    for image_id in alices_images:
        assert s3.list_keys(s3_endpoint, bucket, storage.image_prefix(image_id=image_id))
    assert Client().get(share_url).status_code == 200
    assert published.pk in Client().get("/gallery/").content.decode()
    assert elsewhere.get("/account/").status_code == 200
    payments = set(StripePayment.objects.filter(user=alice).values_list("pk", flat=True))
    ledger = set(TokenTransaction.objects.filter(user=alice).values_list("pk", flat=True))
    assert payments and ledger

    alice.refresh_from_db()
    customer = fake_stripe.get(alice.stripe_customer_id)
    webhook.deliver(fake_stripe.event("customer.updated", customer))  # dj-stripe copies it
    assert "alice@example.com" in stored_stripe_copies()

    page = client.get(DELETE_URL)
    assert page.status_code == 200
    body = page.content.decode()
    assert "6 photos" in body and "1 album" in body and "Hobby plan" in body

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(DELETE_URL, {"password": DEFAULT_PASSWORD})

    assert response.status_code == 302 and response["Location"] == "/account/deleted/"
    assert "deleted" in client.get(response["Location"]).content.decode()

    # the subscription ended at Stripe, at once, and our row says so
    assert ("DELETE", f"/v1/subscriptions/{subscription_id}") in [
        (method, path) for method, path, _params in fake_stripe.requests
    ]
    assert fake_stripe.get(subscription_id)["status"] == "canceled"
    assert Subscription.objects.get(user_id=alice.pk).status == SubscriptionStatus.CANCELED

    # no stored object of hers remains; Bob's are all there
    assert s3.list_keys(s3_endpoint, bucket) == bobs_keys
    assert not EnhancedImage.objects.filter(user_id=alice.pk).exists()
    assert not ImageEnhancementJob.objects.filter(user_id=alice.pk).exists()
    assert set(DeletedJob.objects.values_list("pk", flat=True)) == {j.pk for j in jobs.values()}
    refunded = set(
        TokenTransaction.objects.filter(type=TokenTransactionType.REFUND).values_list(
            "source_id", flat=True
        )
    )
    for state in ("pending", "processing", "failed", "refunded"):
        assert jobs[state].pk in refunded, state  # unfinished jobs gave their tokens back
    assert not Album.objects.filter(user_id=alice.pk).exists()
    assert not App.objects.filter(user_id=alice.pk).exists()
    assert not ApiKey.objects.filter(user_id=alice.pk).exists()
    assert not WebhookEndpoint.objects.filter(user_id=alice.pk).exists()
    assert EnhancedImage.objects.filter(user=bob).count() == 1

    # the share link and the gallery no longer show her photos
    assert Client().get(share_url).status_code == 404
    assert published.pk not in Client().get("/gallery/").content.decode()

    # payments, the ledger and the redemption stay, on a user with no e-mail or name
    tombstone = get_user_model().objects.get(pk=alice.pk)
    assert tombstone.email is None and tombstone.name is None and tombstone.public_name == ""
    assert not tombstone.has_usable_password() and not tombstone.is_active
    assert not EmailAddress.objects.filter(user_id=alice.pk).exists()
    assert set(StripePayment.objects.filter(user=tombstone).values_list("pk", flat=True)) == (
        payments
    )
    assert ledger <= set(
        TokenTransaction.objects.filter(user=tombstone).values_list("pk", flat=True)
    )
    assert VoucherRedemption.objects.filter(user=tombstone).exists()
    call_command("check_ledger")

    # the person is gone from Stripe's customer record and from dj-stripe's copies of her objects
    customer = fake_stripe.get(tombstone.stripe_customer_id)
    assert (customer["email"], customer["name"], customer["address"]) == (None, None, None)
    assert "alice@example.com" not in stored_stripe_copies()

    # signed out everywhere
    assert sessions_of(alice) == []
    response = elsewhere.get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

    # the same address signs up again as a new user, without a second welcome
    newcomer_client = Client()
    newcomer = sign_up(newcomer_client, "alice@example.com")
    confirm_last_mail(newcomer_client, mailoutbox)
    assert newcomer.pk != alice.pk
    assert EmailAddress.objects.get(user=newcomer).verified
    assert not TokenTransaction.objects.filter(user=newcomer, source="signup").exists()
    assert tokens.get_balance(newcomer) == 0
    assert not EnhancedImage.objects.filter(user=newcomer).exists()
    call_command("check_ledger")


def stored_stripe_copies() -> str:
    """Every Stripe object dj-stripe keeps (its tables' JSON and the webhooks' raw bodies)."""
    from django.apps import apps

    found = []
    for model in apps.get_app_config("djstripe").get_models():
        for field in model._meta.concrete_fields:
            if field.get_internal_type() in ("JSONField", "TextField"):
                found += [str(v) for v in model.objects.values_list(field.name, flat=True)]
    return "\n".join(found)


# --- nothing deleted ------------------------------------------------------------------------
def assert_nothing_deleted(user, image):
    user.refresh_from_db()
    assert user.is_active and user.email == "alice@example.com"
    assert EnhancedImage.objects.filter(pk=image.pk).exists()
    assert storage.list_keys(storage.image_prefix(image_id=image.pk))
    assert EmailAddress.objects.filter(user=user).exists()
    assert sessions_of(user)


def test_a_wrong_password_deletes_nothing_and_says_so(alice, django_capture_on_commit_callbacks):
    image = stored_image(alice)
    client = signed_in(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(DELETE_URL, {"password": "not-my-password"})

    assert response.status_code == 400
    assert "That is not your password. Nothing has been deleted." in response.content.decode()
    assert_nothing_deleted(alice, image)
    assert client.get("/account/").status_code == 200  # still signed in


def test_an_empty_password_deletes_nothing(alice):
    image = stored_image(alice)
    response = signed_in(alice).post(DELETE_URL, {"password": ""})
    assert response.status_code == 400
    assert "Enter your password to confirm" in response.content.decode()
    assert_nothing_deleted(alice, image)


def test_password_tries_are_limited_even_for_the_right_one(alice):
    image = stored_image(alice)
    client = signed_in(alice)
    for _ in range(5):
        assert client.post(DELETE_URL, {"password": "guess"}).status_code == 400

    response = client.post(DELETE_URL, {"password": DEFAULT_PASSWORD})

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many tries. Nothing has been deleted" in response.content.decode()
    assert_nothing_deleted(alice, image)


def test_when_stripe_cannot_cancel_the_subscription_nothing_is_deleted(
    alice,
    fake_stripe,  # noqa: F811
    webhook,  # noqa: F811
    catalogue,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    client = signed_in(alice)
    subscription_id = subscribe(fake_stripe, webhook, client, catalogue["hobby"])
    image = stored_image(alice)
    fake_stripe.down = True

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(DELETE_URL, {"password": DEFAULT_PASSWORD})

    assert response.status_code == 503
    assert "could not cancel your subscription at Stripe" in response.content.decode()
    assert "nothing has been deleted" in response.content.decode()
    assert_nothing_deleted(alice, image)
    assert Subscription.objects.get(user=alice).status == SubscriptionStatus.ACTIVE
    fake_stripe.down = False
    assert fake_stripe.get(subscription_id)["status"] == "active"


def test_a_subscription_stripe_ended_already_is_not_cancelled_again(
    alice,
    fake_stripe,  # noqa: F811
    webhook,  # noqa: F811
    catalogue,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    client = signed_in(alice)
    subscription_id = subscribe(fake_stripe, webhook, client, catalogue["hobby"])
    fake_stripe.end_subscription(subscription_id)  # and its webhook never came
    assert Subscription.objects.get(user=alice).status == SubscriptionStatus.ACTIVE

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(DELETE_URL, {"password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert [m for m, _path, _params in fake_stripe.requests if m == "DELETE"] == []
    assert Subscription.objects.get(user_id=alice.pk).status == SubscriptionStatus.CANCELED
    assert get_user_model().objects.get(pk=alice.pk).email is None


def test_a_stranger_cannot_reach_the_page(client):
    for response in (client.get(DELETE_URL), client.post(DELETE_URL, {"password": "x"})):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_the_page_says_what_goes_and_what_stays(alice):
    stored_image(alice)
    body = signed_in(alice).get(DELETE_URL).content.decode()
    assert "1 photo as uploaded" in body
    assert "Your e-mail address, your password and your public name" in body
    assert "Kept, without your name or e-mail" in body
    assert "token history" in body
    assert 'name="password"' in body


# --- an account without a password ----------------------------------------------------------
def _github_user(client, fake):
    fake.profile = {"id": 77, "login": "dora", "name": "Dora Explorer", "email": None}
    fake.emails = [{"email": "dora@example.com", "primary": True, "verified": True}]
    response = client.post("/accounts/github/login/")
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    client.get("/accounts/github/login/callback/", {"code": "good-code", "state": state})
    dora = get_user_model().objects.get(email="dora@example.com")
    assert not dora.has_usable_password()
    return dora


def test_without_a_password_a_fresh_sign_in_with_the_provider_confirms(
    client,
    fake_github,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    dora = _github_user(client, fake_github)
    image = stored_image(dora)
    stale = signed_in(dora)  # a session without a recent sign-in at GitHub

    page = stale.get(DELETE_URL).content.decode()
    assert "Confirm with GitHub" in page and 'name="password"' not in page
    assert "Your e-mail address and your public name" in page  # no password to delete
    assert "The connection to your GitHub sign-in" in page
    action = unescape(re.search(r'action="(/accounts/github/login/[^"]*)"', page).group(1))
    assert "action=reauthenticate" in action and "process=login" in action
    refused = stale.post(DELETE_URL, {"confirm": "on"})
    assert refused.status_code == 403
    assert EnhancedImage.objects.filter(pk=image.pk).exists()

    # through GitHub again, as the button does: back on the page, now with the tick box
    to_github = stale.post(action)
    state = parse_qs(urlsplit(to_github["Location"]).query)["state"][0]
    back = stale.get("/accounts/github/login/callback/", {"code": "good-code", "state": state})
    assert back.status_code == 302 and back["Location"] == DELETE_URL
    page = stale.get(DELETE_URL).content.decode()
    assert 'name="confirm"' in page

    assert stale.post(DELETE_URL, {}).status_code == 400  # the box must be ticked
    with django_capture_on_commit_callbacks(execute=True):
        response = stale.post(DELETE_URL, {"confirm": "on"})

    assert response.status_code == 302 and response["Location"] == "/account/deleted/"
    assert not SocialAccount.objects.filter(user_id=dora.pk).exists()
    assert not EnhancedImage.objects.filter(user_id=dora.pk).exists()
    assert storage.list_keys(storage.image_prefix(image_id=image.pk)) == []
    assert get_user_model().objects.get(pk=dora.pk).email is None
    assert client.get("/account/").status_code == 302  # the first session ended too


# --- a worker in the middle of a job ----------------------------------------------------------
def test_a_worker_finishing_a_job_of_a_deleted_account_throws_its_result_away(
    alice, django_capture_on_commit_callbacks
):
    fund(alice, 20)
    image = stored_image(alice)
    job = order(alice, image)
    claimed_at = transitions.claim_job(job_id=job.pk)  # the worker took it, the engine runs

    with django_capture_on_commit_callbacks(execute=True):
        deletion.delete_account(user=alice)
    # refunded before it went: its tokens are back in the (kept) ledger
    assert DeletedJob.objects.filter(pk=job.pk, status=JobStatus.REFUNDED).exists()
    assert TokenTransaction.objects.filter(
        source_id=job.pk, type=TokenTransactionType.REFUND
    ).exists()

    # the engine returns: the worker stores the result, finds the job gone, and deletes it
    with django_capture_on_commit_callbacks(execute=True):
        transitions.complete_job(job=job, result=a_result(), engine="local")
    assert storage.list_keys(storage.image_prefix(image_id=image.pk)) == []
    # a failure report, or the task delivered again, find nothing to do
    assert (
        transitions.fail_job(job_id=job.pk, error=RuntimeError("x"), claimed_at=claimed_at) is None
    )
    assert worker.process_job(job_id=job.pk) == "not claimed (gone)"
    call_command("check_ledger")


def test_deleting_twice_does_nothing_more(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deletion.delete_account(user=alice)
    rows = TokenTransaction.objects.filter(user_id=alice.pk).count()
    deletion.delete_account(user=alice)
    assert TokenTransaction.objects.filter(user_id=alice.pk).count() == rows


def test_the_back_office_shows_a_deleted_account(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deletion.delete_account(user=alice)
    staff = verified_user("staff@example.com")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    admin = signed_in(staff)

    listing = admin.get("/admin/accounts/user/")
    assert listing.status_code == 200 and alice.pk in listing.content.decode()
    assert admin.get(f"/admin/accounts/user/{alice.pk}/change/").status_code == 200


# --- the same, with a real worker thread on PostgreSQL ---------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_thread_mid_job_survives_the_account_being_deleted(settings):
    """The worker runs the job through the real Gemini client against the fake, which holds
    its answer a few seconds; meanwhile the account is deleted. The worker finds the job gone,
    deletes what it stored, and reports it; nothing of the account is left in storage."""
    import threading
    import time

    from django.db import connection

    from tests.fakes.gemini_server import FakeGeminiServer, delay

    alice = verified_user("alice@example.com")
    fund(alice, 20)
    image = stored_image(alice)
    job = order(alice, image)
    outcome: dict = {}

    def run_worker():
        try:
            outcome["status"] = worker.process_job(job_id=job.pk)
        except BaseException as error:  # noqa: BLE001 (the test reports it)
            outcome["error"] = error
        finally:
            connection.close()

    with FakeGeminiServer() as fake:
        settings.GEMINI_API_KEY = "test-key"
        settings.GEMINI_BASE_URL = fake.base_url
        settings.GEMINI_TIMEOUT_MS = 30_000
        fake.push(delay(5))
        thread = threading.Thread(target=run_worker)
        thread.start()
        deadline = time.monotonic() + 30
        while not fake.requests and time.monotonic() < deadline:
            time.sleep(0.05)  # until the engine's request is at Google (the fake)
        assert fake.requests, "the worker never called the engine"

        deletion.delete_account(user=alice)
        thread.join(timeout=60)

    assert not thread.is_alive()
    assert "error" not in outcome, outcome
    # it returned normally, without completing anything (the status it reports is the one its
    # own copy of the job had: `complete_job` hands back that copy when the row is gone)
    assert outcome["status"] != JobStatus.COMPLETED
    assert not ImageEnhancementJob.objects.filter(pk=job.pk).exists()
    assert storage.list_keys(storage.image_prefix(image_id=image.pk)) == []
    assert DeletedJob.objects.filter(pk=job.pk, status=JobStatus.REFUNDED).exists()
    call_command("check_ledger")
