import pytest

from enhancement.api import services
from tests.factories import SubscriptionFactory, SubscriptionPlanFactory, fund, stored_image


@pytest.fixture(autouse=True)
def _local_engine(settings):
    settings.GEMINI_API_KEY = ""
    settings.GEMINI_BASE_URL = ""


@pytest.fixture
def sync_queue(monkeypatch):
    """django-q2 runs tasks inline (its `Conf` read the settings at import)."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    return Conf


def give_api_access(user, **kwargs):
    plan = SubscriptionPlanFactory(name="Studio", api_access=True, priority=True)
    return SubscriptionFactory(user=user, plan=plan, stripe_price_id=plan.stripe_price_id, **kwargs)


@pytest.fixture
def api_user(user):
    give_api_access(user)
    fund(user, 100)
    return user


@pytest.fixture
def api_key(api_user):
    return services.create_api_key(user=api_user, name="tests").raw


@pytest.fixture
def api(client, api_key):
    """The test client with the key in every request."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {api_key}"
    return client


@pytest.fixture
def image(api_user):
    return stored_image(api_user, width=64, height=48)
