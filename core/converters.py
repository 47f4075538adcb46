"""Path converters for the ids and tokens in our URLs.

`<id:image_id>` matches only what `core.ids.new_id` makes (a letter and 24 lower-case base-36
characters), so anything else in that place (a NUL byte, a quote, an upper-case letter, a
thousand characters) is a 404 from the resolver, before a view or the database sees it.
PostgreSQL refuses NUL in text outright; an id that cannot exist is not worth a query.

Importing this module registers the converters (each `urls.py` that uses them imports it).
"""

from django.urls import register_converter

from core.ids import ID_REGEX


class IdConverter:
    regex = ID_REGEX

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return str(value)


class SignedTokenConverter:
    """A `django.core.signing` token: URL-safe base64 and the separators it uses (`:`, `.`),
    no longer than any token we make."""

    regex = r"[A-Za-z0-9_\-:.]{1,4096}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return str(value)


register_converter(IdConverter, "id")
register_converter(SignedTokenConverter, "signed")
