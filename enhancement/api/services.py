"""The verbs of API keys and webhook endpoints.

A key is `lum_` + 43 URL-safe characters (256 random bits): only its SHA-256 is stored, and it
is shown once, when made. Revoking is a timestamp (the row stays, so the page can say when).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from billing import selectors as billing
from enhancement.api import webhooks
from enhancement.models import (
    ApiKey,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)

KEY_PREFIX = "lum_"
VISIBLE_PREFIX_LENGTH = 12  # "lum_" and 8 characters of the secret


class ApiError(Exception):
    """Base of the API domain errors; `str(e)` is a sentence a user can read."""


class NoApiAccess(ApiError):
    def __init__(self):
        super().__init__(
            "Your plan does not include API access. Choose a plan with API access on the "
            "pricing page to use the API."
        )


class TooManyKeys(ApiError):
    def __init__(self, limit: int):
        super().__init__(f"You can have at most {limit} active keys. Revoke one first.")


class TooManyEndpoints(ApiError):
    def __init__(self, limit: int):
        super().__init__(f"You can have at most {limit} webhook endpoints. Delete one first.")


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    raw: str  # shown once, never stored


def create_api_key(*, user: AbstractBaseUser, name: str) -> NewKey:
    """A new key for `user` (whose plan must include the API: `NoApiAccess` otherwise; at most
    `API_KEYS_MAX` active keys: `TooManyKeys`)."""
    if not billing.has_api_access(user.pk):
        raise NoApiAccess()
    active = ApiKey.objects.filter(user=user, revoked_at__isnull=True).count()
    if active >= settings.API_KEYS_MAX:
        raise TooManyKeys(settings.API_KEYS_MAX)
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        user=user, name=name, prefix=raw[:VISIBLE_PREFIX_LENGTH], key_hash=hash_key(raw)
    )
    return NewKey(key=key, raw=raw)


def revoke_api_key(*, user: AbstractBaseUser, key_id: str) -> ApiKey | None:
    """Revoke one of `user`'s keys (a key already revoked keeps its first date). None when the
    key is not the user's."""
    key = ApiKey.objects.filter(pk=key_id, user=user).first()
    if key is not None and key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
    return key


def find_key(raw_key: str) -> ApiKey | None:
    """The live (not revoked) key for `raw_key`, with its user; None for anything else."""
    if not raw_key.startswith(KEY_PREFIX) or len(raw_key) > 100:
        return None
    return (
        ApiKey.objects.select_related("user")
        .filter(key_hash=hash_key(raw_key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )


def touch_key(key: ApiKey) -> None:
    """Record that the key was used (at most once a minute, so a busy key costs no write on
    every call)."""
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() >= 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


# --- webhook endpoints -------------------------------------------------------------------------
def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def create_endpoint(*, user: AbstractBaseUser, url: str) -> WebhookEndpoint:
    """Register a callback URL (already checked by `WebhookEndpointForm`); it gets its own
    signing secret. `NoApiAccess`, `TooManyEndpoints`."""
    if not billing.has_api_access(user.pk):
        raise NoApiAccess()
    if WebhookEndpoint.objects.filter(user=user).count() >= settings.WEBHOOK_ENDPOINTS_MAX:
        raise TooManyEndpoints(settings.WEBHOOK_ENDPOINTS_MAX)
    return WebhookEndpoint.objects.create(user=user, url=url, secret=new_secret())


def delete_endpoint(*, user: AbstractBaseUser, endpoint_id: str) -> bool:
    """Delete one of `user`'s endpoints and its delivery log."""
    deleted, _ = WebhookEndpoint.objects.filter(pk=endpoint_id, user=user).delete()
    return deleted > 0


def redeliver(*, user: AbstractBaseUser, delivery_id: str) -> WebhookDelivery | None:
    """Send a delivery again now (whatever its state), and retry it for another day if this
    fails. Locks the delivery; the send happens after the commit. None when it is not the
    user's."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .filter(pk=delivery_id, endpoint__user=user)
            .first()
        )
        if delivery is None:
            return None
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = now
        delivery.give_up_at = now + webhooks.retry_window()
        delivery.save(update_fields=["status", "next_attempt_at", "give_up_at", "updated_at"])
        webhooks.enqueue_on_commit(delivery.pk)
    return delivery
