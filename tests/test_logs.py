"""The logs of real flows, through the handler settings.LOGGING configures (its formatter and its
redacting filter), with the root logger at DEBUG: one structured line per job transition,
payment, webhook and voucher redemption, with ids; no e-mail address, password, code, signed
token, key or secret anywhere, in either format; and nothing at all from the schedules when
they have nothing to do."""

from __future__ import annotations

import ast
import io
import json
import logging
import re

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.urls import reverse
from django.utils.module_loading import import_string

from core.logging import EMAIL
from enhancement import storage
from enhancement.models import EnhancedImage, ImageEnhancementJob, JobStatus
from tests.billing.conftest import (  # noqa: F401 (fixtures)
    SECRET_KEY,
    WEBHOOK_SECRET,
    catalogue,
    fake_stripe,
    stripe_server,
    webhook,
)
from tests.factories import DEFAULT_PASSWORD, VoucherFactory, fund, upload_file
from tests.fakes.stripe_api import signature_header
from tests.images import jpeg_bytes

pytestmark = pytest.mark.django_db

EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
VOUCHER_CODE = "SPRINGGIFT42"
WRONG_PASSWORD = "not-the-password-7741"


class Captured:
    """Every line the configured console handler would write, at DEBUG, in a buffer."""

    def __init__(self, fmt: str):
        self.fmt = fmt
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(import_string(settings.LOGGING["formatters"][fmt]["()"])())
        for name in settings.LOGGING["handlers"]["console"]["filters"]:
            self.handler.addFilter(import_string(settings.LOGGING["filters"][name]["()"])())

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict]:
        """Each line as a dict: parsed as JSON, or from `time LEVEL logger message k=v ...`."""
        found = []
        for line in self.text.splitlines():
            if self.fmt == "json":
                found.append(json.loads(line))  # every line is one JSON object
                continue
            match = re.match(r"\S+ \S+ ([A-Z]+) (\S+) (\S+)(.*)$", line)
            if not match:
                continue  # a traceback's lines
            level, logger, message, rest = match.groups()
            record = {"level": level, "logger": logger, "message": message}
            for key, value in re.findall(r' (\w+)=("(?:[^"\\]|\\.)*"|\S+)', rest):
                record[key] = json.loads(value) if value.startswith('"') else value
            record.setdefault("event", message)
            found.append(record)
        return found

    def events(self, name: str) -> list[dict]:
        return [r for r in self.records() if r.get("event") == name]


@pytest.fixture(params=["plain", "json"])
def captured(request):
    capture = Captured(request.param)
    root = logging.getLogger()
    level = root.level
    root.addHandler(capture.handler)
    root.setLevel(logging.DEBUG)
    yield capture
    root.removeHandler(capture.handler)
    root.setLevel(level)


