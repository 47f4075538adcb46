"""Structured log lines: one line per event, with its ids as fields.

- `log_event(logger, "job.completed", job_id=..., user_id=...)` writes one record whose message
  is the event's name and whose fields ride in `extra` (stable names: `event`, `job_id`,
  `user_id`, ...). A state change is logged after the commit (`transaction.on_commit`): a
  transition that rolls back never shows in the log. `now=True` logs at once (a receipt, a
  refusal, a failure: facts whether or not a transaction commits).
- `KeyValueFormatter` (the default, `LOG_FORMAT=plain`) prints `time LEVEL logger event k=v ...`
  on one line; `JsonFormatter` (`LOG_FORMAT=json`) prints the same fields as one JSON object
  per line (python-json-logger).
- `RedactingFilter`, on the handlers, is the safety net for every line, ours and third
  parties' (django.request logs the path, dj-stripe the payload it refused): e-mail
  addresses, signed media paths and export links (and any django.core.signing value), share
  tokens, voucher codes, presigned S3 query strings, Stripe keys and client secrets, our API
  keys, confirmation and reset keys, passwords, cookies and bearer tokens are replaced in the
  message, its arguments, the traceback and the extra fields. Our own lines carry ids only;
  the filter is there for what we do not write.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from functools import partial
from typing import Any

from django.db import transaction
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

REDACTED = "[redacted]"
EMAIL = "[email]"

# Attributes every LogRecord has (not extra fields), and Django's own that are objects, not
# facts: `request` (an HttpRequest or a socket) and `server_time` (runserver's access lines).
STANDARD_ATTRS = frozenset(RESERVED_ATTRS) | {"taskName", "request", "server_time"}

# Extra fields whose value is never printed, whatever it holds.
SENSITIVE_FIELDS = frozenset(
    {
        "api_key",
        "authorization",
        "body",
        "code",
        "cookie",
        "cookies",
        "email",
        "headers",
        "key",
        "password",
        "payload",
        "secret",
        "signature",
        "token",
        "voucher_code",
    }
)

_SENSITIVE_NAMES = (
    r"password\d?|passwd|secret|api_?key|access_token|refresh_token|client_secret|token|code|key"
    r"|signature|sessionid|csrftoken|csrfmiddlewaretoken|email|x-amz-signature"
    r"|x-amz-credential|x-amz-security-token|awsaccesskeyid"
)
_PATTERNS: list[tuple[re.Pattern, str]] = [
    # Paths that carry a bearer secret: signed media files, shared albums, voucher links,
    # allauth's confirmation and password-reset keys.
    (re.compile(r"(/media/f/)[^/\s?#\"'<>]+"), rf"\1{REDACTED}"),
    (re.compile(r"(/s/)[^/\s?#\"'<>]+"), rf"\1{REDACTED}"),
    (re.compile(r"(/redeem/)[^/\s?#\"'<>]+"), rf"\1{REDACTED}"),
    (re.compile(r"(/confirm-email/)[^/\s?#\"'<>]+"), rf"\1{REDACTED}"),
    (re.compile(r"(/password/reset/key/)[^/\s?#\"'<>]+"), rf"\1{REDACTED}"),
    (re.compile(r"(/export/download/)[^/\s?#\"'<>]+"), rf"\1{REDACTED}"),
    # Any value signed by django.core.signing (`payload:timestamp:signature`), wherever it is.
    (re.compile(r"[A-Za-z0-9_\-.]{8,}:[A-Za-z0-9]{4,}:[A-Za-z0-9_\-]{20,}"), REDACTED),
    # Credentials in a URL (postgres://user:password@host, redis://:password@host).
    (re.compile(r"\b([a-z][a-z0-9+.\-]*://[^:/\s@]*:)[^@\s/]+@"), rf"\1{REDACTED}@"),
    # Stripe secret and restricted keys, webhook secrets, client secrets of intents/sessions.
    (re.compile(r"\b(sk|rk|whsec)_[A-Za-z0-9_]+"), rf"\1_{REDACTED}"),
    (re.compile(r"(_secret_)[A-Za-z0-9]+"), rf"\1{REDACTED}"),
    # Stripe-Signature header values (t=...,v1=<hex>).
    (re.compile(r"\b(v[01]=)[0-9a-fA-F]{16,}"), rf"\1{REDACTED}"),
    # Our API keys (enhancement.api.services.KEY_PREFIX) and bearer tokens.
    (re.compile(r"\blum_[A-Za-z0-9_\-]+"), f"lum_{REDACTED}"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[^\s\"',;]+"), rf"\1 {REDACTED}"),
    # name=value in query strings, forms, headers and text (password=..., X-Amz-Signature=...,
    # sessionid=...), and "name": "value" in JSON-ish text.
    (
        re.compile(rf"(?i)\b({_SENSITIVE_NAMES})=[^&\s\"'<>;,]+"),
        rf"\1={REDACTED}",
    ),
    (
        re.compile(rf"(?i)([\"']({_SENSITIVE_NAMES})[\"']\s*:\s*)(\"[^\"]*\"|'[^']*')"),
        rf"\1'{REDACTED}'",
    ),
    # E-mail addresses, plain and percent-encoded.
    (re.compile(r"[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"), EMAIL),
]


def redact(text: str) -> str:
    """`text` with every secret, token and e-mail address it holds replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any) -> Any:
    """A field's value, redacted: strings through `redact`, containers item by item (a
    sensitive key's value replaced whole), numbers and booleans as they are, anything else
    as its redacted text (so no object's repr leaks a secret)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {
            str(k): REDACTED if str(k).lower() in SENSITIVE_FIELDS else redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v) for v in value]
    return redact(str(value))


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's own fields (what `extra=` added), in the order they were given."""
    return {k: v for k, v in record.__dict__.items() if k not in STANDARD_ATTRS}


