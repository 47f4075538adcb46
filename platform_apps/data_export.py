"""platform_apps' part of a data export (`accounts.exports.sections`): apps.json, every app the
user made (deleted ones too, while they are kept), with its requirements (and their earlier
texts) and its pricing. Registered in `PlatformAppsConfig.ready()`."""

from __future__ import annotations

from django.db.models import Prefetch

from accounts.exports import sections
from platform_apps.models import App, Requirement

DESCRIBES = "apps.json                 your platform apps, their requirements and pricing"


def app_rows(user):
    apps = (
        App.objects.filter(user=user)
        .order_by("created_at", "pk")
        .prefetch_related(
            Prefetch(
                "requirements",
                queryset=Requirement.objects.order_by("created_at", "pk").prefetch_related(
                    "revisions"
                ),
            ),
            "monetization_models",
        )
    )
    for app in apps.iterator(chunk_size=100):
        yield {
            "id": app.pk,
            "name": app.name,
            "description": app.description,
            "status": app.status,
            "domain": app.domain,
            "forked_from_id": app.forked_from_id,
            "created_at": app.created_at,
            "updated_at": app.updated_at,
            "deleted_at": app.deleted_at,
            "requirements": [
                {
                    "id": r.pk,
                    "description": r.description,
                    "priority": r.priority,
                    "status": r.status,
                    "version": r.version,
                    "created_at": r.created_at,
                    "earlier_texts": [
                        {"version": rev.version, "description": rev.description}
                        for rev in sorted(r.revisions.all(), key=lambda rev: rev.version)
                    ],
                }
                for r in app.requirements.all()
            ],
            "pricing": [
                {
                    "type": m.type,
                    "price": m.price,
                    "subscription_interval": m.subscription_interval,
                    "features": m.features,
                }
                for m in app.monetization_models.all()
            ],
        }


def write_apps(user, archive) -> None:
    archive.write_json_list("apps.json", app_rows(user))


def register() -> None:
    sections.register("platform_apps", write_apps, order=80, describes=DESCRIBES)
