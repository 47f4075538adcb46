"""A zip of enhanced results, written while it is sent: never built in memory or on disk.

`zip_stream(entries)` yields the archive's bytes as the files are read from storage, chunk by
chunk (Python's `zipfile` writes to a stream it cannot seek with data descriptors; ZIP64 is
on, so a set of 4K PNGs may pass 4 GB). Photos are already compressed: entries are stored.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator

from enhancement import storage

CHUNK = 256 * 1024


class _Pipe(io.RawIOBase):
    """A write-only file whose written bytes are taken out by `drain()`."""

    def __init__(self):
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:  # zipfile asks where it is; it never seeks back
        return self._position

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def zip_stream(entries: Iterable[tuple[str, str]]) -> Iterator[bytes]:
    """The zip of `entries` ((name in the archive, storage key)), as it is written."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, key in entries:
            with (
                storage.get_storage().open(key, "rb") as source,
                zf.open(name, mode="w", force_zip64=True) as target,
            ):
                while chunk := source.read(CHUNK):
                    target.write(chunk)
                    yield pipe.drain()
            yield pipe.drain()
    yield pipe.drain()


def unique_names(names: Iterable[str]) -> list[str]:
    """The names, with " (2)", " (3)"... before the extension of repeats."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        count = seen.get(name.lower(), 0) + 1
        seen[name.lower()] = count
        candidate = name if count == 1 else f"{stem} ({count}){dot}{ext}"
        while candidate.lower() in seen and candidate.lower() != name.lower():
            count += 1
            candidate = f"{stem} ({count}){dot}{ext}"
        seen.setdefault(candidate.lower(), 1)
        out.append(candidate)
    return out
