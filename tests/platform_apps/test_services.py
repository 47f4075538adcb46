"""The verbs of platform apps (`platform_apps.services`): each rule, through the service."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from platform_apps import selectors, services
from platform_apps.models import (
    App,
    AppStatus,
    MonetizationModel,
    Requirement,
    RequirementRevision,
)
from tests.factories import (
    AppFactory,
    MonetizationModelFactory,
    RequirementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


# --- creating and editing -----------------------------------------------------------------------
def test_a_new_app_is_a_draft_of_its_owner(user):
    app = services.create_app(owner=user, name="Notes", description="")

    assert (app.user, app.status, app.description, app.domain) == (
        user,
        AppStatus.DRAFT,
        None,
        None,
    )


def test_the_domain_is_stored_normalised(user):
    app = services.create_app(owner=user, name="Shop", domain="Bücher.Example.")
    assert App.objects.get(pk=app.pk).domain == "xn--bcher-kva.example"


def test_an_invalid_domain_is_refused_with_a_message(user):
    with pytest.raises(services.DomainInvalid) as refused:
        services.create_app(owner=user, name="Shop", domain="https://shop.example.com/")
    assert "without http://" in refused.value.message
    assert not App.objects.exists()


@pytest.mark.parametrize("spelling", ["shop.example.com", "SHOP.Example.com", "shop.example.com."])
def test_a_domain_is_unique_across_apps_in_any_spelling(user, other_user, spelling):
    AppFactory(user=other_user, domain="shop.example.com")

    with pytest.raises(services.DomainTaken) as refused:
        services.create_app(owner=user, name="Mine", domain=spelling)
    assert refused.value.message == (
        "The domain shop.example.com is already used by another app. Choose another one."
    )
    mine = AppFactory(user=user)
    with pytest.raises(services.DomainTaken):
        services.update_app(app=mine, name="Mine", description=None, domain=spelling)
    assert App.objects.get(pk=mine.pk).domain is None


def test_a_domain_taken_by_a_row_in_another_case_is_still_taken(user, other_user):
    # a row written before normalisation (or by hand): the case-insensitive check still sees it
    App.objects.filter(pk=AppFactory(user=other_user).pk).update(domain="Legacy.Example.com")
    with pytest.raises(services.DomainTaken):
        services.create_app(owner=user, name="Mine", domain="legacy.example.com")


def test_an_app_keeps_its_own_domain_when_edited(user):
    app = services.create_app(owner=user, name="Shop", domain="shop.example.com")

    app = services.update_app(
        app=app, name="Shop 2", description="Better", domain="SHOP.example.com"
    )

    app.refresh_from_db()
    assert (app.name, app.description, app.domain) == ("Shop 2", "Better", "shop.example.com")


def test_an_empty_domain_removes_it(user):
    app = services.create_app(owner=user, name="Shop", domain="shop.example.com")
    services.update_app(app=app, name="Shop", description="", domain="")
    app.refresh_from_db()
    assert (app.domain, app.description) == (None, None)


def test_a_deleted_app_cannot_be_edited(user):
    app = AppFactory(user=user)
    services.delete_app(app=app)
    with pytest.raises(services.AppGone):
        services.update_app(app=app, name="Back", description=None, domain=None)


# --- the life cycle -----------------------------------------------------------------------------
ALLOWED = [
    ("DRAFT", "ACTIVE"),
    ("ACTIVE", "DRAFT"),
    ("ACTIVE", "ARCHIVED"),
    ("ARCHIVED", "ACTIVE"),
    ("ARCHIVED", "DRAFT"),
]
REFUSED = [
    ("DRAFT", "ARCHIVED"),
    ("DRAFT", "DELETED"),
    ("ACTIVE", "DELETED"),
    ("ARCHIVED", "DELETED"),
    ("DRAFT", "NONSENSE"),
]


@pytest.mark.parametrize(("start", "end"), ALLOWED)
def test_the_allowed_moves(user, start, end):
    app = AppFactory(user=user, status=start)
    services.change_status(app=app, to=end)
    assert App.objects.get(pk=app.pk).status == end


@pytest.mark.parametrize(("start", "end"), REFUSED)
def test_the_refused_moves(user, start, end):
    """Archiving a draft makes no sense, and deleting is `delete_app` (soft), never a status."""
    app = AppFactory(user=user, status=start)
    with pytest.raises(services.TransitionNotAllowed) as refused:
        services.change_status(app=app, to=end)
    assert "cannot become" in refused.value.message
    assert App.objects.get(pk=app.pk).status == start


def test_asking_for_the_current_state_changes_nothing(user):
    app = AppFactory(user=user, status="ACTIVE")
    before = App.objects.get(pk=app.pk).updated_at
    services.change_status(app=app, to="ACTIVE")
    assert App.objects.get(pk=app.pk).updated_at == before


def test_a_deleted_app_moves_no_more(user):
    app = AppFactory(user=user, status="ACTIVE")
    services.delete_app(app=app)
    with pytest.raises(services.AppGone):
        services.change_status(app=app, to="DRAFT")


def test_delete_is_soft_and_releases_the_domain(user, other_user):
    app = AppFactory(user=user, status="ACTIVE", domain="shop.example.com")
    requirement = RequirementFactory(app=app)

    services.delete_app(app=app)

    row = App.objects.get(pk=app.pk)
    assert row.status == AppStatus.DELETED and row.deleted_at is not None
    assert row.domain is None
    assert Requirement.objects.filter(pk=requirement.pk).exists()  # nothing is lost
    # the domain is free again for anyone
    assert services.create_app(owner=other_user, name="New", domain="shop.example.com").domain
    # and the app is gone from every list
    assert not selectors.my_apps(user=user).exists()
    assert not selectors.directory().exists()
    assert selectors.visible_app(app_id=app.pk, user=user) is None


def test_deleting_twice_changes_nothing(user):
    app = AppFactory(user=user)
    first = services.delete_app(app=app).deleted_at
    services.delete_app(app=app, now=timezone.now() + timedelta(days=1))
    assert App.objects.get(pk=app.pk).deleted_at == first


def test_staff_restore_a_deleted_app_as_a_draft_and_are_recorded(user, staff_user):
    app = AppFactory(user=user, status="ACTIVE")
    services.delete_app(app=app)

    services.restore_app(app=app, actor=staff_user)

    row = App.objects.get(pk=app.pk)
    assert (row.status, row.deleted_at) == (AppStatus.DRAFT, None)
    (entry,) = row.staff_actions
    assert entry["action"] == "restore"
    assert (entry["by_id"], entry["by"]) == (staff_user.pk, "staff@example.com")
    assert entry["deleted_at"]


def test_restoring_an_app_that_is_not_deleted_changes_nothing(user, staff_user):
    app = AppFactory(user=user, status="ACTIVE")
    services.restore_app(app=app, actor=staff_user)
    row = App.objects.get(pk=app.pk)
    assert (row.status, row.staff_actions) == ("ACTIVE", [])


# --- forks --------------------------------------------------------------------------------------
@pytest.fixture
def parent(other_user):
    """Bob's active app with a domain, requirements in every state and two pricing models."""
    app = AppFactory(
        user=other_user,
        name="Recipe box",
        description="Keeps recipes.",
        status="ACTIVE",
        domain="recipes.example.com",
    )
    base = timezone.now() - timedelta(days=10)
    for i, (priority, status, version) in enumerate(
        [
            ("LOW", "COMPLETED", 1),
            ("CRITICAL", "IN_PROGRESS", 3),
            ("MEDIUM", "REJECTED", 2),
            ("CRITICAL", "PENDING", 1),
        ]
    ):
        r = RequirementFactory(
            app=app, description=f"R{i} {priority}", priority=priority, status=status
        )
        Requirement.objects.filter(pk=r.pk).update(
            version=version, created_at=base + timedelta(days=i)
        )
        for v in range(1, version):
            RequirementRevision.objects.create(requirement=r, version=v, description=f"old {v}")
    MonetizationModelFactory(app=app, type="FREEMIUM", price=Decimal("3.50"), features=["Sync"])
    MonetizationModelFactory(
        app=app, type="SUBSCRIPTION", price=Decimal("9.99"), subscription_interval="YEARLY"
    )
    return app


