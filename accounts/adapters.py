"""allauth hooks: our site's name in its emails, and a provider's profile in our own fields."""

from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # allauth's emails greet from `current_site` (the sites framework's "example.com");
        # ours come from SITE_NAME at SITE_URL, configured in the environment.
        site = SimpleNamespace(
            name=settings.SITE_NAME, domain=urlsplit(settings.SITE_URL).netloc or "localhost"
        )
        super().send_mail(template_prefix, email, {"current_site": site, **context})


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        name = (data.get("name") or "").strip()
        if not name:
            name = " ".join(
                part for part in (data.get("first_name"), data.get("last_name")) if part
            ).strip()
        if name and not user.name:
            user.name = name[:150]
        avatar = sociallogin.account.get_avatar_url() if sociallogin.account else None
        if avatar and not user.image and len(avatar) <= 500:
            user.image = avatar
        return user
