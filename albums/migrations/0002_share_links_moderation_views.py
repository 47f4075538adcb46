"""Share links (expiry, password, download switch), album views, staff unpublishing, the
once-a-day view record, the gallery's indexes and the rules that keep link states honest.

Existing rows are made to fit before the new constraints: a private album keeps no share token
(its old link stops working, as turning sharing off does now).
"""

import core.fields
import core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def private_albums_keep_no_link(apps, schema_editor):
    Album = apps.get_model("albums", "Album")
    Album.objects.filter(privacy="PRIVATE").exclude(share_token=None).update(share_token=None)


class Migration(migrations.Migration):
    dependencies = [
        ("albums", "0001_initial"),
        ("enhancement", "0009_image_photo_facts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DailyView",
            fields=[
                ("id", core.fields.IdField(serialize=False)),
                ("object_id", models.CharField(max_length=25)),
                ("visitor_key", models.CharField(max_length=64)),
                ("day", models.DateField()),
            ],
        ),
        migrations.CreateModel(
            name="Unpublication",
            fields=[
                ("id", core.fields.IdField(serialize=False)),
                (
                    "reason",
                    models.TextField(
                        validators=[core.validators.no_control_characters_but_line_breaks]
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("lifted_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["-created_at"],
            },
        ),
        migrations.AddField(
            model_name="album",
            name="allow_download",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="album",
            name="share_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="album",
            name="share_password",
            field=models.CharField(blank=True, default="", max_length=128),
        ),
        migrations.AddField(
            model_name="album",
            name="view_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="album",
            name="description",
            field=models.TextField(
                blank=True,
                null=True,
                validators=[core.validators.no_control_characters_but_line_breaks],
            ),
        ),
        migrations.AlterField(
            model_name="album",
            name="name",
            field=models.CharField(
                max_length=255, validators=[core.validators.no_control_characters]
            ),
        ),
        migrations.AddIndex(
            model_name="album",
            index=models.Index(
                fields=["privacy", "created_at", "id"], name="album_privacy_created_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="album",
            index=models.Index(
                fields=["privacy", "view_count", "id"], name="album_privacy_views_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="albumimage",
            index=models.Index(fields=["album", "sort_order"], name="albumimage_album_order_idx"),
        ),
        migrations.RunPython(private_albums_keep_no_link, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="album",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("privacy", "PRIVATE"), _negated=True),
                    models.Q(
                        ("share_token__isnull", True),
                        ("share_password", ""),
                        ("share_expires_at__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="album_private_has_no_link",
            ),
        ),
        migrations.AddConstraint(
            model_name="album",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("privacy", "PUBLIC"), _negated=True),
                    models.Q(("share_password", ""), ("share_expires_at__isnull", True)),
                    _connector="OR",
                ),
                name="album_public_is_open",
            ),
        ),
        migrations.AddIndex(
            model_name="dailyview",
            index=models.Index(fields=["day"], name="dailyview_day_idx"),
        ),
        migrations.AddConstraint(
            model_name="dailyview",
            constraint=models.UniqueConstraint(
                fields=("object_id", "visitor_key", "day"), name="daily_view_once"
            ),
        ),
        migrations.AddField(
            model_name="unpublication",
            name="album",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="unpublications",
                to="albums.album",
            ),
        ),
        migrations.AddField(
            model_name="unpublication",
            name="image",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="unpublications",
                to="enhancement.enhancedimage",
            ),
        ),
        migrations.AddField(
            model_name="unpublication",
            name="lifted_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="unpublication",
            name="unpublished_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="unpublication",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("album__isnull", False), ("image__isnull", True)),
                    models.Q(("album__isnull", True), ("image__isnull", False)),
                    _connector="OR",
                ),
                name="unpublication_one_target",
            ),
        ),
        migrations.AddConstraint(
            model_name="unpublication",
            constraint=models.CheckConstraint(
                condition=models.Q(("reason", ""), _negated=True), name="unpublication_has_reason"
            ),
        ),
        migrations.AddConstraint(
            model_name="unpublication",
            constraint=models.UniqueConstraint(
                condition=models.Q(("album__isnull", False), ("lifted_at__isnull", True)),
                fields=("album",),
                name="unpublication_one_active_per_album",
            ),
        ),
        migrations.AddConstraint(
            model_name="unpublication",
            constraint=models.UniqueConstraint(
                condition=models.Q(("image__isnull", False), ("lifted_at__isnull", True)),
                fields=("image",),
                name="unpublication_one_active_per_image",
            ),
        ),
    ]
