import io

import pytest
from django.core.management import call_command


@pytest.fixture(autouse=True)
def _ledger_checked_after_each_test(request):
    """`check_ledger` (sum of amounts equals the balance, every voucher row names a
    redemption) passes after every vouchers test that touched the database."""
    if request.node.get_closest_marker("django_db") is None:
        yield
        return
    request.getfixturevalue("db")
    yield
    call_command("check_ledger", stdout=io.StringIO())


# the billing tests' fake Stripe, webhook endpoint and catalogue (tests/billing/conftest.py)
from tests.billing.conftest import catalogue, fake_stripe, stripe_server, webhook  # noqa: E402, F401
