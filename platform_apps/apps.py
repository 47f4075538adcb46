from django.apps import AppConfig


class PlatformAppsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "platform_apps"
    verbose_name = "Platform apps"
