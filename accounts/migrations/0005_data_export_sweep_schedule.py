"""The django-q2 schedule that expires finished data exports (their zip deleted, the row marked
EXPIRED) and fails exports whose worker died, every hour. Idempotent: running it again leaves
exactly one schedule of this name."""

from django.db import migrations

from core.schedules import ensure_schedule, remove_schedule

SCHEDULE_NAME = "accounts: expire data exports"
TASK = "accounts.exports.tasks.expire_data_exports"
HOURLY = "23 * * * *"  # at 23 minutes past every hour, local time (TIME_ZONE)


def create_schedule(apps, schema_editor):
    ensure_schedule(
        apps,
        SCHEDULE_NAME,
        func=TASK,
        schedule_type="C",  # Schedule.CRON
        cron=HOURLY,
        repeats=-1,
        cluster=None,  # the default cluster runs it
    )


def delete_schedule(apps, schema_editor):
    remove_schedule(apps, SCHEDULE_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_data_export"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
