"""Compressed pages: Django's GZipMiddleware, for text only.

Images, downloads and zips are compressed already: gzip would spend CPU for nothing, drop their
Content-Length and break range requests, so only text types are compressed (pages, htmx
fragments, JSON, CSS, JavaScript, SVG, plain text), and never a streamed response.

BREACH (an attacker who can inject text into a compressed page and watch its size guesses a
secret in it one character at a time): the secrets in our pages are the CSRF token, which
Django masks with a new random value in every response, so there is nothing stable to guess;
and Django's GZipMiddleware pads each response with up to 100 random bytes ("Heal the Breach"),
which blurs the sizes such an attack reads. Session and CSRF cookies travel in headers, which are
not compressed. This is the mitigation Django's documentation describes for GZipMiddleware.
"""

from django.middleware.gzip import GZipMiddleware

COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/manifest+json",
    "image/svg+xml",
)


class TextGZipMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
        if response.streaming or not content_type.startswith(COMPRESSIBLE):
            return response
        return super().process_response(request, response)
