import os
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    """Fast, isolated settings for every test: MD5 hasher, locmem email, media in a temp folder."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SECURE_SSL_REDIRECT = False
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media", "base_url": "/media/"},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.STORAGE_PUBLIC_DOMAIN = ""
    settings.WHITENOISE_AUTOREFRESH = True  # no collectstatic in tests: no "no staticfiles" warning


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """dj-stripe's one squashed migration costs about 45 s of CPU for every new test database.
    On SQLite (the fast path) its tables are made straight from its models, as for an app
    without migrations; every app of ours is still migrated (data migrations included). On
    PostgreSQL (CI) every migration runs, dj-stripe's too."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        settings.MIGRATION_MODULES = {**settings.MIGRATION_MODULES, "djstripe": None}


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits live in the cache: every test starts with none used."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL (row locks, real concurrency): skip on SQLite.
    Tests marked `browser` need Debian's Chromium: skip with the reason when it is missing."""
    from django.conf import settings

    skips = {}
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        skips["postgres"] = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    if not CHROMIUM.exists():
        skips["browser"] = pytest.mark.skip(
            reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        )
    for item in items:
        for marker, skip in skips.items():
            if marker in item.keywords:
                item.add_marker(skip)


# --- the browser (Playwright in Debian's Chromium against pytest-django's live server) --------
# `playwright install` cannot download browsers here: the system Chromium is launched instead.
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
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def _plain_http_settings():
    """The live server speaks plain HTTP on localhost: no redirect to HTTPS and no Secure-only
    cookies. Set before the server starts, because middleware reads settings once, at start."""
    from django.conf import settings

    plain = {
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "WHITENOISE_AUTOREFRESH": True,  # no collectstatic: static comes from the finders
    }
    saved = {name: getattr(settings, name, False) for name in plain}
    for name, value in plain.items():
        setattr(settings, name, value)
    yield
    for name, value in saved.items():
        setattr(settings, name, value)


@pytest.fixture(scope="session")
def live_server(_plain_http_settings, live_server):
    return live_server


@pytest.fixture
def browser_login(page, live_server):
    """`browser_login(user)`: the Playwright page, signed in as `user` (a session made by the
    test client, handed to the browser as its cookie), at a desktop size."""
    from django.conf import settings
    from django.test import Client

    def login(user):
        client = Client()
        client.force_login(user)
        page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        page.set_viewport_size({"width": 1280, "height": 900})
        return page

    return login


@pytest.fixture
def screenshots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


# --- the owner / stranger / anonymous matrix --------------------------------------------------
@pytest.fixture
def user(db):
    return UserFactory(email="alice@example.com")


@pytest.fixture
def other_user(db):
    return UserFactory(email="bob@example.com")


@pytest.fixture
def staff_user(db):
    """A member of staff: the actor of the back office's verbs (refund, retry, grants)."""
    return UserFactory(email="staff@example.com", is_staff=True)


@pytest.fixture
def owner_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def stranger_client(other_user):
    from django.test import Client

    c = Client()
    c.force_login(other_user)
    return c


@pytest.fixture
def anon_client():
    from django.test import Client

    return Client()


# --- storage: moto's S3 server on loopback, the production path ---------------------------------
@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server on 127.0.0.1, one per test module (tests/fakes/s3.py)."""
    from tests.fakes import s3

    if not s3.moto_available():  # pragma: no cover
        pytest.skip("moto[server] is not installed: the S3 storage path is not tested")
    with s3.s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3_endpoint, settings):
    """A fresh bucket on the fake, set as the default storage for this test; its name."""
    from core import media
    from tests.fakes import s3

    name = s3.create_bucket(s3_endpoint)
    settings.STORAGES = {**settings.STORAGES, "default": s3.s3_storage_settings(s3_endpoint, name)}
    assert not media.is_local()
    return name
