"""allauth hooks: our site's name and address in its emails, and a provider's profile in our own
fields."""

from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.urls import reverse

# The links allauth puts in its emails (confirmation, password reset, sign-up).
_EMAIL_LINKS = ("activate_url", "password_reset_url", "signup_url")


def on_site(url: str) -> str:
    """`url` at SITE_URL: allauth builds its links from the request's host (the app server's
    "localhost:8000" behind a proxy, the sites framework's "example.com" outside a request); a
    link in an email must lead to the site people use. The path, query and fragment stay."""
    site = urlsplit(settings.SITE_URL)
    link = urlsplit(url)
    return urlunsplit((site.scheme, site.netloc, link.path, link.query, link.fragment))


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # allauth's emails greet from `current_site` (the sites framework's "example.com");
        # ours come from SITE_NAME at SITE_URL, configured in the environment. Every email has a
        # plain-text body (`*_message.txt`) and an HTML one (`*_message.html`) in
        # templates/account/email/.
        site = SimpleNamespace(
            name=settings.SITE_NAME, domain=urlsplit(settings.SITE_URL).netloc or "localhost"
        )
        links = {key: on_site(context[key]) for key in _EMAIL_LINKS if context.get(key)}
        super().send_mail(
            template_prefix,
            email,
            {
                "current_site": site,
                "site_name": settings.SITE_NAME,
                "site_url": settings.SITE_URL.rstrip("/") + "/",
                # Where the notifications of a change send an owner who did not make it.
                "password_reset_link": on_site(reverse("account_reset_password")),
                **context,
                **links,
            },
        )


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
