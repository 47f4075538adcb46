"""Rendered parts of public pages kept for a few seconds (`ALBUMS_PAGE_CACHE_SECONDS`).

The gallery's pages and an album's grid of photos are the same for every visitor: rendering
them (a query or three, two signed URLs per photo, the template) costs far more than the rest
of the page. They are kept in the cache under a key made of everything they depend on (the
album's `updated_at` changes with every add, removal, new order, cover or setting), for a
time much shorter than a signed URL lives, so what is served from it always loads. What may
show late, by at most that time: view counts, a new enhancement, a photo published or taken
down elsewhere. Access is never cached: who may see a page is decided on every request.

The default cache is per process; several web processes should share one (CACHE_URL).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token

T = TypeVar("T")
_PREFIX = "albums:fragment:"


def cached(parts: tuple, build: Callable[[], T]) -> T:
    """`build()`'s value, kept under a key made from `parts` (anything with a stable repr).
    A None from `build` is not kept."""
    ttl = settings.ALBUMS_PAGE_CACHE_SECONDS
    if ttl <= 0:
        return build()
    key = _PREFIX + hashlib.sha256(repr(parts).encode()).hexdigest()
    value = cache.get(key)
    if value is None:
        value = build()
        if value is not None:
            cache.set(key, value, ttl)
    return value


# --- whole pages for visitors without cookies -----------------------------------------------------
# A page for someone with no session and no pending message (a first visit, a crawler, a shared
# link opened in a fresh browser) is the same for all of them but for the CSRF token that
# base.html puts in htmx's headers. Such pages are kept whole with this placeholder where the
# token goes, and each visitor gets their own token put in. Signed-in visitors, and anyone with
# a session (a link's password entered) or a message waiting, get the page rendered for them.
CSRF_PLACEHOLDER = "albums-csrf-placeholder-5d0f3b9a1c7e4a26"
KEPT_HEADERS = ("Content-Type", "Cache-Control", "X-Robots-Tag")


def _cookieless(request) -> bool:
    from django.contrib.messages.storage.cookie import CookieStorage

    return (
        not request.user.is_authenticated
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
    )


def page_for_cookieless(request, parts: tuple, render_page: Callable[[dict], HttpResponse]):
    """`render_page(extra_context)`'s response; for a visitor without cookies, kept whole for
    `ALBUMS_PAGE_CACHE_SECONDS` under `parts` (a 200 only) and served with their CSRF token."""
    ttl = settings.ALBUMS_PAGE_CACHE_SECONDS
    if ttl <= 0 or not _cookieless(request):
        return render_page({})
    key = _PREFIX + "page:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    stored = cache.get(key)
    if stored is None:
        response = render_page({"csrf_token": CSRF_PLACEHOLDER})
        stored = (
            response.status_code,
            response.content,
            [(name, response[name]) for name in KEPT_HEADERS if response.has_header(name)],
        )
        if response.status_code == 200:
            cache.set(key, stored, ttl)
    status, content, headers = stored
    token = get_token(request).encode()  # also sets the visitor's CSRF cookie
    return HttpResponse(
        content.replace(CSRF_PLACEHOLDER.encode(), token), status=status, headers=dict(headers)
    )
