from django.apps import AppConfig


class EnhancementConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "enhancement"
    verbose_name = "Enhancement"

    def ready(self):
        from enhancement import signals  # noqa: F401
