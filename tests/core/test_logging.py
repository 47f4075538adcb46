"""core/logging.py: what the redacting filter removes (and keeps), the two line formats, and the
handlers settings.LOGGING puts every logger through."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.module_loading import import_string

from core.logging import RedactingFilter, log_event, redact

ROOT = Path(__file__).resolve().parents[2]
SHARE_TOKEN = "q2Vx9Kd0bT4rLm8sWn1cYp6hJz3aFe7u"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Not Found: /media/f/eyJrIjoidXNlcnMvYWJjIn0:1tXyZ:Q2h3c2Vj/", "eyJrIjoidXNlcnMv"),
        (f"Not Found: /s/{SHARE_TOKEN}/images/abc/", SHARE_TOKEN),
        ("GET /redeem/SPRINGGIFT42/ HTTP/1.1", "SPRINGGIFT42"),
        ("GET /accounts/confirm-email/MQ:1tAbCd:xYz0123456789/ HTTP/1.1", "MQ:1tAbCd"),
        ("/accounts/password/reset/key/1-c2b4f0a9e8d7c6b5a4/", "c2b4f0a9e8d7c6b5a4"),
        ("GET /account/export/download/eyJpZCI6Inh5eiJ9/ HTTP/1.1", "eyJpZCI6Inh5eiJ9"),
        (
            "token eyJrIjoiYWJjIn0:1tXyZa:Q2h3c2VjUmV0U2lnbmF0dXJlMDEyMzQ1Njc4OQ in text",
            "Q2h3c2VjUmV0U2lnbmF0dXJlMDEyMzQ1Njc4OQ",
        ),
        (
            "https://bucket.r2.example/users/a/x.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAEXAMPLE%2F20260101&X-Amz-Signature=9f86d081884c7d65",
            "9f86d081884c7d65",
        ),
        ("?X-Amz-Credential=AKIAEXAMPLE%2F20260101%2Fauto", "AKIAEXAMPLE"),
        ("?X-Amz-Security-Token=FwoGZXIvYXdzEJr", "FwoGZXIvYXdzEJr"),
        ("Stripe key sk_live_51AbCdEfGhIjKlMnOp rejected", "51AbCdEfGhIjKlMnOp"),
        ("restricted rk_test_51AbCdEfGhIjKlMnOp", "51AbCdEfGhIjKlMnOp"),
        ("endpoint secret whsec_LumenSigningSecret0123", "LumenSigningSecret0123"),
        ("client_secret pi_3AbC_secret_XyZ0123456789", "XyZ0123456789"),
        ("Stripe-Signature: t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e7", "5257a869"),
        ("API key lum_3f9Kd02LmQpX8sVz1aBcDeFgHiJk used", "3f9Kd02LmQpX8sVz1aBcDeFgHiJk"),
        ("Authorization: Bearer lumtok.abc123.def456", "lumtok.abc123.def456"),
        ("login=alice password=hunter2-hunter2", "hunter2-hunter2"),
        ('{"password": "hunter2-hunter2", "x": 1}', "hunter2-hunter2"),
        ("Cookie: sessionid=8a7sd6f5g4h3j2k1; csrftoken=Zx9Yw8", "8a7sd6f5g4h3j2k1"),
        ("Cookie: sessionid=8a7sd6f5g4h3j2k1; csrftoken=Zx9Yw8", "Zx9Yw8"),
        ("signed up: Carol.Smith+lumen@Example.co.uk", "Carol.Smith+lumen@Example.co.uk"),
        ("?email=carol%40example.com&next=/", "carol%40example.com"),
        ("could not connect to postgres://lumen:S3cretPass@db.internal:5432/lumen", "S3cretPass"),
        ("Error connecting to rediss://:Red1sPass@cache.internal:6380/0", "Red1sPass"),
    ],
)
def test_redact_removes_every_kind_of_secret(text, secret):
    assert secret in text
    assert secret not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "job.completed job_id=b7k2m9x4q1w8e3r6 user_id=a1b2c3d4e5f6g7h8 tier=TIER_2K tokens=5",
        "spend:job:b7k2m9x4q1w8e3r6 cs_test_a1B2c3D4 pi_3AbCdEf in_1AbC sub_1AbC evt_1AbC",
        "users/a1b2c3d4/images/e5f6g7h8/jobs/i9j0k1l2/enhanced.webp",
        "GET /images/e5f6g7h8/ HTTP/1.1 200",
    ],
)
def test_redact_keeps_ids_and_paths_that_are_not_secrets(text):
    assert redact(text) == text


def _capture(fmt: str) -> tuple[logging.Handler, io.StringIO]:
    """A handler built as settings.LOGGING builds the console one (its formatter, its filters),
    writing to a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(import_string(settings.LOGGING["formatters"][fmt]["()"])())
    for name in settings.LOGGING["handlers"]["console"]["filters"]:
        handler.addFilter(import_string(settings.LOGGING["filters"][name]["()"])())
    return handler, stream


