"""`manage.py check --deploy` is clean with production settings, and not with laptop ones.

Runs in a subprocess: settings are read from the environment once, at start-up.
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


# Set per run below; the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE is no production setting.
_NOT_INHERITED = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def _check_deploy(**env_overrides):
    env = {key: value for key, value in os.environ.items() if key not in _NOT_INHERITED}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = _check_deploy(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="lumen.example.com",
        CACHE_URL="rediscache://127.0.0.1:6379/1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_per_process_cache_or_a_sync_queue_is_reported_in_production():
    result = _check_deploy(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="lumen.example.com",
        CACHE_URL="locmemcache://",
        Q_SYNC="true",
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "accounts.W002" in output and "rate limits do not hold" in output
    assert "accounts.W003" in output


def test_laptop_defaults_fail_the_deploy_check():
    result = _check_deploy(DEBUG="true")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "security.W018" in output  # DEBUG on
    assert "accounts.E001" in output  # the development SECRET_KEY


@pytest.mark.django_db
def test_static_files_are_served_by_whitenoise_with_hashed_names(client, settings, tmp_path):
    """What production does: collectstatic with hashed, compressed names; pages link the hashed
    names; WhiteNoise serves them with a far-future cache header."""
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)

    page = client.get("/accounts/login/").content.decode()
    css = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page)
    js = re.search(r'src="(/static/js/htmx\.min\.[0-9a-f]{12}\.js)"', page)
    assert css and js, page[:2000]
    response = client.get(css.group(1))
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert b"--color-primary" in b"".join(response.streaming_content)
    assert (
        (settings.STATIC_ROOT / css.group(1).removeprefix("/static/"))
        .with_suffix(".css.gz")
        .exists()
    )