class RedactingFilter(logging.Filter):
    """Rewrites each record in place before any formatter sees it: the message (with its
    arguments merged in), the traceback and stack text, and every extra field. Never drops a
    record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep its parts, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
            record.exc_info = None  # the formatters print exc_text; never the raw exception
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in extra_fields(record).items():
            if name.lower() in SENSITIVE_FIELDS:
                setattr(record, name, REDACTED)
            else:
                setattr(record, name, redact_value(value))
        if hasattr(record, "request"):
            # Django's HttpRequest (django.request) or runserver's socket: its repr names the
            # path; nothing prints it, but a later handler must not find the raw object.
            record.request = redact(str(record.request))
        record._redacted = True
        return True


def _plain(value: Any) -> str:
    if isinstance(value, str) and value and not re.search(r"[\s\"'=]", value):
        return value
    if isinstance(value, str | int | float | bool) or value is None:
        return json.dumps(value)
    return json.dumps(value, default=str, separators=(",", ":"))


class KeyValueFormatter(logging.Formatter):
    """`2026-01-01 12:00:00,000 INFO enhancement.jobs.transitions job.completed job_id=... ` on
    one line: the message, then each extra field as key=value (values with spaces or quotes
    JSON-quoted). A traceback follows on the next lines."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, **kwargs):
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s %(message)s", datefmt)

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        fields = {k: v for k, v in extra_fields(record).items() if not k.startswith("_")}
        if fields.get("event") == record.message:
            fields.pop("event")
        if fields:
            line += " " + " ".join(f"{k}={_plain(v)}" for k, v in fields.items())
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: timestamp, level, logger, message and every extra field."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("reserved_attrs", sorted(STANDARD_ATTRS | {"_redacted"}))
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        super().__init__(*args or ("%(levelname)s %(name)s %(message)s",), **kwargs)


def log_event(
    logger: logging.Logger,
    event: str,
    *,
    level: int = logging.INFO,
    now: bool = False,
    **fields: Any,
) -> None:
    """One structured line: message `event`, fields `event` and `**fields` (ids, counts,
    amounts; never a secret, a code or an e-mail address; a field that is None is left out).
    Logged once the current transaction commits (at once outside one; never if it rolls back),
    or at once with `now=True`."""
    clash = fields.keys() & STANDARD_ATTRS
    if clash:  # logging would refuse them (KeyError), after the commit: refuse them here
        raise ValueError(f"log_event: {sorted(clash)} are LogRecord attributes, not fields")
    if not logger.isEnabledFor(level):
        return
    fields = {name: value for name, value in fields.items() if value is not None}
    emit = partial(logger.log, level, event, extra={"event": event, **fields})
    if now:
        emit()
    else:
        transaction.on_commit(emit, robust=True)  # a log line never breaks what committed
