"""The django-q2 schedule that runs the enhancement-job sweeper every minute.

Idempotent: running it again (or on a database that already has the schedule) leaves exactly
one schedule with this name.
"""

from django.db import migrations

from core.schedules import ensure_schedule, remove_schedule

SCHEDULE_NAME = "enhancement: sweep stuck jobs"
SWEEPER = "enhancement.tasks.sweep_stuck_jobs"


def create_schedule(apps, schema_editor):
    ensure_schedule(
        apps,
        SCHEDULE_NAME,
        func=SWEEPER,
        schedule_type="I",  # Schedule.MINUTES
        minutes=1,
        repeats=-1,
        cluster=None,  # the default cluster runs it
    )


def delete_schedule(apps, schema_editor):
    remove_schedule(apps, SCHEDULE_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("enhancement", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
