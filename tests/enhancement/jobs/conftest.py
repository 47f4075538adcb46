"""Fixtures of the job tests: funded users with stored images, the queue run inline, the fake
Gemini server behind the real google-genai client, and a ledger check after every test."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.factories import fund, stored_image


def assert_ledger_balanced():
    """`manage.py check_ledger` (tokens), and the invariant itself: for every user,
    sum(TokenTransaction.amount) == UserTokenBalance.balance."""
    call_command("check_ledger")
    from django.db.models import Sum

    from tokens.models import TokenTransaction, UserTokenBalance

    sums = dict(
        TokenTransaction.objects.values("user_id")
        .annotate(total=Sum("amount"))
        .values_list("user_id", "total")
    )
    for balance in UserTokenBalance.objects.all():
        assert sums.get(balance.user_id, 0) == balance.balance, (
            f"ledger of {balance.user_id}: transactions sum to {sums.get(balance.user_id, 0)}, "
            f"balance is {balance.balance}"
        )


@pytest.fixture(autouse=True)
def _ledger_checked(request):
    """Every scenario ends with a balanced ledger."""
    yield
    uses_db = request.node.get_closest_marker("django_db") or {
        "db",
        "transactional_db",
    } & set(request.fixturenames)
    if uses_db:
        assert_ledger_balanced()


@pytest.fixture
def sync_queue(monkeypatch):
    """django-q2 runs tasks inline (`Conf` read the settings at import: patch it, not them).
    Combine with `django_capture_on_commit_callbacks(execute=True)` so that what a service
    enqueues after its commit runs."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    return Conf


@pytest.fixture
def funded_user(user):
    fund(user, 100)
    return user


@pytest.fixture
def image(funded_user):
    return stored_image(funded_user, width=64, height=48)


@pytest.fixture(autouse=True)
def _local_engine_by_default(settings):
    """The local Pillow engine unless a test asks for `fake_gemini`."""
    settings.GEMINI_API_KEY = ""
    settings.GEMINI_BASE_URL = ""


@pytest.fixture
def fake_gemini(settings):
    """The fake Gemini server on loopback; `get_engine()` picks the real GeminiEngine (the real
    google-genai client) against it."""
    from tests.fakes.gemini_server import FakeGeminiServer

    with FakeGeminiServer() as fake:
        settings.GEMINI_API_KEY = "test-key"
        settings.GEMINI_BASE_URL = fake.base_url
        settings.GEMINI_TIMEOUT_MS = 10_000
        yield fake
