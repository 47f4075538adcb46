from django.apps import AppConfig


class TokensConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tokens"
    verbose_name = "Tokens"

    def ready(self):
        from tokens import signals  # noqa: F401
