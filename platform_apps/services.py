"""The verbs of platform apps: create, edit, move through the life cycle, fork, and look after
requirements and pricing.

Views call these after a form has cleaned the input; each verb re-checks its own rules (the
states it accepts, the domain's form and uniqueness) and raises an `AppError` with a message for
the person, so every way in (a page, the admin, a shell) gets the same answers. The database's
constraints are the last word: a domain taken between the form's check and the write is an
`IntegrityError` turned into `DomainTaken`.

Life cycle (`ALLOWED_TRANSITIONS`):

    DRAFT --publish--> ACTIVE --archive--> ARCHIVED
      ^                  |  ^                 |
      +---unpublish------+  +---unarchive-----+
      +-------------------- back to draft ----+
    any of those --delete (owner)--> DELETED --restore (staff)--> DRAFT

A deleted app is hidden everywhere but the admin; its custom domain is released at once (so
its owner or anyone can use the domain again), and a restore brings the app back as a draft,
without a domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from platform_apps import selectors
from platform_apps.domains import InvalidDomain, normalize_domain
from platform_apps.models import (
    PRICED_TYPES,
    App,
    AppStatus,
    MonetizationModel,
    MonetizationType,
    Requirement,
    RequirementPriority,
    RequirementRevision,
    RequirementStatus,
)


class AppError(Exception):
    """A rule of platform apps said no. `message` is for the person who asked."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DomainTaken(AppError):
    pass


class DomainInvalid(AppError):
    pass


class TransitionNotAllowed(AppError):
    pass


class ForkNotAllowed(AppError):
    pass


class AppGone(AppError):
    """The app was deleted (or vanished) while the request was on its way."""


class PricingInvalid(AppError):
    pass


ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    AppStatus.DRAFT: frozenset({AppStatus.ACTIVE}),
    AppStatus.ACTIVE: frozenset({AppStatus.DRAFT, AppStatus.ARCHIVED}),
    AppStatus.ARCHIVED: frozenset({AppStatus.ACTIVE, AppStatus.DRAFT}),
    AppStatus.DELETED: frozenset(),
}
FORK_SUFFIX = " (fork)"
NAME_MAX_LENGTH = App._meta.get_field("name").max_length


def domain_taken_message(domain: str) -> str:
    return f"The domain {domain} is already used by another app. Choose another one."


def _locked_app(app: App) -> App:
    """The app's row, locked until the end of the transaction; `AppGone` if it was deleted."""
    row = App.objects.select_for_update().filter(pk=app.pk).first()
    if row is None or row.status == AppStatus.DELETED:
        raise AppGone("This app has been deleted.")
    return row


def _clean_domain(domain: str | None) -> str | None:
    try:
        return normalize_domain(domain)
    except InvalidDomain as exc:
        raise DomainInvalid(exc.message) from None


def _save_domain(app: App, *, fields: list[str]) -> None:
    """Save `fields` of `app`; a domain someone else holds (any case) is `DomainTaken`."""
    if app.domain and selectors.domain_taken(app.domain, exclude_app_id=app.pk):
        raise DomainTaken(domain_taken_message(app.domain))
    try:
        with transaction.atomic():
            app.save(update_fields=[*fields, "updated_at"])
    except IntegrityError:
        # lost a race for the domain (the only unique value an app's edit can collide on)
        if app.domain and selectors.domain_taken(app.domain, exclude_app_id=app.pk):
            raise DomainTaken(domain_taken_message(app.domain)) from None
        raise


# --- apps -----------------------------------------------------------------------------------
def create_app(
    *,
    owner: AbstractBaseUser,
    name: str,
    description: str | None = None,
    domain: str | None = None,
) -> App:
    """A new app of `owner`, as a DRAFT. Raises `DomainInvalid` / `DomainTaken`."""
    app = App(user=owner, name=name, description=description or None)
    app.domain = _clean_domain(domain)
    if app.domain and selectors.domain_taken(app.domain):
        raise DomainTaken(domain_taken_message(app.domain))
    try:
        with transaction.atomic():
            app.save(force_insert=True)
    except IntegrityError:
        if app.domain and selectors.domain_taken(app.domain):
            raise DomainTaken(domain_taken_message(app.domain)) from None
        raise
    return app


@transaction.atomic
def update_app(*, app: App, name: str, description: str | None, domain: str | None) -> App:
    """Change an app's name, description and custom domain (None or "" removes the domain).
    Locks the app; raises `AppGone`, `DomainInvalid`, `DomainTaken`."""
    row = _locked_app(app)
    row.name = name
    row.description = description or None
    row.domain = _clean_domain(domain)
    _save_domain(row, fields=["name", "description", "domain"])
    return row


