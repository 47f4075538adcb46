"""The webhook sender: a signed JSON event to each of the user's endpoints when a job
completes or is refunded, retried with back-off for a day.

The signature is Stripe's scheme: `Lumen-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>" with the endpoint's secret>`. A receiver recomputes it over the raw body and
refuses a timestamp too far from its clock (replays).

Each (endpoint, event, job) is one `WebhookDelivery` row, made after the job's commit (the
unique constraint makes a second signal a no-op). The first attempt is a django-q2 task; a
failed one is due again after `WEBHOOK_RETRY_BASE_SECONDS * 2**(attempts-1)` (capped at
`WEBHOOK_RETRY_MAX_SECONDS`) until `give_up_at`, and the schedule `send_due_deliveries` (every
minute) sends what is due. A send claims its row with a conditional UPDATE, so two workers
never send one attempt twice.

Where the request goes: only http(s), and the host's every resolved address must be public
(no loopback, private, link-local, reserved, multicast or unspecified address); the connection
is then made to the address that was checked, so a DNS answer cannot change in between.
`WEBHOOK_ALLOW_PRIVATE_HOSTS` lifts the address rule (tests, a closed network).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import time
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from core.ids import new_id
from enhancement.models import (
    DeletedJob,
    DeliveryStatus,
    ImageEnhancementJob,
    JobStatus,
    WebhookDelivery,
    WebhookEndpoint,
    job_finished,
)

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Lumen-Signature"
# The dotted paths stored in queued messages and in the schedule: keep them stable.
SEND_TASK = "enhancement.api.webhooks.send_delivery"
SWEEP_TASK = "enhancement.api.webhooks.send_due_deliveries"
EVENT_TYPES = {JobStatus.COMPLETED: "job.completed", JobStatus.REFUNDED: "job.refunded"}
SWEEP_BATCH = 100


class UnsafeDestination(Exception):
    """The URL may not be called: its `str` says why (shown in the delivery log)."""


def retry_window() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_RETRY_FOR_SECONDS)


def retry_delay(attempts: int) -> timedelta:
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX_SECONDS))


def sign(*, secret: str, body: bytes, timestamp: int) -> str:
    """The `Lumen-Signature` header's value for `body` sent at `timestamp`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(*, secret: str, body: bytes, header: str, tolerance: int = 300, now=None) -> bool:
    """What a receiver does (the README's snippet): the signature matches and is recent."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret=secret, body=body, timestamp=timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


# --- where a request may go ---------------------------------------------------------------------
def check_url_shape(url: str) -> str | None:
    """Why `url` can never be a webhook (None when its shape is fine): the form's check. The
    addresses are checked again at every send."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Enter a valid http or https URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Enter a valid http or https URL."
    if parts.username or parts.password:
        return "Leave user names and passwords out of the URL; verify the signature instead."
    if port == 0:
        return "Enter a valid port."
    if not settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        host = parts.hostname
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
                return "The URL must point at a public host."
        else:
            if not address.is_global:
                return "The URL must point at a public host."
    return None


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def resolve_destination(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, address to connect to) for `url`, after DNS resolution. Raises
    `UnsafeDestination` for a bad scheme, a name that does not resolve, or any resolved
    address that is not public (unless `WEBHOOK_ALLOW_PRIVATE_HOSTS`)."""
    reason = check_url_shape(url)
    if reason:
        raise UnsafeDestination(reason)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestination(f"The host name does not resolve ({exc}).") from exc
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise UnsafeDestination("The host name does not resolve.")
    if not settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        refused = [a for a in addresses if not _public(a)]
        if refused:
            raise UnsafeDestination(f"The host resolves to a non-public address ({refused[0]}).")
    return parts.scheme, parts.hostname, port, addresses[0]


def post(url: str, *, body: bytes, headers: dict[str, str]) -> int:
    """POST `body` to `url` (checked by `resolve_destination`, connected to the checked
    address), with `WEBHOOK_TIMEOUT_SECONDS`; returns the status code. Redirects are not
    followed. Raises `UnsafeDestination`, `OSError` or `http.client.HTTPException`."""
    scheme, host, port, address = resolve_destination(url)
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    if scheme == "https":
        connection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    # Connect to the address that was checked (the TLS name stays the host's).
    connection._create_connection = lambda _addr, *args, **kwargs: socket.create_connection(
        (address, port), *args, **kwargs
    )
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(1024)  # a little of the body; the status is what counts
        return response.status
    finally:
        connection.close()


# --- events --------------------------------------------------------------------------------------
def job_payload(job: ImageEnhancementJob, event_type: str, event_id: str) -> dict:
    return {
        "id": event_id,
        "type": event_type,
        "created": int(time.time()),
        "data": {
            "job": {
                "id": job.pk,
                "image_id": job.image_id,
                "tier": job.tier,
                "status": job.status,
                "tokens_cost": job.tokens_cost,
                "error": job.error_message,
                "width": job.enhanced_width,
                "height": job.enhanced_height,
                "size_bytes": job.enhanced_size_bytes,
                "format": job.enhanced_format,
            }
        },
    }


def _deleted_job_view(job_id: str) -> ImageEnhancementJob | None:
    """An unsaved job with what a `DeletedJob` kept (no result, no error), for its event."""
    record = DeletedJob.objects.filter(pk=job_id).first()
    if record is None:
        return None
    return ImageEnhancementJob(
        id=record.pk,
        user_id=record.user_id,
        image_id=record.image_id,
        tier=record.tier,
        tokens_cost=record.tokens_cost,
        status=record.status,
    )


def enqueue(delivery_id: str) -> None:
    from django_q.tasks import async_task

    async_task(SEND_TASK, delivery_id)


def enqueue_on_commit(delivery_id: str) -> None:
    transaction.on_commit(partial(enqueue, delivery_id))


def create_deliveries(*, job_id: str) -> list[WebhookDelivery]:
    """One delivery per active endpoint of the job's user for the job's final state, each sent
    after the commit. A job not finished (or gone) makes none; a second call makes none."""

    job = ImageEnhancementJob.objects.filter(pk=job_id).first()
    if job is None:
        # refunded, then deleted in the same transaction (`delete_job`): what it left behind
        job = _deleted_job_view(job_id)
    if job is None or job.status not in EVENT_TYPES:
        return []
    event_type = EVENT_TYPES[job.status]
    endpoints = list(WebhookEndpoint.objects.filter(user_id=job.user_id, is_active=True))
    made = []
    now = timezone.now()
    for endpoint in endpoints:
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    endpoint=endpoint,
                    event_type=event_type,
                    job_id=job.pk,
                    payload=job_payload(job, event_type, "evt_" + new_id()),
                    next_attempt_at=now,
                    give_up_at=now + retry_window(),
                )
        except IntegrityError:  # this event was already made for this endpoint
            continue
        enqueue_on_commit(delivery.pk)
        made.append(delivery)
    return made


@receiver(job_finished, dispatch_uid="enhancement.api.webhooks")
def on_job_finished(sender, *, job_id: str, **kwargs) -> None:
    """Sent after a job's commit: never let the sender's failure reach the job's caller."""
    try:
        create_deliveries(job_id=job_id)
    except Exception:
        logger.exception("could not create the webhook deliveries of job %s", job_id)


