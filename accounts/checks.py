"""Deploy checks Django cannot know about: our own development defaults left in production."""

from django.conf import settings
from django.core.checks import Error, Tags, register

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
