"""The rollover rule (billing.rollover), case by case: what each renewal carries and grants."""

import itertools

import pytest

from billing import rollover

# case: (balance at renewal, ending period's tokens_per_month and rollover_tokens, new period's
# tokens_per_month and max_rollover) -> (unused, rollover carried, granted, balance after)
CASES = {
    "nothing spent, first renewal (Hobby 30, cap 30)": ((30, 30, 0, 30, 30), (30, 30, 30, 60)),
    "nothing spent again: at the cap, nothing topped up": ((60, 30, 30, 30, 30), (60, 30, 0, 60)),
    "all spent: the full month": ((0, 30, 30, 30, 30), (0, 0, 30, 30)),
    "half spent: the rest carried": ((15, 30, 0, 30, 30), (15, 15, 30, 45)),
    "a pack bought on top is not allowance": ((80, 30, 0, 30, 30), (30, 30, 30, 110)),
    "regenerated tokens on top count as unused": ((10, 30, 0, 30, 30), (10, 10, 30, 40)),
    "max_rollover 0 is unlimited (Studio 300)": ((300, 300, 0, 300, 0), (300, 300, 300, 600)),
    "unlimited, a second month unspent": ((600, 300, 300, 300, 0), (600, 600, 300, 900)),
    "upgrade at renewal (Hobby to Creator)": ((30, 30, 0, 100, 100), (30, 30, 100, 130)),
    "downgrade at renewal (Creator to Hobby)": ((60, 100, 0, 30, 30), (60, 30, 0, 60)),
    "downgrade with everything spent": ((0, 100, 50, 30, 30), (0, 0, 30, 30)),
    "unused beyond the cap is not topped up": ((100, 100, 0, 100, 30), (100, 30, 30, 130)),
    "after a missed renewal, from the last granted period": (
        (20, 100, 0, 100, 100),
        (20, 20, 100, 120),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_the_rule(case):
    (balance, tokens_per_month, rollover_tokens, new_tokens, new_max), expected = CASES[case]

    renewal = rollover.renew(
        balance=balance,
        tokens_per_month=tokens_per_month,
        rollover_tokens=rollover_tokens,
        new_tokens_per_month=new_tokens,
        new_max_rollover=new_max,
    )

    assert (
        renewal.unused,
        renewal.rollover_tokens,
        renewal.grant,
        balance + renewal.grant,
    ) == expected


def test_the_first_period_grants_the_month_and_carries_nothing():
    assert rollover.first_period(tokens_per_month=100) == rollover.Renewal(
        unused=0, rollover_tokens=0, grant=100
    )


def test_it_never_takes_back_and_never_exceeds_the_allowance_plus_the_rest():
    figures = [0, 1, 29, 30, 31, 100, 300]
    for balance, tpm, carried, new_tpm, new_max in itertools.product(figures, repeat=5):
        if tpm == 0 or new_tpm == 0:
            continue
        renewal = rollover.renew(
            balance=balance,
            tokens_per_month=tpm,
            rollover_tokens=carried,
            new_tokens_per_month=new_tpm,
            new_max_rollover=new_max,
        )
        assert renewal.grant >= 0
        assert renewal.rollover_tokens <= renewal.unused <= balance
        if new_max:
            assert renewal.rollover_tokens <= new_max
        # the new allowance is in the balance, on top of what was not allowance
        allowance = new_tpm + renewal.rollover_tokens
        assert balance + renewal.grant >= allowance
        assert balance + renewal.grant == (balance - renewal.unused) + max(
            allowance, renewal.unused
        )


def test_negative_figures_are_refused():
    with pytest.raises(ValueError):
        rollover.renew(
            balance=-1,
            tokens_per_month=30,
            rollover_tokens=0,
            new_tokens_per_month=30,
            new_max_rollover=30,
        )
