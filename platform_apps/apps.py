from django.apps import AppConfig


class PlatformAppsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "platform_apps"
    verbose_name = "Platform apps"

    def ready(self):
        from accounts import deletion as account_deletion
        from platform_apps import deletion

        # An account's deletion: its apps, for good.
        account_deletion.register("platform_apps", deletion.delete_apps_of, order=30)
        account_deletion.register_summary("platform_apps", deletion.summary, order=30)
        # Its part of "Download my data" (accounts.exports.sections).
        from platform_apps import data_export

        data_export.register()
