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
