from django.apps import AppConfig


class AlbumsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "albums"
    verbose_name = "Albums"

    def ready(self):
        from albums import signals  # noqa: F401
