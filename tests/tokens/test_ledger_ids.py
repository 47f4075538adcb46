"""Ledger rows made in SQL (the scheduled regeneration on PostgreSQL) take their ids from the
one secure generator, `core.ids.new_id`, like every other row."""

import pytest

from core.ids import ID_PATTERN
from tests.factories import UserFactory
from tests.tokens.conftest import MINUTE, T0
from tokens import services
from tokens.models import TokenTransaction, TokenTransactionType

pytestmark = pytest.mark.django_db


def test_the_scheduled_run_gives_its_rows_ids_from_the_one_generator(clock):
    for _ in range(40):
        UserFactory()
    clock.move_to(T0 + 15 * MINUTE, tick=False)

    assert services.regenerate_all().users == 40

    ids = list(
        TokenTransaction.objects.filter(type=TokenTransactionType.EARN_REGENERATION).values_list(
            "id", flat=True
        )
    )
    assert len(ids) == 40 == len(set(ids))
    assert all(ID_PATTERN.fullmatch(entry_id) for entry_id in ids)
    # new_id draws 24 characters from all 36 letters and digits; an md5 digest only from 16.
    # (The chance that one honest id looks like hex is 3.5e-9.)
    assert all(set(entry_id[1:]) - set("0123456789abcdef") for entry_id in ids)
