"""Asking for an export, and the signed link that downloads it.

The link names the export and its owner, signed and timestamped (`django.core.signing`), and
lives `DATA_EXPORT_LINK_DAYS` days like the zip itself. It is not a bearer token: the download
also needs its owner signed in (anyone else gets a 404, as for any object that is not theirs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import DATA_EXPORT_ACTIVE, DataExport, DataExportStatus
from core.logging import log_event

logger = logging.getLogger(__name__)

# The task's dotted path is stored in every queued message: keep it stable.
BUILD_TASK = "accounts.exports.tasks.build_data_export"
_LINK_SALT = "accounts.exports.download-link"


class ExportError(Exception):
    """Why an export cannot be started now (the message is for the user)."""


class ExportUnderWay(ExportError):
    def __init__(self, export: DataExport):
        super().__init__(
            "Your data is already being prepared. We will e-mail you when it is ready."
        )
        self.export = export


def latest_export(user) -> DataExport | None:
    """The user's newest export (the one the account page shows), or None."""
    return DataExport.objects.filter(user=user).order_by("-created_at").first()


def request_export(*, user) -> DataExport:
    """A new PENDING export for `user`, sent to the worker after the commit. Raises
    `ExportUnderWay` (with that export) while one is already PENDING or RUNNING; the
    database's partial unique constraint refuses a second one even under a race."""
    active = DataExport.objects.filter(user=user, status__in=DATA_EXPORT_ACTIVE).first()
    if active is not None:
        raise ExportUnderWay(active)
    try:
        with transaction.atomic():
            export = DataExport.objects.create(user=user)
            transaction.on_commit(partial(enqueue_build, export.pk))
            log_event(logger, "export.requested", export_id=export.pk, user_id=user.pk)
    except IntegrityError:
        active = DataExport.objects.filter(user=user, status__in=DATA_EXPORT_ACTIVE).first()
        if active is None:
            raise
        raise ExportUnderWay(active) from None
    return export


def enqueue_build(export_id: str) -> None:
    from django_q.tasks import async_task

    async_task(BUILD_TASK, export_id, timeout=settings.DATA_EXPORT_TIMEOUT)


# --- the link ---------------------------------------------------------------------------------
def link_max_age() -> timedelta:
    return timedelta(days=settings.DATA_EXPORT_LINK_DAYS)


def make_token(export: DataExport) -> str:
    return signing.dumps({"e": export.pk, "u": export.user_id}, salt=_LINK_SALT, compress=True)


@dataclass(frozen=True)
class LinkCheck:
    export_id: str
    user_id: str
    expired: bool


def read_token(token: str) -> LinkCheck:
    """What a link names, and whether it is past its age. Raises `signing.BadSignature` for a
    link that was not made here (forged, cut or altered)."""
    payload = signing.loads(token, salt=_LINK_SALT)
    if not isinstance(payload, dict) or not {"e", "u"} <= payload.keys():
        raise signing.BadSignature("not an export link")
    try:
        signing.loads(token, salt=_LINK_SALT, max_age=link_max_age())
        expired = False
    except signing.SignatureExpired:
        expired = True
    return LinkCheck(export_id=str(payload["e"]), user_id=str(payload["u"]), expired=expired)


def download_path(export: DataExport) -> str:
    return reverse("accounts:data_export_download", args=[make_token(export)])


def absolute_url(name: str, *args) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)


def absolute_download_url(export: DataExport) -> str:
    return settings.SITE_URL.rstrip("/") + download_path(export)


def download_filename(export: DataExport) -> str:
    return export.storage_key.rsplit("/", 1)[-1] or "export.zip"


def is_downloadable(export: DataExport, *, now=None) -> bool:
    from django.utils import timezone

    now = now or timezone.now()
    return (
        export.status == DataExportStatus.READY
        and bool(export.storage_key)
        and export.expires_at is not None
        and export.expires_at > now
    )
