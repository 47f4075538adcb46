"""The export card of the account page (`templates/accounts/_data_export.html`): the user's
latest export, shaped for the template."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from accounts.exports import services
from accounts.models import DataExport, DataExportStatus

POLL_EVERY = "3s"


@dataclass(frozen=True)
class ExportCard:
    export: DataExport | None
    download_url: str = ""
    link_days: int = 7

    @classmethod
    def for_user(cls, user) -> ExportCard:
        export = services.latest_export(user) if user.is_authenticated else None
        download_url = ""
        if export is not None and services.is_downloadable(export):
            download_url = services.download_path(export)
        return cls(
            export=export, download_url=download_url, link_days=settings.DATA_EXPORT_LINK_DAYS
        )

    @property
    def under_way(self) -> bool:
        return self.export is not None and self.export.is_active

    @property
    def poll_every(self) -> str:
        return POLL_EVERY if self.under_way else ""

    @property
    def ready(self) -> bool:
        return bool(self.download_url)

    @property
    def failed(self) -> bool:
        return self.export is not None and self.export.status == DataExportStatus.FAILED

    @property
    def expired(self) -> bool:
        """The last export's file is gone (swept, or past its time and not yet swept)."""
        if self.export is None:
            return False
        return self.export.status == DataExportStatus.EXPIRED or (
            self.export.status == DataExportStatus.READY
            and self.export.expires_at is not None
            and self.export.expires_at <= timezone.now()
        )

    @property
    def can_start(self) -> bool:
        return not self.under_way