@pytest.fixture
def inline_queue(monkeypatch, settings):
    """django-q2 runs tasks inline (as tests/enhancement/jobs' `sync_queue`), with the local
    engine."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    settings.GEMINI_API_KEY = ""
    settings.GEMINI_BASE_URL = ""


def _confirm_link(message) -> str:
    match = re.search(rf"{re.escape(settings.SITE_URL)}(/accounts/confirm-email/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def test_real_flows_log_their_events_with_ids_and_no_secrets(
    captured,
    client,
    mailoutbox,
    inline_queue,
    fake_stripe,  # noqa: F811
    webhook,  # noqa: F811
    catalogue,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    email = "Carol.Logs+lumen@Example.com"
    secrets = [email, email.lower(), DEFAULT_PASSWORD, WRONG_PASSWORD, VOUCHER_CODE]

    # Sign up, with the confirmation sent by e-mail, and confirm.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/signup/",
            {"email": email, "password1": DEFAULT_PASSWORD, "password2": DEFAULT_PASSWORD},
        )
    assert response.status_code == 302
    confirm = _confirm_link(mailoutbox[0])
    secrets.append(confirm.rstrip("/").rsplit("/", 1)[1])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(confirm).status_code == 302
    from django.contrib.auth import get_user_model

    carol = get_user_model().objects.get(email__iexact=email)
    fund(carol, 100)

    # A failed login (another client: Carol stays signed in).
    from django.test import Client

    refused = Client().post("/accounts/login/", {"login": email, "password": WRONG_PASSWORD})
    assert refused.status_code == 200

    # Upload, order, and the job runs to completion (inline, after the order's commit).
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/images/upload/", {"files": [upload_file("Harbour.jpg", jpeg_bytes(64, 48))]}
        )
    assert response.status_code in (200, 302)
    image = EnhancedImage.objects.get(user=carol)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("jobs:order", args=[image.pk]), {"tier": "TIER_1K", "request_key": "a" * 32}
        )
    assert response.status_code == 302
    job = ImageEnhancementJob.objects.get(image=image)
    assert job.status == JobStatus.COMPLETED

    # The result through its signed URL, then a 404 on a forged one.
    url = storage.url_for(job.enhanced_r2_key.name)
    token = url.rstrip("/").rsplit("/", 1)[1]
    secrets.append(token)
    assert client.get(url).status_code == 200
    forged = url.replace(token, token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    secrets.append(forged.rstrip("/").rsplit("/", 1)[1])
    assert client.get(forged).status_code == 404
    # A 404 on a share link that does not exist.
    share_token = "Zq8vN2xW4yR6tK1mP3sL5dH7jF9gB0cE"
    secrets.append(share_token)
    assert client.get(f"/s/{share_token}/").status_code == 404

    # A pack bought through Stripe Checkout; the webhook signed as Stripe signs it.
    checkout = client.post(f"/billing/checkout/pack/{catalogue['starter'].pk}/")
    assert checkout.status_code == 303
    session = fake_stripe.pay_checkout(checkout["Location"].rsplit("/", 1)[1])
    event = fake_stripe.event("checkout.session.completed", session)
    body = json.dumps(event)
    signature = signature_header(body, WEBHOOK_SECRET)
    secrets += [WEBHOOK_SECRET, SECRET_KEY, signature.split("v1=")[1]]
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook.post(body, signature).status_code == 200
    # ...and one signed with another secret: refused.
    bad_signature = signature_header(body, "whsec_NotOurSecret0123456789")
    secrets.append(bad_signature.split("v1=")[1])
    assert webhook.post(body, bad_signature).status_code == 400

    # A voucher redeemed, by its link and the form.
    VoucherFactory(code=VOUCHER_CODE, value=10)
    assert client.get(f"/redeem/{VOUCHER_CODE}/").status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/vouchers/redeem/", {"code": VOUCHER_CODE})
    assert response.status_code == 302

    text = captured.text
    for secret in secrets:
        assert secret not in text, secret
    assert not EMAIL_PATTERN.search(text), EMAIL_PATTERN.search(text)[0]
    assert not re.search(r"\b(sk|rk|whsec)_(?!\[redacted\])", text)

    captured.records()  # in JSON, every line parses
    # The 404s were logged (by django.request), their paths redacted.
    assert "Not Found: /media/f/[redacted]/" in text
    assert "Not Found: /s/[redacted]/" in text

    ids = {"job_id": job.pk, "image_id": image.pk, "user_id": carol.pk, "tier": "TIER_1K"}
    for name in ("job.created", "job.processing", "job.completed"):
        (line,) = captured.events(name)
        assert {k: line.get(k) for k in ids} == ids, (name, line)
    assert str(captured.events("job.completed")[0]["attempt"]) == "1"
    assert "duration" in captured.events("job.completed")[0]

    from billing.models import StripePayment

    payment = StripePayment.objects.get(user=carol)
    (paid,) = captured.events("payment.paid")
    assert (paid["payment_id"], paid["user_id"], str(paid["tokens_granted"])) == (
        payment.pk,
        carol.pk,
        "10",
    )
    assert paid["amount"] == "2.99" and paid["checkout_session_id"] == session["id"]
    received = captured.events("webhook.received")
    assert [r["event_id"] for r in received] == [event["id"]]
    assert received[0]["event_type"] == "checkout.session.completed"
    assert [r["event_id"] for r in captured.events("webhook.processed")] == [event["id"]]
    assert [r["event_id"] for r in captured.events("webhook.rejected")] == [event["id"]]

    from vouchers.models import VoucherRedemption

    redemption = VoucherRedemption.objects.get(user=carol)
    (redeemed,) = captured.events("voucher.redeemed")
    assert (redeemed["redemption_id"], redeemed["voucher_id"], redeemed["kind"]) == (
        redemption.pk,
        redemption.voucher_id,
        "FIXED_TOKENS",
    )
    assert EMAIL not in json.dumps(captured.events("job.completed"))  # ids, not addresses


def test_a_job_refunded_after_its_last_try_and_deleted_logs_each_transition(
    captured, user, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from enhancement.engines import TransientEngineError
    from enhancement.jobs import ordering, transitions
    from tests.factories import stored_image

    fund(user, 20)
    image = stored_image(user)
    with django_capture_on_commit_callbacks(execute=True):
        job = ordering.order_enhancement(user=user, image=image, tier="TIER_1K", request_key=None)
    job.max_retries = 2
    job.save(update_fields=["max_retries"])
    for attempt in (1, 2):
        now = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            claimed = transitions.claim_job(job_id=job.pk, now=now)
            assert claimed is not None
            transitions.fail_job(
                job_id=job.pk, error=TransientEngineError("engine busy"), claimed_at=claimed
            )
        if attempt == 1:
            job.refresh_from_db()
            job.next_attempt_at = timezone.now()
            job.save(update_fields=["next_attempt_at"])
    with django_capture_on_commit_callbacks(execute=True):
        transitions.delete_job(job=job)

    ids = {"job_id": job.pk, "image_id": image.pk, "user_id": user.pk}
    (failed,) = captured.events("job.failed")
    assert {k: failed[k] for k in ids} == ids
    assert (str(failed["attempt"]), failed["outcome"]) == ("1", "retry")
    (refunded,) = captured.events("job.refunded")
    assert {k: refunded[k] for k in ids} == ids
    assert (refunded["cause"], str(refunded["attempt"]), str(refunded["tokens_refunded"])) == (
        "gave_up",
        "2",
        "2",
    )
    (deleted,) = captured.events("job.deleted")
    assert {k: deleted[k] for k in ids} == ids


def test_the_sweeper_logs_a_job_it_recovered(captured, user, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    from enhancement.jobs import ordering, sweeper
    from tests.factories import stored_image

    fund(user, 20)
    with django_capture_on_commit_callbacks(execute=True):
        job = ordering.order_enhancement(
            user=user, image=stored_image(user), tier="TIER_1K", request_key=None
        )
    long_ago = timezone.now() - dt.timedelta(hours=2)
    ImageEnhancementJob.objects.filter(pk=job.pk).update(
        status=JobStatus.PROCESSING, processing_started_at=long_ago, heartbeat_at=long_ago
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = sweeper.recover_stuck_jobs()
    assert report.recovered == 1
    (recovered,) = captured.events("job.recovered")
    assert (recovered["job_id"], recovered["user_id"], recovered["outcome"]) == (
        job.pk,
        user.pk,
        "retry",
    )
    (done,) = captured.events("sweep.done")
    assert str(done["recovered"]) == "1"


def _schedules():
    """The schedules the migrations make, made again here: a test that flushed the database
    (transactional tests, on PostgreSQL) takes the migrations' rows with it."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import RunPython
    from django_q.models import Schedule

    Schedule.objects.all().delete()  # as after a flush, whatever ran before
    loader = MigrationLoader(connection)
    plan = []
    for leaf in loader.graph.leaf_nodes():
        plan += [key for key in loader.graph.forwards_plan(leaf) if key not in plan]
    for key in plan:
        for operation in loader.graph.nodes[key].operations:
            if isinstance(operation, RunPython) and operation.code.__name__ in (
                "create_schedule",
                "every_30_seconds",
            ):
                operation.code(django_apps, None)
    return list(Schedule.objects.order_by("name"))


