"""The pages of platform apps over HTTP: who may see and do what (the owner, another user, an
anonymous visitor), what each page shows, and what bad input gets (a message and a 400)."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from platform_apps import services
from platform_apps.models import App, MonetizationModel, Requirement, RequirementRevision
from tests.factories import AppFactory, MonetizationModelFactory, RequirementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(user):
    """Alice's draft with a requirement and a pricing model."""
    app = AppFactory(user=user, name="Alice's planner", description="Plans things.")
    RequirementFactory(app=app, description="Works offline", priority="HIGH")
    MonetizationModelFactory(app=app, type="ONE_TIME", price=Decimal("4.99"))
    return app


def url(name, app, **more):
    return reverse(f"apps:{name}", kwargs={"app_id": app.pk, **more})


def body(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- the matrix: every route of an app, for the owner, a stranger and an anonymous visitor --------
def owner_routes(app):
    """(method, url, data) of every page and action that only the owner may use."""
    requirement = app.requirements.get()
    model = app.monetization_models.get()
    return [
        ("get", url("edit", app), None),
        ("post", url("edit", app), {"name": "Hijacked"}),
        ("post", url("status", app), {"status": "ACTIVE"}),
        ("post", url("requirement_add", app), {"description": "x", "priority": "LOW"}),
        ("get", url("requirement_edit", app, requirement_id=requirement.pk), None),
        (
            "post",
            url("requirement_edit", app, requirement_id=requirement.pk),
            {"description": "changed", "priority": "LOW", "status": "REJECTED"},
        ),
        (
            "post",
            url("requirement_triage", app, requirement_id=requirement.pk),
            {"priority": "LOW", "status": "REJECTED"},
        ),
        ("get", url("requirement_delete", app, requirement_id=requirement.pk), None),
        ("post", url("requirement_delete", app, requirement_id=requirement.pk), None),
        ("get", url("monetization_add", app), None),
        ("post", url("monetization_add", app), {"type": "FREE"}),
        ("get", url("monetization_edit", app, monetization_id=model.pk), None),
        ("post", url("monetization_edit", app, monetization_id=model.pk), {"type": "FREE"}),
        ("get", url("monetization_delete", app, monetization_id=model.pk), None),
        ("post", url("monetization_delete", app, monetization_id=model.pk), None),
        ("get", url("delete", app), None),
        ("post", url("delete", app), None),  # last: the owner's others need the app
    ]


def snapshot(app):
    return (
        list(App.objects.values_list("id", "name", "status", "domain", "description")),
        list(Requirement.objects.values_list("id", "description", "priority", "status")),
        list(MonetizationModel.objects.values_list("id", "type", "price")),
    )


@pytest.mark.parametrize("status", ["DRAFT", "ACTIVE", "ARCHIVED"])
def test_a_stranger_gets_404_for_every_owner_route_and_changes_nothing(
    stranger_client, app, status
):
    App.objects.filter(pk=app.pk).update(status=status)
    before = snapshot(app)
    for method, target, data in owner_routes(app):
        response = getattr(stranger_client, method)(target, data or {})
        assert response.status_code == 404, (method, target)
    assert snapshot(app) == before


def test_an_anonymous_visitor_is_sent_to_sign_in_for_every_owner_route(anon_client, app):
    before = snapshot(app)
    for method, target, data in owner_routes(app):
        response = getattr(anon_client, method)(target, data or {})
        assert response.status_code == 302, (method, target)
        assert response["Location"].startswith(reverse("account_login"))
    assert snapshot(app) == before


def test_the_owner_may_use_every_route(owner_client, app):
    for method, target, data in owner_routes(app):
        response = getattr(owner_client, method)(target, data or {})
        assert response.status_code in (200, 302), (method, target, response.status_code)


def test_nobody_reaches_a_deleted_app_not_even_its_owner(owner_client, stranger_client, app):
    routes = owner_routes(app)  # the requirement and the model still exist
    services.delete_app(app=app)
    for client in (owner_client, stranger_client):
        assert client.get(url("detail", app)).status_code == 404
        assert client.get(url("fork", app)).status_code == 404
        for method, target, data in routes:
            assert getattr(client, method)(target, data or {}).status_code == 404, target


def test_a_requirement_or_model_of_another_app_is_404(owner_client, app, user):
    other = AppFactory(user=user)
    requirement = app.requirements.get()
    model = app.monetization_models.get()
    assert (
        owner_client.get(url("requirement_edit", other, requirement_id=requirement.pk))
    ).status_code == 404
    assert (
        owner_client.get(url("monetization_edit", other, monetization_id=model.pk))
    ).status_code == 404


# --- the app's page -----------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["DRAFT", "ARCHIVED"])
def test_a_private_app_is_404_to_all_but_its_owner(
    owner_client, stranger_client, anon_client, app, status
):
    App.objects.filter(pk=app.pk).update(status=status)
    assert owner_client.get(url("detail", app)).status_code == 200
    assert stranger_client.get(url("detail", app)).status_code == 404
    assert anon_client.get(url("detail", app)).status_code == 404


def test_an_active_app_is_public_and_read_only(stranger_client, anon_client, app):
    App.objects.filter(pk=app.pk).update(status="ACTIVE")
    for client in (stranger_client, anon_client):
        response = client.get(url("detail", app))
        html = body(response)
        assert response.status_code == 200
        assert "Works offline" in html and "£4.99 once" in html
        assert url("edit", app) not in html and url("delete", app) not in html
        assert url("requirement_add", app) not in html
        assert "alice@example.com" not in html  # the owner by their public label only
        assert "<dt>By</dt><dd>A Lumen member</dd>" in html
    assert url("fork", app) in body(stranger_client.get(url("detail", app)))
    assert "Sign in to fork" in body(anon_client.get(url("detail", app)))


def test_the_owner_sees_the_status_and_every_action(owner_client, app):
    html = body(owner_client.get(url("detail", app)))
    for name in ("edit", "fork", "delete", "requirement_add", "monetization_add", "status"):
        assert url(name, app) in html, name
    assert 'value="ACTIVE"' in html and ">Publish<" in html
    assert 'value="ARCHIVED"' not in html  # a draft cannot be archived


def test_the_page_lists_requirements_by_priority_then_age_with_their_history(owner_client, user):
    app = AppFactory(user=user)
    base = timezone.now() - timedelta(days=3)
    for i, priority in enumerate(["LOW", "CRITICAL", "MEDIUM", "CRITICAL"]):
        r = RequirementFactory(app=app, description=f"Req {i} {priority}", priority=priority)
        Requirement.objects.filter(pk=r.pk).update(created_at=base + timedelta(hours=i))
    edited = app.requirements.get(description="Req 2 MEDIUM")
    services.update_requirement(requirement=edited, description="Req 2 MEDIUM, reworded")

    html = body(owner_client.get(url("detail", app)))

    listed = re.findall(r'class="requirement-text"><p>(Req [^<]+)</p>', html)
    assert listed == ["Req 1 CRITICAL", "Req 3 CRITICAL", "Req 2 MEDIUM, reworded", "Req 0 LOW"]
    assert "v2" in html and "Earlier version (1)" in html and "<p>Req 2 MEDIUM</p>" in html


def test_forks_and_the_parent_are_linked_both_ways(owner_client, stranger_client, app, other_user):
    App.objects.filter(pk=app.pk).update(status="ACTIVE")
    public_fork = services.fork_app(app=app, user=other_user, name="Bob's public fork")
    services.change_status(app=public_fork, to="ACTIVE")
    services.fork_app(app=app, user=other_user, name="Bob's draft fork")

    owner_page = body(owner_client.get(url("detail", app)))
    assert "Bob&#x27;s public fork" in owner_page
    assert "Bob&#x27;s draft fork" not in owner_page  # a fork's draft is its owner's business
    bob_page = body(stranger_client.get(url("detail", app)))
    assert "Bob&#x27;s draft fork" in bob_page and "by you (draft)" in bob_page

    fork_page = body(stranger_client.get(url("detail", public_fork)))
    assert "Forked from" in fork_page and url("detail", app) in fork_page


def test_a_fork_of_a_deleted_parent_works_and_says_the_parent_is_gone(
    owner_client, stranger_client, app, other_user
):
    App.objects.filter(pk=app.pk).update(status="ACTIVE")
    fork = services.fork_app(app=app, user=other_user)
    services.delete_app(app=app)

    response = stranger_client.get(url("detail", fork))

    assert response.status_code == 200
    assert "Forked from an app that has since been deleted" in body(response)
    assert url("detail", app) not in body(response)
    assert stranger_client.post(url("status", fork), {"status": "ACTIVE"}).status_code == 302


def test_a_fork_of_a_parent_made_private_does_not_link_it(stranger_client, app, other_user):
    App.objects.filter(pk=app.pk).update(status="ACTIVE")
    fork = services.fork_app(app=app, user=other_user)
    services.change_status(app=app, to="DRAFT")

    html = body(stranger_client.get(url("detail", fork)))
    assert "Forked from an app that is no longer public" in html
    assert url("detail", app) not in html


# --- creating, editing, the life cycle ----------------------------------------------------------
def test_create_an_app(owner_client, user):
    response = owner_client.post(
        reverse("apps:create"),
        {"name": "  Budget\tbook ", "description": "Money\r\nin, out", "domain": "Budget.Example"},
    )
    app = App.objects.get(user=user)
    assert response.status_code == 302 and response["Location"] == url("detail", app)
    assert (app.name, app.description, app.domain, app.status) == (
        "Budget book",
        "Money\nin, out",
        "budget.example",
        "DRAFT",
    )


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "x" * 256}, "name", "at most 255 characters"),
        ({"name": "ok", "domain": "https://a.example.com"}, "domain", "without http://"),
        ({"name": "ok", "domain": "a.example.com:80"}, "domain", "without a port"),
        ({"name": "ok", "domain": "a.example.com/x"}, "domain", "without a path"),
        ({"name": "ok", "domain": "nodot"}, "domain", "with a dot"),
        ({"name": "ok", "domain": "TAKEN.example.com"}, "domain", "already used by another app"),
        ({"name": "ok", "description": "x" * 5001}, "description", "at most 5000"),
    ],
)
def test_a_bad_app_form_is_a_400_with_the_message(owner_client, other_user, data, field, says):
    AppFactory(user=other_user, domain="taken.example.com")
    response = owner_client.post(reverse("apps:create"), data)
    assert response.status_code == 400
    assert any(says in e for e in response.context["form"].errors[field]), response.context[
        "form"
    ].errors
    assert says.replace("'", "&#x27;") in body(response) or says in body(response)
    assert App.objects.count() == 1