def test_a_fork_copies_the_app_its_requirements_and_pricing_but_not_the_rest(parent, user):
    fork = services.fork_app(app=parent, user=user)

    fork.refresh_from_db()
    # what is copied
    assert (fork.name, fork.description) == ("Recipe box (fork)", "Keeps recipes.")
    # what is the fork's own
    assert (fork.user, fork.status, fork.forked_from, fork.domain) == (
        user,
        AppStatus.DRAFT,
        parent,
        None,
    )
    assert fork.staff_actions == [] and fork.deleted_at is None
    # requirements: text and priority in the parent's order; fresh status, version, history
    copies = list(selectors.requirements_in_order(fork.requirements.all()))
    originals = list(selectors.requirements_in_order(parent.requirements.all()))
    assert [(r.description, r.priority) for r in copies] == [
        (r.description, r.priority) for r in originals
    ]
    assert {(r.status, r.version) for r in copies} == {("PENDING", 1)}
    assert not RequirementRevision.objects.filter(requirement__app=fork).exists()
    assert not {r.pk for r in copies} & {r.pk for r in originals}
    # pricing: every term
    terms = lambda app: [  # noqa: E731
        (m.type, m.price, m.subscription_interval, m.features)
        for m in app.monetization_models.order_by("created_at", "id")
    ]
    assert terms(fork) == terms(parent)
    assert len(terms(fork)) == 2
    # and the parent is untouched
    parent.refresh_from_db()
    assert (parent.domain, parent.user_id, parent.status) == (
        "recipes.example.com",
        parent.user_id,
        "ACTIVE",
    )
    assert parent.requirements.filter(status="COMPLETED").count() == 1


