"""The back office of platform apps: deleted apps stay visible there, staff restore them (and
are recorded), domains are checked like on the site, a requirement's new text makes a version."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from platform_apps import services
from platform_apps.models import App, Requirement, RequirementRevision
from tests.factories import AppFactory, RequirementFactory, RequirementRevisionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db):
    admin = get_user_model().objects.create_superuser(email="root@example.com", password="x")
    client = Client()
    client.force_login(admin)
    return client


def test_deleted_apps_are_listed_in_the_admin_only(staff_client, user, owner_client):
    app = AppFactory(user=user, name="Gone app", status="ACTIVE")
    services.delete_app(app=app)

    changelist = staff_client.get(reverse("admin:platform_apps_app_changelist"), {"q": "Gone"})

    assert changelist.context["cl"].result_count == 1
    assert (
        staff_client.get(reverse("admin:platform_apps_app_change", args=[app.pk])).status_code
        == 200
    )
    assert owner_client.get(reverse("apps:detail", args=[app.pk])).status_code == 404


def test_staff_restore_deleted_apps_and_are_recorded(staff_client, user):
    deleted = AppFactory(user=user, status="ACTIVE")
    services.delete_app(app=deleted)
    alive = AppFactory(user=user, status="ACTIVE")

    response = staff_client.post(
        reverse("admin:platform_apps_app_changelist"),
        {"action": "restore_apps", "_selected_action": [deleted.pk, alive.pk]},
        follow=True,
    )

    assert response.status_code == 200
    deleted.refresh_from_db()
    assert (deleted.status, deleted.deleted_at) == ("DRAFT", None)
    assert deleted.staff_actions[0]["by"] == "root@example.com"
    assert App.objects.get(pk=alive.pk).status == "ACTIVE"  # not deleted: untouched
    change = staff_client.get(reverse("admin:platform_apps_app_change", args=[deleted.pk]))
    assert "restore at" in change.content.decode()


def test_staff_soft_delete_from_the_admin(staff_client, user):
    app = AppFactory(user=user, status="ACTIVE", domain="x.example.com")
    staff_client.post(
        reverse("admin:platform_apps_app_changelist"),
        {"action": "soft_delete_apps", "_selected_action": [app.pk]},
    )
    app.refresh_from_db()
    assert (app.status, app.domain) == ("DELETED", None) and app.deleted_at


def _change_data(app, **changes):
    data = {
        "name": app.name,
        "description": app.description or "",
        "user": app.user_id,
        "forked_from": "",
        "domain": app.domain or "",
        "requirements-TOTAL_FORMS": "0",
        "requirements-INITIAL_FORMS": "0",
        "monetization_models-TOTAL_FORMS": "0",
        "monetization_models-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_a_domain_typed_in_the_admin_is_normalised_and_checked(staff_client, user, other_user):
    app = AppFactory(user=user)
    AppFactory(user=other_user, domain="taken.example.com")
    change_url = reverse("admin:platform_apps_app_change", args=[app.pk])

    staff_client.post(change_url, _change_data(app, domain="Shop.Example.COM."))
    assert App.objects.get(pk=app.pk).domain == "shop.example.com"

    taken = staff_client.post(change_url, _change_data(app, domain="TAKEN.example.com"))
    assert taken.status_code == 200
    assert "already used by another app" in taken.content.decode()
    invalid = staff_client.post(change_url, _change_data(app, domain="http://x.example.com"))
    assert "without http://" in invalid.content.decode()
    assert App.objects.get(pk=app.pk).domain == "shop.example.com"


def test_the_status_is_not_edited_by_hand_in_the_admin(staff_client, user):
    app = AppFactory(user=user)
    staff_client.post(
        reverse("admin:platform_apps_app_change", args=[app.pk]),
        _change_data(app, status="DELETED"),
    )
    app.refresh_from_db()
    assert (app.status, app.deleted_at) == ("DRAFT", None)


def test_a_new_text_in_the_admin_makes_a_version(staff_client, user):
    requirement = RequirementFactory(app=AppFactory(user=user), description="Old text")
    data = {
        "description": "New text",
        "priority": "HIGH",
        "status": "IN_PROGRESS",
        "revisions-TOTAL_FORMS": "0",
        "revisions-INITIAL_FORMS": "0",
    }

    response = staff_client.post(
        reverse("admin:platform_apps_requirement_change", args=[requirement.pk]), data
    )

    assert response.status_code == 302
    requirement.refresh_from_db()
    assert (requirement.description, requirement.version, requirement.priority) == (
        "New text",
        2,
        "HIGH",
    )
    assert list(requirement.revisions.values_list("version", "description")) == [(1, "Old text")]


def test_revisions_are_read_only_in_the_admin(staff_client):
    revision = RequirementRevisionFactory()
    response = staff_client.get(
        reverse("admin:platform_apps_requirementrevision_change", args=[revision.pk])
    )
    assert response.status_code == 200
    assert 'name="description"' not in response.content.decode()
    assert (
        staff_client.get(reverse("admin:platform_apps_requirementrevision_add")).status_code == 403
    )
    changelist = staff_client.get(reverse("admin:platform_apps_requirementrevision_changelist"))
    assert changelist.status_code == 200


def test_a_soft_deleted_app_keeps_its_requirements_and_their_history(user, staff_user):
    r = RequirementFactory(app=AppFactory(user=user))
    services.update_requirement(requirement=r, description="v2")
    services.delete_app(app=r.app)
    services.restore_app(app=r.app, actor=staff_user)
    assert Requirement.objects.get(pk=r.pk).version == 2
    assert RequirementRevision.objects.filter(requirement=r).count() == 1
