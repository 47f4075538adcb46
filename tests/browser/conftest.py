"""Playwright in Debian's Chromium against pytest-django's live server.

`playwright install` cannot download browsers here: the system Chromium is launched instead
(`apt-get install chromium`). Without it, browser tests are skipped with that reason.
"""

import os
from pathlib import Path

import pytest
from django.core.cache import cache

# Playwright's sync API runs an event loop in the test's thread; Django would then refuse ORM
# calls from that thread (live_server fixtures, assertions on the database).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def _plain_http_settings():
    """The live server speaks plain HTTP on localhost: no redirect to HTTPS and no Secure-only
    cookies. Set before the server starts, because middleware reads settings once, at start."""
    from django.conf import settings

    names = ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
    saved = {name: getattr(settings, name, False) for name in names}
    for name in names:
        setattr(settings, name, False)
    yield
    for name, value in saved.items():
        setattr(settings, name, value)


@pytest.fixture(scope="session")
def live_server(_plain_http_settings, live_server):
    return live_server


@pytest.fixture
def screenshots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()
