"""The account's own part of a data export: account.json (addresses, names, sign-in
providers, dates). Registered in `AccountsConfig.ready()`."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount

from accounts.exports import sections

DESCRIBES = "account.json              your account: e-mail addresses, names, sign-in providers"


def write_account(user, archive) -> None:
    archive.write_json(
        "account.json",
        {
            "id": user.pk,
            "email": user.email,
            "email_verified_at": user.email_verified,
            "name": user.name,
            "public_name": user.public_name,
            "public_label": user.public_label,
            "picture_url": user.image,
            "created_at": user.created_at,
            "last_login": user.last_login,
            "has_password": user.has_usable_password(),
            "stripe_customer_id": user.stripe_customer_id,
            "email_addresses": [
                {"email": a.email, "primary": a.primary, "verified": a.verified}
                for a in EmailAddress.objects.filter(user=user).order_by("-primary", "email")
            ],
            "connected_accounts": [
                {
                    "provider": a.provider,
                    "uid": a.uid,
                    "connected_at": a.date_joined,
                    "last_login": a.last_login,
                }
                for a in SocialAccount.objects.filter(user=user).order_by("date_joined")
            ],
        },
    )


def register() -> None:
    sections.register("account", write_account, order=10, describes=DESCRIBES)