def test_a_fork_takes_the_name_its_forker_chooses(parent, user):
    assert services.fork_app(app=parent, user=user, name="My recipes").name == "My recipes"


def test_a_long_name_still_fits_with_the_suffix(user):
    app = AppFactory(user=user, name="x" * 255)
    fork = services.fork_app(app=app, user=user)
    assert len(fork.name) == 255 and fork.name.endswith(" (fork)")


@pytest.mark.parametrize("status", ["DRAFT", "ARCHIVED", "DELETED"])
def test_nobody_else_forks_an_app_that_is_not_active(status, other_user, user):
    app = AppFactory(
        user=other_user, status=status, deleted_at=timezone.now() if status == "DELETED" else None
    )
    with pytest.raises(services.ForkNotAllowed):
        services.fork_app(app=app, user=user)
    assert not App.objects.filter(forked_from=app).exists()


@pytest.mark.parametrize("status", ["DRAFT", "ACTIVE", "ARCHIVED"])
def test_an_owner_forks_their_own_app_in_any_state_but_deleted(status, user):
    app = AppFactory(user=user, status=status)
    assert services.fork_app(app=app, user=user).forked_from == app


def test_not_even_the_owner_forks_a_deleted_app(user):
    app = AppFactory(user=user, status="ACTIVE")
    services.delete_app(app=app)
    with pytest.raises(services.ForkNotAllowed):
        services.fork_app(app=app, user=user)


def test_an_anonymous_visitor_cannot_fork(parent):
    from django.contrib.auth.models import AnonymousUser

    assert not services.can_fork(app=parent, user=AnonymousUser())


def test_a_fork_outlives_its_deleted_parent(parent, user):
    fork = services.fork_app(app=parent, user=user)
    services.delete_app(app=parent)

    fork = App.objects.select_related("forked_from").get(pk=fork.pk)
    assert fork.forked_from_id == parent.pk
    assert selectors.parent_state(fork, user) == "deleted"
    # and it can itself be forked and changed as usual
    services.change_status(app=fork, to="ACTIVE")
    assert services.fork_app(app=fork, user=UserFactory()).forked_from == fork


# --- requirements -------------------------------------------------------------------------------
def test_a_new_requirement_is_pending_at_version_1(user):
    app = AppFactory(user=user)
    r = services.add_requirement(app=app, description="Sign in with e-mail", priority="HIGH")
    assert (r.status, r.version, r.priority) == ("PENDING", 1, "HIGH")


def test_editing_the_text_raises_the_version_and_keeps_the_earlier_text(user):
    r = RequirementFactory(app=AppFactory(user=user), description="First text")

    services.update_requirement(requirement=r, description="Second text")
    services.update_requirement(requirement=r, description="Third text")

    r.refresh_from_db()
    assert (r.description, r.version) == ("Third text", 3)
    assert list(r.revisions.values_list("version", "description")) == [
        (2, "Second text"),
        (1, "First text"),
    ]


def test_the_same_text_priority_or_status_make_no_new_version(user):
    r = RequirementFactory(app=AppFactory(user=user), description="Same")

    services.update_requirement(
        requirement=r, description="Same", priority="CRITICAL", status="IN_PROGRESS"
    )

    r.refresh_from_db()
    assert (r.version, r.priority, r.status) == (1, "CRITICAL", "IN_PROGRESS")
    assert not r.revisions.exists()


def test_an_edit_from_a_stale_copy_still_keeps_the_text_it_replaces(user):
    """Two editors: the second, holding the first text, still makes version 3 and keeps 2."""
    r = RequirementFactory(app=AppFactory(user=user), description="v1")
    stale = Requirement.objects.get(pk=r.pk)
    services.update_requirement(requirement=r, description="v2 by Alice")
    services.update_requirement(requirement=stale, description="v3 by Bob")

    r.refresh_from_db()
    assert (r.version, r.description) == (3, "v3 by Bob")
    assert list(r.revisions.values_list("description", flat=True)) == ["v2 by Alice", "v1"]