class FakeRequest:
    def __repr__(self):
        return "<WSGIRequest: GET '/media/f/eyJrIjoiU0VDUkVUIn0:1tXyZ:abc/'>"


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_a_third_party_line_is_redacted_in_its_message_args_extra_and_traceback(fmt):
    handler, stream = _capture(fmt)
    logger = logging.getLogger("tests.third_party")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError("bad key sk_live_51AbCdEfGhIjKlMnOp for carol@example.com")
        except ValueError:
            logger.exception(
                "Not Found: %s (%s)",
                "/s/" + SHARE_TOKEN + "/",
                {"password": "hunter2-hunter2", "who": "dave@example.com"},
                extra={
                    "status_code": 404,
                    "request": FakeRequest(),
                    "email": "erin@example.com",
                    "headers": {"Stripe-Signature": "t=1,v1=abc"},
                    "context": {"api_key": "lum_SeCrEt0123456789", "job_id": "b7k2m9x4q1w8e3r6"},
                },
            )
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    output = stream.getvalue()

    for secret in (
        SHARE_TOKEN,
        "hunter2-hunter2",
        "@example.com",
        "51AbCdEfGhIjKlMnOp",
        "lum_SeCrEt0123456789",
        "eyJrIjoiU0VDUkVUIn0",
        "v1=abc",
    ):
        assert secret not in output
    assert "Not Found: /s/[redacted]/" in output
    assert "b7k2m9x4q1w8e3r6" in output  # ids stay
    assert "ValueError: bad key sk_[redacted] for [email]" in output
    assert "WSGIRequest" not in output  # Django's request object is never printed
    if fmt == "json":
        (line,) = output.splitlines()
        record = json.loads(line)
        assert record["status_code"] == 404
        assert record["context"] == {"api_key": "[redacted]", "job_id": "b7k2m9x4q1w8e3r6"}
        assert record["level"] == "ERROR" and record["logger"] == "tests.third_party"


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_an_event_is_one_line_with_its_fields(fmt):
    handler, stream = _capture(fmt)
    logger = logging.getLogger("tests.events")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        log_event(
            logger,
            "job.completed",
            now=True,
            job_id="b7k2m9x4q1w8e3r6",
            user_id="a1b2c3d4e5f6g7h8",
            duration=1.25,
            engine="local pillow",
            retry_at=None,
        )
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    (line,) = stream.getvalue().splitlines()
    if fmt == "json":
        record = json.loads(line)
        assert record["message"] == record["event"] == "job.completed"
        assert (record["job_id"], record["user_id"], record["duration"]) == (
            "b7k2m9x4q1w8e3r6",
            "a1b2c3d4e5f6g7h8",
            1.25,
        )
        assert record["engine"] == "local pillow"
        assert "retry_at" not in record and "timestamp" in record
    else:
        assert line.endswith(
            " INFO tests.events job.completed job_id=b7k2m9x4q1w8e3r6 user_id=a1b2c3d4e5f6g7h8"
            ' duration=1.25 engine="local pillow"'
        )


def test_a_field_named_like_a_log_record_attribute_is_refused_at_once():
    with pytest.raises(ValueError, match="name"):
        log_event(logging.getLogger("tests.events"), "thing.done", now=True, name="x")


@pytest.mark.django_db
def test_an_event_in_a_transaction_is_logged_once_it_commits(django_capture_on_commit_callbacks):
    from django.db import transaction

    handler, stream = _capture("plain")
    logger = logging.getLogger("tests.commit")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            log_event(logger, "thing.done", thing_id="t1")
            assert stream.getvalue() == ""  # not yet: it may still roll back
        assert "thing.done thing_id=t1" in stream.getvalue()

        with django_capture_on_commit_callbacks(execute=True):
            try:
                with transaction.atomic():
                    log_event(logger, "thing.undone", thing_id="t2")
                    raise RuntimeError
            except RuntimeError:
                pass
        assert "thing.undone" not in stream.getvalue()  # rolled back: never happened
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def test_every_line_goes_through_the_redacting_handler():
    """Root, and the loggers that do not propagate to it (runserver's and gunicorn's access
    lines), write through the console handler and its filter; Django's own handlers (a console
    one in DEBUG, mail_admins) are gone, so django.request reaches root."""
    for name in ("", "django.server", "gunicorn.access", "gunicorn.error"):
        handlers = [
            h
            for h in logging.getLogger(name).handlers
            if not type(h).__module__.startswith("_pytest")  # pytest's own capture
        ]
        assert handlers, name
        for handler in handlers:
            assert any(isinstance(f, RedactingFilter) for f in handler.filters), (name, handler)
    assert logging.getLogger("django").handlers == []
    assert logging.getLogger("django").propagate


def _process_logging(**environment) -> subprocess.CompletedProcess:
    """A fresh interpreter (settings are read once, at import) that logs one event and one
    third-party line through the configured handlers."""
    inherited = ("DJANGO_SETTINGS_MODULE", "DEBUG", "LOG_FORMAT", "LOG_LEVEL")
    env = {k: v for k, v in os.environ.items() if k not in inherited}
    env.update(environment, DJANGO_SETTINGS_MODULE="config.settings")
    code = (
        "import django, logging; django.setup(); from core.logging import log_event; "
        "log_event(logging.getLogger('lumen.test'), 'job.completed', job_id='b7k2m9x4q1w8e3r6'); "
        "logging.getLogger('django.request').warning('Not Found: /redeem/SPRINGGIFT42/')"
    )
    return subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_log_format_json_makes_every_line_a_json_object():
    result = _process_logging(LOG_FORMAT="json")

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(r["event"], r["job_id"]) for r in lines if "event" in r] == [
        ("job.completed", "b7k2m9x4q1w8e3r6")
    ]
    assert lines[-1]["message"] == "Not Found: /redeem/[redacted]/"
    assert lines[-1]["level"] == "WARNING"


def test_the_default_format_is_one_key_value_line():
    result = _process_logging()

    assert result.returncode == 0, result.stderr
    first, second = result.stderr.splitlines()
    assert first.endswith(" INFO lumen.test job.completed job_id=b7k2m9x4q1w8e3r6")
    assert second.endswith(" WARNING django.request Not Found: /redeem/[redacted]/")


def test_an_unknown_log_format_stops_start_up_naming_the_variable():
    result = _process_logging(LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "LOG_FORMAT must be one of" in result.stderr
