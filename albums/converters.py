"""The share token in `/s/<share:share_token>/`: exactly what `core.ids.new_share_token` makes
(32 URL-safe base64 characters), so junk in its place (a NUL byte, a quote, a short or long
string) is a 404 from the resolver before any query.

Importing this module registers the converter (albums/urls.py does)."""

from django.urls import register_converter

SHARE_TOKEN_LENGTH = 32
SHARE_TOKEN_REGEX = rf"[A-Za-z0-9_\-]{{{SHARE_TOKEN_LENGTH}}}"


class ShareTokenConverter:
    regex = SHARE_TOKEN_REGEX

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return str(value)


register_converter(ShareTokenConverter, "share")
