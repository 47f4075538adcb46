"""Deploy checks Django cannot know about: our own development defaults left in production."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register  # noqa: A004

DEV_SECRET_KEY_PREFIX = "dev-only-insecure-key"  # noqa: S105 (what to refuse, not a secret)


@register(Tags.security, deploy=True)
def check_secret_key_is_not_the_dev_default(app_configs, **kwargs):
    if str(settings.SECRET_KEY).startswith(DEV_SECRET_KEY_PREFIX):
        return [
            Error(
                "SECRET_KEY is the development default.",
                hint="Set SECRET_KEY in the environment to a long random value, e.g. "
                "python -c 'import secrets; print(secrets.token_urlsafe(50))'.",
                id="accounts.E001",
            )
        ]
    return []


@register(Tags.caches, deploy=True)
def check_shared_state_in_production(app_configs, **kwargs):
    """With DEBUG off the site runs as several processes, often on several machines: a cache in
    one process's memory means rate limits (uploads, orders, sign-in, vouchers) that do not hold
    across them, and a queue in sync mode runs every job inside a web request."""
    if settings.DEBUG:
        return []
    warnings = []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend.endswith(("LocMemCache", "DummyCache")):
        warnings.append(
            Warning(
                "The cache is per process (local memory): rate limits do not hold across "
                "web processes or machines.",
                hint="Set CACHE_URL to a shared cache, e.g. rediscache://127.0.0.1:6379/1.",
                id="accounts.W002",
            )
        )
    if settings.Q_CLUSTER.get("sync"):
        warnings.append(
            Warning(
                "The job queue runs in sync mode: every enhancement runs inside the request "
                "that ordered it.",
                hint="Unset Q_SYNC and run the workers (manage.py run_worker).",
                id="accounts.W003",
            )
        )
    return warnings
