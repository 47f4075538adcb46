"""The public directory: ACTIVE apps only, searched by name, newest first, in pages, at a fixed
number of queries whatever the number of apps."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from platform_apps import selectors
from platform_apps.models import App
from tests.factories import AppFactory, MonetizationModelFactory, RequirementFactory, UserFactory

URL = reverse("apps:directory")

pytestmark = pytest.mark.django_db


def make_apps(count, *, status="ACTIVE", prefix="App", user=None):
    """`count` apps created a minute apart (the last one newest), each with pricing,
    requirements and a fork, so the page has everything to show (and to query)."""
    start = timezone.now() - timedelta(days=1)
    made = []
    for i in range(count):
        app = AppFactory(
            user=user or UserFactory(),
            name=f"{prefix} {i:03d}",
            status=status,
            deleted_at=timezone.now() if status == "DELETED" else None,
        )
        App.objects.filter(pk=app.pk).update(created_at=start + timedelta(minutes=i))
        made.append(app)
    return made


def dress(apps):
    for app in apps:
        MonetizationModelFactory(app=app, type="ONE_TIME", price=Decimal("1.50"))
        MonetizationModelFactory(app=app)
        RequirementFactory(app=app)
        AppFactory(user=app.user, forked_from=app, status="ACTIVE", name=f"Fork of {app.name}")


def names(response):
    return re.findall(
        r'class="app-card-name"><a href="[^"]+">([^<]+)</a>', response.content.decode()
    )


def test_only_active_apps_newest_first(anon_client):
    make_apps(2, prefix="Live")
    for status in ("DRAFT", "ARCHIVED", "DELETED"):
        make_apps(1, status=status, prefix=status.title())

    response = anon_client.get(URL)

    assert response.status_code == 200
    assert names(response) == ["Live 001", "Live 000"]


def test_search_by_name_in_any_case(client):
    make_apps(1, prefix="Recipe box")
    make_apps(1, prefix="Budget")
    make_apps(1, prefix="Secret recipes", status="DRAFT")

    assert names(client.get(URL, {"q": "RECIPE"})) == ["Recipe box 000"]
    assert names(client.get(URL, {"q": "  budget  "})) == ["Budget 000"]
    nothing = client.get(URL, {"q": "zebra"})
    assert names(nothing) == [] and "No app is named like “zebra”" in nothing.content.decode()


def test_a_search_of_control_characters_only_is_no_search(client):
    make_apps(2)
    response = client.get(URL, {"q": "\x00\r\n"})
    assert response.status_code == 200 and names(response) == ["App 001", "App 000"]


@pytest.mark.parametrize("junk", ["a\x00b", "%", "_", "'; drop table x;--", "ü" * 500, "x" * 5000])
def test_a_search_of_junk_finds_nothing_and_fails_nothing(client, junk):
    make_apps(2)
    response = client.get(URL, {"q": junk})
    assert response.status_code == 200
    assert names(response) == []


def test_a_search_is_one_clean_line():
    assert selectors.clean_search(" a\x00b\r\n  c ") == "ab c"
    assert len(selectors.clean_search("x" * 5000)) == selectors.SEARCH_MAX_LENGTH


def test_pages_keep_the_search(client):
    make_apps(30, prefix="Tool")
    make_apps(3, prefix="Other")

    first = client.get(URL, {"q": "tool"})
    second = client.get(URL, {"q": "tool", "page": 2})

    assert names(first) == [f"Tool {i:03d}" for i in range(29, 5, -1)]
    assert names(second) == [f"Tool {i:03d}" for i in range(5, -1, -1)]
    assert 'href="?q=tool&amp;page=2"' in first.content.decode()
    assert names(client.get(URL, {"q": "tool", "page": "x"})) == names(first)
    assert names(client.get(URL, {"q": "tool", "page": 99})) == names(second)


def test_a_card_shows_pricing_counts_and_the_owners_public_name(client):
    (app,) = make_apps(1, user=UserFactory(public_name="Ada"))
    dress([app])
    html = client.get(URL).content.decode()
    assert "£1.50 once" in html and ">Free<" in html
    assert "By Ada" in html and "1 requirement" in html and "1 fork" in html


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_the_directory_costs_the_same_queries_for_3_and_30_apps(
    client, user, django_assert_max_num_queries, signed_in
):
    if signed_in:
        client.force_login(user)
    apps = make_apps(3)
    dress(apps)
    # count, one page of rows (counts as subqueries, owner joined), one prefetch of pricing;
    # signed in: the session, the user and the balance badge
    budget = 6 if signed_in else 3
    with django_assert_max_num_queries(budget):
        assert len(names(client.get(URL))) == 3 + 3  # the forks are active apps too
    more = make_apps(27)
    dress(more)
    with django_assert_max_num_queries(budget):
        assert len(names(client.get(URL))) == selectors.DIRECTORY_PAGE_SIZE
    with django_assert_max_num_queries(budget):
        assert len(names(client.get(URL, {"q": "App"}))) == selectors.DIRECTORY_PAGE_SIZE


def test_my_apps_costs_the_same_queries_for_3_and_30_apps(
    owner_client, user, django_assert_max_num_queries
):
    apps = make_apps(3, user=user)
    dress(apps)
    with django_assert_max_num_queries(6):
        owner_client.get(reverse("apps:mine"))
    dress(make_apps(27, user=user))
    with django_assert_max_num_queries(6):
        owner_client.get(reverse("apps:mine"))


def test_an_app_page_costs_the_same_queries_however_many_rows(
    client, user, django_assert_max_num_queries
):
    (app,) = make_apps(1, user=user)
    dress([app])
    with django_assert_max_num_queries(6):
        assert client.get(reverse("apps:detail", args=[app.pk])).status_code == 200
    for _ in range(20):
        RequirementFactory(app=app)
        MonetizationModelFactory(app=app)
        AppFactory(forked_from=app, status="ACTIVE")
    with django_assert_max_num_queries(6):
        assert client.get(reverse("apps:detail", args=[app.pk])).status_code == 200
