"""Who calls: `Authorization: Bearer <key>`.

- no key, an unknown or a revoked one: 401 (`AuthenticationError`, ninja's);
- a live key of a user whose plan no longer includes the API: 403 with the reason;
- more than `API_RATE_PER_MINUTE` calls a minute for the user (all keys together): 429.
"""

from __future__ import annotations

from django.conf import settings
from ninja.security import HttpBearer

from billing import selectors as billing
from core import ratelimit
from enhancement.api import services


class PlanLapsed(Exception):
    """A live key whose user's plan no longer gives API access."""

    message = (
        "Your plan no longer includes API access, so this key cannot be used. Renew or "
        "choose a plan with API access on the pricing page; your keys work again then."
    )


class RateLimited(Exception):
    def __init__(self, *, limit: int, message: str):
        super().__init__(message)
        self.limit = limit
        self.message = message


def api_rate_key(user_id: str) -> str:
    return f"api:{user_id}"


def check_rate(*, key: str, limit: int, message: str) -> None:
    if not ratelimit.hit(key=key, limit=limit, window_seconds=60):
        raise RateLimited(limit=limit, message=message)


class ApiKeyAuth(HttpBearer):
    openapi_description = "An API key from your account page: `Authorization: Bearer lum_...`"

    def authenticate(self, request, token):
        if "\x00" in token:
            return None
        key = services.find_key(token)
        if key is None:
            return None
        if not billing.has_api_access(key.user_id):
            raise PlanLapsed()
        limit = settings.API_RATE_PER_MINUTE
        check_rate(
            key=api_rate_key(key.user_id),
            limit=limit,
            message=f"Too many requests: at most {limit} a minute. Wait, then try again.",
        )
        services.touch_key(key)
        return key
