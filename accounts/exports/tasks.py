"""django-q2 entry points of the data export (their dotted paths are stored in queued messages
and in the sweep's `Schedule` row: keep them stable). Both are safe to run twice."""

from __future__ import annotations

from accounts.exports import builder


def build_data_export(export_id: str) -> str:
    return builder.build_export(export_id=export_id)


def expire_data_exports() -> dict:
    return builder.expire_exports().as_dict()