@transaction.atomic
def change_status(*, app: App, to: str) -> App:
    """Move an app along its life cycle (`ALLOWED_TRANSITIONS`; deleting is `delete_app`).
    Locks the app; asking for the state it is in changes nothing. Raises `AppGone`,
    `TransitionNotAllowed`."""
    row = _locked_app(app)
    if row.status == to:
        return row
    if to not in ALLOWED_TRANSITIONS[row.status]:
        current = AppStatus(row.status).label.lower()
        wanted = AppStatus(to).label.lower() if to in AppStatus.values else to
        raise TransitionNotAllowed(f"An app that is {current} cannot become {wanted}.")
    row.status = to
    row.save(update_fields=["status", "updated_at"])
    return row


@transaction.atomic
def delete_app(*, app: App, now=None) -> App:
    """Soft-delete an app: DELETED, hidden everywhere but the admin, its domain released.
    Locks the app; deleting a deleted app changes nothing. Its forks stay (they say their
    parent is gone); staff can bring it back with `restore_app`."""
    row = App.objects.select_for_update().filter(pk=app.pk).first()
    if row is None or row.status == AppStatus.DELETED:
        return row or app
    row.status = AppStatus.DELETED
    row.deleted_at = now or timezone.now()
    row.domain = None
    row.save(update_fields=["status", "deleted_at", "domain", "updated_at"])
    return row


@transaction.atomic
def restore_app(*, app: App, actor: AbstractBaseUser, now=None) -> App:
    """Staff: bring a deleted app back, as a DRAFT (its owner publishes it again), without the
    domain it had. Locks the app and records `actor`; restoring an app that is not deleted
    changes nothing."""
    row = App.objects.select_for_update().get(pk=app.pk)
    if row.status != AppStatus.DELETED:
        return row
    now = now or timezone.now()
    row.status = AppStatus.DRAFT
    row.staff_actions = [
        *(row.staff_actions or []),
        {
            "action": "restore",
            "at": now.isoformat(),
            "deleted_at": row.deleted_at.isoformat() if row.deleted_at else None,
            "by_id": actor.pk,
            "by": getattr(actor, "email", "") or str(actor),
        },
    ]
    row.deleted_at = None
    row.save(update_fields=["status", "deleted_at", "staff_actions", "updated_at"])
    return row


def can_fork(*, app: App, user: AbstractBaseUser) -> bool:
    """Anyone signed in may fork an ACTIVE app; its owner may fork it in any state but DELETED."""
    if not getattr(user, "is_authenticated", False) or app.status == AppStatus.DELETED:
        return False
    return app.status == AppStatus.ACTIVE or app.user_id == user.pk


def fork_name(app: App) -> str:
    """The name a fork of `app` gets unless its forker chooses one."""
    return app.name[: NAME_MAX_LENGTH - len(FORK_SUFFIX)] + FORK_SUFFIX


@transaction.atomic
def fork_app(*, app: App, user: AbstractBaseUser, name: str | None = None) -> App:
    """A copy of `app` for `user`: a DRAFT that records `forked_from`, with the parent's name
    (or `name`) and description, its requirements (same text and priority, but PENDING, version
    1, no history) in the parent's order, and its monetization models. Never the domain, the
    status, the history or staff records. Locks the parent, so it cannot be deleted or
    unpublished half-way. Raises `ForkNotAllowed` (the same message whether the app is
    missing or not forkable by `user`)."""
    parent = App.objects.select_for_update().filter(pk=app.pk).first()
    if parent is None or not can_fork(app=parent, user=user):
        raise ForkNotAllowed("This app cannot be forked.")
    fork = App.objects.create(
        user=user,
        name=name or fork_name(parent),
        description=parent.description,
        forked_from=parent,
        status=AppStatus.DRAFT,
    )
    requirements = list(selectors.requirements_in_order(parent.requirements.all()))
    copies = Requirement.objects.bulk_create(
        Requirement(
            app=fork,
            description=requirement.description,
            priority=requirement.priority,
            status=RequirementStatus.PENDING,
            version=1,
        )
        for requirement in requirements
    )
    if copies:
        # Rows made in one go can share a timestamp; space them a microsecond apart so that the
        # fork lists its requirements in the parent's order ("by priority, then age").
        start = copies[0].created_at
        Requirement.objects.filter(pk__in=[c.pk for c in copies]).update(
            created_at=Case(
                *(
                    When(pk=c.pk, then=Value(start + timedelta(microseconds=i)))
                    for i, c in enumerate(copies)
                )
            )
        )
    MonetizationModel.objects.bulk_create(
        MonetizationModel(
            app=fork,
            type=model.type,
            price=model.price,
            subscription_interval=model.subscription_interval,
            features=list(model.features or []),
        )
        for model in parent.monetization_models.order_by("created_at", "id")
    )
    return fork


