"""The django-q2 schedule that prunes old view records once a day (albums.tasks).

Idempotent: running it again leaves exactly one schedule with this name.
"""

from django.db import migrations

from core.schedules import ensure_schedule, remove_schedule

SCHEDULE_NAME = "albums: prune view records"
TASK = "albums.tasks.prune_daily_views"
DAILY = "17 3 * * *"  # 03:17, local time (TIME_ZONE)


def create_schedule(apps, schema_editor):
    ensure_schedule(
        apps,
        SCHEDULE_NAME,
        func=TASK,
        schedule_type="C",  # Schedule.CRON
        cron=DAILY,
        repeats=-1,
        cluster=None,
    )


def delete_schedule(apps, schema_editor):
    remove_schedule(apps, SCHEDULE_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("albums", "0002_share_links_moderation_views"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
