from django.apps import AppConfig


class AlbumsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "albums"
    verbose_name = "Albums"

    def ready(self):
        from accounts import deletion as account_deletion
        from albums import (
            deletion,
            signals,  # noqa: F401
        )

        # An account's deletion: its albums and share links, before enhancement's images.
        account_deletion.register("albums", deletion.delete_albums_of, order=20)
        account_deletion.register_summary("albums", deletion.summary, order=20)
        # Its part of "Download my data" (accounts.exports.sections).
        from albums import data_export

        data_export.register()
