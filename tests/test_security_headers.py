"""Every response carries the Content-Security-Policy and the Permissions-Policy: pages, htmx
fragments, the back office, static files, private media, redirects and error pages (400, 403,
404, 500). The policy itself is strict (nothing inline, no eval, no framing), the media origins
follow the storage's settings, and no template brings back an inline script, style or handler.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.test import Client
from django.urls import include, path

from config.security import storage_origins
from enhancement import storage
from tests.factories import ImageEnhancementJobFactory, stored_image

ROOT = Path(__file__).resolve().parent.parent


def boom(request):
    raise RuntimeError("a view that fails, for the 500 page")


urlpatterns = [path("boom/", boom), path("", include("config.urls"))]


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        assert name not in parsed, f"{name} twice in {header}"
        parsed[name] = values
    return parsed


def assert_policies(response):
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'"]  # local media: our own origin
    assert policy["connect-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"][0] == "'self'"
    header = response["Content-Security-Policy"]
    for loophole in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "data:", "*"):
        assert loophole not in header.split(), f"{loophole} in {header}"
    permissions = dict(item.split("=", 1) for item in response["Permissions-Policy"].split(", "))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "browsing-topics"):
        assert permissions[feature] == "()"


# --- every kind of response -------------------------------------------------------------------
PUBLIC_PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/healthz",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_pages(anon_client, url):
    response = anon_client.get(url)
    assert response.status_code == 200
    assert_policies(response)
    assert response["X-Frame-Options"] == "DENY"  # for browsers that ignore frame-ancestors


@pytest.mark.django_db
def test_pages_fragments_and_media_of_a_member(owner_client, user):
    image = stored_image(user)
    job = ImageEnhancementJobFactory(image=image)
    pages = [
        "/images/",
        "/images/upload/",
        f"/images/{image.pk}/",
        f"/jobs/{job.pk}/",
        "/tokens/",
        "/account/",
        "/accounts/email/",
    ]
    for url in pages:
        response = owner_client.get(url)
        assert response.status_code == 200, url
        assert_policies(response)

    fragment = owner_client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert_policies(fragment)

    media_url = storage.url_for(image.thumbnail_r2_key.name)
    assert media_url.startswith("/media/f/")
    media = owner_client.get(media_url)
    assert media.status_code == 200
    assert media["Content-Type"] == "image/webp"
    assert_policies(media)


@pytest.mark.django_db
def test_the_back_office(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save(update_fields=["is_superuser"])
    client.force_login(staff_user)
    for url in (
        "/admin/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{staff_user.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_policies(response)


def test_static_files(settings):
    settings.WHITENOISE_USE_FINDERS = (
        True  # no collectstatic in tests (read when WhiteNoise starts)
    )
    response = Client().get("/static/css/app.css")
    assert response.status_code == 200
    assert_policies(response)


@pytest.mark.django_db
def test_not_found(anon_client):
    response = anon_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We couldn’t find that page" in response.content.decode()
    assert_policies(response)


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_server_error():
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert_policies(response)


@pytest.mark.django_db
def test_csrf_failure(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/images/upload/")
    assert response.status_code == 403
    assert_policies(response)


def test_a_host_we_do_not_serve():
    response = Client(HTTP_HOST="evil.example").get("/")
    assert response.status_code == 400
    assert_policies(response)


@pytest.mark.django_db
def test_the_https_redirect(settings):
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert_policies(response)


# --- media origins follow the storage ----------------------------------------------------------
def _s3_url(**options) -> str:
    from storages.backends.s3 import S3Storage

    s3 = S3Storage(
        bucket_name="lumen-media",
        access_key="test",
        secret_key="test",  # noqa: S106 (signing only; nothing is sent)
        querystring_auth=True,
        signature_version="s3v4",
        custom_domain=None,
        **options,
    )
    return s3.url("images/abc/thumb.webp")


@pytest.mark.parametrize(
    "endpoint_url", ["https://acct.r2.cloudflarestorage.com", "http://127.0.0.1:9000", None]
)
@pytest.mark.parametrize("addressing_style", ["path", "virtual", "auto", None])
@pytest.mark.parametrize("region", ["auto", "eu-west-2", "us-east-1", None])
def test_the_bucket_origin_covers_the_signed_urls_the_client_makes(
    endpoint_url, addressing_style, region
):
    """The real S3 client (django-storages over boto3, no network: signing is local) decides
    the host; the policy lists it, whatever the endpoint, addressing style and region."""
    url = _s3_url(endpoint_url=endpoint_url, addressing_style=addressing_style, region_name=region)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    origins = storage_origins(
        bucket="lumen-media",
        endpoint_url=endpoint_url,
        addressing_style=addressing_style,
        region=region,
    )
    assert origin in origins
    assert len(origins) <= 4


def test_local_media_needs_no_other_origin():
    assert storage_origins(bucket="", public_domain="") == []
    assert storage_origins(bucket="", public_domain="media.example.com") == [
        "https://media.example.com"
    ]


def _settings_in_a_fresh_process(expression: str, **environment) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG"}}
    env.update(environment, DJANGO_SETTINGS_MODULE="config.settings")
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    result = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_settings_put_the_bucket_and_public_domain_in_img_src():
    img_src = _settings_in_a_fresh_process(
        "' '.join(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src'])",
        STORAGE_BUCKET="lumen-media",
        STORAGE_ENDPOINT_URL="https://acct.r2.cloudflarestorage.com",
        STORAGE_PUBLIC_DOMAIN="media.example.com",
    )
    assert img_src.split() == [
        "'self'",
        "https://acct.r2.cloudflarestorage.com",
        "https://media.example.com",
    ]


# --- templates and scripts stay inline-free ------------------------------------------------------
INLINE = [
    (re.compile(r"""<[a-z][^>]*\sstyle\s*=""", re.I), "a style attribute"),
    (re.compile(r"<style[\s>]", re.I), "a <style> element"),
    (
        re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
        "an inline <script>",
    ),
    (re.compile(r"""<[a-z][^>]*\son[a-z]+\s*=""", re.I), "an on...= handler"),
    (re.compile(r"""<[a-z][^>]*\shx-on""", re.I), "an hx-on attribute (needs eval)"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


# The HTML versions of emails: mail clients ignore <style> blocks and stylesheets, so their look
# is in style attributes, and the CSP governs web pages, not mail. No page renders them.
EMAIL_TEMPLATES = ("account/email", "socialaccount/email")


def _our_templates():
    folders = [Path(folder) for folder in django_settings.TEMPLATES[0]["DIRS"]]
    for config in apps.get_app_configs():
        if Path(config.path).is_relative_to(ROOT) and ".venv" not in Path(config.path).parts:
            folders.append(Path(config.path) / "templates")
    for folder in folders:
        for template in sorted(folder.rglob("*.html")):
            if not template.relative_to(folder).as_posix().startswith(EMAIL_TEMPLATES):
                yield template


def test_no_template_has_inline_script_style_or_handlers():
    found = []
    templates = list(_our_templates())
    assert any(t.name == "base.html" for t in templates)
    for template in templates:
        # Django comments may mention what they forbid.
        text = re.sub(
            r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", "", template.read_text(), flags=re.S
        )
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text[: match.start()].count("\n") + 1
                found.append(f"{template.relative_to(ROOT)}:{line}: {what}")
    assert found == []


def test_our_scripts_use_no_eval_and_set_no_style_attribute():
    found = []
    for script in sorted((ROOT / "static").rglob("*.js")):
        if script.name.endswith(".min.js"):
            continue  # vendored (htmx: base.html turns its eval off)
        text = script.read_text()
        for pattern in (r"\beval\(", r"new Function\(", r"setAttribute\(\s*['\"](style|on)"):
            if re.search(pattern, text):
                found.append(f"{script.relative_to(ROOT)}: {pattern}")
    assert found == []


def test_the_scanner_finds_what_it_looks_for():
    sample = (
        '<p style="color:red"></p><style>p{}</style><script>x()</script>'
        '<button onclick="x()"></button><a href="javascript:x()"></a><div hx-on:click="x()"></div>'
    )
    seen = {what for pattern, what in INLINE if pattern.search(sample)}
    assert seen == {what for _pattern, what in INLINE}
    allowed = (
        '<script src="/static/js/menus.js" defer></script>'
        '<script type="application/json" id="data">{}</script><p data-style="x" class="on">'
    )
    assert [what for pattern, what in INLINE if pattern.search(allowed)] == []
