"""Webhooks: a signed event when a job completes or is refunded, retried with back-off by the
schedule until a day has passed, each attempt logged; only public hosts (after DNS)."""

import ipaddress
import json
import socket
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from enhancement.api import services, webhooks
from enhancement.jobs import ordering, transitions, worker
from enhancement.models import DeliveryStatus, WebhookDelivery
from tests.fakes.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def loopback_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True


def order(user, image):
    return ordering.order_enhancement(user=user, image=image, tier="TIER_1K", request_key=None)


def test_a_completed_job_is_delivered_signed_after_two_failures(
    api_user, image, loopback_allowed, django_capture_on_commit_callbacks, sync_queue
):
    with WebhookReceiver(answers=[500, 503]) as receiver:
        endpoint = services.create_endpoint(user=api_user, url=receiver.url)
        receiver.secret = endpoint.secret
        job = order(api_user, image)
        with django_capture_on_commit_callbacks(execute=True):
            worker.process_job(job_id=job.pk)
        # the first attempt ran at once (the task, inline here) and failed
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            DeliveryStatus.PENDING,
            1,
            500,
        )
        first_retry = delivery.next_attempt_at
        assert first_retry >= delivery.last_attempt_at + timedelta(seconds=60)
        # not due yet: the schedule sends nothing
        assert webhooks.send_due_deliveries(now=delivery.last_attempt_at) == 0
        assert webhooks.send_due_deliveries(now=first_retry) == 1
        delivery.refresh_from_db()
        assert (delivery.attempts, delivery.last_status_code) == (2, 503)
        assert delivery.next_attempt_at - first_retry >= timedelta(seconds=120)  # backing off
        assert webhooks.send_due_deliveries(now=delivery.next_attempt_at) == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            DeliveryStatus.SUCCEEDED,
            3,
            200,
        )
    assert [r["valid"] for r in receiver.received] == [True, True, True]
    assert receiver.received[0]["path"] == "/hooks/lumen"
    event = json.loads(receiver.received[-1]["body"])
    assert event["type"] == "job.completed"
    assert event["data"]["job"]["id"] == job.pk
    assert event["data"]["job"]["width"] == 1024
    call_command("check_ledger")


def test_a_refund_is_an_event_and_a_second_signal_makes_no_second_delivery(
    api_user, image, loopback_allowed, django_capture_on_commit_callbacks
):
    endpoint = services.create_endpoint(user=api_user, url="http://127.0.0.1:9/")
    job = order(api_user, image)
    with django_capture_on_commit_callbacks(execute=True):
        transitions.cancel_job(user=api_user, job=job)
    assert webhooks.create_deliveries(job_id=job.pk) == []
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.event_type == "job.refunded"
    assert delivery.payload["data"]["job"]["status"] == "REFUNDED"
    call_command("check_ledger")


def test_a_delivery_gives_up_after_the_retry_window(api_user, image, loopback_allowed, settings):
    settings.WEBHOOK_RETRY_FOR_SECONDS = 300
    endpoint = services.create_endpoint(user=api_user, url="http://127.0.0.1:9/refused")
    job = order(api_user, image)
    transitions.cancel_job(user=api_user, job=job)
    delivery = webhooks.create_deliveries(job_id=job.pk)[0]
    now = timezone.now()
    statuses = []
    for _ in range(10):
        statuses.append(webhooks.send_delivery(delivery.pk, now=now))
        delivery.refresh_from_db()
        if delivery.status != DeliveryStatus.PENDING:
            break
        now = delivery.next_attempt_at
    assert statuses[-1] == DeliveryStatus.FAILED
    assert 1 < delivery.attempts < 10
    assert "Could not reach" in delivery.last_error
    assert endpoint.deliveries.count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "ftp://example.com/",
        "http://user:pw@example.com/",
    ],
)
def test_only_public_hosts_are_called(url):
    with pytest.raises(webhooks.UnsafeDestination):
        webhooks.resolve_destination(url)


def test_a_name_that_resolves_to_loopback_is_refused_at_send_time(
    api_user, image, settings, django_capture_on_commit_callbacks
):
    """The machine's own name (from /etc/hosts: a loopback or private address) passes the
    form's look at the URL, and is refused after the DNS answer, logged, never sent."""
    name = socket.gethostname()
    addresses = {info[4][0] for info in socket.getaddrinfo(name, 80)}
    if any(ipaddress.ip_address(a).is_global for a in addresses):
        pytest.skip(f"{name} resolves to a public address here")
    with WebhookReceiver() as receiver:
        port = receiver.server.server_port
        url = f"http://{name}:{port}/"
        assert webhooks.check_url_shape(url) is None
        endpoint = services.create_endpoint(user=api_user, url=url)
        job = order(api_user, image)
        transitions.cancel_job(user=api_user, job=job)
        delivery = webhooks.create_deliveries(job_id=job.pk)[0]
        webhooks.send_delivery(delivery.pk)
        delivery.refresh_from_db()
        assert receiver.received == []
    assert "non-public address" in delivery.last_error
    assert endpoint.deliveries.get().last_status_code is None


def test_the_signature_is_stripes_scheme():
    header = webhooks.sign(secret="whsec_x", body=b'{"a":1}', timestamp=1700000000)
    assert header.startswith("t=1700000000,v1=")
    assert webhooks.verify(secret="whsec_x", body=b'{"a":1}', header=header, now=1700000001)
    assert not webhooks.verify(secret="whsec_y", body=b'{"a":1}', header=header, now=1700000001)
    assert not webhooks.verify(secret="whsec_x", body=b'{"a":2}', header=header, now=1700000001)
    assert not webhooks.verify(secret="whsec_x", body=b'{"a":1}', header=header, now=1800000000)


def test_the_retry_schedule_exists():
    import importlib

    from enhancement.migrations import __name__ as _  # noqa: F401

    migration = importlib.import_module("enhancement.migrations.0010_api_keys_and_webhooks")
    from django.apps import apps as django_apps

    migration.create_schedule(django_apps, None)
    schedule = Schedule.objects.get(name=migration.SCHEDULE_NAME)
    assert schedule.func == webhooks.SWEEP_TASK and schedule.minutes == 1


def test_a_job_deleted_before_it_finished_is_a_refunded_event(
    api_user, image, loopback_allowed, django_capture_on_commit_callbacks
):
    endpoint = services.create_endpoint(user=api_user, url="http://127.0.0.1:9/")
    job = order(api_user, image)
    with django_capture_on_commit_callbacks(execute=True):
        transitions.delete_job(job=job)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.event_type == "job.refunded"
    assert delivery.payload["data"]["job"]["id"] == job.pk
    assert delivery.payload["data"]["job"]["tokens_cost"] == 2
    call_command("check_ledger")