def test_the_schedules_log_nothing_when_there_is_nothing_to_do(
    captured, django_capture_on_commit_callbacks
):
    """Every schedule the migrations create (the sweeper every 30 seconds, webhook deliveries
    every minute, regeneration, voucher expiry, album views, and whatever is added later) runs
    once with nothing to do: not one line at INFO or above."""
    schedules = _schedules()
    funcs = {s.func for s in schedules}
    assert {
        "enhancement.tasks.sweep_stuck_jobs",
        "enhancement.api.webhooks.send_due_deliveries",
        "tokens.tasks.regenerate_all",
        "vouchers.tasks.sweep_expired_vouchers",
        "albums.tasks.prune_daily_views",
    } <= funcs, funcs
    for schedule in schedules:
        args = ast.literal_eval(schedule.args) if schedule.args else ()
        kwargs = ast.literal_eval(schedule.kwargs) if schedule.kwargs else {}
        with django_capture_on_commit_callbacks(execute=True):
            import_string(schedule.func)(*args, **kwargs)

    loud = [r for r in captured.records() if r["level"] not in ("DEBUG",)]
    assert loud == [], loud


def test_each_webhook_outcome_is_one_line_with_the_event_id_and_type(
    captured,
    client,
    user,
    fake_stripe,  # noqa: F811
    webhook,  # noqa: F811
    catalogue,  # noqa: F811
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    import stripe

    client.force_login(user)
    checkout = client.post(f"/billing/checkout/pack/{catalogue['starter'].pk}/")
    session = fake_stripe.pay_checkout(checkout["Location"].rsplit("/", 1)[1])
    completed = fake_stripe.event("checkout.session.completed", session)
    unknown = {**completed, "id": "evt_unknown_kind", "type": "lumen.something.new"}

    # Stripe down while dj-stripe re-fetches: rolled back, a 500, Stripe delivers it again.
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    fake_stripe.down = True
    body = json.dumps(completed)
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook.post(body, signature_header(body, webhook.secret)).status_code == 500
    fake_stripe.down = False
    for event in (completed, completed, unknown):  # the retry, a repeat, a type we ignore
        with django_capture_on_commit_callbacks(execute=True):
            webhook.deliver(event)

    def ids(name):
        return [(r["event_id"], r["event_type"]) for r in captured.events(name)]

    paid = (completed["id"], "checkout.session.completed")
    assert ids("webhook.received") == [paid, paid, paid, (unknown["id"], unknown["type"])]
    assert ids("webhook.failed") == [paid]
    assert captured.events("webhook.failed")[0]["error"]  # the exception's type, not its text
    assert ids("webhook.processed") == [paid]
    assert ids("webhook.duplicate") == [paid]
    assert ids("webhook.ignored") == [(unknown["id"], unknown["type"])]
    assert len(captured.events("payment.paid")) == 1
    assert session["customer"] not in json.dumps(
        [r for r in captured.records() if str(r.get("event", "")).startswith("webhook.")]
    )  # ids of the event only, nothing from its payload


def test_payments_refunds_and_subscription_periods_log_their_ids_and_amounts(
    captured,
    client,
    user,
    fake_stripe,  # noqa: F811
    webhook,  # noqa: F811
    catalogue,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    from billing.models import StripePayment, Subscription

    client.force_login(user)

    def deliver(event):
        with django_capture_on_commit_callbacks(execute=True):
            webhook.deliver(event)

    # A pack bought, then refunded in full.
    checkout = client.post(f"/billing/checkout/pack/{catalogue['starter'].pk}/")
    session = fake_stripe.pay_checkout(checkout["Location"].rsplit("/", 1)[1])
    deliver(fake_stripe.event("checkout.session.completed", session))
    payment = StripePayment.objects.get()
    charge_id = fake_stripe.get(session["payment_intent"])["latest_charge"]
    deliver(fake_stripe.event("charge.refunded", fake_stripe.refund(charge_id)))

    (refunded,) = captured.events("payment.refunded")
    assert (refunded["payment_id"], refunded["user_id"], refunded["charge_id"]) == (
        payment.pk,
        user.pk,
        charge_id,
    )
    assert (refunded["amount_refunded"], str(refunded["tokens_clawed_back"])) == ("2.99", "10")

    # A plan: its first period, then a renewal with what is left rolled over.
    response = client.post(f"/billing/checkout/plan/{catalogue['hobby'].pk}/")
    session = fake_stripe.pay_checkout(response["Location"].rsplit("/", 1)[1])
    subscription = fake_stripe.get(session["subscription"])
    deliver(fake_stripe.event("checkout.session.completed", session))
    deliver(fake_stripe.event("customer.subscription.created", subscription))
    first_invoice = fake_stripe.get(subscription["latest_invoice"])
    deliver(fake_stripe.event("invoice.paid", first_invoice))
    renewal = fake_stripe.renew(subscription["id"])
    deliver(fake_stripe.event("customer.subscription.updated", fake_stripe.get(subscription["id"])))
    deliver(fake_stripe.event("invoice.paid", renewal))

    row = Subscription.objects.get(user=user)
    periods = captured.events("subscription.invoice_paid")
    assert [(p["invoice_id"], p["subscription_id"], p["user_id"]) for p in periods] == [
        (first_invoice["id"], row.pk, user.pk),
        (renewal["id"], row.pk, user.pk),
    ]
    assert [str(p["tokens_granted"]) for p in periods] == ["30", "30"]
    assert [str(p["rollover_tokens"]) for p in periods] == ["0", "30"]  # the unused 30 kept
    assert (
        periods[0]["plan"] == "Hobby"
        and periods[0]["stripe_subscription_id"] == row.stripe_subscription_id
    )
