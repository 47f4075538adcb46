"""The fields the rules of issue 14 need first (an app's deletion time and staff record),
then existing rows made to fit the constraints that 0003 adds (in a transaction of its own,
so PostgreSQL alters no table with row updates pending)."""

from django.db import migrations, models


def fit_existing_rows(apps, schema_editor):
    """Rows written before these rules existed (in the admin) are made to fit them before the
    constraints arrive: domains lower case and never blank (a duplicate in another case loses
    its domain), a deleted app gets a deletion time, a free model has no price, only a
    subscription an interval, and a paid model without a price above zero becomes free."""
    App = apps.get_model("platform_apps", "App")
    MonetizationModel = apps.get_model("platform_apps", "MonetizationModel")
    App.objects.filter(domain="").update(domain=None)
    kept = {}
    for app in App.objects.exclude(domain=None).order_by("created_at", "id"):
        lowered = app.domain.strip().lower()
        if lowered in kept:
            App.objects.filter(pk=app.pk).update(domain=None)
        else:
            kept[lowered] = app.pk
    for lowered, pk in kept.items():
        App.objects.filter(pk=pk).update(domain=lowered)
    App.objects.filter(status="DELETED", deleted_at=None).update(deleted_at=models.F("updated_at"))
    MonetizationModel.objects.filter(type="FREE").exclude(price=None).update(price=None)
    MonetizationModel.objects.exclude(type="SUBSCRIPTION").exclude(
        subscription_interval=None
    ).update(subscription_interval=None)
    MonetizationModel.objects.exclude(type="FREE").filter(
        models.Q(price=None) | models.Q(price__lte=0)
    ).update(type="FREE", price=None, subscription_interval=None)


class Migration(migrations.Migration):

    dependencies = [
        ('platform_apps', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='app',
            name='deleted_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='app',
            name='staff_actions',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(fit_existing_rows, migrations.RunPython.noop),
    ]
