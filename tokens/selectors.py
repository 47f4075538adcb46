"""Read-only queries for the tokens pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse

from tokens.models import TokenTransaction


@dataclass(frozen=True)
class Origin:
    """What a transaction came from, as the history shows it."""

    label: str
    reference: str | None = None  # the job, payment or voucher id, shown as text
    url: str | None = None  # a link to it, where a page for it exists


# source -> (label, URL name taking the source_id). To link a source, give it its URL name:
# one line here (payments and vouchers get theirs when their pages exist).
SOURCES: dict[str, tuple[str, str | None]] = {
    "enhancement": ("Enhancement job", "jobs:detail"),
    "stripe": ("Payment", None),
    "billing": ("Payment", None),
    "subscription": ("Subscription", None),
    "voucher": ("Voucher", None),
    "regeneration": ("Regeneration", None),
    "signup": ("Welcome tokens", None),
}


def origin_of(entry: TokenTransaction) -> Origin:
    label, url_name = SOURCES.get(entry.source or "", (None, None))
    if label is None:
        label = (entry.source or "—").replace("_", " ").capitalize()
    if entry.source == "signup":  # its source_id is the user's own id: nothing to show
        return Origin(label)
    url = reverse(url_name, args=[entry.source_id]) if url_name and entry.source_id else None
    return Origin(label=label, reference=entry.source_id, url=url)


def transactions_for(user, *, type: str | None = None) -> QuerySet[TokenTransaction]:
    """A user's ledger, newest first, optionally of one type."""
    entries = TokenTransaction.objects.filter(user=user).only(
        "id", "amount", "type", "source", "source_id", "balance_after", "created_at"
    )
    if type:
        entries = entries.filter(type=type)
    return entries.order_by("-created_at", "-id")
