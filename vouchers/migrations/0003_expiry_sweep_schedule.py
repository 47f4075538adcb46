"""The django-q2 schedule that marks expired vouchers EXPIRED every 15 minutes (redeeming one
also marks it at once). Idempotent: running it again leaves exactly one schedule of this name.
"""

from django.db import migrations

from core.schedules import ensure_schedule, remove_schedule

SCHEDULE_NAME = "vouchers: sweep expired vouchers"
SWEEPER = "vouchers.tasks.sweep_expired_vouchers"


def create_schedule(apps, schema_editor):
    ensure_schedule(
        apps,
        SCHEDULE_NAME,
        func=SWEEPER,
        schedule_type="I",  # Schedule.MINUTES
        minutes=15,
        repeats=-1,
        cluster=None,  # the default cluster runs it
    )


def delete_schedule(apps, schema_editor):
    remove_schedule(apps, SCHEDULE_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("vouchers", "0002_redemption_applied"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
