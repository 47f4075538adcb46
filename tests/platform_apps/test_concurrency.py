"""Races on PostgreSQL, with real threads and connections: two apps claiming one domain at once,
two editors rewording one requirement at once."""

import threading

import pytest
from django.db import connection

from platform_apps import services
from platform_apps.models import App, Requirement
from tests.factories import AppFactory, RequirementFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*calls):
    """Run each call in its own thread (and connection), all released at once; return what
    each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # the outcome is what the test looks at
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.parametrize("attempt", range(3))
def test_two_apps_claiming_one_domain_at_once_one_wins(attempt):
    alice, bob = UserFactory(), UserFactory()
    bobs_app = AppFactory(user=bob)

    results = race(
        lambda: services.create_app(owner=alice, name="A", domain="race.example.com"),
        lambda: services.update_app(
            app=bobs_app, name="B", description=None, domain="RACE.example.com"
        ),
    )

    winners = [r for r in results if isinstance(r, App)]
    losers = [r for r in results if isinstance(r, services.DomainTaken)]
    assert (len(winners), len(losers)) == (1, 1), results
    assert App.objects.filter(domain="race.example.com").count() == 1


def test_two_editors_at_once_make_two_versions_and_lose_no_text():
    requirement = RequirementFactory(app=AppFactory(), description="v1")

    results = race(
        lambda: services.update_requirement(requirement=requirement, description="by Alice"),
        lambda: services.update_requirement(requirement=requirement, description="by Bob"),
    )

    assert all(isinstance(r, Requirement) for r in results), results
    requirement.refresh_from_db()
    assert requirement.version == 3
    history = list(requirement.revisions.values_list("version", "description"))
    assert [v for v, _ in history] == [2, 1]
    assert history[1] == (1, "v1")
    # the text that lost the race is the one kept as version 2
    assert {history[0][1], requirement.description} == {"by Alice", "by Bob"}
