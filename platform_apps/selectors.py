"""Read-only queries of platform apps for pages, each costing a fixed number of queries however
many rows there are (counts and the latest state as subqueries or one prefetch each).

Who sees what: an app's owner sees it in every state but DELETED; anyone else (signed in or
not) sees ACTIVE apps only. A DELETED app is seen by no page at all, only the admin.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower

from platform_apps.models import (
    App,
    AppStatus,
    MonetizationModel,
    Requirement,
    RequirementPriority,
    RequirementRevision,
    RequirementStatus,
)

DIRECTORY_PAGE_SIZE = 24
MY_APPS_PAGE_SIZE = 24
SEARCH_MAX_LENGTH = 100

# Requirements are listed by priority (most urgent first), then age (oldest first).
PRIORITY_RANK = {
    RequirementPriority.CRITICAL: 0,
    RequirementPriority.HIGH: 1,
    RequirementPriority.MEDIUM: 2,
    RequirementPriority.LOW: 3,
}


def domain_taken(domain: str, *, exclude_app_id: str | None = None) -> bool:
    """Whether another app holds `domain`, in any letter case (deleted apps hold none)."""
    others = App.objects.annotate(domain_lower=Lower("domain")).filter(domain_lower=domain.lower())
    if exclude_app_id:
        others = others.exclude(pk=exclude_app_id)
    return others.exists()


def visible_to(user: AbstractBaseUser | AnonymousUser | None) -> Q:
    """The apps `user` may see: ACTIVE ones, and their own in any state but DELETED."""
    public = Q(status=AppStatus.ACTIVE)
    if user is not None and user.is_authenticated:
        return public | (Q(user=user) & ~Q(status=AppStatus.DELETED))
    return public


def requirements_in_order(queryset: QuerySet[Requirement]) -> QuerySet[Requirement]:
    """By priority (CRITICAL first), then age (oldest first), then id (a stable order)."""
    rank = Case(
        *(When(priority=p, then=Value(r)) for p, r in PRIORITY_RANK.items()),
        default=Value(len(PRIORITY_RANK)),
        output_field=IntegerField(),
    )
    return queryset.annotate(priority_rank=rank).order_by("priority_rank", "created_at", "id")


def _count(queryset: QuerySet, *, per: str) -> Coalesce:
    """The number of rows of `queryset` (filtered on `per=OuterRef("pk")`), as a subquery."""
    rows = queryset.order_by().values(per).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows[:1], output_field=IntegerField()), Value(0))


def _with_counts(queryset: QuerySet[App]) -> QuerySet[App]:
    """Each app with `requirements_count`, `open_requirements_count` (pending or in progress)
    and `public_forks_count`, as subqueries (no joins that multiply rows)."""
    requirements = Requirement.objects.filter(app=OuterRef("pk"))
    return queryset.annotate(
        requirements_count=_count(requirements, per="app"),
        open_requirements_count=_count(
            requirements.filter(
                status__in=[RequirementStatus.PENDING, RequirementStatus.IN_PROGRESS]
            ),
            per="app",
        ),
        public_forks_count=_count(
            App.objects.filter(forked_from=OuterRef("pk"), status=AppStatus.ACTIVE),
            per="forked_from",
        ),
    )


def _pricing_prefetch() -> Prefetch:
    return Prefetch(
        "monetization_models", queryset=MonetizationModel.objects.order_by("created_at", "id")
    )


# --- lists ----------------------------------------------------------------------------------
def my_apps(*, user: AbstractBaseUser) -> QuerySet[App]:
    """The user's apps but the deleted ones, newest first, with counts and the parent."""
    return (
        _with_counts(App.objects.filter(user=user).exclude(status=AppStatus.DELETED))
        .select_related("forked_from")
        .order_by("-created_at", "-id")
    )


def my_apps_page(
    *, user: AbstractBaseUser, page_number: str | int | None, per_page: int = MY_APPS_PAGE_SIZE
) -> Page:
    return Paginator(my_apps(user=user), per_page).get_page(page_number)


def clean_search(query: str | None) -> str:
    """A search as we run it: one line, trimmed, no NUL or other control characters, short."""
    text = "".join(ch for ch in (query or "") if ch.isprintable())
    return " ".join(text.split())[:SEARCH_MAX_LENGTH]


def directory(*, search: str = "") -> QuerySet[App]:
    """ACTIVE apps, newest first, whose name contains `search` (any case), with their owner,
    counts and pricing (one prefetch)."""
    apps = App.objects.filter(status=AppStatus.ACTIVE)
    if search:
        apps = apps.filter(name__icontains=search)
    return (
        _with_counts(apps)
        .select_related("user")
        .prefetch_related(_pricing_prefetch())
        .order_by("-created_at", "-id")
    )


def directory_page(
    *, search: str, page_number: str | int | None, per_page: int = DIRECTORY_PAGE_SIZE
) -> Page:
    """One page of `directory`; a missing or bad page number gives the first or the last."""
    return Paginator(directory(search=search), per_page).get_page(page_number)


# --- one app --------------------------------------------------------------------------------
@dataclass
class AppPage:
    """What an app's page shows to one viewer."""

    app: App
    is_owner: bool
    requirements: list[Requirement]
    monetization_models: list[MonetizationModel]
    forks: list[App]
    # "visible" (linked), "hidden" (not public any more), "deleted", or "" (not a fork)
    parent_state: str

    @property
    def parent(self) -> App | None:
        return self.app.forked_from if self.parent_state == "visible" else None


def visible_app(*, app_id: str, user) -> App | None:
    """The app `app_id` if `user` may see it (with its owner and parent), else None."""
    return (
        App.objects.filter(visible_to(user), pk=app_id)
        .select_related("user", "forked_from")
        .first()
    )


def owned_app(*, app_id: str, user) -> App | None:
    """The app `app_id` if `user` owns it and it is not deleted, else None."""
    if not user.is_authenticated:
        return None
    return (
        App.objects.filter(pk=app_id, user=user)
        .exclude(status=AppStatus.DELETED)
        .select_related("forked_from")
        .first()
    )


def parent_state(app: App, viewer) -> str:
    parent = app.forked_from
    if app.forked_from_id is None or parent is None:
        return ""
    if parent.status == AppStatus.DELETED:
        return "deleted"
    if parent.status == AppStatus.ACTIVE or (
        viewer.is_authenticated and parent.user_id == viewer.pk
    ):
        return "visible"
    return "hidden"


def app_page(*, app: App, viewer) -> AppPage:
    """The app's requirements (by priority, then age, each with its earlier texts), its pricing,
    and the forks the viewer may see (newest first): three queries, or four with revisions."""
    is_owner = viewer.is_authenticated and app.user_id == viewer.pk
    requirements = requirements_in_order(app.requirements.all()).prefetch_related(
        Prefetch("revisions", queryset=RequirementRevision.objects.order_by("-version"))
    )
    forks = (
        app.forks.filter(visible_to(viewer)).select_related("user").order_by("-created_at", "-id")
    )
    return AppPage(
        app=app,
        is_owner=is_owner,
        requirements=list(requirements),
        monetization_models=list(app.monetization_models.order_by("created_at", "id")),
        forks=list(forks),
        parent_state=parent_state(app, viewer),
    )
