import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth counts sign-ups, logins and emails per key in the cache: start each test clean."""
    cache.clear()
    yield
    cache.clear()
