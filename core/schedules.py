"""The django-q2 schedules that data migrations create, made one way.

Called from `RunPython` with the migration's `apps`, so the historical `Schedule` model is used.
Idempotent: whatever was there (nothing, the schedule, or copies of it), exactly one schedule
of that name is left, with these fields.
"""

from __future__ import annotations


def ensure_schedule(apps, name: str, **fields) -> None:
    Schedule = apps.get_model("django_q", "Schedule")
    schedules = Schedule.objects.filter(name=name).order_by("pk")
    first = schedules.first()
    if first is not None:
        schedules.exclude(pk=first.pk).delete()
    Schedule.objects.update_or_create(name=name, defaults=fields)


def remove_schedule(apps, name: str) -> None:
    apps.get_model("django_q", "Schedule").objects.filter(name=name).delete()
