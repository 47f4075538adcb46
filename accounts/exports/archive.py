"""The export's zip, written to a file as the sections add to it: never held in memory whole.

Stored files are copied in chunks (`add_file`); JSON lists are written one row at a time
(`write_json_list`), so a library of thousands of photos costs a few chunks of memory, not its
size. Photos are already compressed: they are stored as they are; JSON is deflated. ZIP64 is
on, so an archive may pass 4 GB.

Every name goes under one folder (`lumen-export-<date>/`), and names taken from the user's own
text (an image's name) are made safe to unpack: no folders, no `..`, no control characters.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import uuid
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from typing import IO, Any

CHUNK = 256 * 1024
MAX_NAME = 80  # characters of a name taken from the user's text
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_DOTS = re.compile(r"\.{2,}")


def safe_name(text: str, *, fallback: str = "file") -> str:
    """`text` as one path segment any unzip tool accepts: separators and control characters
    become "_", runs of dots one dot, no leading dots or spaces, at most `MAX_NAME` characters."""
    name = _DOTS.sub(".", _UNSAFE.sub("_", str(text or ""))).strip(" .")
    return name[:MAX_NAME].rstrip(" .") or fallback


def _json_default(value: Any):
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile: its key
        return value.name or None
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False, indent=2)


class ExportArchive:
    """A zip being written to `fileobj` (a file on disk, seekable or not)."""

    def __init__(self, fileobj: IO[bytes], *, root: str, date_time: tuple | None = None):
        self.root = root.strip("/") + "/"
        self._zip = zipfile.ZipFile(
            fileobj, mode="w", compression=zipfile.ZIP_DEFLATED, allowZip64=True
        )
        self._date_time = date_time or dt.datetime.now().timetuple()[:6]
        self._names: set[str] = set()
        self.counts: dict[str, int] = {}

    # --- names ---------------------------------------------------------------------------------
    def _info(self, name: str, *, compress: bool) -> zipfile.ZipInfo:
        full = self.root + name.lstrip("/")
        if full in self._names:
            raise ValueError(f"{name!r} is already in the export")
        self._names.add(full)
        info = zipfile.ZipInfo(full, date_time=self._date_time)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        return info

    def has(self, name: str) -> bool:
        return self.root + name.lstrip("/") in self._names

    # --- files ---------------------------------------------------------------------------------
    def add_file(self, name: str, source: IO[bytes], *, compress: bool = False) -> int:
        """Copy `source` (an open binary file) into the archive as `name`, chunk by chunk.
        Returns the bytes copied."""
        info = self._info(name, compress=compress)
        with self._zip.open(info, mode="w", force_zip64=True) as target:
            shutil.copyfileobj(source, target, CHUNK)
        return info.file_size

    def write_text(self, name: str, text: str) -> None:
        with self._zip.open(self._info(name, compress=True), mode="w") as target:
            target.write(text.encode())

    def write_json(self, name: str, data: Any) -> None:
        """A small JSON document (an object; lists of rows go through `write_json_list`)."""
        self.write_text(name, to_json(data) + "\n")

    def write_json_list(self, name: str, rows: Iterable[dict]) -> int:
        """A JSON array written one row at a time. Returns how many rows."""
        count = 0
        with self._zip.open(self._info(name, compress=True), mode="w", force_zip64=True) as out:
            out.write(b"[")
            for row in rows:
                out.write((b",\n" if count else b"\n") + _indent(to_json(row)).encode())
                count += 1
            out.write(b"\n]\n" if count else b"]\n")
        self.counts[name] = count
        return count

    def write_lines(self, name: str, chunks: Iterable[str]) -> None:
        """A text file (HTML, CSV...) written piece by piece as `chunks` come."""
        with self._zip.open(self._info(name, compress=True), mode="w", force_zip64=True) as out:
            for chunk in chunks:
                out.write(chunk.encode())

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> ExportArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
