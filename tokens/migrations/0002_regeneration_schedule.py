"""The regeneration schedule, so the worker (`manage.py qcluster`) runs it with no manual step.
Values are frozen here on purpose (a migration must not change when app code does); they match
`tokens.tasks.REGENERATION_*`."""

from django.db import migrations

FUNC = "tokens.tasks.regenerate_all"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        func=FUNC,
        defaults={
            "name": "Token regeneration",
            "schedule_type": "C",  # CRON
            "cron": "*/15 * * * *",
            "repeats": -1,
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
