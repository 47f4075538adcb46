"""The sweeper runs every 30 seconds (a CRON schedule with a seconds field), so a job whose
worker died is back within its lease (20 s) plus one or two rounds, not six minutes.

django-q2's scheduler wakes about every 30 s, so this is as often as a schedule can run.
Idempotent, like 0002: exactly one schedule with this name afterwards.
"""

from django.db import migrations

from core.schedules import ensure_schedule

SCHEDULE_NAME = "enhancement: sweep stuck jobs"
SWEEPER = "enhancement.tasks.sweep_stuck_jobs"
EVERY_30_SECONDS = "* * * * * */30"  # croniter: the sixth field is seconds


def every_30_seconds(apps, schema_editor):
    ensure_schedule(
        apps,
        SCHEDULE_NAME,
        func=SWEEPER,
        schedule_type="C",  # Schedule.CRON
        cron=EVERY_30_SECONDS,
        minutes=None,
        repeats=-1,
        cluster=None,
    )


def every_minute(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name=SCHEDULE_NAME).update(schedule_type="I", minutes=1, cron=None)


class Migration(migrations.Migration):
    dependencies = [("enhancement", "0007_deleted_job")]

    operations = [migrations.RunPython(every_30_seconds, every_minute)]
