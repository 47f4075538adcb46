"""Read-only queries for the tokens pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse

from tokens import sources
from tokens.models import TokenTransaction


@dataclass(frozen=True)
class Origin:
    """What a transaction came from, as the history shows it."""

    label: str
    reference: str | None = None  # the job, payment or voucher id, shown as text
    url: str | None = None  # a link to it, where a page for it exists
    text: str | None = None  # what its source says of it ("Enhanced “Beach” at 2K")


def origin_of(entry: TokenTransaction) -> Origin:
    """The row's source as the history shows it (see `tokens.sources`)."""
    source = sources.describe(entry.source)
    if not source.show_reference:
        return Origin(source.label)
    url = None
    if source.url_name and entry.source_id:
        try:
            url = reverse(source.url_name, args=[entry.source_id])
        except NoReverseMatch:  # an id its page does not take (a row written by hand)
            url = None
    return Origin(label=source.label, reference=entry.source_id, url=url)


def origins_of(entries) -> list[Origin]:
    """`origin_of` for a page of rows, with what each source says of its ids: one call per
    source (`describe_ids`), so a page costs the same queries however long. A source whose
    record is gone is shown as text, never as a link to a page that would be a 404."""
    entries = list(entries)
    wanted: dict[str, set[str]] = {}
    for entry in entries:
        if entry.source and entry.source_id:
            wanted.setdefault(entry.source, set()).add(entry.source_id)
    described: dict[str, dict[str, tuple[str, str | None]]] = {}
    for name, ids in wanted.items():
        source = sources.describe(name)
        if source.show_reference and source.describe_ids is not None:
            described[name] = source.describe_ids(ids)
    origins = []
    for entry in entries:
        origin = origin_of(entry)
        if entry.source in described:
            known = described[entry.source].get(entry.source_id)
            origin = (
                Origin(label=origin.label, reference=origin.reference, text=known[0], url=known[1])
                if known
                else Origin(label=origin.label, reference=origin.reference)  # gone: no link
            )
        origins.append(origin)
    return origins


def transactions_for(
    user: AbstractBaseUser, *, type: str | None = None
) -> QuerySet[TokenTransaction]:
    """A user's ledger, newest first, optionally of one type."""
    entries = TokenTransaction.objects.filter(user=user).only(
        "id", "amount", "type", "source", "source_id", "balance_after", "created_at"
    )
    if type:
        entries = entries.filter(type=type)
    return entries.order_by("-created_at", "-id")