def test_edit_an_app_and_its_domain(owner_client, app):
    response = owner_client.post(
        url("edit", app), {"name": "Planner", "description": "", "domain": "bücher.example"}
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.name, app.description, app.domain) == ("Planner", None, "xn--bcher-kva.example")
    # the form shows the domain as people read it
    assert 'value="bücher.example"' in body(owner_client.get(url("edit", app)))
    assert "bücher.example" in body(owner_client.get(url("detail", app)))


def test_a_domain_taken_in_another_case_is_refused_on_edit(owner_client, app, other_user):
    AppFactory(user=other_user, domain="mine.example.com")
    response = owner_client.post(url("edit", app), {"name": "x", "domain": "MINE.example.com"})
    assert response.status_code == 400
    assert "already used by another app" in body(response)


def test_publish_archive_and_back(owner_client, app):
    for target, says in [
        ("ACTIVE", "is active"),
        ("ARCHIVED", "is archived"),
        ("ACTIVE", "is active again"),
        ("DRAFT", "is a draft again"),
    ]:
        response = owner_client.post(url("status", app), {"status": target}, follow=True)
        assert App.objects.get(pk=app.pk).status == target
        assert any(says in m for m in messages_of(response)), messages_of(response)


@pytest.mark.parametrize("target", ["ARCHIVED", "DELETED", "junk", ""])
def test_a_move_that_makes_no_sense_is_a_400_with_a_message(owner_client, app, target):
    response = owner_client.post(url("status", app), {"status": target})
    assert response.status_code == 400
    assert messages_of(response)
    assert App.objects.get(pk=app.pk).status == "DRAFT"


