"""Who is looking, as a key for counting views and for rate limits.

A signed-in person is their user id. An anonymous visitor is a keyed hash (HMAC with the
site's secret) of their address, as allauth reads it (`ALLAUTH_TRUSTED_PROXY_COUNT` behind a
proxy), and their browser's user agent: stable for a day's counting, never the address itself.
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.crypto import salted_hmac


def client_ip(request: HttpRequest) -> str:
    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:  # no address at all (a test client without REMOTE_ADDR)
        return ""


def visitor_key(request: HttpRequest) -> str:
    if request.user.is_authenticated:
        return f"u:{request.user.pk}"
    agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    digest = salted_hmac("albums.visitors", f"{client_ip(request)}|{agent}").hexdigest()
    return f"a:{digest[:40]}"
