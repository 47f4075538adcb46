"""Settings refuse a bad value at start-up, with a message that names the variable.

Each case starts a fresh interpreter: settings are read from the environment once, at import.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_NOT_INHERITED = {"DJANGO_SETTINGS_MODULE", "DEBUG", "EMAIL_URL", "EMAIL_BACKEND"}


def _settings(expression: str, **environment) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in _NOT_INHERITED}
    env.update(environment, DJANGO_SETTINGS_MODULE="config.settings")
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "ture", "DEBUG must be true or false, got 'ture'"),
        ("Q_SYNC", "maybe", "Q_SYNC must be true or false"),
        ("SECURE_SSL_REDIRECT", "yes please", "SECURE_SSL_REDIRECT must be true or false"),
        ("ENHANCEMENT_MAX_RETRIES", "-1", "ENHANCEMENT_MAX_RETRIES must be at least 0, got -1"),
        ("ENHANCEMENT_MAX_RETRIES", "three", "ENHANCEMENT_MAX_RETRIES must be a whole number"),
        ("TOKEN_SIGNUP_BALANCE", "-5", "TOKEN_SIGNUP_BALANCE must be at least 0"),
        ("UPLOAD_MAX_MB", "0", "UPLOAD_MAX_MB must be at least 1"),
        ("CONN_MAX_AGE", "1.5", "CONN_MAX_AGE must be a whole number"),
        ("ACCOUNT_EMAIL_VERIFICATION", "sometimes", "ACCOUNT_EMAIL_VERIFICATION must be one of"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(variable, value, message):
    extra = {  # settings that are read only in some configurations
        "SECURE_SSL_REDIRECT": {"DEBUG": "false"},
        "CONN_MAX_AGE": {"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"},
    }.get(variable, {})
    result = _settings("'started'", **{variable: value, **extra})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
    assert "started" not in result.stdout


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", "True"), ("TRUE", "True"), ("1", "True"), ("off", "False"), ("", "False")],
)
def test_booleans_accept_the_usual_spellings(value, expected):
    result = _settings("settings.DEBUG", DEBUG=value)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_good_numbers_are_read_as_numbers():
    result = _settings(
        "(settings.ENHANCEMENT_MAX_RETRIES, settings.TOKEN_SIGNUP_BALANCE)",
        ENHANCEMENT_MAX_RETRIES="0",
        TOKEN_SIGNUP_BALANCE="10",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(0, 10)"


def test_an_email_url_configures_smtp_setting_by_setting():
    result = _settings(
        "(settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, "
        "settings.EMAIL_HOST_USER, settings.EMAIL_USE_TLS)",
        EMAIL_URL="smtp+tls://mailer:secret@mail.example.com:587",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "('django.core.mail.backends.smtp.EmailBackend', 'mail.example.com', 587, 'mailer', True)"
    )


def test_without_an_email_url_mail_goes_to_the_console():
    result = _settings("(settings.EMAIL_BACKEND, settings.EMAIL_HOST)")

    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip() == "('django.core.mail.backends.console.EmailBackend', 'localhost')"
    )