def test_delete_asks_first_then_hides_the_app(owner_client, app):
    assert "Delete the app" in body(owner_client.get(url("delete", app)))
    response = owner_client.post(url("delete", app))
    assert response.status_code == 302 and response["Location"] == reverse("apps:mine")
    assert App.objects.get(pk=app.pk).status == "DELETED"
    page = owner_client.get(reverse("apps:mine"))
    assert "“Alice&#x27;s planner” was deleted." in body(page)  # the message, once
    assert url("detail", app) not in body(page) and "No apps yet" in body(page)


# --- forking over HTTP --------------------------------------------------------------------------
def test_a_stranger_forks_an_active_app(stranger_client, app, other_user):
    App.objects.filter(pk=app.pk).update(status="ACTIVE", domain="planner.example.com")
    page = stranger_client.get(url("fork", app))
    assert page.status_code == 200 and "Alice&#x27;s planner (fork)" in body(page)

    response = stranger_client.post(url("fork", app), {"name": "Bob's planner"})

    fork = App.objects.get(user=other_user)
    assert response["Location"] == url("detail", fork)
    assert (fork.name, fork.forked_from_id, fork.status, fork.domain) == (
        "Bob's planner",
        app.pk,
        "DRAFT",
        None,
    )
    assert fork.requirements.count() == 1 and fork.monetization_models.count() == 1