# --- sending -------------------------------------------------------------------------------------
def _claim(delivery_id: str, now: datetime) -> bool:
    """Take the attempt: push `next_attempt_at` ahead so nobody else sends it meanwhile."""
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(
        next_attempt_at=now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 4 + 30),
        updated_at=now,
    )
    return claimed == 1


def send_delivery(delivery_id: str, *, now: datetime | None = None) -> str:
    """One attempt of a due delivery (the task). 2xx: SUCCEEDED. Anything else: due again after
    the back-off, or FAILED once `give_up_at` has passed. Returns the delivery's status."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
        return delivery.status if delivery else "GONE"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Lumen-Webhooks/1",
        SIGNATURE_HEADER: sign(
            secret=delivery.endpoint.secret, body=body, timestamp=int(now.timestamp())
        ),
        "Lumen-Event-Id": delivery.payload.get("id", ""),
    }
    status_code = None
    error = ""
    try:
        status_code = post(delivery.endpoint.url, body=body, headers=headers)
        if not 200 <= status_code < 300:
            error = f"The endpoint answered {status_code}."
    except UnsafeDestination as exc:
        error = str(exc)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        error = f"Could not reach the endpoint ({type(exc).__name__}: {exc})."
    attempts = delivery.attempts + 1
    update = {
        "attempts": attempts,
        "last_attempt_at": now,
        "last_status_code": status_code,
        "last_error": error[:255],
        "updated_at": now,
    }
    if not error:
        update.update(status=DeliveryStatus.SUCCEEDED, next_attempt_at=None)
    elif now + retry_delay(attempts) > delivery.give_up_at:
        update.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    else:
        update.update(next_attempt_at=now + retry_delay(attempts))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**update)
    return update.get("status", DeliveryStatus.PENDING)


def send_due_deliveries(*, now: datetime | None = None) -> int:
    """The schedule: send every delivery that is due (oldest first, a batch at a time); a
    delivery past `give_up_at` that was never retried is marked FAILED. Returns the number
    sent."""
    now = now or timezone.now()
    WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, give_up_at__lt=now).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ).update(status=DeliveryStatus.FAILED, next_attempt_at=None, updated_at=now)
    due = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for delivery_id in due:
        send_delivery(delivery_id, now=now)
    return len(due)