# --- requirements ---------------------------------------------------------------------------
@transaction.atomic
def add_requirement(
    *, app: App, description: str, priority: str = RequirementPriority.MEDIUM
) -> Requirement:
    """A new requirement of `app`: PENDING, version 1. Raises `AppGone`."""
    row = _locked_app(app)
    return Requirement.objects.create(app=row, description=description, priority=priority)


@transaction.atomic
def update_requirement(
    *,
    requirement: Requirement,
    description: str | None = None,
    priority: str | None = None,
    status: str | None = None,
) -> Requirement:
    """Change what is given of a requirement's text, priority and status. A new text (one
    that differs from the current one) raises `version` by one and keeps the text it replaces
    as a `RequirementRevision`; priority and status are not versioned. Locks the requirement
    (two edits at once make two versions, never one lost)."""
    row = Requirement.objects.select_for_update().select_related("app").get(pk=requirement.pk)
    if row.app.status == AppStatus.DELETED:
        raise AppGone("This app has been deleted.")
    fields = []
    if description is not None and description != row.description:
        RequirementRevision.objects.create(
            requirement=row, version=row.version, description=row.description
        )
        row.description = description
        row.version += 1
        fields += ["description", "version"]
    if priority is not None and priority != row.priority:
        row.priority = priority
        fields.append("priority")
    if status is not None and status != row.status:
        row.status = status
        fields.append("status")
    if fields:
        row.save(update_fields=[*fields, "updated_at"])
    return row


@transaction.atomic
def delete_requirement(*, requirement: Requirement) -> None:
    """Delete a requirement and its history."""
    Requirement.objects.filter(pk=requirement.pk).delete()


# --- monetization ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Pricing:
    """A monetization model's terms, as the form cleans them."""

    type: str
    price: Decimal | None = None
    subscription_interval: str | None = None
    features: tuple[str, ...] = ()


def check_pricing(pricing: Pricing) -> None:
    """The rules of the form and of the constraints, for any caller: FREE has no price, every
    other type a price above zero (FREEMIUM: its paid tier's; USAGE_BASED: per unit); an
    interval exactly for SUBSCRIPTION. Raises `PricingInvalid`."""
    label = MonetizationType(pricing.type).label.lower()
    if pricing.type in PRICED_TYPES:
        if pricing.price is None or pricing.price <= 0:
            raise PricingInvalid(f"A {label} model needs a price above zero.")
    elif pricing.price is not None:
        raise PricingInvalid("A free model has no price: leave the price empty.")
    if pricing.type == MonetizationType.SUBSCRIPTION and not pricing.subscription_interval:
        raise PricingInvalid("A subscription needs a billing interval (monthly or yearly).")
    if pricing.type != MonetizationType.SUBSCRIPTION and pricing.subscription_interval:
        raise PricingInvalid("Only a subscription has a billing interval: leave it empty.")


@transaction.atomic
def add_monetization_model(*, app: App, pricing: Pricing) -> MonetizationModel:
    """A new monetization model of `app`. Raises `AppGone`, `PricingInvalid`."""
    check_pricing(pricing)
    row = _locked_app(app)
    return MonetizationModel.objects.create(
        app=row,
        type=pricing.type,
        price=pricing.price,
        subscription_interval=pricing.subscription_interval or None,
        features=list(pricing.features),
    )


@transaction.atomic
def update_monetization_model(
    *, monetization_model: MonetizationModel, pricing: Pricing
) -> MonetizationModel:
    """Replace a monetization model's terms. Raises `AppGone`, `PricingInvalid`."""
    check_pricing(pricing)
    row = (
        MonetizationModel.objects.select_for_update()
        .select_related("app")
        .get(pk=monetization_model.pk)
    )
    if row.app.status == AppStatus.DELETED:
        raise AppGone("This app has been deleted.")
    row.type = pricing.type
    row.price = pricing.price
    row.subscription_interval = pricing.subscription_interval or None
    row.features = list(pricing.features)
    row.save()
    return row


@transaction.atomic
def delete_monetization_model(*, monetization_model: MonetizationModel) -> None:
    MonetizationModel.objects.filter(pk=monetization_model.pk).delete()