@pytest.mark.parametrize("status", ["DRAFT", "ARCHIVED"])
def test_a_stranger_cannot_fork_a_private_app(stranger_client, app, status):
    App.objects.filter(pk=app.pk).update(status=status)
    assert stranger_client.get(url("fork", app)).status_code == 404
    assert stranger_client.post(url("fork", app), {"name": "x"}).status_code == 404
    assert App.objects.count() == 1


def test_an_anonymous_visitor_is_sent_to_sign_in_to_fork(anon_client, app):
    App.objects.filter(pk=app.pk).update(status="ACTIVE")
    response = anon_client.post(url("fork", app), {"name": "x"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert App.objects.count() == 1


def test_the_owner_forks_their_own_draft(owner_client, app, user):
    response = owner_client.post(url("fork", app), {"name": "Planner B"})
    assert response.status_code == 302
    assert App.objects.filter(user=user, forked_from=app).count() == 1


def test_a_fork_needs_a_name(stranger_client, app):
    App.objects.filter(pk=app.pk).update(status="ACTIVE")
    response = stranger_client.post(url("fork", app), {"name": "  \x00 "})
    assert response.status_code == 400 and "This field is required." in body(response)


# --- requirements over HTTP ---------------------------------------------------------------------
def test_add_edit_triage_and_delete_a_requirement(owner_client, app):
    response = owner_client.post(
        url("requirement_add", app), {"description": "Export to CSV", "priority": "CRITICAL"}
    )
    assert response.status_code == 302
    r = app.requirements.get(description="Export to CSV")
    assert (r.priority, r.status, r.version) == ("CRITICAL", "PENDING", 1)

    response = owner_client.post(
        url("requirement_edit", app, requirement_id=r.pk),
        {"description": "Export to CSV and JSON", "priority": "HIGH", "status": "IN_PROGRESS"},
        follow=True,
    )
    r.refresh_from_db()
    assert (r.description, r.priority, r.status, r.version) == (
        "Export to CSV and JSON",
        "HIGH",
        "IN_PROGRESS",
        2,
    )
    assert "Saved as version 2." in messages_of(response)
    edit_page = body(owner_client.get(url("requirement_edit", app, requirement_id=r.pk)))
    assert "Version 1" in edit_page and "Export to CSV</p>" in edit_page

    owner_client.post(
        url("requirement_triage", app, requirement_id=r.pk),
        {"priority": "LOW", "status": "COMPLETED"},
    )
    r.refresh_from_db()
    assert (r.priority, r.status, r.version) == ("LOW", "COMPLETED", 2)

    assert owner_client.post(url("requirement_delete", app, requirement_id=r.pk)).status_code == 302
    assert not Requirement.objects.filter(pk=r.pk).exists()
    assert not RequirementRevision.objects.filter(requirement_id=r.pk).exists()


@pytest.mark.parametrize(
    "data",
    [
        {"description": "", "priority": "LOW"},
        {"description": "x" * 5001, "priority": "LOW"},
        {"description": "ok", "priority": "URGENT"},
    ],
)
def test_a_bad_requirement_is_a_400_on_the_apps_page(owner_client, app, data):
    response = owner_client.post(url("requirement_add", app), data)
    assert response.status_code == 400
    assert response.context["requirement_form"].errors
    assert 'class="field-error"' in body(response)
    assert app.requirements.count() == 1


@pytest.mark.parametrize(
    "data", [{"priority": "LOW", "status": "DONE"}, {"priority": "", "status": "PENDING"}, {}]
)
def test_a_bad_triage_is_a_400_with_a_message(owner_client, app, data):
    r = app.requirements.get()
    response = owner_client.post(url("requirement_triage", app, requirement_id=r.pk), data)
    assert response.status_code == 400
    assert "Choose a priority and a status" in " ".join(messages_of(response))
    assert Requirement.objects.get(pk=r.pk).priority == "HIGH"


# --- pricing over HTTP --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "saved"),
    [
        ({"type": "FREE", "features": "Everything\n\n  Everything \nAds"}, ("FREE", None, None)),
        ({"type": "ONE_TIME", "price": "4.99"}, ("ONE_TIME", Decimal("4.99"), None)),
        (
            {"type": "SUBSCRIPTION", "price": "9", "subscription_interval": "YEARLY"},
            ("SUBSCRIPTION", Decimal("9.00"), "YEARLY"),
        ),
        ({"type": "FREEMIUM", "price": "2.50"}, ("FREEMIUM", Decimal("2.50"), None)),
        ({"type": "USAGE_BASED", "price": "0.05"}, ("USAGE_BASED", Decimal("0.05"), None)),
    ],
)
def test_add_a_pricing_model(owner_client, app, data, saved):
    response = owner_client.post(url("monetization_add", app), data)
    assert response.status_code == 302
    model = app.monetization_models.order_by("-created_at").first()
    assert (model.type, model.price, model.subscription_interval) == saved
    if data["type"] == "FREE":
        assert model.features == ["Everything", "Ads"]


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        ({"type": "FREE", "price": "1"}, "price", "A free model has no price"),
        ({"type": "ONE_TIME"}, "price", "needs a price above zero"),
        ({"type": "ONE_TIME", "price": "0"}, "price", "needs a price above zero"),
        ({"type": "ONE_TIME", "price": "-1"}, "price", "cannot be negative"),
        ({"type": "SUBSCRIPTION", "price": "5"}, "subscription_interval", "how often"),
        (
            {"type": "ONE_TIME", "price": "5", "subscription_interval": "MONTHLY"},
            "subscription_interval",
            "Only a subscription",
        ),
        ({"type": "FREEMIUM", "price": "abc"}, "price", "Enter a number."),
        ({"type": "FREEMIUM", "price": "1e9"}, "price", "less than or equal"),
        ({"type": "LIFETIME", "price": "1"}, "type", "Select a valid choice"),
        ({"type": "FREE", "features": "\n".join(f"f{i}" for i in range(31))}, "features", "30"),
        ({"type": "FREE", "features": "x" * 201}, "features", "at most 200"),
    ],
)
def test_pricing_that_makes_no_sense_is_a_400_with_the_message(
    owner_client, app, data, field, says
):
    response = owner_client.post(url("monetization_add", app), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(says in e for e in errors[field]), errors
    assert app.monetization_models.count() == 1


def test_edit_and_delete_a_pricing_model(owner_client, app):
    model = app.monetization_models.get()
    page = body(owner_client.get(url("monetization_edit", app, monetization_id=model.pk)))
    assert 'value="4.99"' in page
    owner_client.post(
        url("monetization_edit", app, monetization_id=model.pk),
        {"type": "SUBSCRIPTION", "price": "3", "subscription_interval": "MONTHLY"},
    )
    model.refresh_from_db()
    assert (model.type, model.price, model.subscription_interval) == (
        "SUBSCRIPTION",
        Decimal("3.00"),
        "MONTHLY",
    )
    assert "£3.00 a month" in body(owner_client.get(url("detail", app)))
    assert "Delete the pricing model" in body(
        owner_client.get(url("monetization_delete", app, monetization_id=model.pk))
    )
    owner_client.post(url("monetization_delete", app, monetization_id=model.pk))
    assert not app.monetization_models.exists()


# --- my apps ------------------------------------------------------------------------------------
def test_my_apps_lists_mine_newest_first_without_deleted_ones(owner_client, user, other_user):
    base = timezone.now() - timedelta(days=1)
    for i, status in enumerate(["DRAFT", "ACTIVE", "ARCHIVED", "DELETED"]):
        app = AppFactory(
            user=user,
            name=f"Mine {i} {status}",
            status=status,
            deleted_at=timezone.now() if status == "DELETED" else None,
        )
        App.objects.filter(pk=app.pk).update(created_at=base + timedelta(minutes=i))
    AppFactory(user=other_user, name="Bob's app", status="ACTIVE")

    html = body(owner_client.get(reverse("apps:mine")))

    assert re.findall(r'class="app-card-name"><a href="[^"]+">([^<]+)</a>', html) == [
        "Mine 2 ARCHIVED",
        "Mine 1 ACTIVE",
        "Mine 0 DRAFT",
    ]


def test_my_apps_invites_a_first_app(owner_client):
    html = body(owner_client.get(reverse("apps:mine")))
    assert "No apps yet" in html and reverse("apps:create") in html


def test_my_apps_and_create_need_sign_in(anon_client):
    for name in ("apps:mine", "apps:create"):
        response = anon_client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_navigation_links_the_apps(owner_client, anon_client):
    assert f'href="{reverse("apps:mine")}"' in body(owner_client.get(reverse("home")))
    assert f'href="{reverse("apps:directory")}"' in body(anon_client.get(reverse("home")))


def test_an_empty_post_says_what_is_missing(owner_client, app):
    for target in (reverse("apps:create"), url("edit", app), url("monetization_add", app)):
        response = owner_client.post(target, {})
        assert response.status_code == 400, target
        assert "This field is required." in body(response), target


def test_my_apps_names_a_forks_parent_only_while_it_is_visible(owner_client, user, other_user):
    parent = AppFactory(user=other_user, name="Bob's public app", status="ACTIVE")
    services.fork_app(app=parent, user=user, name="My copy")
    assert "A fork of “Bob&#x27;s public app”" in body(owner_client.get(reverse("apps:mine")))

    services.change_status(app=parent, to="DRAFT")
    html = body(owner_client.get(reverse("apps:mine")))
    assert "Bob&#x27;s public app" not in html and "<li>A fork</li>" in html

    services.delete_app(app=parent)
    assert "A fork of a deleted app" in body(owner_client.get(reverse("apps:mine")))
