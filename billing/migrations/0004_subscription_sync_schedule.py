"""The django-q2 schedule that catches up on missed subscription renewals every hour
(`billing.tasks.sync_overdue_subscriptions`; `manage.py sync_subscriptions` does the same from a
system cron). Idempotent: running it again leaves exactly one schedule of this name."""

from django.db import migrations

from core.schedules import ensure_schedule, remove_schedule

SCHEDULE_NAME = "billing: sync overdue subscriptions"


def create_schedule(apps, schema_editor):
    ensure_schedule(
        apps,
        SCHEDULE_NAME,
        func="billing.tasks.sync_overdue_subscriptions",
        schedule_type="H",  # Schedule.HOURLY
        repeats=-1,
        cluster=None,  # the default cluster runs it
    )


def delete_schedule(apps, schema_editor):
    remove_schedule(apps, SCHEDULE_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_subscription_staff_actions"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
