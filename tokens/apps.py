from django.apps import AppConfig


class TokensConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tokens"
    verbose_name = "Tokens"

    def ready(self):
        from tokens import data_export, signals  # noqa: F401

        # Its part of "Download my data" (accounts.exports.sections).
        data_export.register()
