"""The rollover rule: what a subscription's renewal grants. Pure arithmetic, no I/O.

The product's rule, at each renewal (a paid invoice that starts a new period):

- the allowance of a period is `tokens_per_month + rollover_tokens` of that period;
- `unused = min(balance, allowance of the period that ends)`: the balance counts as unused
  allowance first, whatever else it holds (packs bought, regenerated tokens, bonuses);
- the new period's `rollover_tokens = unused` when its plan's `max_rollover` is 0 (unlimited),
  else `min(unused, max_rollover)`;
- the renewal grants `tokens_per_month - (unused - rollover_tokens)` of the new period's plan,
  never below 0: allowance left unused beyond the cap is not topped up again, and nothing is
  ever taken back.

So with nothing spent, a balance settles at `tokens_per_month + max_rollover` and stays there;
with everything spent, each renewal grants the full `tokens_per_month`. The first paid period
grants `tokens_per_month` with no rollover (`first_period`). A missed renewal (an invoice never
paid) grants nothing, and the next paid one applies this rule to the last period that was
granted. A downgrade takes effect at the next renewal (the new, smaller plan's figures); an
upgrade in the middle of a period grants the difference in monthly tokens at once
(`billing.subscriptions`), which becomes part of that period's allowance.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Renewal:
    unused: int  # allowance of the ending period still in the balance
    rollover_tokens: int  # carried into the new period's allowance
    grant: int  # tokens the renewal adds to the balance


def first_period(*, tokens_per_month: int) -> Renewal:
    """The first paid period: its monthly tokens, nothing carried."""
    return Renewal(unused=0, rollover_tokens=0, grant=tokens_per_month)


def renew(
    *,
    balance: int,
    tokens_per_month: int,
    rollover_tokens: int,
    new_tokens_per_month: int,
    new_max_rollover: int,
) -> Renewal:
    """The renewal after a period whose allowance was `tokens_per_month + rollover_tokens`,
    into a period of `new_tokens_per_month` capped at `new_max_rollover` (0 = unlimited),
    for a user holding `balance` tokens at that moment."""
    if min(balance, tokens_per_month, rollover_tokens, new_tokens_per_month, new_max_rollover) < 0:
        raise ValueError("token figures are never negative")
    unused = min(balance, tokens_per_month + rollover_tokens)
    carried = unused if new_max_rollover == 0 else min(unused, new_max_rollover)
    grant = max(0, new_tokens_per_month - (unused - carried))
    return Renewal(unused=unused, rollover_tokens=carried, grant=grant)
