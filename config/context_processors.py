from django.conf import settings


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        # Signing in with Google or GitHub exists only when their keys are set (settings.py):
        # without a provider, "Connected accounts" has nothing to offer and is not linked.
        "SOCIAL_LOGIN_ENABLED": bool(settings.SOCIALACCOUNT_PROVIDERS),
    }
