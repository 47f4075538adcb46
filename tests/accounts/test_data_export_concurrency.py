"""Real concurrency on PostgreSQL: ten clicks of "Prepare my data" at the same moment make one
export (the partial unique constraint settles the race the first check cannot)."""

from collections import Counter

import pytest

from accounts.exports import services
from accounts.models import DataExport
from tests.factories import UserFactory
from tests.tokens.test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_requests_at_once_make_one_export():
    # (its build is queued on the ORM broker of this test database, which no cluster reads)
    user = UserFactory()

    results = run_together(10, lambda i: services.request_export(user=user))

    outcome = Counter(type(r).__name__ for r in results)
    assert outcome == {"DataExport": 1, "ExportUnderWay": 9}, outcome
    assert DataExport.objects.filter(user=user).count() == 1