def test_requirements_are_listed_by_priority_then_age(user):
    app = AppFactory(user=user)
    base = timezone.now() - timedelta(days=5)
    for i, priority in enumerate(["LOW", "HIGH", "CRITICAL", "MEDIUM", "HIGH", "LOW"]):
        r = RequirementFactory(app=app, description=f"{priority}-{i}", priority=priority)
        Requirement.objects.filter(pk=r.pk).update(created_at=base + timedelta(hours=i))

    listed = selectors.requirements_in_order(app.requirements.all())

    assert [r.description for r in listed] == [
        "CRITICAL-2",
        "HIGH-1",
        "HIGH-4",
        "MEDIUM-3",
        "LOW-0",
        "LOW-5",
    ]


def test_deleting_a_requirement_deletes_its_history(user):
    r = RequirementFactory(app=AppFactory(user=user))
    services.update_requirement(requirement=r, description="new")
    services.delete_requirement(requirement=r)
    assert not Requirement.objects.exists() and not RequirementRevision.objects.exists()


# --- pricing ------------------------------------------------------------------------------------
VALID = [
    services.Pricing(type="FREE"),
    services.Pricing(type="ONE_TIME", price=Decimal("4.99")),
    services.Pricing(type="SUBSCRIPTION", price=Decimal("9.99"), subscription_interval="MONTHLY"),
    services.Pricing(type="SUBSCRIPTION", price=Decimal("99"), subscription_interval="YEARLY"),
    services.Pricing(type="FREEMIUM", price=Decimal("2.50"), features=("Free tier", "Paid tier")),
    services.Pricing(type="USAGE_BASED", price=Decimal("0.01")),
]
INVALID = [
    (services.Pricing(type="FREE", price=Decimal("1")), "no price"),
    (services.Pricing(type="FREE", price=Decimal("0")), "no price"),
    (services.Pricing(type="ONE_TIME"), "price above zero"),
    (services.Pricing(type="ONE_TIME", price=Decimal("0")), "price above zero"),
    (services.Pricing(type="ONE_TIME", price=Decimal("-1")), "price above zero"),
    (services.Pricing(type="FREEMIUM"), "price above zero"),
    (services.Pricing(type="USAGE_BASED", price=Decimal("-0.01")), "price above zero"),
    (services.Pricing(type="SUBSCRIPTION", price=Decimal("5")), "billing interval"),
    (
        services.Pricing(type="ONE_TIME", price=Decimal("5"), subscription_interval="MONTHLY"),
        "Only a subscription",
    ),
    (services.Pricing(type="FREE", subscription_interval="YEARLY"), "Only a subscription"),
]


@pytest.mark.parametrize("pricing", VALID, ids=lambda p: p.type)
def test_sensible_pricing_is_saved(user, pricing):
    model = services.add_monetization_model(app=AppFactory(user=user), pricing=pricing)
    model.refresh_from_db()
    assert (model.type, model.price, model.subscription_interval, model.features) == (
        pricing.type,
        pricing.price,
        pricing.subscription_interval,
        list(pricing.features),
    )


@pytest.mark.parametrize(("pricing", "says"), INVALID)
def test_pricing_that_makes_no_sense_is_refused(user, pricing, says):
    app = AppFactory(user=user)
    with pytest.raises(services.PricingInvalid) as refused:
        services.add_monetization_model(app=app, pricing=pricing)
    assert says in refused.value.message
    existing = MonetizationModelFactory(app=app)
    with pytest.raises(services.PricingInvalid):
        services.update_monetization_model(monetization_model=existing, pricing=pricing)
    assert MonetizationModel.objects.get(pk=existing.pk).type == "FREE"


def test_pricing_is_replaced_whole(user):
    model = MonetizationModelFactory(app=AppFactory(user=user), type="SUBSCRIPTION", features=["A"])
    services.update_monetization_model(
        monetization_model=model, pricing=services.Pricing(type="FREE")
    )
    model.refresh_from_db()
    assert (model.type, model.price, model.subscription_interval, model.features) == (
        "FREE",
        None,
        None,
        [],
    )


def test_a_deleted_app_takes_no_new_requirements_or_pricing(user):
    app = AppFactory(user=user)
    services.delete_app(app=app)
    with pytest.raises(services.AppGone):
        services.add_requirement(app=app, description="x")
    with pytest.raises(services.AppGone):
        services.add_monetization_model(app=app, pricing=services.Pricing(type="FREE"))
