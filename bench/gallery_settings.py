"""Settings of bench/gallery.py's server: the project's, plus a URLconf with a trivial view,
and static URLs without collectstatic's manifest (the load is on pages, not their assets)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.gallery_urls"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
