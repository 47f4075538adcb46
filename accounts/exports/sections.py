"""The parts of a data export, registered by the apps that own the data.

accounts cannot import the apps above it, so each app that keeps something of a user's writes
its own part of the export: in its `AppConfig.ready()`,

    from accounts.exports import sections
    sections.register("albums", write_albums, order=40)

A writer is `writer(user, archive)`: it adds its files to the `archive`
(`accounts.exports.archive.ExportArchive`) with the user's data only, streamed (querysets with
`.iterator()`, stored files copied in chunks), and never a secret (API key hashes, webhook
secrets, passwords, signed URLs). Sections run in `order`, then by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.exports.archive import ExportArchive

Writer = Callable[..., None]


@dataclass(frozen=True)
class Section:
    name: str
    writer: Writer
    order: int = 50
    # One line for the export's README: what this part holds.
    describes: str = ""


_registry: dict[str, Section] = {}


def register(name: str, writer: Writer, *, order: int = 50, describes: str = "") -> None:
    """Add (or replace) the section `name`."""
    _registry[name] = Section(name=name, writer=writer, order=order, describes=describes)


def all_sections() -> list[Section]:
    return sorted(_registry.values(), key=lambda s: (s.order, s.name))


def write_all(user, archive: ExportArchive) -> None:
    for section in all_sections():
        section.writer(user, archive)
