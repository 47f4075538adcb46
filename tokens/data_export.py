"""tokens' part of a data export (`accounts.exports.sections`): tokens.json (the balance) and
ledger.json (every token transaction, oldest first, with the balance after it). Registered in
`TokensConfig.ready()`."""

from __future__ import annotations

from accounts.exports import sections
from tokens import sources
from tokens.models import TokenTransaction, UserTokenBalance

DESCRIBES = """\
tokens.json               your token balance
ledger.json               every token earned, spent, refunded or taken back, oldest first"""


def ledger_rows(user):
    for row in (
        TokenTransaction.objects.filter(user=user).order_by("created_at", "pk").iterator(500)
    ):
        yield {
            "id": row.pk,
            "at": row.created_at,
            "type": row.type,
            "type_label": row.get_type_display(),
            "amount": row.amount,
            "balance_after": row.balance_after,
            "source": sources.describe(row.source).label if row.source else None,
            "source_id": row.source_id,
        }


def write_tokens(user, archive) -> None:
    balance = UserTokenBalance.objects.filter(user=user).first()
    archive.write_json(
        "tokens.json",
        {
            "balance": balance.balance if balance else 0,
            "last_regeneration": balance.last_regeneration if balance else None,
        },
    )
    archive.write_json_list("ledger.json", ledger_rows(user))


def register() -> None:
    sections.register("tokens", write_tokens, order=50, describes=DESCRIBES)
