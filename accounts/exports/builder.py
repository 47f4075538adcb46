"""The worker's side of an export: build the zip, store it, mark it READY, e-mail its owner;
and the sweep that deletes expired ones.

The zip is written to a temporary file on disk by the sections (`accounts.exports.sections`),
then streamed to the storage from that file: neither the archive nor any stored photo is ever
held in memory whole. The task is safe to run twice (the first claims the row with a conditional
update; a second finds it no longer PENDING and does nothing).

A row deleted while its zip was being built (the account was deleted, or staff deleted it) is
noticed when the worker comes to mark it READY: the zip just written is deleted again.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.exports import files, sections
from accounts.exports.archive import ExportArchive
from accounts.models import DATA_EXPORT_ACTIVE, DataExport, DataExportStatus
from core.logging import log_event

logger = logging.getLogger(__name__)

FAILED_MESSAGE = "Something went wrong while preparing your data. Please try again."
STUCK_MESSAGE = "Preparing your data took too long. Please try again."


def archive_folder(export: DataExport) -> str:
    """The folder every file of the zip sits in, and the zip's own name without `.zip`."""
    return f"{slugify(settings.SITE_NAME) or 'lumen'}-export-{export.created_at:%Y-%m-%d}"


def build_export(*, export_id: str) -> str:
    """Build export `export_id` if it is still waiting. Returns what happened: "ready",
    "failed", "discarded" (its row went while it was built) or "skipped" (not PENDING)."""
    now = timezone.now()
    claimed = DataExport.objects.filter(pk=export_id, status=DataExportStatus.PENDING).update(
        status=DataExportStatus.RUNNING, started_at=now, updated_at=now
    )
    if not claimed:
        return "skipped"
    export = DataExport.objects.select_related("user").filter(pk=export_id).first()
    if export is None:
        return "discarded"
    try:
        key, size = _write_and_store(export)
    except Exception:
        logger.exception("data export %s failed", export_id)
        files.delete_folder(export_id)
        DataExport.objects.filter(pk=export_id, status=DataExportStatus.RUNNING).update(
            status=DataExportStatus.FAILED,
            finished_at=timezone.now(),
            error_message=FAILED_MESSAGE,
            updated_at=timezone.now(),
        )
        log_event(
            logger,
            "export.failed",
            level=logging.WARNING,
            now=True,
            export_id=export_id,
            user_id=export.user_id,
        )
        return "failed"
    return _mark_ready(export_id=export_id, key=key, size=size)


def _write_and_store(export: DataExport) -> tuple[str, int]:
    folder = archive_folder(export)
    # A named file: on S3 the upload reads its parts from the disk as it sends them.
    with tempfile.NamedTemporaryFile(prefix="data-export-", suffix=".zip") as tmp:
        with ExportArchive(tmp, root=folder) as archive:
            archive.write_text("README.txt", readme(export))
            sections.write_all(export.user, archive)
        size = tmp.tell()
        tmp.seek(0)
        key = files.save(files.zip_key(export.pk, f"{folder}.zip"), tmp)
    return key, size


def _mark_ready(*, export_id: str, key: str, size: int) -> str:
    with transaction.atomic():
        export = DataExport.objects.select_for_update().filter(pk=export_id).first()
        if export is None or export.status != DataExportStatus.RUNNING:
            discarded = True
        else:
            discarded = False
            now = timezone.now()
            export.status = DataExportStatus.READY
            export.storage_key = key
            export.size_bytes = size
            export.finished_at = now
            export.expires_at = now + timedelta(days=settings.DATA_EXPORT_LINK_DAYS)
            export.save()
            # The newest export replaces the earlier ones (and their files, after the commit).
            for older in (
                DataExport.objects.filter(user_id=export.user_id, created_at__lt=export.created_at)
                .exclude(status__in=DATA_EXPORT_ACTIVE)
                .select_for_update()
            ):
                older.delete()
            transaction.on_commit(partial(send_ready_email, export_id=export_id), robust=True)
            log_event(
                logger, "export.ready", export_id=export_id, user_id=export.user_id, size=size
            )
    if discarded:
        files.delete_folder(export_id)
        log_event(logger, "export.discarded", now=True, export_id=export_id)
        return "discarded"
    return "ready"


def send_ready_email(*, export_id: str) -> bool:
    """E-mail the owner that export `export_id` is ready, with its link. False if there is
    nobody to tell (the export is gone, or the account has no address)."""
    from allauth.account.adapter import get_adapter

    from accounts.exports import services

    export = DataExport.objects.select_related("user").filter(pk=export_id).first()
    if export is None or export.status != DataExportStatus.READY or not export.user.email:
        return False
    get_adapter().send_mail(
        "account/email/data_export_ready",
        export.user.email,
        {
            "export": export,
            "download_url": services.absolute_download_url(export),
            "account_url": services.absolute_url("accounts:profile"),
            "link_days": settings.DATA_EXPORT_LINK_DAYS,
        },
    )
    return True


def readme(export: DataExport) -> str:
    lines = [
        f"Your {settings.SITE_NAME} data",
        "",
        f"Everything {settings.SITE_NAME} kept for your account on "
        f"{export.created_at:%d %B %Y at %H:%M} UTC.",
        "Photos are exactly as you uploaded them and as we enhanced them; the .json files are",
        "plain text (UTF-8 JSON) that any program can read. Dates are in UTC (ISO 8601).",
        "",
        "What is inside:",
        "  README.txt                this file",
    ]
    for section in sections.all_sections():
        if section.describes:
            lines.extend(f"  {line}" for line in section.describes.splitlines())
    lines += [
        "",
        "Not inside: your password (only a one-way hash of it is kept), the secret parts of your",
        "API keys and webhooks, and other people's data.",
    ]
    return "\n".join(lines) + "\n"


# --- the sweep --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepResult:
    expired: int
    stuck: int

    def as_dict(self) -> dict:
        return {"expired": self.expired, "stuck": self.stuck}


def expire_exports(*, now=None) -> SweepResult:
    """READY exports past `expires_at` become EXPIRED and their zip is deleted; exports still
    PENDING or RUNNING far longer than a build may take are marked FAILED (their worker died)
    and anything they stored is deleted. Safe to run any time, any number of times."""
    now = now or timezone.now()
    expired = 0
    for export_id in DataExport.objects.filter(
        status=DataExportStatus.READY, expires_at__lte=now
    ).values_list("pk", flat=True):
        with transaction.atomic():
            changed = DataExport.objects.filter(pk=export_id, status=DataExportStatus.READY).update(
                status=DataExportStatus.EXPIRED, storage_key="", updated_at=now
            )
            if changed:
                expired += 1
                transaction.on_commit(partial(files.delete_folder, export_id), robust=True)
    stuck_before = now - timedelta(seconds=settings.DATA_EXPORT_TIMEOUT * 2)
    stuck = 0
    for export_id in DataExport.objects.filter(
        status__in=DATA_EXPORT_ACTIVE, created_at__lte=stuck_before
    ).values_list("pk", flat=True):
        with transaction.atomic():
            changed = DataExport.objects.filter(pk=export_id, status__in=DATA_EXPORT_ACTIVE).update(
                status=DataExportStatus.FAILED,
                finished_at=now,
                error_message=STUCK_MESSAGE,
                updated_at=now,
            )
            if changed:
                stuck += 1
                transaction.on_commit(partial(files.delete_folder, export_id), robust=True)
    if expired or stuck:  # quiet when there was nothing to do
        log_event(logger, "export.sweep.done", now=True, expired=expired, stuck=stuck)
    return SweepResult(expired=expired, stuck=stuck)
